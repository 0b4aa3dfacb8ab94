"""The analytic stability map of SGD with momentum on the line-fitting problem.

Owns the per-step convergence rate of full-batch heavy-ball (and Nesterov)
momentum in ``torch.optim.SGD``'s formulation over a grid of (learning rate,
momentum), and the classification of each cell as monotone, oscillating or
diverging. The loss is an exact quadratic, so along each eigen-direction of
its Hessian (curvature ``h``) the iteration is linear in the state
``(p, v)`` — ``p`` the parameter's distance from the optimum along that
direction, ``v`` torch's momentum buffer. torch updates ``v`` first and steps
``p`` with the new ``v``::

    v' = μ·v + h·p                     (buf.mul_(μ).add_(grad))
    p' = p − lr·v' = (1 − lr·h)·p − lr·μ·v

so ``(p', v') = M·(p, v)`` with ``M = [[1 − lr·h, −lr·μ], [h, μ]]``
(trace ``1 + μ − lr·h``, determinant ``μ``). Nesterov steps with
``g + μ·v'`` instead: ``M = [[1 − lr·h·(1 + μ), −lr·μ²], [h, μ]]`` (trace
``(1 + μ)(1 − lr·h)``, determinant ``μ·(1 − lr·h)``). The error shrinks by
the spectral radius of ``M`` per step (asymptotically); the map shows the
worse of the two directions. The closed forms of the 2×2 eigenvalues make a
200×200 map a few numpy operations (≈ 1 ms), not 80,000 ``eigvals`` calls.

Also owns what the empirical map (any optimizer, run cell by cell in
:mod:`sgd_viewer.core.stability_empirical`, which needs torch) shares with
the CLI and the view before torch loads: the optimizers it covers, their
natural knob, the grids' default ranges and the outcome codes.

numpy and the standard library only: no torch, no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sgd_viewer.core.optimizers import get_optimizer
from sgd_viewer.core.problem import Problem

#: Names of the regime codes in :attr:`StabilityMap.regime`, by code.
REGIMES = ("monotone", "oscillating", "diverging")
MONOTONE, OSCILLATING, DIVERGING = 0, 1, 2
#: The optimizers whose full-batch iteration is linear, so a rate exists.
ANALYTIC_OPTIMIZERS = ("momentum", "nesterov")
DEFAULT_SIZE = 200
#: The default learning rates span lr_max/100 … 3·lr_max: the slow corner,
#: plain descent's limit lr_max, and heavy ball's (1 + μ)·lr_max up to μ → 1.
LR_SPAN = (0.01, 3.0)
#: Default momenta: torch's Nesterov refuses μ = 0, and μ → 1 never settles.
MOMENTUM_SPAN = {"momentum": (0.0, 0.99), "nesterov": (0.01, 0.99)}


def _check_optimizer(optimizer: str) -> None:
    if optimizer not in ANALYTIC_OPTIMIZERS:
        raise ValueError(
            f"the analytic map covers {' and '.join(ANALYTIC_OPTIMIZERS)}, not "
            f"{optimizer!r}; other optimizers need the empirical map"
        )


def trace_and_determinant(
    optimizer: str, lr, momentum, curvature: float
) -> tuple[np.ndarray, np.ndarray]:
    """Trace and determinant of the iteration matrix ``M`` (module docstring)
    along a direction of curvature ``curvature``; ``lr`` and ``momentum``
    broadcast."""
    _check_optimizer(optimizer)
    shrink = 1.0 - np.multiply(lr, curvature)  # 1 − lr·h
    momentum = np.asarray(momentum, dtype=np.float64)
    if optimizer == "momentum":
        return shrink + momentum, momentum
    return (1.0 + momentum) * shrink, momentum * shrink


def rate_and_regime(
    optimizer: str, lr, momentum, curvatures: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The spectral radius (worst over ``curvatures``) and the regime code of
    each ``(lr, momentum)``, which broadcast against each other.

    A 2×2 matrix with trace ``T`` and determinant ``D`` has eigenvalues
    ``(T ± √(T² − 4D)) / 2``: real with radius ``(|T| + √(T² − 4D)) / 2``
    when ``T² ≥ 4D``, else a complex pair of modulus ``√D``. The dominant real
    eigenvalue has the sign of ``T``; a negative one flips the error's sign
    every step, a complex pair rotates it: both oscillate.
    """
    radii, settled = [], []
    # A learning rate far past the limit overflows to inf (and 0·inf to NaN):
    # such cells diverge, which the NaN-safe test below says without warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for curvature in curvatures:
            trace, det = trace_and_determinant(optimizer, lr, momentum, curvature)
            disc = trace * trace - 4.0 * det
            real = disc >= 0.0
            root = np.sqrt(np.where(real, disc, 0.0))
            # det > 0 wherever disc < 0, so this square root is real there.
            modulus = np.sqrt(np.abs(det))
            radii.append(np.where(real, (np.abs(trace) + root) / 2.0, modulus))
            settled.append(real & (trace >= 0.0))
    rate = np.maximum.reduce(radii)
    monotone = np.logical_and.reduce(settled)
    regime = np.where(monotone, MONOTONE, OSCILLATING).astype(np.int8)
    regime[~(rate < 1.0)] = DIVERGING  # NaN (an overflowed lr) diverges too
    return rate, regime


