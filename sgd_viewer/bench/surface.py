"""The ``surface`` benchmark of ``sgd-viewer bench``: the data's statistics,
a 200×200 loss grid and 10 exact ellipses at n = 1e6, against a naive
per-point numpy grid at n = 1e3.

numpy and the standard library only (and ``core.problem``); never Qt.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sgd_viewer.bench.engine import START, Settings, dataset, median, row


def naive_grid(x: np.ndarray, y: np.ndarray, view, shape=(200, 200)) -> np.ndarray:
    """Mean squared error at every grid point, summed over every data point."""
    a = np.linspace(view.a_min, view.a_max, shape[0])
    b = np.linspace(view.b_min, view.b_max, shape[1])
    residuals = a[:, None, None] * x[None, None, :] + b[None, :, None] - y
    return (residuals * residuals).mean(axis=2)


def _surface_once(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from sgd_viewer.core.problem import Problem

    t0 = time.perf_counter()
    problem = Problem.from_data(x, y)
    t1 = time.perf_counter()
    view = problem.default_view(START)
    problem.loss_grid(view, (200, 200))
    t2 = time.perf_counter()
    levels = problem.contour_levels(view, 10)
    problem.ellipses(levels, clip=view.expanded(3))
    t3 = time.perf_counter()
    return {
        "statistics_ms": (t1 - t0) * 1e3,
        "grid_ms": (t2 - t1) * 1e3,
        "ellipses_ms": (t3 - t2) * 1e3,
        "total_ms": (t3 - t0) * 1e3,
    }


def surface(settings: Settings) -> list[dict[str, Any]]:
    """Statistics + 200×200 grid + 10 ellipses at n = 1e6 against a naive grid."""
    from sgd_viewer.core.problem import Problem

    big = dataset(1_000_000)
    small = dataset(1_000)
    small_view = Problem.from_data(small.x, small.y).default_view(START)
    repeats = max(3, 2 * settings.repeats + 1)
    _surface_once(big.x, big.y)  # warm-up
    naive_grid(small.x, small.y, small_view)
    app_runs: list[dict[str, float]] = []
    naive_ms: list[float] = []
    for _ in range(repeats):
        app_runs.append(_surface_once(big.x, big.y))
        t0 = time.perf_counter()
        naive_grid(small.x, small.y, small_view)
        naive_ms.append((time.perf_counter() - t0) * 1e3)
    split = {
        key: median([run[key] for run in app_runs])
        for key in ("statistics_ms", "grid_ms", "ellipses_ms")
    }
    total = median([run["total_ms"] for run in app_runs])
    return [
        row(
            "stats+grid+ellipses n=1e+06 (naive grid n=1e3)",
            "ms",
            total,
            median(naive_ms),
            "≤ 5 ms total",
            total <= 5.0,
            repeats=repeats,
            **split,
        )
    ]
