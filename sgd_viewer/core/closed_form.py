"""The full-batch loss in closed form, for one run or many runs at once.

The mean squared error of ``y = a·x + b`` over all points depends on the data
only through their statistics (DESIGN.md §4)::

    L(a, b) = |W·(a, b) + c|² + R,   W = √s·[[√Cxx, 0], [x̄, 1]],
    c = −W·(a*, b*),   R = L(a*, b*),   s = 1 (mean) or n (sum)

so a step costs the same at n = 50 and n = 1e7. ``R`` carries no gradient and
is added outside the graph.

- :func:`matrix_form_loss` is a trainer's own: ``addmv`` then ``dot``, three
  autograd nodes, as cheap a step as the lesson's per-point loop at n = 50.
- :func:`lockstep_backward` computes every racing run's loss and gradient in
  one graph (``baddbmm`` over the stacked runs, one ``backward`` a step
  instead of one a run).

Each element of either is a two-term dot product plus a constant. They agree
bit for bit unless the BLAS kernels behind the one-run and the batched
product fuse multiply-adds or sum in different orders (a chaotic run then
grows that last bit into a visible difference). :func:`lockstep_is_exact`
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
    """``W`` and ``c`` of one run (``(2, 2)`` and ``(2,)``) or of several
    stacked (``(R, 2, 2)`` and ``(R, 2)``), as tensors of their dtype."""

    weights: torch.Tensor
    minus_target: torch.Tensor

    @classmethod
    def from_constants(cls, constants, dtype: torch.dtype, device: str):
        w_aa, w_ba, w_bb, c_a, c_b = constants
        return cls(
            torch.tensor([[w_aa, 0.0], [w_ba, w_bb]], dtype=dtype, device=device),
            torch.tensor([c_a, c_b], dtype=dtype, device=device),
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
        """Several runs' (same dtype and device), in the order given."""
        return cls(
            torch.stack([t.weights for t in terms]),
            torch.stack([t.minus_target for t in terms]),
        )


def matrix_form_loss(params: torch.Tensor, terms: ClosedFormTerms) -> torch.Tensor:
    """One run's ``|W·(a, b) + c|²`` (``params`` is ``(a, b)``): a trainer's
    own closed-form loss."""
    residuals = torch.addmv(terms.minus_target, terms.weights, params)
    return residuals.dot(residuals)


def lockstep_backward(
    params: list[torch.Tensor], terms: ClosedFormTerms
) -> tuple[list[float], list[list[float]]]:
    """Every run's closed-form loss (less ``R``) and gradient at once.

    The runs' ``(a, b)`` tensors are stacked (outside the graph) into one
    leaf, so one ``backward`` accumulates into one tensor instead of one per
    run; each run's ``.grad`` is then its row of it. Returns the losses and
    the gradients ``[∂L/∂a, ∂L/∂b]`` as floats, in the order given.
    """
    with torch.no_grad():
        stacked = torch.stack(params)
    stacked.requires_grad_(True)
    residuals = torch.baddbmm(
        terms.minus_target.unsqueeze(2), terms.weights, stacked.unsqueeze(2)
    )
    losses = (residuals * residuals).sum((1, 2))
    losses.sum().backward()
    grads = stacked.grad
    for param, grad in zip(params, grads.unbind(), strict=True):
        param.grad = grad
    return losses.tolist(), grads.tolist()


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

    def leaves() -> list[torch.Tensor]:
        return [
            torch.tensor(
                [float(a), float(b)], dtype=dtype, device=device, requires_grad=True
            )
            for a, b in zip(*points, strict=True)
        ]

    together = leaves()
    losses, _ = lockstep_backward(together, ClosedFormTerms.stacked(runs))
    for i, alone in enumerate(leaves()):
        loss = matrix_form_loss(alone, runs[i])
        loss.backward()
        if loss.item() != losses[i] or not torch.equal(alone.grad, together[i].grad):
            return False
    return True
