"""The ``csv_load`` benchmark of ``sgd-viewer bench``: a CSV file of 1e6 rows
through the app's loader against ``pandas.read_csv`` alone, in the same run.

Value and baseline are rows per second: the value is the app's
:func:`~sgd_viewer.core.data.load_csv` (sniffing, parsing, checking every value,
the validated ``Dataset``), the baseline ``pandas.read_csv(path)`` with its
defaults (a DataFrame, nothing checked). The ratio, app speed over pandas speed,
should be at least 0.5: the app may spend up to as long again as pandas on
everything it does beyond parsing. The file is written once to a temporary
folder (and removed after); the two sides take turns, each measured as many
times as the other, and the medians are compared. ``--quick`` uses 2e5 rows.

numpy, pandas and the standard library only (and ``core.data``); never Qt.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sgd_viewer.bench.engine import Settings, alternate, dataset, row

FULL_ROWS = 1_000_000
QUICK_ROWS = 200_000
TARGET = 0.5


def write_points(path: Path, n: int) -> None:
    """``n`` rows of the app's generated data, with a header, as ``repr`` floats
    (17 significant digits at most: what a program that saves floats writes)."""
    data = dataset(n)
    rows = map("{!r},{!r}".format, data.x.tolist(), data.y.tolist())
    path.write_text("x,y\n" + "\n".join(rows) + "\n", encoding="ascii")


def _seconds(load: Callable[[], Any]) -> Callable[[], float]:
    def measure() -> float:
        t0 = time.perf_counter()
        load()
        return time.perf_counter() - t0

    return measure


def csv_load(settings: Settings) -> list[dict[str, Any]]:
    """Rows/s of ``load_csv`` against ``pandas.read_csv`` on the same file."""
    import pandas as pd

    from sgd_viewer.core.data import load_csv

    n = QUICK_ROWS if settings.quick else FULL_ROWS
    # A load takes a tenth of a second: many turns each, so that the medians see
    # past the shared machine's bursts of load.
    repeats = 2 * settings.repeats + 1
    with tempfile.TemporaryDirectory(prefix="sgd-viewer-bench-") as folder:
        path = Path(folder) / "points.csv"
        write_points(path, n)
        size_mb = path.stat().st_size / 1e6

        def app() -> None:
            if load_csv(path).n != n:
                raise RuntimeError("load_csv read a different number of rows")

        def baseline() -> None:
            pd.read_csv(path)

        app()  # warm-up: imports, the page cache, numpy's first allocations
        baseline()
        app_s, pandas_s, _, _ = alternate(_seconds(app), _seconds(baseline), repeats)
    value, base = n / app_s, n / pandas_s
    quick = " (--quick: 2e5 rows)" if settings.quick else ""
    return [
        row(
            f"load_csv n={n:.0e}{quick}",
            "rows/s",
            value,
            base,
            f"≥ {TARGET}×",
            value / base >= TARGET,
            n=n,
            file_mb=round(size_mb, 1),
            median_ms=app_s * 1e3,
            app_s=app_s,
            pandas_s=pandas_s,
            repeats=repeats,
            note="--quick: a 2e5-row file, not 1e6" if settings.quick else None,
        )
    ]
