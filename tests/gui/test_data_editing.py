"""Editing the data by hand on the data plot: drag a point, double-click to add
one, right-click to remove one, undo and redo (issue 12 §4)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import qt_mouse
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeySequence, QMouseEvent
from PySide6.QtWidgets import QApplication

from sgd_viewer.core.data import Dataset
from sgd_viewer.core.data_edits import MovePoint
from sgd_viewer.gui.data_editor import PREVIEW_HZ


def _send(view, kind, x: float, y: float, button, buttons) -> None:
    """A mouse event of any button at data point (x, y) of ``view``."""
    pos = qt_mouse.viewport_point(view, x, y)
    viewport = view.viewport()
    event = QMouseEvent(
        kind,
        QPointF(pos),
        QPointF(viewport.mapToGlobal(pos)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def _right_click(view, x: float, y: float) -> None:
    right, none = Qt.MouseButton.RightButton, Qt.MouseButton.NoButton
    _send(view, QEvent.Type.MouseButtonPress, x, y, right, right)
    _send(view, QEvent.Type.MouseButtonRelease, x, y, right, none)


def _double_click(view, x: float, y: float) -> None:
    """As Qt delivers one: press, release, double-click, release."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, buttons in (
        (QEvent.Type.MouseButtonPress, left),
        (QEvent.Type.MouseButtonRelease, none),
        (QEvent.Type.MouseButtonDblClick, left),
        (QEvent.Type.MouseButtonRelease, none),
    ):
        _send(view, kind, x, y, left, buttons)


def _pixel(window) -> tuple[float, float]:
    """Data units per pixel of the data plot."""
    return window.fit_view.getPlotItem().getViewBox().viewPixelSize()


def _lonely_point(data: Dataset, window) -> int:
    """The point farthest on screen from its nearest neighbour: a gesture
    aimed at it cannot pick another."""
    px, py = _pixel(window)
    dx = (data.x[:, None] - data.x[None, :]) / px
    dy = (data.y[:, None] - data.y[None, :]) / py
    distance = np.hypot(dx, dy)
    np.fill_diagonal(distance, np.inf)
    index = int(np.argmax(distance.min(axis=1)))
    assert distance[index].min() > 12  # pixels: the nearest is the one aimed at
    return index


def _empty_spot(window) -> tuple[float, float]:
    """A point of the plot at least 40 px from every data point."""
    (x0, x1), (y0, y1) = window.fit_view.getPlotItem().getViewBox().viewRange()
    data = window.session.data
    px, py = _pixel(window)
    for fx in np.linspace(0.2, 0.8, 7):
        for fy in np.linspace(0.15, 0.85, 8):
            x, y = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
            if np.hypot((data.x - x) / px, (data.y - y) / py).min() > 40:
                return float(x), float(y)
    raise AssertionError("no empty spot on the data plot")


def _point(window, i: int) -> tuple[float, float]:
    """Point ``i`` where the data plot draws it."""
    data = window.session.data
    return float(data.x[i]), float(data.y[i])


def _fit(x, y) -> tuple[float, float]:
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


@pytest.fixture
def editing(window):
    """The default window with Edit data on, its views settled."""
    window.data_editor.set_editing(True)
    window.settle_views()
    return window


def _step_to(window, qtbot, steps: int) -> int:
    window.step(steps)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == steps)
    return window.session.generation


def test_the_checkbox_and_actions_are_named_and_start_off(window):
    check = window.findChild(type(window.data_edit_bar.check), "editDataCheck")
    assert check is window.data_edit_bar.check
    assert not check.isChecked()
    undo = window.undo_edit_action
    redo = window.redo_edit_action
    assert (undo.objectName(), redo.objectName()) == (
        "undoEditAction",
        "redoEditAction",
    )
    assert QKeySequence("Ctrl+Z") in undo.shortcuts()
    assert QKeySequence("Ctrl+Shift+Z") in redo.shortcuts()
    assert undo in window.actions()
    assert redo in window.actions()
    assert not undo.isEnabled()
    assert not redo.isEnabled()
    assert window.data_editor.as_dict() == {
        "editing": False,
        "undo": 0,
        "redo": 0,
        "dragging": False,
        "message": "",
    }


