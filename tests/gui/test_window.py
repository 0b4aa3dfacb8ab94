"""The main window as a user drives it: launch, controls, readouts, shortcuts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.problem import Problem


def test_launch_shows_the_lessons_setup(window):
    snap = window.snapshot()
    assert snap["step"] == 0
    assert (snap["a"], snap["b"]) == (-1.0, 1.0)
    assert snap["start"] == (-1.0, 1.0)
    assert snap["optimizer"] == "sgd"
    assert snap["lr"] == 0.01
    assert snap["reduction"] == "mean"
    assert snap["n"] == 50
    assert snap["status"] == "ready"
    lesson = generate(50, 3.0, 8.0, 0.3, 0)
    np.testing.assert_array_equal(window.problem.n, lesson.n)
    assert window.problem.a_opt == Problem.from_data(lesson.x, lesson.y).a_opt


def test_step_button_takes_one_sgd_step(window, qtbot):
    problem = window.problem
    grad_a, grad_b = problem.gradient(-1.0, 1.0)
    qtbot.mouseClick(window.controls.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 1)
    snap = window.snapshot()
    assert snap["a"] == pytest.approx(-1.0 - 0.01 * grad_a, rel=1e-12)
    assert snap["b"] == pytest.approx(1.0 - 0.01 * grad_b, rel=1e-12)
    assert window.fit_view.line_parameters == (snap["a"], snap["b"])
    assert snap["status"] == "paused"


def test_step_count_spin_takes_that_many_steps(window, qtbot):
    window.controls.step_count_spin.setValue(25)
    qtbot.mouseClick(window.controls.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 25)
    assert not window.snapshot()["running"]


def test_run_then_pause_stops_the_steps(window, qtbot):
    window.controls.speed_spin.setValue(0)  # max
    qtbot.mouseClick(window.controls.run_button, Qt.MouseButton.LeftButton)
    assert window.controls.run_button.text() == "Pause"
    qtbot.waitUntil(lambda: window.snapshot()["step"] > 100, timeout=10_000)
    assert window.snapshot()["status"] == "running"
    qtbot.mouseClick(window.controls.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window._worker._running, timeout=5000)
    stopped_at = window.snapshot()["step"]
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == stopped_at + 1)
    assert window.snapshot()["status"] == "paused"
    assert window.controls.run_button.text() == "Run"


def test_reset_returns_to_the_start_and_clears_the_path(window, qtbot):
    window.step(40)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 40)
    qtbot.mouseClick(window.controls.reset_button, Qt.MouseButton.LeftButton)
    snap = window.snapshot()
    assert snap["step"] == 0
    assert (snap["a"], snap["b"]) == (-1.0, 1.0)
    assert len(window.history) == 0
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 1)


def test_learning_rate_change_applies_mid_run_without_reset(window, qtbot):
    window.step(10)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 10)
    window.controls.lr_spin.setValue(0.1)
    assert window.snapshot()["lr"] == 0.1
    before = window.snapshot()
    grad_a, _ = window.problem.gradient(before["a"], before["b"])
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 11)
    assert window.snapshot()["a"] == pytest.approx(
        before["a"] - 0.1 * grad_a, rel=1e-12
    )


def test_lr_slider_and_spin_agree(window):
    window.controls.lr_slider.setValue(-300)  # 10**-3
    assert window.controls.lr_spin.value() == pytest.approx(1e-3)
    window.controls.lr_spin.setValue(0.5)
    assert window.controls.lr_slider.value() == round(math.log10(0.5) * 100)
    assert window.snapshot()["lr"] == 0.5


def test_new_optimizer_resets_and_builds_its_knobs(window, qtbot):
    window.step(5)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 5)
    combo = window.controls.optimizer_combo
    combo.setCurrentIndex(combo.findData("adam"))
    snap = window.snapshot()
    assert snap["optimizer"] == "adam"
    assert snap["step"] == 0
    assert snap["lr"] == 0.05
    for name in ("beta1", "beta2", "eps"):
        assert window.controls.findChild(object, f"{name}Spin") is not None
    window.controls.findChild(object, "beta1Spin").setValue(0.5)
    assert window.controls.config().hyperparameters["beta1"] == 0.5
    window.step(3)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 3)


def test_batch_size_and_loss_reduction(window, qtbot):
    window.controls.batch_spin.setValue(10)
    assert window.snapshot()["batch_size"] == 10
    window.step(6)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 6)
    assert window.snapshot()["epoch"] == 1  # 5 batches of 10 make an epoch
    combo = window.controls.loss_combo
    combo.setCurrentIndex(combo.findData("sum"))
    snap = window.snapshot()
    assert snap["reduction"] == "sum"
    assert snap["step"] == 0
    assert snap["loss"] == pytest.approx(window.problem.loss(-1, 1) * 50)
    assert window.loss_view.optimum_loss == pytest.approx(
        window.problem.loss_opt("sum")
    )


def test_readouts_show_the_optimum_and_the_stable_limit(window, qtbot):
    readout = window.readouts.labels
    problem = window.problem
    assert f"{problem.a_opt:.6g}" in readout["optimum"].text()
    assert f"{problem.lr_max():.4g}" in readout["lr_max"].text()
    assert "stable" in readout["lr_max"].text()
    window.controls.lr_spin.setValue(2.0)
    assert "too large" in readout["lr_max"].text()
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 1)
    snap = window.snapshot()
    assert readout["step"].text() == "1"
    assert readout["a"].text() == f"{snap['a']:.6g}"
    grad = math.hypot(*problem.gradient(snap["a"], snap["b"]))
    assert readout["grad"].text() == f"{grad:.6g}"
    status = window.findChild(QLabel, "statusReadout")
    assert "Paused" in status.text()


def test_divergence_pauses_shows_banner_and_reset_recovers(window, qtbot):
    window.controls.lr_spin.setValue(2.0)
    window.controls.speed_spin.setValue(0)
    window.run()
    qtbot.waitUntil(lambda: window.snapshot()["status"] == "diverged", timeout=10_000)
    snap = window.snapshot()
    assert not snap["running"]
    assert window.banner.isVisible()
    text = window.banner.text()
    assert "step" in text
    assert "lr = 2" in text
    assert f"{window.problem.lr_max():.4g}" in text
    for name in ("a", "b", "loss"):
        assert np.all(np.isfinite(window.history.column(name)))
    assert math.isfinite(snap["a"])
    assert math.isfinite(snap["b"])
    window.run()  # refused while diverged
    assert window.snapshot()["status"] == "diverged"
    window.controls.lr_spin.setValue(0.1)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.snapshot()["status"] == "ready"
    assert not window.banner.isVisible()
    window.step(5)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 5)


def test_keyboard_shortcuts(window, qtbot):
    window.surface_view.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 1)
    qtbot.keyClick(window, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 2)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.snapshot()["running"]
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.snapshot()["running"]
    qtbot.waitUntil(lambda: not window._worker._running)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.snapshot()["step"] == 0
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(QMessageBox, "shortcutsDialog")
    assert dialog is not None
    assert "Ctrl+Q" in dialog.text()
    dialog.close()
    assert "Space" in window.controls.run_button.toolTip()
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()
    assert window.worker_thread is None


def test_regenerate_and_bundled_datasets(window, qtbot):
    window.controls.n_spin.setValue(120)
    window.controls.seed_spin.setValue(7)
    qtbot.mouseClick(window.controls.regenerate_button, Qt.MouseButton.LeftButton)
    snap = window.snapshot()
    assert snap["n"] == 120
    assert snap["step"] == 0
    assert window.problem.n == 120
    window.load_dataset("anscombe-1")
    assert window.snapshot()["n"] == 11
    assert window.problem.a_opt == pytest.approx(0.5, abs=1e-3)
    window.step(3)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 3)


def test_bad_csv_shows_a_dialog_and_keeps_data_and_run(window, qtbot, tmp_path, settle):
    window.step(7)
    settle(window, 7)
    before = window.snapshot()
    bad = tmp_path / "broken.csv"
    bad.write_text("x,y\n1,2\n3,abc\n")
    assert not window.open_csv(str(bad))
    dialog = window.findChild(QMessageBox, "errorDialog")
    assert dialog is not None
    assert dialog.isVisible()
    assert "broken.csv" in dialog.text()
    assert "line 3" in dialog.text()
    after = window.snapshot()
    assert after == before
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 8)


def test_good_csv_with_column_choice(window, qtbot, tmp_path):
    good = tmp_path / "three.csv"
    good.write_text("t,u,v\n0,1,5\n1,3,6\n2,5,8\n3,7,9\n")
    assert window.open_csv(str(good), x="t", y="v")
    assert window.snapshot()["n"] == 4
    assert window.problem.a_opt == pytest.approx(
        np.polyfit([0, 1, 2, 3], [5, 6, 8, 9], 1)[0]
    )


def test_close_while_running_stops_the_thread(make_window, qtbot):
    window = make_window(config=TrainingConfig(lr=0.01))
    window.controls.speed_spin.setValue(0)
    window.run()
    qtbot.waitUntil(lambda: window.snapshot()["step"] > 50, timeout=10_000)
    thread = window.worker_thread
    window.close()
    assert window.worker_thread is None
    assert thread.isFinished()
