"""The Update panel: the selected run's rule with the numbers of the shown
step, from the torch optimizer's own state; the Slices tab follows the point."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QWidget


def _run_steps(window, qtbot, count: int) -> None:
    target = window.snapshot()["latest_step"] + count
    window.step(count)
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] >= target, timeout=20_000)


def _show_tab(window, widget) -> None:
    window.curve_tabs.setCurrentWidget(widget)


def _update_of(window, qtbot, step: int) -> dict:
    qtbot.waitUntil(
        lambda: (window.snapshot()["update"] or {}).get("step") == step, timeout=20_000
    )
    return window.snapshot()["update"]


def test_the_panel_has_its_name_and_a_tab(window):
    panel = window.findChild(QWidget, "updatePanel")
    assert panel is window.update_panel
    assert window.curve_tabs.indexOf(panel) >= 0


def test_at_step_zero_there_is_no_update(window):
    assert window.snapshot()["update"] is None
    _show_tab(window, window.update_panel)
    assert "step 0" in window.update_panel.heading.text()


def test_sgd_update_reproduces_the_step(window, qtbot):
    _show_tab(window, window.update_panel)
    _run_steps(window, qtbot, 3)
    update = _update_of(window, qtbot, 3)
    snap = window.snapshot()
    assert (update["a_after"], update["b_after"]) == (snap["a"], snap["b"])
    row = window.history.row_at(2)
    assert (update["a_before"], update["b_before"]) == (row["a"], row["b"])
    terms = update["terms"]
    lr = terms["lr"]
    assert update["a_after"] == pytest.approx(
        update["a_before"] - lr * terms["grad_a"], rel=1e-12
    )
    assert "a ←" in update["rule"]
    assert window.update_panel.rule.toPlainText() == update["rule"]
    assert "step 3" in window.update_panel.heading.text()


def test_adam_update_of_a_past_step(window, qtbot):
    window.add_run("adam:lr=0.1")
    _run_steps(window, qtbot, 12)
    window.view_step(5)
    update = _update_of(window, qtbot, 5)
    run = window.session.run
    row4, row5 = run.row_at(4), run.row_at(5)
    assert (update["a_before"], update["b_before"]) == (row4["a"], row4["b"])
    assert (update["a_after"], update["b_after"]) == (row5["a"], row5["b"])
    t = update["terms"]
    for key in ("exp_avg_a", "exp_avg_sq_b", "bias_correction1", "step"):
        assert key in t
    # The textbook Adam step from the terms (torch's conventions).
    m_hat = t["exp_avg_a"] / t["bias_correction1"]
    v_hat = t["exp_avg_sq_a"] / t["bias_correction2"]
    expected = update["a_before"] - t["lr"] * m_hat / (np.sqrt(v_hat) + t["eps"])
    assert update["a_after"] == pytest.approx(expected, rel=1e-6)


def test_selecting_another_run_shows_its_update(window, qtbot):
    window.add_run("momentum:lr=0.05,momentum=0.9")
    _run_steps(window, qtbot, 4)
    window.select_run(0)
    assert _update_of(window, qtbot, 4)["terms"].get("momentum_buffer_a") is None
    window.select_run(1)
    update = _update_of(window, qtbot, 4)
    assert "momentum_buffer_a" in update["terms"]
    assert update["a_after"] == window.snapshot()["a"]


def test_slices_follow_the_shown_point(window, qtbot):
    _show_tab(window, window.slices_tab)
    _run_steps(window, qtbot, 7)
    window.settle_views()
    snap = window.snapshot()
    slopes = window.slices_view.slopes
    grad = window.session.problem.gradient(snap["a"], snap["b"], "mean")
    assert slopes == pytest.approx(grad, rel=1e-9)
    assert window.slices_view.tangent_slopes() == pytest.approx(grad, rel=1e-6)
