"""Plot pieces that Qt paints in C++, for what changes with every frame.

Why this module exists: the window and the trainer share one GIL, and PySide
keeps the GIL through every call into Qt made from Python. A pyqtgraph item
paints in Python, so while it strokes a curve the trainer waits; and a
pyqtgraph ``GraphicsView`` overrides ``paintEvent`` in Python, so even Qt's own
items were painted with the GIL held. Measured at n = 1e5 running flat out,
the window's thread held the GIL for ~40 % of each second and the trainer ran
at 0.44-0.55× its headless speed.

Here:

- :class:`PlotCanvas` is a ``pg.PlotWidget`` whose ``paintEvent`` is Qt's own
  again (pyqtgraph's one step before painting, ``prepareForPaint``, runs from a
  viewport event filter that returns at once), so painting starts without the
  GIL and takes it only for items that paint in Python.
- :class:`DataPath` is a ``QGraphicsPathItem``: Qt paints it in C++, without
  the GIL. Python only hands it a new path once a frame (built by numpy) and
  answers ``boundingRect`` from a cached rectangle.
- :class:`PixelMarker` is a small shape of fixed pixel size at a data point
  (the current point, the downhill arrow).

Legends show these items through ``legends.legend_stand_in``, a pyqtgraph
item that is never added to a plot and only carries the pen and symbol to
draw. What stays still while the path moves (legends, labels, markers) is
drawn once into a pixmap and then blitted by Qt (:func:`cache_as_pixmap`),
instead of being painted in Python every frame.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

#: Extra pixels around a path's bounds: the stroke's half width plus one
#: pixel of rounding, so that a moving path never leaves a trail behind.
_BOUNDS_MARGIN_PX = 1.0


class _PrepareBeforePaint(QObject):
    """Runs pyqtgraph's per-paint preparation (pending range changes become the
    view's transform) just before the viewport paints, then lets Qt paint."""

    def __init__(self, canvas: PlotCanvas) -> None:
        super().__init__(canvas)
        self._canvas = canvas

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            scene = self._canvas.scene()
            if scene is not None:
                scene.prepareForPaint()
        return False


class PlotCanvas(pg.PlotWidget):
    """A ``pg.PlotWidget`` painted by Qt's own ``QGraphicsView.paintEvent``.

    Antialiasing is off for the view: pyqtgraph items choose their own, and
    :class:`DataPath` items are cheapest (and clipped to the view) without it.
    """

    # Shadows pyqtgraph's Python override: PySide then calls Qt's C++ method
    # directly, without taking the GIL (see the module's docstring).
    paintEvent = QGraphicsView.paintEvent

    def __init__(self, parent=None) -> None:
        # No context menus (every view turns them off): pyqtgraph then does
        # not build a view-box menu for each plot while the window opens.
        super().__init__(parent, enableMenu=False)
        self.setAntialiasing(False)
        # Most items move or change shape every frame: keeping a BSP tree of
        # them up to date costs more than it saves for a few dozen items
        # (Qt's advice for scenes whose items move a lot).
        self.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._prepare = _PrepareBeforePaint(self)
        self.viewport().installEventFilter(self._prepare)


def _cosmetic(pen) -> QPen:
    pen = QPen(pg.mkPen(pen))
    # A width in pixels, whatever the zoom.
    pen.setCosmetic(True)
    return pen


