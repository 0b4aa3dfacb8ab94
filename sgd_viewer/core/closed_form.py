"""The full-batch loss in closed form, for one run or many runs at once.

The mean squared error of ``y = a·x + b`` over all points depends on the data
only through their statistics (DESIGN.md §4)::

    L(a, b) = |W·(a, b) + c|² + R,   W = √s·[[√Cxx, 0], [x̄, 1]],
    c = −W·(a*, b*),   R = L(a*, b*),   s = 1 (mean) or n (sum)

so a step costs the same at n = 50 and n = 1e7. ``R`` carries no gradient and
is added outside the graph.

Two forms of the same arithmetic:

- :func:`matrix_form_loss`, a trainer's own: ``addmv`` then ``dot``, three
  autograd nodes, as cheap a step as the lesson's per-point loop at n = 50.
- :func:`elementwise_losses`: the residuals written out as multiplications and
  additions, which give the same bits whether they run on one run's scalars
  or on every racing run's parameters stacked into one tensor. A race computes
  all its full-batch runs' losses and gradients in one graph with it (one
  ``backward`` a step instead of one a run).

Each element of the matrix form is a two-term dot product plus a constant,
and so is the element-wise form's; they agree bit for bit unless the BLAS
behind ``addmv`` fuses a multiply-add or sums in another order (a chaotic run
then grows that last bit into a visible difference). :func:`lockstep_is_exact`
checks that once per dtype and device on this machine, and a race steps in
lockstep only where it holds: every run's numbers stay exactly those of a
trainer of its own either way.

Imports torch; never Qt.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from sgd_viewer.core.problem import Problem

#: Random cases the lockstep check compares. A fused multiply-add or another
#: order of summation changes the last bit in about a quarter of cases.
LOCKSTEP_CHECK_CASES = 256


def closed_form_constants(
    problem: Problem, reduction: str
) -> tuple[float, float, float, float, float]:
    """``(w_aa, w_ba, w_bb, c_a, c_b)``: ``W = [[w_aa, 0], [w_ba, w_bb]]``
    and ``c``, as floats."""
    root = math.sqrt(problem.scale(reduction))
    sqrt_cxx = math.sqrt(problem.cxx)
    return (
        root * sqrt_cxx,
        root * problem.x_mean,
        root,
        -(root * sqrt_cxx * problem.a_opt),
        -(root * problem.y_mean),
    )


@dataclass(frozen=True)
class ClosedFormTerms:
    """One run's constants in both forms, as tensors of its dtype: the
    matrix form's ``weights`` and ``minus_target``, and the element-wise
    form's scalars (0-dimensional for one run; stacked, one element per run,
    by :meth:`stacked`)."""

    weights: torch.Tensor | None
    minus_target: torch.Tensor | None
    w_aa: torch.Tensor
    w_ba: torch.Tensor
    w_bb: torch.Tensor
    c_a: torch.Tensor
    c_b: torch.Tensor

    @classmethod
    def from_constants(cls, constants, dtype: torch.dtype, device: str):
        w_aa, w_ba, w_bb, c_a, c_b = constants
        return cls(
            torch.tensor([[w_aa, 0.0], [w_ba, w_bb]], dtype=dtype, device=device),
            torch.tensor([c_a, c_b], dtype=dtype, device=device),
            *(torch.tensor(value, dtype=dtype, device=device) for value in constants),
        )

    @classmethod
    def of(
        cls, problem: Problem, reduction: str, dtype: torch.dtype, device: str
    ) -> ClosedFormTerms:
        return cls.from_constants(
            closed_form_constants(problem, reduction), dtype, device
        )

    @classmethod
    def stacked(cls, terms: list[ClosedFormTerms]) -> ClosedFormTerms:
        """The element-wise constants of several runs (same dtype and device),
        one element per run in the order given."""
        return cls(
            None,
            None,
            *(
                torch.stack([getattr(t, name) for t in terms])
                for name in ("w_aa", "w_ba", "w_bb", "c_a", "c_b")
            ),
        )


def matrix_form_loss(a, b, terms: ClosedFormTerms) -> torch.Tensor:
    """One run's ``|W·(a, b) + c|²``: a trainer's own closed-form loss."""
    residuals = torch.addmv(terms.minus_target, terms.weights, torch.stack((a, b)))
    return residuals.dot(residuals)


def elementwise_losses(a, b, terms: ClosedFormTerms) -> torch.Tensor:
    """``|W·(a, b) + c|²`` element by element, for ``a`` and ``b`` of any one
    shape (one run's scalars, or every run's values stacked); each element's
    value and gradient is the same whichever shape it came in."""
    residual_a = a * terms.w_aa + terms.c_a
    residual_b = (a * terms.w_ba + b * terms.w_bb) + terms.c_b
    return residual_a * residual_a + residual_b * residual_b


def lockstep_backward(
    params_a: list[torch.Tensor], params_b: list[torch.Tensor], terms: ClosedFormTerms
) -> list[float]:
    """Every run's closed-form loss (less ``R``) and gradient at once.

    The runs' parameters are stacked (outside the graph) into two leaves, so
    one ``backward`` accumulates into two tensors instead of two per run;
    each parameter's ``.grad`` is then its element of them. Returns the
    losses, in the order given.
    """
    with torch.no_grad():
        stacked_a, stacked_b = torch.stack(params_a), torch.stack(params_b)
    stacked_a.requires_grad_(True)
    stacked_b.requires_grad_(True)
    losses = elementwise_losses(stacked_a, stacked_b, terms)
    losses.sum().backward()
    for param, grad in zip(params_a, stacked_a.grad.unbind(), strict=True):
        param.grad = grad
    for param, grad in zip(params_b, stacked_b.grad.unbind(), strict=True):
        param.grad = grad
    return losses.tolist()


@functools.cache
def lockstep_is_exact(dtype: torch.dtype, device: str) -> bool:
    """Whether, on this machine, :func:`lockstep_backward` gives every run
    the loss and gradients of :func:`matrix_form_loss` bit for bit (checked
    on random runs over many magnitudes; once a process)."""
    rng = np.random.default_rng(20261202)
    size = LOCKSTEP_CHECK_CASES

    def spread(low: float, high: float) -> np.ndarray:
        magnitude = 10.0 ** rng.uniform(low, high, size)
        return magnitude * rng.choice([-1.0, 1.0], size)

    constants = [
        10.0 ** rng.uniform(-3, 3, size),  # w_aa > 0
        spread(-3, 3),
        10.0 ** rng.uniform(-2, 3, size),  # w_bb > 0
        spread(-3, 4),
        spread(-3, 4),
    ]
    points = [spread(-3, 3), spread(-3, 3)]
    runs = [
        ClosedFormTerms.from_constants([float(c[i]) for c in constants], dtype, device)
        for i in range(size)
    ]

    def leaves(values: np.ndarray) -> list[torch.Tensor]:
        return [
            torch.tensor(float(v), dtype=dtype, device=device, requires_grad=True)
            for v in values
        ]

    together_a, together_b = leaves(points[0]), leaves(points[1])
    together = lockstep_backward(together_a, together_b, ClosedFormTerms.stacked(runs))
    alone_a, alone_b = leaves(points[0]), leaves(points[1])
    for i in range(size):
        loss = matrix_form_loss(alone_a[i], alone_b[i], runs[i])
        loss.backward()
        if (
            loss.item() != together[i]
            or alone_a[i].grad.item() != together_a[i].grad.item()
            or alone_b[i].grad.item() != together_b[i].grad.item()
        ):
            return False
    return True