def test_dragging_a_point_previews_live_then_applies_and_restarts(
    editing, qtbot, mouse
):
    window, view = editing, editing.fit_view
    editor = window.data_editor
    generation = _step_to(window, qtbot, 5)
    before = window.session.raw_data
    i = _lonely_point(before, window)
    x0, y0 = float(before.x[i]), float(before.y[i])
    mouse.press(view, x0, y0)
    mouse.move(view, x0, y0 - 1.5)
    # Live: the point, the best-fit line, the surface's optimum, L* and the
    # readouts follow the drag; the data and the runs are left alone.
    xs, ys = view.scatter.getData()
    px, py = _pixel(window)
    assert ys[i] == pytest.approx(y0 - 1.5, abs=2 * py)
    assert xs[i] == pytest.approx(x0, abs=2 * px)
    a_live, b_live = _fit(xs, ys)
    preview = editor.preview_problem
    assert preview.a_opt == pytest.approx(a_live, rel=1e-9)
    assert preview.b_opt == pytest.approx(b_live, rel=1e-9)
    assert preview.a_opt != pytest.approx(window.problem.a_opt, rel=1e-3)
    assert editor.best_fit_line() == pytest.approx((a_live, b_live), rel=1e-9)
    assert window.loss_view.optimum_loss == pytest.approx(preview.loss_opt())
    assert f"{preview.a_opt:.6g}" in window.readouts.labels["optimum"].text()
    assert f"{preview.lr_max():.4g}" in window.readouts.labels["lr_max"].text()
    assert editor.as_dict()["dragging"]
    assert window.session.raw_data is before
    assert window.session.generation == generation
    assert window.snapshot()["step"] == 5
    mouse.move(view, x0, y0 - 3.0)
    mouse.release(view, x0, y0 - 3.0)
    # On release: new data, the optimum is theirs, every run starts again.
    after = window.session.raw_data
    assert after is not before
    assert after.source == "edited"
    assert "edited" in after.name
    assert after.y[i] == pytest.approx(y0 - 3.0, abs=2 * py)
    others = np.arange(before.n) != i
    assert np.array_equal(after.y[others], before.y[others])
    assert np.array_equal(after.x[others], before.x[others])
    assert (window.problem.a_opt, window.problem.b_opt) == pytest.approx(
        _fit(after.x, after.y), rel=1e-9
    )
    assert window.session.generation > generation
    assert window.snapshot()["step"] == 0
    assert window.snapshot()["n"] == before.n
    assert editor.as_dict() == {
        "editing": True, "undo": 1, "redo": 0, "dragging": False, "message": "",
    }  # fmt: skip
    assert window.undo_edit_action.isEnabled()
    assert not window.redo_edit_action.isEnabled()
    # The runs go on from their start on the edited data.
    _step_to(window, qtbot, 3)


def test_previews_are_throttled_and_the_last_position_is_shown(editing, qtbot, mouse):
    window, view = editing, editing.fit_view
    editor = window.data_editor
    data = window.session.data
    i = _lonely_point(data, window)
    x0, y0 = float(data.x[i]), float(data.y[i])
    mouse.press(view, x0, y0)
    began = time.perf_counter()
    for k in range(1, 41):
        mouse.move(view, x0, y0 - 0.05 * k)
    elapsed = time.perf_counter() - began
    assert editor.previews <= elapsed * PREVIEW_HZ + 2
    assert editor.previews < 40
    py = _pixel(window)[1]
    # The last position is drawn soon after, without another move.
    qtbot.waitUntil(
        lambda: abs(view.scatter.getData()[1][i] - (y0 - 2.0)) < 2 * py, timeout=2000
    )
    mouse.release(view, x0, y0 - 2.0)
    assert window.session.raw_data.y[i] == pytest.approx(y0 - 2.0, abs=2 * py)


def test_double_click_adds_a_point_there(editing, qtbot):
    window, view = editing, editing.fit_view
    generation = _step_to(window, qtbot, 4)
    before = window.session.raw_data
    x, y = _empty_spot(window)
    _double_click(view, x, y)
    after = window.session.raw_data
    assert after.n == before.n + 1
    px, py = _pixel(window)
    assert after.x[-1] == pytest.approx(x, abs=2 * px)
    assert after.y[-1] == pytest.approx(y, abs=2 * py)
    assert np.array_equal(after.x[:-1], before.x)
    assert window.snapshot()["n"] == before.n + 1
    assert window.session.generation > generation
    assert window.snapshot()["step"] == 0
    assert window.data_editor.as_dict()["undo"] == 1


