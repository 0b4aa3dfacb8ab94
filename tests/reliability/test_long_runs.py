"""Long runs keep memory bounded and the display decimated.

History caps its rows (2**20 by default) and thins itself; the window draws at
most ``MAX_PATH_VERTICES`` (+1 for the start) path vertices and as many loss
points. The soak versions (1e7 headless steps, 1e6 in the window) run with
``-m soak``; short versions, which still force thinning and decimation, run by
default.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sgd_viewer.core.data import generate
from sgd_viewer.core.history import History
from sgd_viewer.gui.surface_view import MAX_PATH_VERTICES

from .helpers import views_are_finite

MAX_DRAWN = MAX_PATH_VERTICES + 1  # the decimated history plus the start


def rss_mib() -> float:
    """Resident memory of this process (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _headless(steps: int, capacity: int, chunk: int = 10_000) -> None:
    import torch

    from sgd_viewer.core.trainer import Trainer

    torch.set_num_threads(1)
    trainer = Trainer(generate(), start=(-1.0, 1.0))
    history = History(capacity=capacity)
    history.append(trainer.step(chunk))
    baseline = rss_mib()
    peak_rows = 0
    for _ in range(steps // chunk - 1):
        batch = trainer.step(chunk)
        assert not batch.diverged
        history.append(batch)
        peak_rows = max(peak_rows, len(history))
    growth = rss_mib() - baseline
    assert history.steps_seen == steps
    assert trainer.step_count == steps
    assert peak_rows <= capacity
    assert len(history) <= capacity
    assert history.stride > 1  # it had to thin itself
    step_column = history.column("step")
    assert step_column[-1] == steps  # the latest step, exactly
    assert np.all(np.diff(step_column) > 0)
    last = history.last()
    assert (last["a"], last["b"]) == trainer.parameters
    # Array capacity never exceeds capacity rows of 52 bytes.
    assert history.nbytes() <= capacity * 52
    # Memory: the arrays' bound plus slack for allocator noise, not per step.
    assert growth < capacity * 52 / 2**20 + 64, f"RSS grew {growth:.0f} MiB"
    shown = history.display_indices(MAX_PATH_VERTICES)
    assert shown.size <= MAX_PATH_VERTICES
    assert shown[-1] == len(history) - 1


def test_headless_run_thins_a_small_history():
    _headless(200_000, capacity=4096)


@pytest.mark.soak
def test_headless_ten_million_steps_keep_memory_bounded():
    _headless(10_000_000, capacity=2**20)


def _window_run(make_window, qtbot, steps: int, timeout_ms: int) -> None:
    window = make_window()
    window.controls.speed_spin.setValue(0)
    baseline = rss_mib()
    window.step(steps)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == steps, timeout=timeout_ms)
    snap = window.snapshot()
    assert snap["status"] == "paused"
    assert len(window.history) <= window.history.capacity
    assert window.history.steps_seen == steps
    path_a = window.surface_view._path.xData
    path_b = window.surface_view._path.yData
    curve_x = window.loss_view._curve.xData
    assert 1 < len(path_a) <= MAX_DRAWN
    assert len(path_b) == len(path_a)
    assert 1 < len(curve_x) <= MAX_DRAWN
    # Decimated, yet it starts at the start and ends at the latest step.
    assert (path_a[0], path_b[0]) == snap["start"]
    assert (path_a[-1], path_b[-1]) == (snap["a"], snap["b"])
    assert curve_x[0] == 0
    assert curve_x[-1] == steps
    assert window.fit_view.line_parameters == (snap["a"], snap["b"])
    assert views_are_finite(window) == []
    growth = rss_mib() - baseline
    assert growth < window.history.capacity * 52 / 2**20 + 150, f"{growth:.0f} MiB"


def test_window_run_is_decimated(make_window, qtbot):
    _window_run(make_window, qtbot, 30_000, timeout_ms=60_000)


@pytest.mark.soak
def test_window_million_steps_keep_memory_bounded(make_window, qtbot):
    _window_run(make_window, qtbot, 1_000_000, timeout_ms=600_000)
