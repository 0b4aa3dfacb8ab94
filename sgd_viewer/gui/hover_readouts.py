"""Numbers under the cursor: a data point's residual and its share of the
loss on the fit view, and every run's loss at a step on the loss curve.

Each is a label drawn by Qt (``PixelLabel``) beside the cursor, updated
only when the cursor moves; they ask their plot for what is drawn and
compute nothing heavier than one pass over the points.

Qt and pyqtgraph, plus ``core.loss_terms``; nothing of torch or the worker.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF

from sgd_viewer.core.loss_terms import point_share
from sgd_viewer.gui.native_items import PixelLabel, place_beside

#: A point is hovered when the cursor is this close to it (pixels).
POINT_REACH_PX = 10.0


class _Hover(QObject):
    """A label that follows the cursor over one plot's area."""

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._canvas = canvas
        plot = canvas.getPlotItem()
        self._view_box = plot.getViewBox()
        self.label = PixelLabel("", "#202020", "#ffffffe8")
        self.label.set_offset(12, -10)
        self.label.setZValue(30)
        self.label.setVisible(False)
        plot.addItem(self.label, ignoreBounds=True)
        canvas.scene().sigMouseMoved.connect(self._on_moved)
        canvas.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.label.setVisible(False)
        return False

    def _on_moved(self, scene_pos) -> None:
        if not self._view_box.sceneBoundingRect().contains(scene_pos):
            self.label.setVisible(False)
            return
        point = self._view_box.mapSceneToView(scene_pos)
        self.hover(float(point.x()), float(point.y()))

    def move_to(self, x: float, y: float) -> None:
        """As if the cursor were at data point ``(x, y)`` (tests, scripts)."""
        self._on_moved(self._view_box.mapViewToScene(QPointF(x, y)))

    def show(self, x: float, y: float, text: str) -> None:
        self.label.set_text(text)
        self.label.setPos(x, y)
        place_beside(self.label, self._view_box, x, y)
        self.label.setVisible(bool(text))

    @property
    def text(self) -> str:
        return self.label.text() if self.label.isVisible() else ""

    def hover(self, x: float, y: float) -> None:
        raise NotImplementedError


class PointHover(_Hover):
    """On the fit view: the nearest point's x, y, residual and loss share.

    ``points`` gives the drawn points and, for each, its index in the whole
    data; ``line`` the selected run's ``(a, b)``; ``data`` all the points.
    """

    def __init__(
        self,
        canvas,
        points: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]],
        line: Callable[[], tuple[float, float] | None],
        data: Callable[[], tuple[np.ndarray, np.ndarray]],
    ) -> None:
        super().__init__(canvas)
        self._points, self._line, self._data = points, line, data

    def hover(self, x: float, y: float) -> None:
        shown_x, shown_y, indices = self._points()
        line = self._line()
        pixel_x, pixel_y = self._view_box.viewPixelSize()
        if not shown_x.size or line is None or not (pixel_x > 0 and pixel_y > 0):
            self.show(x, y, "")
            return
        distance = np.hypot((shown_x - x) / pixel_x, (shown_y - y) / pixel_y)
        nearest = int(np.argmin(distance))
        if not distance[nearest] <= POINT_REACH_PX:
            self.show(x, y, "")
            return
        all_x, all_y = self._data()
        part = point_share(all_x, all_y, *line, int(indices[nearest]))
        text = (
            f"x = {part['x']:.4g}, y = {part['y']:.4g}\n"
            f"residual r = {part['residual']:.4g}, r² = {part['squared']:.4g}\n"
            f"{100 * part['share']:.3g} % of the loss"
        )
        self.show(float(shown_x[nearest]), float(shown_y[nearest]), text)


class StepHover(_Hover):
    """On the loss curve: the step under the cursor and each visible run's
    loss there (TensorFlow Playground #47). ``losses_at(step)`` gives
    ``(label, loss)`` of each visible run that has reached ``step``."""

    def __init__(
        self, canvas, losses_at: Callable[[int], list[tuple[str, float]]]
    ) -> None:
        super().__init__(canvas)
        self._losses_at = losses_at

    def hover(self, x: float, y: float) -> None:
        if not math.isfinite(x) or x < -0.5:
            self.show(x, y, "")
            return
        step = round(x)
        rows = self._losses_at(step)
        text = "\n".join(
            [f"step {step:,}"] + [f"{label}: L = {loss:.5g}" for label, loss in rows]
        )
        self.show(x, y, text if rows else "")
