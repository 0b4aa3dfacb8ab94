"""The ``stability_map`` benchmark of ``sgd-viewer bench``: the analytic
200×200 rate map and the empirical 64×64 map of 500 steps a cell (Adam, the
optimizer with the most work per step), on the lesson's data.

Each is timed as a whole (medians of repeats); there is no baseline to run
against in the same process, so the rows carry targets only. numpy, torch
and the standard library (and ``core``); never Qt.
"""

from __future__ import annotations

import time
from typing import Any

from sgd_viewer.bench.engine import Settings, dataset, median, row, single_thread

ANALYTIC_SIZE = 200
EMPIRICAL_SIZE = 64
EMPIRICAL_STEPS = 500
#: Adam runs every cell the whole budget where most cells never converge
#: within it: the slowest case of the empirical map.
EMPIRICAL_OPTIMIZER = "adam"


def _seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def stability_map(settings: Settings) -> list[dict[str, Any]]:
    """Time of the analytic 200×200 map and of the empirical 64×64×500 map."""
    from sgd_viewer.core.problem import Problem
    from sgd_viewer.core.stability import (
        analytic_map,
        default_lr_range,
        optimizer_lr_range,
    )
    from sgd_viewer.core.stability_empirical import empirical_map

    data = dataset(50)
    problem = Problem.from_data(data.x, data.y)
    lrs = default_lr_range(problem, "mean", ANALYTIC_SIZE)
    analytic_repeats = max(5, 4 * settings.repeats)
    analytic_map(problem, "mean", lrs)  # warm-up
    analytic_ms = median(
        [
            _seconds(lambda: analytic_map(problem, "mean", lrs)) * 1e3
            for _ in range(analytic_repeats)
        ]
    )

    empirical_lr = optimizer_lr_range(
        problem, EMPIRICAL_OPTIMIZER, "mean", EMPIRICAL_SIZE
    )

    def run_empirical():
        return empirical_map(
            problem, EMPIRICAL_OPTIMIZER, empirical_lr, budget=EMPIRICAL_STEPS
        )

    # Single-threaded as the worker runs torch: the GUI needs the other core.
    with single_thread():
        result = run_empirical()  # warm-up (first-call allocations)
        empirical_repeats = max(3, settings.repeats // 2)
        empirical_s = median(
            [_seconds(run_empirical) for _ in range(empirical_repeats)]
        )
    cells_run_to_budget = float(result.share("unfinished"))
    return [
        row(
            f"analytic {ANALYTIC_SIZE}x{ANALYTIC_SIZE} (momentum)",
            "ms",
            analytic_ms,
            None,
            "≤ 20 ms",
            analytic_ms <= 20.0,
            repeats=analytic_repeats,
        ),
        row(
            f"empirical {EMPIRICAL_SIZE}x{EMPIRICAL_SIZE}x{EMPIRICAL_STEPS} "
            f"({EMPIRICAL_OPTIMIZER})",
            "s",
            empirical_s,
            None,
            "≤ 2 s",
            empirical_s <= 2.0,
            repeats=empirical_repeats,
            unfinished_share=cells_run_to_budget,
        ),
    ]