class DataPath(QGraphicsPathItem):
    """A polyline in data coordinates, with a pen of fixed pixel width.

    ``xData`` and ``yData`` hold the arrays last given (as pyqtgraph's items
    do). With ``log_y`` the line is drawn at ``log10(y)``, for a plot in
    log mode. Points with a NaN break the line. The item never takes mouse
    events: clicks reach the plot beneath.
    """

    def __init__(self, view_box: pg.ViewBox, pen, log_y: bool = False) -> None:
        super().__init__()
        self.setPen(_cosmetic(pen))
        self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        self._view_box = view_box
        self._log_y = log_y
        self._bounds = QRectF()
        self.xData = np.empty(0)
        self.yData = np.empty(0)
        # The view's data units per pixel, asked once per change of the view
        # rather than with every new path (a frame sets some forty).
        self._pixel: tuple[float, float] | None = None
        view_box.sigTransformChanged.connect(self._on_transform)

    def set_data(self, x, y) -> None:
        """Draw the polyline through ``(x, y)``; empty arrays hide it."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.xData, self.yData = x, y
        if x.size == 0:
            path = QPainterPath()
        else:
            if self._log_y:
                # A value ≤ 0 (which a log axis cannot show) breaks the line.
                with np.errstate(divide="ignore", invalid="ignore"):
                    shown_y = np.log10(y)
            else:
                shown_y = y
            path = pg.arrayToQPath(x, shown_y, connect="finite")
        self.setPath(path)
        self.refresh_bounds()

    def _on_transform(self, *_) -> None:
        self._pixel = None
        self.refresh_bounds()

    def refresh_bounds(self, *_) -> None:
        """Cache the path's bounds, widened by the pen in data units at the
        view's current zoom (Qt's own bounds would widen by the pen's width
        in data units, which is meaningless for a pixel-wide pen)."""
        rect = self.path().controlPointRect()
        if self.path().isEmpty():
            bounds = QRectF()
        else:
            if self._pixel is None:
                self._pixel = self._view_box.viewPixelSize()
            pixel = self._pixel
            margin = self.pen().widthF() / 2 + _BOUNDS_MARGIN_PX
            dx, dy = abs(pixel[0]) * margin, abs(pixel[1]) * margin
            if not (math.isfinite(dx) and math.isfinite(dy)):
                dx = dy = 0.0
            bounds = rect.adjusted(-dx, -dy, dx, dy)
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def shape(self) -> QPainterPath:
        # Qt would stroke the whole path to find its shape, at every mouse
        # move; the item takes no mouse events, so it needs none.
        return QPainterPath()


class HairlinePath(DataPath):
    """A :class:`DataPath` exactly one pixel wide (a width-0 cosmetic pen),
    whose bounds Qt takes from the path itself in C++: no Python call when
    the scene asks for them, which it does several times a frame."""

    boundingRect = QGraphicsPathItem.boundingRect

    def setPen(self, pen) -> None:
        hairline = _cosmetic(pen)
        hairline.setWidthF(0.0)
        super().setPen(hairline)

    def refresh_bounds(self, *_) -> None:
        """Qt keeps the bounds: nothing to do."""


class SegmentPath(DataPath):
    """A :class:`DataPath` for two vertices (a fitted line across the data),
    its path built by hand: pyqtgraph's ``arrayToQPath`` costs tens of µs a
    call, and a race redraws eight such lines every frame."""

    def set_data(self, x, y) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        finite = np.isfinite(x).all() and np.isfinite(y).all()
        if self._log_y or x.size != 2 or not finite:
            super().set_data(x, y)  # breaks at non-finite points, as ever
            return
        self.xData, self.yData = x, y
        path = QPainterPath()
        path.moveTo(float(x[0]), float(y[0]))
        path.lineTo(float(x[1]), float(y[1]))
        self.setPath(path)
        self.refresh_bounds()


class SmoothDataPath(SegmentPath):
    """A :class:`DataPath` drawn antialiased, for short or thin lines (two
    vertices are built by hand, as :class:`SegmentPath` does).

    Its paint runs in Python (to switch antialiasing on), so it holds the GIL
    while Qt strokes it: keep it for lines that cost little to stroke.
    """

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        super().paint(painter, option, widget)


def _polygon_path(corners: list[tuple[float, float]]) -> QPainterPath:
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in [*corners, corners[0]]]))
    return path


class PixelMarker(QGraphicsPathItem):
    """A shape of fixed pixel size placed at a data point, drawn antialiased.

    Its outline is in pixels with y pointing down, centred on the point; the
    plot's zoom and its upward b axis do not apply to it.
    """

    def __init__(self, pen, brush) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setPen(QPen(pg.mkPen(pen)) if pen is not None else QPen(Qt.NoPen))
        self.setBrush(pg.mkBrush(brush) if brush is not None else QBrush())
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        # Its paint is Python (to antialias): painted once into a pixmap that
        # Qt then blits wherever the marker moves, a frame's seventeen
        # markers cost no Python call until one changes shape or colour.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    @classmethod
    def cross(cls, size_px: float, pen) -> PixelMarker:
        """A ``+`` of ``size_px`` pixels (a crosshair's centre)."""
        marker = cls(pen, None)
        half = size_px / 2
        path = QPainterPath()
        path.moveTo(-half, 0.0)
        path.lineTo(half, 0.0)
        path.moveTo(0.0, -half)
        path.lineTo(0.0, half)
        marker.setPath(path)
        return marker

    @classmethod
    def diamond(cls, size_px: float, pen, brush) -> PixelMarker:
        marker = cls(pen, brush)
        half = size_px / 2
        marker.setPath(_polygon_path([(0, -half), (half, 0), (0, half), (-half, 0)]))
        return marker

    @classmethod
    def circle(cls, diameter_px: float, pen, brush) -> PixelMarker:
        marker = cls(pen, brush)
        radius = diameter_px / 2
        path = QPainterPath()
        path.addEllipse(QPointF(0.0, 0.0), radius, radius)
        marker.setPath(path)
        return marker

    def set_arrow(self, dx_px: float, dy_px: float, head_px: float = 14.0) -> None:
        """An arrow from the marker's point to ``(dx_px, dy_px)`` pixels away
        (y down): a shaft drawn with the pen and a filled head at its tip."""
        length = math.hypot(dx_px, dy_px)
        path = QPainterPath()
        if length > 0:
            ux, uy = dx_px / length, dy_px / length
            base = max(length - head_px, 0.0)
            path.moveTo(0.0, 0.0)
            path.lineTo(ux * base, uy * base)
            half_width = head_px * 0.45
            head = QPolygonF(
                [
                    QPointF(dx_px, dy_px),
                    QPointF(ux * base - uy * half_width, uy * base + ux * half_width),
                    QPointF(ux * base + uy * half_width, uy * base - ux * half_width),
                    QPointF(dx_px, dy_px),
                ]
            )
            path.addPolygon(head)
        self.setPath(path)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        # Small shapes: stroking them with the GIL held costs microseconds.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        super().paint(painter, option, widget)

    # No shape() override: Qt's own (the outline stroked with the pen, in
    # pixels here) is also what its bounding rectangle is made of.


class PixelLabel(QGraphicsRectItem):
    """Text on a filled box of fixed pixel size, its bottom centre at a data
    point (``setPos``). Qt paints both in C++; pyqtgraph's ``TextItem`` paints
    in Python with every frame that repaints the plot around it."""

    def __init__(self, text: str, colour, fill, padding_px: float = 2.0) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self.setBrush(pg.mkBrush(fill))
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._padding_px = padding_px
        self.text_item = QGraphicsSimpleTextItem(text, self)
        self.text_item.setBrush(pg.mkBrush(colour))
        self.text_item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._fit_box()

    def text(self) -> str:
        return self.text_item.text()

    def set_text(self, text: str) -> None:
        """New text; the box follows its size."""
        if text != self.text_item.text():
            self.text_item.setText(text)
            self._fit_box()

    def set_offset(self, dx_px: float, dy_px: float) -> None:
        """Put the box's bottom-left corner ``(dx, dy)`` pixels from its point
        (y down) instead of centring it above the point: a label beside a
        cursor, not under it."""
        self._offset = (dx_px, dy_px)
        self._fit_box()

    def _fit_box(self) -> None:
        padding = self._padding_px
        size = self.text_item.boundingRect()
        width = size.width() + 2 * padding
        height = size.height() + 2 * padding
        offset = getattr(self, "_offset", None)
        left, bottom = (-width / 2, 0.0) if offset is None else offset
        self.setRect(left, bottom - height, width, height)
        self.text_item.setPos(left + padding, bottom - height + padding)

    def set_colours(self, colour, fill) -> None:
        self.text_item.setBrush(pg.mkBrush(colour))
        self.setBrush(pg.mkBrush(fill))


def place_beside(label: PixelLabel, view_box, x: float, y: float) -> None:
    """Put ``label`` beside the point ``(x, y)`` of ``view_box``: to its
    right, or to its left where the view's right edge would cut it; above
    it, or below where the top edge would."""
    rect = label.rect()
    at = view_box.mapViewToDevice(QPointF(x, y))
    origin = view_box.mapToDevice(QPointF(0.0, 0.0))
    if at is None or origin is None:
        return
    left_room = at.x() - origin.x()
    right_room = view_box.width() - left_room
    top_room = at.y() - origin.y()
    width, height = rect.width(), rect.height()
    dy = height + 12 if top_room < height + 12 else -10.0
    if right_room >= width + 16:
        dx = 12.0
    elif left_room >= width + 16:
        dx = -12.0 - width
    else:  # a narrow plot: inside its left edge, clear of the cursor's row
        dx = min(2.0 - left_room, right_room - width - 2.0)
        dy = dy + 14 if dy > 0 else dy - 14
    label.set_offset(dx, dy)


def cache_as_pixmap(item: QGraphicsItem) -> None:
    """Let Qt draw ``item`` and everything in it from a pixmap of its last
    paint: Python repaints it only when it changes, not with every frame of
    the path moving underneath."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    for child in item.childItems():
        cache_as_pixmap(child)


__all__ = [
    "DataPath",
    "PixelLabel",
    "PixelMarker",
    "PlotCanvas",
    "SegmentPath",
    "SmoothDataPath",
    "cache_as_pixmap",
]
