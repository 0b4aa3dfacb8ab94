"""Numbers under the cursor: the surface's crosshair and its ghost line, the
pinned "my line", a data point's residual and share, every run's loss at a
step on the loss curve."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QAction


def _run_steps(window, qtbot, count: int) -> None:
    target = window.snapshot()["latest_step"] + count
    window.step(count)
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] >= target, timeout=20_000)


def test_hovering_the_surface_reports_the_guess_and_its_loss(window):
    window.settle_views()
    guesses = window.surface_view.guesses
    guesses.move_to(2.0, 5.0)
    hover = window.snapshot()["hover"]
    assert hover is not None
    # The cursor lands on a pixel: (a, b) within a pixel of where it was sent.
    pixel_a, pixel_b = window.surface_view.getPlotItem().getViewBox().viewPixelSize()
    assert hover["a"] == pytest.approx(2.0, abs=pixel_a)
    assert hover["b"] == pytest.approx(5.0, abs=pixel_b)
    x, y = window.session.data.x, window.session.data.y
    exact = float(np.mean((y - (hover["a"] * x + hover["b"])) ** 2))
    assert hover["loss"] == pytest.approx(exact, rel=1e-9)
    # The crosshair's label says it, and the fit view shows its line faintly.
    assert f"L = {hover['loss']:.4g}" in guesses.hover_text
    ghost = window.fit_view.ghost_line
    assert ghost == pytest.approx((hover["a"], hover["b"]), rel=1e-9)


def test_leaving_the_surface_clears_the_hover(window):
    window.surface_view.guesses.move_to(2.0, 5.0)
    assert window.snapshot()["hover"] is not None
    window.surface_view.guesses.leave()
    assert window.snapshot()["hover"] is None
    assert window.fit_view.ghost_line is None
    assert window.surface_view.guesses.hover_text == ""


def test_p_pins_the_guess_as_my_line(window):
    window.settle_views()
    window.surface_view.guesses.move_to(1.0, 6.0)
    hover = window.snapshot()["hover"]
    window.findChild(QAction, "pinAction").trigger()
    pinned = window.snapshot()["pinned"]
    assert pinned == hover
    window.surface_view.guesses.leave()
    assert window.fit_view.pinned_line == pytest.approx((pinned["a"], pinned["b"]))
    text = window.readouts.labels["pinned"].text()
    optimum = window.session.problem.loss_opt("mean")
    assert f"L = {pinned['loss']:.4g}" in text
    assert f"L* = {optimum:.4g}" in text
    assert "my line" in [label.text for _, label in window.fit_view._legend.items]
    window.pin(None)
    assert window.snapshot()["pinned"] is None
    assert window.fit_view.pinned_line is None


def test_p_without_a_cursor_pins_the_shown_point(window):
    window.findChild(QAction, "pinAction").trigger()
    snap = window.snapshot()
    assert snap["pinned"] == {"a": -1.0, "b": 1.0, "loss": snap["loss"]}


def test_hovering_a_data_point_shows_its_residual_and_share(window):
    window.settle_views()
    data = window.session.data
    a, b = window.snapshot()["a"], window.snapshot()["b"]
    index = int(np.argmax(data.y))
    hover = window.fit_view.point_hover
    hover.move_to(float(data.x[index]), float(data.y[index]))
    residual = float(data.y[index] - (a * data.x[index] + b))
    r = data.y - (a * data.x + b)
    share = residual**2 / float(np.dot(r, r))
    assert f"residual r = {residual:.4g}" in hover.text
    assert f"{100 * share:.3g} % of the loss" in hover.text
    # Far from every point: nothing.
    hover.move_to(float(data.x.mean()), float(data.y.max()) + 50)
    assert hover.text == ""


def test_hovering_the_loss_curve_shows_every_runs_loss_there(window, qtbot):
    window.add_run("adam:lr=0.1")
    _run_steps(window, qtbot, 50)
    window.settle_views()
    view_box = window.loss_view.getPlotItem().getViewBox()
    (_, _), (y0, y1) = view_box.viewRange()
    window.loss_view.step_hover.move_to(20.0, (y0 + y1) / 2)
    text = window.loss_view.step_hover.text
    assert text.startswith("step 20")
    problem = window.session.problem
    for run in window.session.runs:
        row = run.row_at(20)
        loss = problem.loss(float(row["a"]), float(row["b"]), "mean")
        assert f"{run.label}: L = {loss:.5g}" in text


def test_the_right_click_menu_pins_and_unpins(window):
    window.settle_views()
    guesses = window.surface_view.guesses
    guesses.move_to(2.5, 7.0)
    hover = window.snapshot()["hover"]
    menu = guesses.context_menu(pinned=False)
    pin, unpin = menu.actions()
    assert not unpin.isEnabled()
    pin.trigger()
    assert window.snapshot()["pinned"] == hover
    menu = guesses.context_menu(pinned=True)
    menu.actions()[1].trigger()
    assert window.snapshot()["pinned"] is None
