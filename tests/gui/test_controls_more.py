"""The remaining controls: pace, residuals, dataset menu, Open CSV button, title."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from sgd_viewer.core.data import load_bundled


def test_steps_per_second_paces_the_run(window, qtbot):
    spin = window.controls.speed_spin
    assert spin.specialValueText() == "max"
    spin.setValue(20)
    qtbot.waitUntil(lambda: window._worker._steps_per_second == 20)
    window.run()
    qtbot.waitUntil(lambda: window.snapshot()["step"] >= 2, timeout=5000)
    window.pause()
    qtbot.waitUntil(lambda: not window._worker._running)
    # Paced runs take whole steps a tick at a time: none was skipped or doubled.
    np.testing.assert_array_equal(
        window.history.column("step"), np.arange(1, len(window.history) + 1)
    )
    spin.setValue(0)
    qtbot.waitUntil(lambda: window._worker._steps_per_second is None)


def test_residual_segments_one_per_point(window, qtbot):
    window.step(5)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 5)
    window.explain_box.set_residual_style("segments")
    xs, ys = window.fit_view._residuals.getData()
    a, b = window.snapshot()["a"], window.snapshot()["b"]
    assert len(xs) == 2 * window.snapshot()["n"]
    np.testing.assert_allclose(ys[1::2], a * xs[1::2] + b)
    window.explain_box.set_residual_style("off")
    assert not window.fit_view._residuals.isVisible()


def test_residual_squares_are_the_squared_errors_square_on_screen(window, qtbot):
    window.step(5)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 5)
    window.explain_box.set_residual_style("squares")
    window.settle_views()
    squares = window.fit_view._squares.squares()
    data = window.session.data
    a, b = window.snapshot()["a"], window.snapshot()["b"]
    r = data.y - (a * data.x + b)
    assert len(squares) == data.n
    np.testing.assert_allclose(np.sort(squares[:, 3]), np.sort(np.abs(r)), rtol=1e-12)
    pixel_x, pixel_y = window.fit_view.getPlotItem().getViewBox().viewPixelSize()
    np.testing.assert_allclose(squares[:, 2] / pixel_x, squares[:, 3] / pixel_y)
    assert not window.fit_view._residuals.isVisible()
    # Equal aspect: one unit of x as long as one of y, so squares in data units.
    window.explain_box.equal_aspect_check.setChecked(True)
    window.settle_views()
    pixel_x, pixel_y = window.fit_view.getPlotItem().getViewBox().viewPixelSize()
    assert pixel_x == pytest.approx(pixel_y, rel=1e-6)
    squares = window.fit_view._squares.squares()
    np.testing.assert_allclose(squares[:, 2], squares[:, 3], rtol=1e-6)


def test_the_loss_written_as_a_sum_under_the_data(window, qtbot):
    label = window.loss_equation
    assert not label.isVisible()
    window.explain_box.equation_check.setChecked(True)
    assert label.isVisible()
    window.step(3)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 3)
    snap = window.snapshot()
    assert label.text().startswith("MSE = (1/50)")
    assert label.text().endswith(f"{snap['loss']:.6g}")
    assert "…" in label.text()  # 50 points: the first terms, then the last


def test_dataset_menu_loads_bundled_data(window, qtbot):
    combo = window.controls.dataset_combo
    index = combo.findData("cars")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    snap = window.snapshot()
    assert snap["n"] == load_bundled("cars").n
    assert snap["step"] == 0
    assert window.fit_view.getPlotItem().getAxis("bottom").labelText == "speed"


def test_open_button_asks_for_a_file(make_window, qtbot, tmp_path):
    good = tmp_path / "two.csv"
    good.write_text("u,v\n0,1\n1,3\n2,5\n")
    asked = []

    def pick(parent):
        asked.append(parent)
        return str(good)

    window = make_window(pick_csv=pick)
    qtbot.mouseClick(window.controls.open_button, Qt.MouseButton.LeftButton)
    assert asked == [window]
    assert window.snapshot()["n"] == 3
    assert window.problem.a_opt == pytest.approx(2.0)


def test_cancelled_file_dialog_changes_nothing(make_window):
    window = make_window(pick_csv=lambda parent: None)
    before = window.snapshot()
    assert not window.open_csv()
    assert window.snapshot() == before


def test_title_reports_step_and_status(window, qtbot):
    window.step(3)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 3)
    assert "step 3 (paused)" in window.windowTitle()


def test_large_data_are_subsampled_and_labelled(make_window):
    from sgd_viewer.core.data import generate

    window = make_window(data=generate(50_000))
    assert window.fit_view.shown_points == 10_000
    assert "10,000 of 50,000 points shown" in window.fit_view.title


def test_smaller_data_clamps_the_batch_size_everywhere(window, qtbot):
    window.controls.batch_spin.setValue(40)
    window.controls.n_spin.setValue(10)
    window.controls.regenerate_button.click()
    assert window.controls.batch_spin.value() == 10
    assert window.snapshot()["batch_size"] == 10
    window.step(2)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 2)
    assert window.snapshot()["epoch"] == 2  # a batch of 10 is all of the data