def test_right_click_removes_the_point(editing, qtbot):
    window, view = editing, editing.fit_view
    generation = _step_to(window, qtbot, 4)
    before = window.session.raw_data
    i = _lonely_point(before, window)
    _right_click(view, float(before.x[i]), float(before.y[i]))
    after = window.session.raw_data
    assert after.n == before.n - 1
    assert np.array_equal(after.x, np.delete(before.x, i))
    assert np.array_equal(after.y, np.delete(before.y, i))
    assert (window.problem.a_opt, window.problem.b_opt) == pytest.approx(
        _fit(after.x, after.y), rel=1e-9
    )
    assert window.session.generation > generation
    assert window.snapshot()["step"] == 0
    # A right-click on empty plot removes nothing.
    _right_click(view, *_empty_spot(window))
    assert window.session.raw_data is after


def test_undo_and_redo_through_the_actions(editing, qtbot):
    window, view = editing, editing.fit_view
    undo, redo = window.undo_edit_action, window.redo_edit_action
    original = window.session.raw_data
    i = _lonely_point(original, window)
    _right_click(view, float(original.x[i]), float(original.y[i]))
    removed = window.session.raw_data
    window.settle_views()
    _double_click(view, *_empty_spot(window))
    added = window.session.raw_data
    assert added.n == original.n
    assert undo.isEnabled()
    assert not redo.isEnabled()
    assert "add a point" in undo.text()
    generation = _step_to(window, qtbot, 3)
    undo.trigger()
    assert window.session.raw_data is removed
    assert window.session.generation > generation
    assert window.snapshot()["step"] == 0
    assert redo.isEnabled()
    undo.trigger()
    # The very dataset first loaded: the generator's, with its true line.
    assert window.session.raw_data is original
    assert window.session.raw_data.is_generated
    assert window.problem.a_opt == pytest.approx(_fit(original.x, original.y)[0])
    assert not undo.isEnabled()
    assert window.data_editor.as_dict()["redo"] == 2
    redo.trigger()
    assert window.session.raw_data is removed
    redo.trigger()
    assert window.session.raw_data is added
    assert not redo.isEnabled()
    assert window.snapshot()["n"] == added.n


def test_with_editing_off_the_mouse_leaves_the_data_alone(window, mouse):
    view = window.fit_view
    window.settle_views()
    before = window.session.raw_data
    i = _lonely_point(before, window)
    x0, y0 = float(before.x[i]), float(before.y[i])
    mouse.drag(view, (x0, y0), [(x0, y0 - 1.0), (x0, y0 - 2.0)])
    _right_click(view, x0, y0)
    _double_click(view, x0, y0 - 1.0)
    assert window.session.raw_data is before
    assert window.data_editor.as_dict()["undo"] == 0
    assert not window.undo_edit_action.isEnabled()
    # Turning editing off again mid-way keeps things as they are too.
    window.data_editor.set_editing(True)
    window.data_editor.set_editing(False)
    window.settle_views()
    _right_click(view, *_point(window, i))
    assert window.session.raw_data is before


def test_edits_to_a_csv_never_touch_the_file(editing, qtbot, mouse, tmp_path):
    window = editing
    path = tmp_path / "heights.csv"
    rows = "\n".join(f"{k},{2 * k + (k % 3) * 0.5}" for k in range(12))
    path.write_text("age,height\n" + rows + "\n", encoding="utf-8")
    stamp = path.stat().st_mtime_ns
    before_bytes = path.read_bytes()
    assert window.open_csv(str(path))
    loaded = window.session.raw_data
    assert loaded.source == str(path)
    window.settle_views()
    view = window.fit_view
    i = _lonely_point(loaded, window)
    x0, y0 = float(loaded.x[i]), float(loaded.y[i])
    mouse.drag(view, (x0, y0), [(x0, y0 + 3.0)])
    window.settle_views()
    _right_click(view, *_point(window, _lonely_point(window.session.data, window)))
    window.settle_views()
    _double_click(view, *_empty_spot(window))
    edited = window.session.raw_data
    assert edited.n == loaded.n
    assert edited.source == "edited"
    assert (edited.x_label, edited.y_label) == ("age", "height")
    assert window.data_editor.as_dict()["undo"] == 3
    assert path.read_bytes() == before_bytes
    assert path.stat().st_mtime_ns == stamp
    window.undo_edit_action.trigger()
    assert path.read_bytes() == before_bytes


