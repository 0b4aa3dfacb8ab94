"""Several runs in one window, and the timeline: add, duplicate, remove and
select runs; race them against headless trainers; scrub back and continue
from the past; one run diverging while the others go on."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from sgd_viewer.core.recipe import MAX_RUNS
from sgd_viewer.core.trainer import Trainer


def _reference(window, index: int, steps: int) -> tuple[float, float]:
    """``(a, b)`` of run ``index`` trained headless for ``steps`` steps."""
    session = window.session
    trainer = Trainer(session.data, session.runs[index].config, session.start)
    batch = trainer.step(steps)
    assert int(batch.step[-1]) == steps
    return float(batch.a[-1]), float(batch.b[-1])


def _wait_for_steps(window, qtbot, steps: int, timeout: int = 20_000) -> None:
    def done() -> bool:
        snap = window.snapshot()
        return snap["latest_step"] == steps and all(
            row["step"] == steps for row in snap["runs"]
        )

    qtbot.waitUntil(done, timeout=timeout)


def _assert_runs_match_reference(window, steps: int) -> None:
    for index, row in enumerate(window.snapshot()["runs"]):
        a, b = _reference(window, index, steps)
        assert np.isclose(row["a"], a, rtol=1e-12, atol=0), (index, row["label"])
        assert np.isclose(row["b"], b, rtol=1e-12, atol=0), (index, row["label"])


def _visible_layers(view):
    return [layer for layer in view._others.layers if layer.strong.isVisible()]


# ------------------------------------------------------------------ 1. runs
def test_widgets_have_their_object_names(window):
    for name in (
        "runsPanel",
        "addRunButton",
        "removeRunButton",
        "timelineSlider",
        "backButton",
    ):
        assert window.findChild(QWidget, name) is not None, name
    assert window.findChild(QWidget, "addRunButton") is window.runs_panel.add_button
    assert window.findChild(QWidget, "timelineSlider") is window.timeline.slider


def test_add_duplicate_remove_select_through_the_api(window):
    assert len(window.snapshot()["runs"]) == 1
    index = window.add_run("momentum:lr=0.05,momentum=0.9")
    assert index == 1
    snap = window.snapshot()
    assert len(snap["runs"]) == 2
    assert snap["selected"] == 1
    assert snap["optimizer"] == "momentum"
    assert snap["runs"][1]["hyperparameters"]["momentum"] == 0.9
    assert snap["runs"][1]["lr"] == 0.05

    copy = window.duplicate_run(1)
    assert copy == 2
    snap = window.snapshot()
    assert len(snap["runs"]) == 3
    assert snap["selected"] == 2
    assert window.session.runs[2].config == window.session.runs[1].config
    assert snap["runs"][2]["colour"] != snap["runs"][1]["colour"]

    window.select_run(0)
    snap = window.snapshot()
    assert snap["selected"] == 0
    assert snap["optimizer"] == "sgd"
    assert snap["lr"] == 0.01

    window.remove_run(1)
    snap = window.snapshot()
    assert [row["optimizer"] for row in snap["runs"]] == ["sgd", "momentum"]
    assert snap["selected"] == 0
    assert window.runs_panel.table.rowCount() == 2


def test_add_select_and_remove_through_the_panel(window, qtbot):
    panel = window.runs_panel
    add = window.findChild(QWidget, "addRunButton")
    remove = window.findChild(QWidget, "removeRunButton")
    assert not remove.isEnabled()  # the last run cannot go
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    snap = window.snapshot()
    assert len(snap["runs"]) == 2
    assert snap["selected"] == 1
    assert panel.table.rowCount() == 2
    assert panel.table.currentRow() == 1
    assert remove.isEnabled()

    qtbot.mouseClick(panel.duplicate_button, Qt.MouseButton.LeftButton)
    assert len(window.snapshot()["runs"]) == 3
    assert window.snapshot()["selected"] == 2

    panel.table.selectRow(0)
    assert window.snapshot()["selected"] == 0

    labels = [row["label"] for row in window.snapshot()["runs"]]
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)  # removes row 0
    after = [row["label"] for row in window.snapshot()["runs"]]
    assert len(after) == 2
    assert after == labels[1:]
    assert panel.table.rowCount() == 2


def test_bad_specs_are_refused_with_a_message(window):
    for spec in ("nosuch:lr=1", "sgd:lr=abc"):
        window.last_error = None
        assert window.add_run(spec) == -1
        assert len(window.snapshot()["runs"]) == 1
        assert window.last_error is not None
        assert spec in window.last_error, window.last_error
    assert "abc" in window.last_error


def test_a_ninth_run_is_refused(window):
    for lr in range(2, MAX_RUNS + 1):
        assert window.add_run(f"sgd:lr=0.0{lr}") >= 0
    assert len(window.snapshot()["runs"]) == MAX_RUNS
    assert not window.runs_panel.add_button.isEnabled()
    window.last_error = None
    assert window.add_run("sgd:lr=0.1") == -1
    assert str(MAX_RUNS) in window.last_error
    window.last_error = None
    assert window.duplicate_run(0) == -1
    assert window.last_error is not None
    assert len(window.snapshot()["runs"]) == MAX_RUNS


# ------------------------------------------------------------------ 2. race
def test_race_matches_headless_trainers_and_is_drawn(window, qtbot):
    window.add_run("momentum:lr=0.05,momentum=0.9")
    window.add_run("adam:lr=0.1")
    window.select_run(0)
    window.step(50)
    _wait_for_steps(window, qtbot, 50)
    snap = window.snapshot()
    assert snap["step"] == 50
    assert [row["optimizer"] for row in snap["runs"]] == ["sgd", "momentum", "adam"]
    _assert_runs_match_reference(window, 50)

    others = [(row["a"], row["b"]) for row in snap["runs"][1:]]
    lines = window.fit_view.other_lines
    assert len(lines) == 2
    for (a, b), (la, lb) in zip(others, lines, strict=True):
        assert np.isclose(la, a, rtol=1e-9)
        assert np.isclose(lb, b, rtol=1e-9)
    layers = _visible_layers(window.surface_view)
    assert len(layers) == 2
    for (a, b), layer in zip(others, layers, strict=True):
        assert layer.strong.xData[-1] == a
        assert layer.strong.yData[-1] == b
        pos = layer.marker.pos()
        assert np.isclose(pos.x(), a, rtol=1e-12)
        assert np.isclose(pos.y(), b, rtol=1e-12)
    assert len(_visible_layers(window.loss_view)) == 2

    # Hide the momentum run with its checkbox in the panel.
    item = window.runs_panel.table.item(1, 0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert window.session.runs[1].visible is False
    assert window.snapshot()["runs"][1]["visible"] is False
    layers = _visible_layers(window.surface_view)
    assert len(layers) == 1
    adam = snap["runs"][2]
    assert layers[0].strong.xData[-1] == adam["a"]
    assert len(window.fit_view.other_lines) == 1
    assert np.isclose(window.fit_view.other_lines[0][0], adam["a"], rtol=1e-9)
    assert len(_visible_layers(window.loss_view)) == 1

    window._on_visibility(1, True)
    assert len(_visible_layers(window.surface_view)) == 2


# -------------------------------------------------------------- 3. timeline
def test_timeline_views_the_past_and_goes_back(window, qtbot):
    window.add_run("momentum:lr=0.05,momentum=0.9")
    window.step(40)
    _wait_for_steps(window, qtbot, 40)

    window.view_step(10)
    snap = window.snapshot()
    assert snap["step"] == 10
    assert snap["latest_step"] == 40
    assert window.timeline.slider.value() == 10
    assert window.timeline.slider.maximum() == 40
    a, b = _reference(window, snap["selected"], 10)
    assert np.isclose(snap["a"], a, rtol=1e-12)
    assert np.isclose(snap["b"], b, rtol=1e-12)
    _assert_runs_match_reference(window, 10)

    window.back()
    assert window.snapshot()["step"] == 9
    assert window.timeline.slider.value() == 9
    qtbot.mouseClick(window.findChild(QWidget, "backButton"), Qt.MouseButton.LeftButton)
    assert window.snapshot()["step"] == 8

    window.view_step(0)  # Home
    snap = window.snapshot()
    assert snap["step"] == 0
    assert (snap["a"], snap["b"]) == window.session.start
    window.view_step(None)  # End
    snap = window.snapshot()
    assert snap["step"] == 40
    assert window.timeline.slider.value() == 40
    _assert_runs_match_reference(window, 40)

    window.timeline.slider.setValue(25)  # dragging the slider
    assert window.snapshot()["step"] == 25


def test_continuing_from_the_past_equals_an_uninterrupted_run(window, qtbot):
    window.add_run("momentum:lr=0.05,momentum=0.9")
    window.step(40)
    _wait_for_steps(window, qtbot, 40)
    window.view_step(10)
    window.step(5)
    _wait_for_steps(window, qtbot, 15)
    snap = window.snapshot()
    assert snap["step"] == 15
    assert snap["latest_step"] == 15
    for index, row in enumerate(snap["runs"]):
        a, b = _reference(window, index, 15)
        assert row["a"] == a, (index, row["a"], a)
        assert row["b"] == b, (index, row["b"], b)
    assert len(window.session.runs[1].history) == 15


# ------------------------------------------------------------ 4. divergence
def test_one_run_diverges_while_the_other_goes_on(window, qtbot):
    window.add_run("sgd:lr=5")
    window.add_run("sgd:lr=0.1")
    window.remove_run(0)
    assert [row["lr"] for row in window.snapshot()["runs"]] == [5.0, 0.1]
    window.step(200)

    def settled() -> bool:
        rows = window.snapshot()["runs"]
        return rows[0]["status"] == "diverged" and rows[1]["step"] == 200

    qtbot.waitUntil(settled, timeout=20_000)
    rows = window.snapshot()["runs"]
    assert rows[0]["step"] < 200
    assert rows[1]["status"] != "diverged"
    assert np.isfinite(rows[0]["a"])
    assert np.isfinite(rows[0]["b"])
    assert window.banner.isVisible()
    assert rows[0]["label"] in window.banner.text()
    assert rows[1]["label"] not in window.banner.text()


# ------------------------------------------------------------------ 5. race
def test_race_optimizers_makes_eight_distinct_runs(window, qtbot):
    window.add_run("adam:lr=0.1")
    window.race_optimizers()
    rows = window.snapshot()["runs"]
    assert len(rows) == MAX_RUNS
    assert len({row["colour"] for row in rows}) == MAX_RUNS
    assert len({row["label"] for row in rows}) == MAX_RUNS
    assert len({row["optimizer"] for row in rows}) == MAX_RUNS
    for row in rows:
        assert "lr" in row["label"], row["label"]
        assert row["step"] == 0
    assert window.snapshot()["selected"] == 0
    window.step(5)
    _wait_for_steps(window, qtbot, 5)
