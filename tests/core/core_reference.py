"""Data makers and independent reference computations for the core tests.

The references are written the naive way on purpose (per-point residuals, numpy or
plain torch) so that they share no code with ``sgd_viewer.core``.
"""

from __future__ import annotations

import numpy as np

from sgd_viewer.core.data import Dataset


def make_xy(
    n: int, *, x_offset: float = 0.0, y_offset: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``x = x_offset + U(0, 1)``, ``y = 3x + 8 + y_offset + 0.3·N(0, 1)``."""
    rng = np.random.default_rng(seed)
    x = x_offset + rng.uniform(0.0, 1.0, n)
    y = 3.0 * x + 8.0 + y_offset + 0.3 * rng.normal(0.0, 1.0, n)
    return x, y


def make_dataset(
    n: int = 50, *, x_offset: float = 0.0, y_offset: float = 0.0, seed: int = 0
) -> Dataset:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset, seed=seed)
    return Dataset(x=x, y=y, name=f"test n={n} x+{x_offset:g} y+{y_offset:g}")


def naive_loss(x, y, a, b, reduction: str = "mean", dtype=np.float64) -> float:
    """The lesson's loss, point by point: ``Σ (a·x + b − y)²`` (÷ n for mean)."""
    x = np.asarray(x, dtype=dtype)
    y = np.asarray(y, dtype=dtype)
    r = dtype(a) * x + dtype(b) - y
    total = np.sum(r * r)
    return total / x.shape[0] if reduction == "mean" else total


def naive_gradient(x, y, a, b, reduction: str = "mean", dtype=np.float64):
    """``(Σ 2r·x, Σ 2r)`` (÷ n for mean), ``r = a·x + b − y``."""
    x = np.asarray(x, dtype=dtype)
    y = np.asarray(y, dtype=dtype)
    r = dtype(a) * x + dtype(b) - y
    ga, gb = np.sum(2 * r * x), np.sum(2 * r)
    if reduction == "mean":
        ga, gb = ga / x.shape[0], gb / x.shape[0]
    return ga, gb


def naive_hessian(x, reduction: str = "mean") -> np.ndarray:
    """``Σ 2·[[x², x], [x, 1]]`` (÷ n for mean)."""
    x = np.asarray(x, dtype=np.float64)
    h = 2.0 * np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), float(x.size)]])
    return h / x.size if reduction == "mean" else h
