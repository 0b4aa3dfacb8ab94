"""Schedules in the window (the controls, the lr readout, the lr strip), a
mid-run change recorded in the run's recipe, and the timeline's keys."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from sgd_viewer.core.recipe import play_recipe


def _wait_steps(window, qtbot, steps: int) -> None:
    qtbot.waitUntil(
        lambda: (
            window.snapshot()["latest_step"] == steps
            and not window.snapshot()["running"]
        ),
        timeout=20_000,
    )


def test_choosing_a_schedule_restarts_the_run_with_it(window, qtbot):
    window.step(20)
    _wait_steps(window, qtbot, 20)
    combo = window.controls.findChild(
        type(window.controls.optimizer_combo), "scheduleCombo"
    )
    combo.setCurrentIndex(combo.findData("cosine"))
    snap = window.snapshot()
    assert snap["schedule"] == "cosine"
    assert snap["runs"][0]["step"] == 0  # a change of what the steps mean
    window.controls.findChild(object, "t_maxScheduleSpin").setValue(40)
    assert dict(window.session.run.config.schedule_options)["t_max"] == 40


def test_the_lr_in_use_follows_the_schedule(window, qtbot):
    index = window.add_run("sgd:lr=0.5,schedule=onecycle,total_steps=100")
    window.step(60)
    _wait_steps(window, qtbot, 60)
    run = window.session.runs[index]
    lrs = run.history.column("lr")
    # The one-cycle curve: rising from lr/25, peaking at lr, then falling.
    assert lrs[0] == np.float32(0.5 / 25)
    assert lrs.max() == np.float32(0.5)
    assert lrs[-1] < lrs.max()
    assert window.lr_strip.isVisible()
    window.view_step(10)
    snap = window.snapshot()
    assert snap["lr_now"] == float(lrs[9])
    assert window.readouts.labels["lr_now"].text() != ""
    window.select_run(0)  # a constant lr: nothing to draw
    assert not window.lr_strip.isVisible()


def test_a_mid_run_change_is_in_the_recipe_and_replays(window, qtbot):
    window.step(30)
    _wait_steps(window, qtbot, 30)
    window.controls.lr_spin.setValue(0.05)
    window.step(30)
    _wait_steps(window, qtbot, 60)
    recipe = window.session.run.recipe()
    assert [(c.step, c.lr) for c in recipe.changes] == [(30, 0.05)]
    trainer, _ = play_recipe(recipe, window.session.data, window.session.start, 60)
    a, b = trainer.parameters
    snap = window.snapshot()
    assert (snap["a"], snap["b"]) == (a, b)


def test_left_home_and_end_move_on_the_timeline(window, qtbot):
    window.step(12)
    _wait_steps(window, qtbot, 12)
    window.activateWindow()
    window.surface_view.setFocus()
    qtbot.keyClick(window.surface_view, Qt.Key.Key_Left)
    assert window.snapshot()["step"] == 11
    qtbot.keyClick(window.surface_view, Qt.Key.Key_Home)
    assert window.snapshot()["step"] == 0
    assert (window.snapshot()["a"], window.snapshot()["b"]) == window.snapshot()[
        "start"
    ]
    qtbot.keyClick(window.surface_view, Qt.Key.Key_End)
    assert window.snapshot()["step"] == 12
    assert window.timeline.slider.value() == 12
