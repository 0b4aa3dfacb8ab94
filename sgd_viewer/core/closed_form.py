"""The full-batch loss in closed form, for one run or many runs at once.

The mean squared error of ``y = a·x + b`` over all points depends on the data
only through their statistics (DESIGN.md §4)::

    L(a, b) = |W·(a, b) + c|² + R,   W = √s·[[√Cxx, 0], [x̄, 1]],
    c = −W·(a*, b*),   R = L(a*, b*),   s = 1 (mean) or n (sum)

so a step costs the same at n = 50 and n = 1e7. The two residuals are
written out as element-wise multiplications and additions, not as a
matrix-vector product: each element then goes through the same IEEE
operations whether ``a`` and ``b`` are one run's scalars or every racing
run's parameters stacked into one tensor. That is what lets a race compute
the loss and its autograd gradient of all its runs in one graph (one
``backward`` instead of eight) and still give each run exactly the numbers
of a trainer of its own (a BLAS product may fuse multiply-adds differently
for different shapes, and a chaotic run grows one such last bit into a
visible difference). The constant ``R`` carries no gradient and is added
outside the graph.

Imports torch; never Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from sgd_viewer.core.problem import Problem


@dataclass(frozen=True)
class ClosedFormTerms:
    """The constants of one run's closed-form loss, as tensors of its dtype
    (0-dimensional for one run; stacked, one element per run, for many)."""

    w_aa: torch.Tensor
    w_ba: torch.Tensor
    w_bb: torch.Tensor
    c_a: torch.Tensor
    c_b: torch.Tensor

    @classmethod
    def of(
        cls, problem: Problem, reduction: str, dtype: torch.dtype, device: str
    ) -> ClosedFormTerms:
        values = closed_form_constants(problem, reduction)
        return cls(
            *(torch.tensor(value, dtype=dtype, device=device) for value in values)
        )

    @classmethod
    def stacked(cls, terms: list[ClosedFormTerms]) -> ClosedFormTerms:
        """One element per run, in the order given (same dtype and device)."""
        return cls(
            *(
                torch.stack([getattr(t, name) for t in terms])
                for name in ("w_aa", "w_ba", "w_bb", "c_a", "c_b")
            )
        )


def closed_form_constants(
    problem: Problem, reduction: str
) -> tuple[float, float, float, float, float]:
    """``(w_aa, w_ba, w_bb, c_a, c_b)``: the loss's constants as floats."""
    root = math.sqrt(problem.scale(reduction))
    sqrt_cxx = math.sqrt(problem.cxx)
    return (
        root * sqrt_cxx,
        root * problem.x_mean,
        root,
        -(root * sqrt_cxx * problem.a_opt),
        -(root * problem.y_mean),
    )


def closed_form_losses(a, b, terms):
    """``|W·(a, b) + c|²`` (the loss less ``R``), element by element.

    ``a``, ``b`` and the fields of ``terms`` are tensors (or floats) of one
    shape: one run's scalars or every run's values stacked. Each element's
    result and autograd gradient is the same whichever shape it came in.
    """
    residual_a = a * terms.w_aa + terms.c_a
    residual_b = (a * terms.w_ba + b * terms.w_bb) + terms.c_b
    return residual_a * residual_a + residual_b * residual_b
