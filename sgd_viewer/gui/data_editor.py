"""Editing the data by hand on the data view: drag a point, double-click to
add one, right-click to remove one; undo and redo.

:class:`DataEditBar` is the "Edit data" checkbox (``editDataCheck``) and a
one-line note under the data view. :class:`DataEditor` turns mouse events on
the data view into the edits of :mod:`sgd_viewer.core.data_edits` and applies
each through the window's own data path (``_use_data``: every run restarts
from its start), so edited data are new data like any other.

While a point is dragged nothing is applied: the dragged point, the best-fit
line, the surface, L* and the readouts show a preview of the edited data, at
most :data:`PREVIEW_HZ` times a second (the statistics are closed form, so a
preview costs a pass over at most 10,000 points); the edit is applied once,
on release. Loading other data clears the undo stack.

Qt, pyqtgraph and the core's edit model; nothing of torch or the worker.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from sgd_viewer.core.data import Dataset
from sgd_viewer.core.data_edits import (
    MAX_EDITABLE_POINTS,
    AddPoint,
    Edit,
    EditRefused,
    EditStack,
    MovePoint,
    RemovePoint,
    apply_edit,
)
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.scaling import scale
from sgd_viewer.gui.native_items import DataPath

#: Most previews a second while a point is dragged.
PREVIEW_HZ = 30
#: A point is picked when the cursor is this close to it (pixels).
PICK_REACH_PX = 10.0
#: A press must move this far (pixels) to become a drag: a click is no edit.
DRAG_START_PX = 2.0
#: The best-fit line and the dragged point's ring: a darker shade of the
#: surface's optimum star, so that the line reads as "the optimum".
BEST_FIT_COLOUR = "#a07800"

_PRESS = QEvent.Type.MouseButtonPress
_MOVE = QEvent.Type.MouseMove
_RELEASE = QEvent.Type.MouseButtonRelease
_DOUBLE = QEvent.Type.MouseButtonDblClick
_LEFT = Qt.MouseButton.LeftButton
_RIGHT = Qt.MouseButton.RightButton


class _BoxText(QLabel):
    """Text beside a checkbox that toggles it when clicked, as the box's own
    text would (a checkbox's text cannot wrap; this label can)."""

    def __init__(self, text: str, box: QCheckBox) -> None:
        super().__init__(text)
        self._box = box

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == _LEFT and self._box.isEnabled():
            self._box.toggle()
        super().mouseReleaseEvent(event)


class DataEditBar(QWidget):
    """The "Edit data" checkbox, with a note (the best fit, or why an edit
    was refused) under it while editing."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dataEditBar")
        self.check = QCheckBox("Edit data:")
        self.check.setObjectName("editDataCheck")
        self.check.setAccessibleName("editDataCheck")
        self.check.setToolTip(
            "Edit the points on the data plot: drag one to move it, double-click "
            "to add one, right-click one to remove it. Every run starts again; "
            "Ctrl+Z undoes, Ctrl+Shift+Z redoes. A file on disk is never changed."
        )
        self.note = QLabel()
        self.note.setObjectName("dataEditNote")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        # The how-to beside the box wraps: as one checkbox text it was the
        # widest thing under the data plot, and at 1024×768 it squeezed the
        # loss surface beside it to a sliver.
        self.how_to = _BoxText(
            "drag a point, double-click to add, right-click to remove", self.check
        )
        self.how_to.setObjectName("dataEditHowTo")
        self.how_to.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.check)
        row.addWidget(self.how_to, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 2)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.note)

    def show_note(self, text: str, warning: bool = False) -> None:
        colour = "#b3261e" if warning else "#5a4600"
        self.note.setStyleSheet(f"color: {colour};")
        self.note.setText(text)
        self.note.setVisible(bool(text))


class _Drag:
    """A point being dragged: which, where it was, where it is now (in the
    data view's units)."""

    def __init__(self, index: int, point: QPointF, press: QPointF, cursor) -> None:
        self.index = index
        self.offset = (point.x() - cursor.x(), point.y() - cursor.y())
        self.press = press
        self.target = (point.x(), point.y())
        self.moved = False


class DataEditor(QObject):
    """Mouse edits on ``window.fit_view``, undo and redo, for one window.

    Uses the window's session, fit view, surface and loss views, readouts,
    status bar, ``data_edit_bar`` and its ``undo_edit_action`` /
    ``redo_edit_action``; applies edits through ``window._use_data``.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self._session = window.session
        self._fit_view = window.fit_view
        self._view_box = window.fit_view.getPlotItem().getViewBox()
        self.bar: DataEditBar = window.data_edit_bar
        self.stack = EditStack()
        #: The data this editor last applied (or found): other raw data in
        #: the session mean other data were loaded, and the stack is cleared.
        self._known = self._session.raw_data
        self._drag: _Drag | None = None
        self._swallow_release = False
        self.message = ""
        #: Previews drawn (tests check the throttle).
        self.previews = 0
        self.preview_problem: Problem | None = None
        self._last_preview = 0.0
        self._preview_cost = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._preview)
        pen = pg.mkPen(BEST_FIT_COLOUR, width=2, style=Qt.PenStyle.DashDotLine)
        self._best_line = DataPath(self._view_box, pen)
        self._best_line.setVisible(False)
        self._ring = pg.ScatterPlotItem(
            size=15, pen=pg.mkPen(BEST_FIT_COLOUR, width=2), brush=None
        )
        self._ring.setVisible(False)
        plot = self._fit_view.getPlotItem()
        plot.addItem(self._best_line, ignoreBounds=True)
        plot.addItem(self._ring, ignoreBounds=True)
        self._fit_view.viewport().installEventFilter(self)
        self._session.subscribe(self._on_session)
        self.bar.check.toggled.connect(self._on_toggled)
        self._sync_actions()

    # ------------------------------------------------------------ queries
    @property
    def editing(self) -> bool:
        return self.bar.check.isChecked()

    @property
    def dragging(self) -> bool:
        return self._drag is not None and self._drag.moved

    def as_dict(self) -> dict:
        """The editor's state as plain values (for the window's snapshot)."""
        return {
            "editing": self.editing,
            "undo": self.stack.undo_count,
            "redo": self.stack.redo_count,
            "dragging": self.dragging,
            "message": self.message,
        }

    # ----------------------------------------------------------- commands
    def set_editing(self, on: bool) -> None:
        self.bar.check.setChecked(on)

    def apply(self, edit: Edit) -> bool:
        """Apply ``edit`` to the session's data (as loaded, before scaling);
        a refusal is said in the status bar and the note, and changes
        nothing. Returns whether it was applied."""
        try:
            data = self.stack.apply(self._session.raw_data, edit)
        except EditRefused as error:
            self._refuse(str(error))
            return False
        self._use(data)
        return True

    def undo(self) -> None:
        """Back to the data before the last edit; every run starts again."""
        if self.stack.can_undo and self._drag is None:
            self._use(self.stack.undo())

    def redo(self) -> None:
        if self.stack.can_redo and self._drag is None:
            self._use(self.stack.redo())

    def _use(self, data: Dataset) -> None:
        self.message = ""
        self._known = data
        # A preview may have drawn another surface: draw the session's again.
        self._window.surface_view.shown_surface = None
        self._window._use_data(data)
        self._sync_actions()
        self._show_best_fit()

    def _refuse(self, message: str) -> None:
        self.message = message
        self._window.statusBar().showMessage(message, 8000)
        self.bar.show_note(message, warning=True)
        self._window.state_changed.emit()

    # ------------------------------------------------------------- events
    def _on_session(self, what: str) -> None:
        if what != "data":
            return
        if self._session.raw_data is not self._known:
            # Other data (a file, the generator, a bundled set, a session):
            # the edits were of the data before.
            self._known = self._session.raw_data
            self.stack.clear()
            self.message = ""
            self._end_drag()
            self._sync_actions()
        self._show_best_fit()

    def _on_toggled(self, on: bool) -> None:
        if not on:
            self._cancel_drag()
            self._fit_view.viewport().unsetCursor()
        self.message = ""
        self._show_best_fit()
        self._window.state_changed.emit()

    def _sync_actions(self) -> None:
        for name, can, text, word in (
            ("undo_edit_action", self.stack.can_undo, self.stack.undo_text, "Undo"),
            ("redo_edit_action", self.stack.can_redo, self.stack.redo_text, "Redo"),
        ):
            action = getattr(self._window, name, None)
            if action is not None:
                action.setEnabled(can)
                action.setText(f"&{word} {text}" if text else f"&{word} data edit")
        self._window.state_changed.emit()

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind not in (_PRESS, _MOVE, _RELEASE, _DOUBLE):
            return False
        if kind == _RELEASE and self._swallow_release:
            self._swallow_release = False
            return True
        if not self.editing or self._session.raw_data.n > MAX_EDITABLE_POINTS:
            return False
        pos = event.position()
        if kind == _MOVE:
            if self._drag is None:
                self._hover(pos)
                return False
            self._drag_to(pos)
            return True
        if kind == _RELEASE:
            if self._drag is None or event.button() != _LEFT:
                return False
            self._drop(pos)
            return True
        cursor = self._to_data(pos)
        if cursor is None:
            return False  # on the axes or the legend: theirs
        if kind == _DOUBLE and event.button() == _LEFT:
            self._cancel_drag()
            self._swallow_release = True
            raw = self._to_raw(cursor.x(), cursor.y())
            self.apply(AddPoint(*raw))
            return True
        index = self._pick(cursor)
        if index is None:
            return False  # empty plot: pan and zoom as ever
        if event.button() == _RIGHT:
            self._swallow_release = True
            self.apply(RemovePoint(index))
            return True
        if event.button() == _LEFT:
            data = self._session.data
            point = QPointF(float(data.x[index]), float(data.y[index]))
            self._drag = _Drag(index, point, pos, cursor)
            return True
        return False

    # ------------------------------------------------------------ gestures
    def _to_data(self, pos: QPointF) -> QPointF | None:
        """The data view's point under viewport position ``pos`` (``None``
        outside its plot area)."""
        scene = self._fit_view.mapToScene(pos.toPoint())
        if not self._view_box.sceneBoundingRect().contains(scene):
            return None
        return self._view_box.mapSceneToView(scene)

    def _to_raw(self, x: float, y: float) -> tuple[float, float]:
        """A point in the data view's units (the data as scaled for the
        runs) in the data's own units."""
        s = self._session.scaling
        return x * s.x_scale + s.x_shift, y * s.y_scale + s.y_shift

    def _pick(self, cursor: QPointF) -> int | None:
        """The index of the point nearest ``cursor`` on screen, if it is
        within :data:`PICK_REACH_PX`."""
        data = self._session.data
        pixel_x, pixel_y = self._view_box.viewPixelSize()
        if not (pixel_x > 0 and pixel_y > 0):
            return None
        dx = (data.x - cursor.x()) / pixel_x
        dy = (data.y - cursor.y()) / pixel_y
        distance = np.hypot(dx, dy)
        index = int(np.argmin(distance))
        return index if distance[index] <= PICK_REACH_PX else None

    def _hover(self, pos: QPointF) -> None:
        """An open hand over a point (it can be dragged), a cross elsewhere
        in the plot (a double-click adds a point there)."""
        cursor = self._to_data(pos)
        viewport = self._fit_view.viewport()
        if cursor is None:
            viewport.unsetCursor()
        elif self._pick(cursor) is not None:
            viewport.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            viewport.setCursor(Qt.CursorShape.CrossCursor)

    def _drag_to(self, pos: QPointF) -> None:
        drag = self._drag
        assert drag is not None
        cursor = self._view_box.mapSceneToView(self._fit_view.mapToScene(pos.toPoint()))
        drag.target = (cursor.x() + drag.offset[0], cursor.y() + drag.offset[1])
        if not drag.moved:
            if (pos - drag.press).manhattanLength() < DRAG_START_PX:
                return
            drag.moved = True
            # The data are about to change and every run to start again:
            # runs stepping on the old data meanwhile would fight the preview.
            if self._window.playback.running:
                self._window.pause()
            self._fit_view.point_hover.label.setVisible(False)
            self._fit_view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        # Throttled: a preview now if the last one is old enough, else one
        # when it is (with the latest position). Never slower than the
        # preview itself costs, so a big preview cannot flood the loop.
        interval = max(1.0 / PREVIEW_HZ, 2.0 * self._preview_cost)
        wait = self._last_preview + interval - time.perf_counter()
        if wait <= 0:
            self._timer.stop()
            self._preview()
        elif not self._timer.isActive():
            self._timer.start(max(1, round(wait * 1000)))

    def _drop(self, pos: QPointF) -> None:
        drag = self._drag
        assert drag is not None
        if drag.moved:
            self._drag_to(pos)
        self._end_drag()
        if not drag.moved:
            return  # a click on a point: no edit
        raw = self._to_raw(*drag.target)
        if not self.apply(MovePoint(drag.index, *raw)):
            self._restore_views()

    def _end_drag(self) -> None:
        self._timer.stop()
        self._drag = None
        self._ring.setVisible(False)
        if self.editing:
            self._fit_view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)

    def _cancel_drag(self) -> None:
        """Drop a drag without an edit; the views show the session again."""
        moved = self.dragging
        self._end_drag()
        if moved:
            self._restore_views()

    # ------------------------------------------------------------ drawing
    def _preview(self) -> None:
        """The dragged point where it is now, and the optimum, surface, L*
        and readouts of the data as they would be."""
        drag = self._drag
        if drag is None or not drag.moved:
            return
        began = time.perf_counter()
        session, window = self._session, self._window
        shown = session.data
        x, y = shown.x.copy(), shown.y.copy()
        x[drag.index], y[drag.index] = drag.target
        self._fit_view.scatter.setData(x, y)
        self._ring.setData([drag.target[0]], [drag.target[1]])
        self._ring.setVisible(True)
        raw = self._to_raw(*drag.target)
        try:
            edited = apply_edit(session.raw_data, MovePoint(drag.index, *raw))
        except EditRefused as error:
            self.message = str(error)
            self.bar.show_note(self.message, warning=True)
            self._best_line.setVisible(False)
            return
        self.message = ""
        try:
            fitted, _ = scale(edited, *session.scale_modes)
        except ValueError:  # as the session does: fitted as they are
            fitted = edited
        problem = Problem.from_data(fitted.x, fitted.y)
        self.preview_problem = problem
        # The line of the points as drawn (the view's units stay put during
        # a drag, even when the data are standardized).
        self._show_best_fit(Problem.from_data(x, y), x)
        reduction = session.run.config.reduction
        surface = window.surface_view
        surface.set_problem(problem, reduction, session.start, surface.visible_window())
        surface.shown_surface = None  # the session's surface is to be drawn again
        window.loss_view.set_optimum(problem.loss_opt(reduction))
        snap = window.snapshot()
        window.readouts.show_state(
            problem, reduction, snap["step"], snap["epoch"], snap["a"], snap["b"],
            session.run.config.lr, snap["progress"], snap["lr_now"],
        )  # fmt: skip
        self.previews += 1
        self._last_preview = time.perf_counter()
        self._preview_cost = self._last_preview - began
        window.state_changed.emit()

    def _restore_views(self) -> None:
        """Undo a preview: the session's points, surface and readouts."""
        data = self._session.data
        self._fit_view.scatter.setData(data.x, data.y)
        self._window.surface_view.shown_surface = None
        self._window._show_surface()
        self._window._refresh_views()
        self._show_best_fit()

    def _show_best_fit(self, problem: Problem | None = None, x=None) -> None:
        """The least-squares line over the points (dash-dot), while editing."""
        if not self.editing:
            self._best_line.setVisible(False)
            self.bar.show_note("")
            return
        data = self._session.data
        problem = problem or self._session.problem
        x = data.x if x is None else x
        low, high = float(np.min(x)), float(np.max(x))
        ends = np.array([low - 0.05 * (high - low), high + 0.05 * (high - low)])
        self._best_line.set_data(ends, problem.a_opt * ends + problem.b_opt)
        self._best_line.setVisible(True)
        if self._session.raw_data.n > MAX_EDITABLE_POINTS:
            self.bar.show_note(
                f"Editing by hand works on up to {MAX_EDITABLE_POINTS:,} points; "
                f"these data have {self._session.raw_data.n:,}.",
                warning=True,
            )
            return
        if self.message:
            return  # a refusal stays in sight until the next edit
        self.bar.show_note(
            f"Best fit (dash-dot): y = {problem.a_opt:.4g}·x + {problem.b_opt:.4g}"
            " · Ctrl+Z undoes"
        )

    def best_fit_line(self) -> tuple[float, float] | None:
        """``(a, b)`` of the best-fit line drawn now (tests)."""
        path = self._best_line
        if not path.isVisible() or path.xData.size != 2:
            return None
        (x0, x1), (y0, y1) = path.xData, path.yData
        slope = (y1 - y0) / (x1 - x0)
        return float(slope), float(y0 - slope * x0)