def limits(
    optimizer: str, momentum, curvature_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """The exact learning rates where the regimes change, per momentum.

    Returns ``(monotone_below, stable_below)``: the map is monotone for
    ``lr ≤ monotone_below`` and converges for ``lr < stable_below``. Both are
    set by the steepest direction ``curvature_max`` (with ``u = lr·h``):
    heavy ball is monotone while ``u ≤ (1 − √μ)²`` and stable while
    ``u < 2(1 + μ)``; Nesterov is monotone while ``u ≤ ((1 − μ)/(1 + μ))²``
    and stable while ``u < 2(1 + μ)/(1 + 2μ)`` (where ``M`` has the
    eigenvalue −1).
    """
    _check_optimizer(optimizer)
    mu = np.asarray(momentum, dtype=np.float64)
    if optimizer == "momentum":
        monotone, stable = (1.0 - np.sqrt(mu)) ** 2, 2.0 * (1.0 + mu)
    else:
        monotone = ((1.0 - mu) / (1.0 + mu)) ** 2
        stable = 2.0 * (1.0 + mu) / (1.0 + 2.0 * mu)
    return monotone / curvature_max, stable / curvature_max


@dataclass(frozen=True, eq=False)
class StabilityMap:
    """Convergence rate and regime on a grid of (momentum, learning rate).

    ``rate[i, j]`` and ``regime[i, j]`` belong to ``momentum[i]`` and
    ``lr[j]``: rows are momenta, columns learning rates, as an image.
    """

    lr: np.ndarray
    momentum: np.ndarray
    rate: np.ndarray
    regime: np.ndarray
    optimizer: str
    reduction: str
    #: The Hessian's eigenvalues (plus any weight decay), smallest first.
    curvatures: tuple[float, float]
    #: Plain gradient descent's stable limit ``2/λmax`` on these data.
    lr_max: float

    #: What the view and the CLI call the second axis.
    knob_name = "momentum"
    regime_names = REGIMES

    @property
    def knob(self) -> np.ndarray:
        """The second axis's values (the momenta), as the empirical map names it."""
        return self.momentum

    @property
    def shape(self) -> tuple[int, int]:
        return self.rate.shape

    def regime_at(self, i: int, j: int) -> str:
        """The regime's name of the cell ``(momentum[i], lr[j])``."""
        return REGIMES[int(self.regime[i, j])]

    def share(self, regime: str) -> float:
        """Fraction of the cells in ``regime``."""
        return float(np.mean(self.regime == REGIMES.index(regime)))

    def rate_at(self, lr: float, momentum: float) -> float:
        """The exact rate at any ``(lr, momentum)``, on or off the grid."""
        rate, _ = rate_and_regime(self.optimizer, lr, momentum, self.curvatures)
        return float(rate)

    def limits(self) -> tuple[np.ndarray, np.ndarray]:
        """``(monotone_below, stable_below)`` learning rates for each momentum
        of the map (see :func:`limits`): the exact region boundaries."""
        return limits(self.optimizer, self.momentum, self.curvatures[1])

    def steps_per_tenfold(self) -> np.ndarray:
        """Steps that shrink the error 10× at each cell's rate, ``−1/log₁₀ ρ``:
        the rate on a scale that reads as time (``inf`` where it diverges,
        ``0`` where one step lands on the optimum)."""
        with np.errstate(divide="ignore"):
            steps = -1.0 / np.log10(np.minimum(self.rate, 1.0))
        return np.where(self.rate < 1.0, steps, np.inf)

    def best(self) -> tuple[int, int]:
        """``(i, j)`` of the fastest cell."""
        flat = int(np.argmin(np.where(np.isfinite(self.rate), self.rate, np.inf)))
        i, j = np.unravel_index(flat, self.rate.shape)
        return int(i), int(j)

    def to_json(self) -> dict[str, Any]:
        """Plain data: ``rate[i][j]`` for ``momentum[i]`` and ``lr[j]``."""
        return {
            "lr": self.lr.tolist(),
            "momentum": self.momentum.tolist(),
            "rate": [[_finite_or_none(v) for v in row] for row in self.rate],
            "regime": self.regime.tolist(),
            "regimes": list(REGIMES),
            "optimizer": self.optimizer,
            "reduction": self.reduction,
            "lr_max": self.lr_max,
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def default_lr_range(
    problem: Problem, reduction: str = "mean", size: int = DEFAULT_SIZE
) -> np.ndarray:
    """``size`` log-spaced learning rates from ``lr_max/100`` to ``3·lr_max``
    (``lr_max = 2/λmax`` of ``reduction``'s loss)."""
    lr_max = problem.lr_max(reduction)
    return np.geomspace(LR_SPAN[0] * lr_max, LR_SPAN[1] * lr_max, size)


def default_momentum_range(
    optimizer: str = "momentum", size: int = DEFAULT_SIZE
) -> np.ndarray:
    """``size`` evenly spaced momenta (0 … 0.99; 0.01 … 0.99 for Nesterov)."""
    _check_optimizer(optimizer)
    return np.linspace(*MOMENTUM_SPAN[optimizer], size)


def analytic_map(
    problem: Problem,
    reduction: str = "mean",
    lrs=None,
    momenta=None,
    *,
    optimizer: str = "momentum",
    weight_decay: float = 0.0,
) -> StabilityMap:
    """The rate map of full-batch ``optimizer`` on ``problem``'s loss.

    Parameters
    ----------
    problem
        The data's statistics (the Hessian is exact and constant).
    reduction
        ``mean`` or ``sum``: the sum's Hessian is ``n`` times steeper.
    lrs, momenta
        1-D grids (default: :func:`default_lr_range`,
        :func:`default_momentum_range`).
    optimizer
        ``momentum`` (heavy ball) or ``nesterov``, both as ``torch.optim.SGD``
        steps them (dampening 0).
    weight_decay
        torch's L2 term adds it to every curvature (and moves the optimum).
    """
    _check_optimizer(optimizer)
    if lrs is None:
        lrs = default_lr_range(problem, reduction)
    if momenta is None:
        momenta = default_momentum_range(optimizer)
    lr = np.asarray(lrs, dtype=np.float64).ravel()
    momentum = np.asarray(momenta, dtype=np.float64).ravel()
    if not (np.all(np.isfinite(lr)) and np.all(np.isfinite(momentum))):
        raise ValueError("learning rates and momenta must be finite")
    small, big = problem.eigenvalues(reduction)
    curvatures = (small + weight_decay, big + weight_decay)
    rate, regime = rate_and_regime(
        optimizer, lr[None, :], momentum[:, None], curvatures
    )
    return StabilityMap(
        lr=lr,
        momentum=momentum,
        rate=rate,
        regime=regime,
        optimizer=optimizer,
        reduction=reduction,
        curvatures=curvatures,
        lr_max=problem.lr_max(reduction),
    )


# ------------------------------------------- the empirical map's vocabulary
#: The optimizers the empirical map runs; the others refuse with a ValueError.
EMPIRICAL_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad")
#: Each optimizer's natural second axis; ``None``: a sweep over lr alone.
DEFAULT_KNOBS: dict[str, str | None] = {
    "sgd": None,
    "momentum": "momentum",
    "nesterov": "momentum",
    "adam": "beta1",
    "rmsprop": "alpha",
    "adagrad": None,
}
DEFAULT_BUDGET = 500
DEFAULT_TOLERANCE = 1e-6
DEFAULT_START = (-1.0, 1.0)
#: What became of each empirical cell, by code; code 2 is :data:`DIVERGING`.
OUTCOMES = ("converged", "unfinished", "diverged")
CONVERGED, UNFINISHED = 0, 1


def check_empirical(optimizer: str) -> str:
    """The registry name of ``optimizer``, or a ValueError naming the
    optimizers the empirical map supports."""
    name = optimizer.lower()
    if name not in EMPIRICAL_OPTIMIZERS:
        raise ValueError(
            f"the empirical map supports {', '.join(EMPIRICAL_OPTIMIZERS)}; "
            f"not {optimizer!r}"
        )
    return name


def knob_range(optimizer: str, knob: str, low: float, high: float, size: int):
    """``size`` values of ``knob`` from ``low`` to ``high``: log-spaced for a
    knob the registry scales logarithmically (ε), else evenly spaced. Bounds
    outside the knob's range raise ValueError (torch would refuse them)."""
    hyper = get_optimizer(optimizer).hyperparameter(knob)
    hyper.validate(low)
    hyper.validate(high)
    spacing = np.geomspace if hyper.log_scale else np.linspace
    return spacing(low, high, size)


def default_knob_range(optimizer: str, knob: str, size: int) -> np.ndarray:
    """``size`` values over ``knob``'s registry range, capped at 0.99 for
    decays (a decay of 1 never forgets and never settles)."""
    hyper = get_optimizer(optimizer).hyperparameter(knob)
    high = hyper.maximum if hyper.log_scale else min(hyper.maximum, 0.99)
    return knob_range(optimizer, knob, hyper.minimum, high, size)


def optimizer_lr_range(
    problem: Problem, optimizer: str, reduction: str = "mean", size: int = 64
) -> np.ndarray:
    """``size`` log-spaced learning rates for ``optimizer``. Gradient-scaled
    steps are judged against the stable limit (:func:`default_lr_range`);
    adaptive ones step about ``lr`` whatever the gradient, so their range is
    about the registry's suggested lr (``/100 … ×100``)."""
    spec = get_optimizer(optimizer)
    if spec.scales_with_gradient:
        return default_lr_range(problem, reduction, size)
    return np.geomspace(spec.suggested_lr / 100.0, spec.suggested_lr * 100.0, size)
