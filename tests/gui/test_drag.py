"""Dragging the initial guess on the loss surface, and clicking to set it."""

from __future__ import annotations

import numpy as np
import pytest


def test_drag_moves_the_line_live_and_restarts_from_the_drop(window, mouse):
    surface = window.surface_view
    seen = []
    window.state_changed.connect(
        lambda: seen.append(
            (
                (window.snapshot()["a"], window.snapshot()["b"]),
                window.fit_view.line_parameters,
            )
        )
    )
    mouse.drag(surface, (-1.0, 1.0), [(-0.5, 2.0), (0.0, 3.0), (1.0, 4.0)])
    snap = window.snapshot()
    assert snap["start"] == pytest.approx((1.0, 4.0), abs=0.05)
    assert surface.start_position == pytest.approx(snap["start"])
    assert snap["step"] == 0
    # While it moved, the fit view drew the handle's line and snapshot agreed.
    assert any(
        a == pytest.approx(-0.5, abs=0.05) and b == pytest.approx(2.0, abs=0.05)
        for (a, b), _ in seen
    )
    for shown, line in seen:
        assert line == shown
    assert window.fit_view.line_parameters == (snap["a"], snap["b"]) == snap["start"]


def test_preview_of_the_next_steps_follows_the_handle(window, qtbot, mouse):
    surface = window.surface_view
    mouse.press(surface, -1.0, 1.0)
    mouse.move(surface, 0.0, 2.0)
    mouse.move(surface, 0.5, 2.5)
    qtbot.waitUntil(
        lambda: surface._preview.xData is not None and len(surface._preview.xData) > 100
    )
    a_pre, b_pre = surface._preview.xData, surface._preview.yData
    assert (a_pre[0], b_pre[0]) == pytest.approx(surface.start_position)
    # The preview is the trainer's own path: 200 SGD steps at lr 0.01 from there.
    a, b = surface.start_position
    problem = window.problem
    for _ in range(200):
        grad_a, grad_b = problem.gradient(a, b)
        a, b = a - 0.01 * grad_a, b - 0.01 * grad_b
    assert (a_pre[-1], b_pre[-1]) == pytest.approx((a, b), rel=1e-9)
    mouse.release(surface, 0.5, 2.5)
    assert surface._preview.xData is None or len(surface._preview.xData) == 0
    assert window.snapshot()["start"] == pytest.approx((0.5, 2.5), abs=0.05)


def test_drop_while_running_keeps_running_from_the_new_start(window, qtbot, mouse):
    window.controls.speed_spin.setValue(0)
    window.run()
    qtbot.waitUntil(lambda: window.snapshot()["step"] > 20, timeout=10_000)
    mouse.drag(window.surface_view, (-1.0, 1.0), [(0.0, 0.0), (2.0, 0.0)])
    assert window.snapshot()["start"] == pytest.approx((2.0, 0.0), abs=0.05)
    assert window.snapshot()["running"]
    qtbot.waitUntil(lambda: window.snapshot()["step"] > 20, timeout=10_000)
    path_a = window.history.column("a")
    first = window.history.column("step")[0]
    assert first == 1  # the run started again, not continued
    assert np.all(np.isfinite(path_a))
    window.pause()


def test_click_on_empty_surface_sets_the_start(window, mouse):
    mouse.click(window.surface_view, 2.0, 5.0)
    snap = window.snapshot()
    assert snap["start"] == pytest.approx((2.0, 5.0), abs=0.05)
    assert window.surface_view.start_position == pytest.approx(snap["start"])


def test_reset_keeps_the_chosen_start(window, qtbot, mouse):
    mouse.click(window.surface_view, 1.0, 6.0)
    start = window.snapshot()["start"]
    window.step(10)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 10)
    window.reset()
    snap = window.snapshot()
    assert snap["start"] == start
    assert (snap["a"], snap["b"]) == start