def test_bundled_data_edit_and_undo_back_to_the_bundled_set(editing):
    window = editing
    window.load_dataset("anscombe-3")
    bundled = window.session.raw_data
    window.settle_views()
    i = _lonely_point(bundled, window)
    _right_click(window.fit_view, *_point(window, i))
    assert window.session.raw_data.n == bundled.n - 1
    assert window.session.raw_data.source == "edited"
    window.data_editor.undo()
    assert window.session.raw_data is bundled
    assert bundled.source == "bundled:anscombe-3"


def test_removing_below_two_points_is_refused(make_window):
    data = Dataset(x=np.array([0.0, 1.0, 2.0]), y=np.array([1.0, 3.0, 2.0]), name="3")
    window = make_window(data=data)
    window.data_editor.set_editing(True)
    window.settle_views()
    _right_click(window.fit_view, *_point(window, 1))
    two = window.session.raw_data
    assert two.n == 2
    window.settle_views()
    _right_click(window.fit_view, *_point(window, 0))
    assert window.session.raw_data is two
    state = window.data_editor.as_dict()
    assert "at least 2 points" in state["message"]
    assert state["undo"] == 1
    assert "at least 2 points" in window.statusBar().currentMessage()
    assert "at least 2 points" in window.data_edit_bar.note.text()
    # Nor may an edit put both points on one x (a drag lands to the pixel:
    # the edit is made directly).
    assert not window.data_editor.apply(MovePoint(0, float(two.x[1]), 5.0))
    assert window.session.raw_data is two
    assert "all x values are equal" in window.data_editor.as_dict()["message"]
    # The message stays until an edit is made, and goes with it.
    window.settle_views()
    x0, y0 = _point(window, 0)
    qt_mouse.drag(window.fit_view, (x0, y0), [(x0, y0 + 0.5)])
    assert window.session.raw_data is not two
    assert window.data_editor.as_dict()["message"] == ""
    window.undo_edit_action.trigger()
    assert window.session.raw_data is two
    # Undone: the two points are drawn again.
    assert np.array_equal(window.fit_view.scatter.getData()[0], two.x)


def test_loading_other_data_clears_the_undo_stack(editing):
    window = editing
    data = window.session.raw_data
    _right_click(window.fit_view, *_point(window, _lonely_point(data, window)))
    assert window.undo_edit_action.isEnabled()
    window.regenerate()
    assert window.data_editor.as_dict()["undo"] == 0
    assert not window.undo_edit_action.isEnabled()
    # Scaling keeps the data (and the edits): only new data clear them.
    window.settle_views()
    fresh = window.session.raw_data
    _right_click(window.fit_view, *_point(window, _lonely_point(fresh, window)))
    window.set_scaling("standardize", "none")
    assert window.data_editor.as_dict()["undo"] == 1
    window.load_dataset("forbes")
    assert window.data_editor.as_dict()["undo"] == 0


def test_edits_on_standardized_data_land_in_the_datas_own_units(editing):
    window = editing
    window.set_scaling("standardize", "none")
    window.settle_views()
    raw = window.session.raw_data
    x, y = _empty_spot(window)
    _double_click(window.fit_view, x, y)
    edited = window.session.raw_data
    mean, spread = raw.x.mean(), raw.x.std()
    px, _ = _pixel(window)
    assert edited.x[-1] == pytest.approx(x * spread + mean, abs=2 * px * spread)
    assert edited.y[-1] == pytest.approx(y, abs=2 * _pixel(window)[1])
    assert window.session.scale_modes == ("standardize", "none")


def test_ctrl_z_and_ctrl_shift_z_undo_and_redo(editing, qtbot):
    window = editing
    before = window.session.raw_data
    _right_click(window.fit_view, *_point(window, _lonely_point(before, window)))
    removed = window.session.raw_data
    assert removed.n == before.n - 1
    window.activateWindow()
    window.fit_view.setFocus()
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window.fit_view, Qt.Key.Key_Z, ctrl)
    assert window.session.raw_data is before
    qtbot.keyClick(
        window.fit_view, Qt.Key.Key_Z, ctrl | Qt.KeyboardModifier.ShiftModifier
    )
    assert window.session.raw_data is removed
