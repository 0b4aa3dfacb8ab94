"""Each point's squared error drawn as a square (MLU-Explain, Seeing Theory).

Owns :class:`ResidualSquares`, a plot item for the data view: for a point
``(x_i, y_i)`` and the line ``y = a·x + b`` a square whose left side is the
vertical residual segment and which extends to the right by the same length
*on screen*, so its area is what the point adds to the loss.

It may import numpy, pyqtgraph and PySide6; never torch, the worker or other
views. Like ``native_items.DataPath`` it is a ``QGraphicsPathItem``: Qt fills
and strokes it in C++ without the GIL, and Python only hands it a new path,
built by numpy with no loop over the points, when the data or the view change.

Filling is what costs: Qt's rasteriser fills a semi-transparent path of many
overlapping squares slowly (measured in a 700×500 ``PlotCanvas`` on a busy
2-core machine, a repaint with 50 squares took 1.5 ms, 100 squares 3.6 ms,
1,000 squares 21 ms and 10,000 squares 95 ms, outline only 16 ms), on the GUI
thread with every frame that moves the line. So at most ``max_squares``
squares are drawn, for an evenly spaced subset of the points that stays the
same from frame to frame. Building the path costs less: ``set_data`` with
10,000 points took 0.3 ms with the default cap and 7–12 ms without one.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from sgd_viewer.gui.native_items import DataPath

#: Most squares drawn by default: a few ms of filling a repaint (see above).
MAX_SQUARES = 100
#: Fill opacity: the squares overlap and must not hide the points or the line.
FILL_ALPHA = 50
#: Outline opacity: enough to tell neighbouring squares apart.
OUTLINE_ALPHA = 170
#: Each square is a closed outline of five vertices. pyqtgraph's connect flag
#: 1 joins a vertex to the *next* one: the last vertex of a square has 0, so
#: the next square starts apart (no line from one square to the next).
_CORNERS_X = np.array([0.0, 1.0, 1.0, 0.0, 0.0])
_CORNERS_Y = np.array([0.0, 0.0, 1.0, 1.0, 0.0])
_CONNECT = np.array([1, 1, 1, 1, 0], dtype=np.int32)


class ResidualSquares(DataPath):
    """The squares of the residuals of points about a line.

    The squares' widths depend on the view's aspect (data-x per pixel over
    data-y per pixel), so the item rebuilds its path from the data it keeps
    whenever the view box's ``sigTransformChanged`` fires: that signal comes
    with every change of range or size, once the new transform is in place
    (``sigRangeChanged`` comes before it, when the pixel size is still the
    old one). While hidden it only notes that it must rebuild when shown.

    The owner adds it with ``plot.addItem(item, ignoreBounds=True)``: the
    squares must not widen the auto-range. It sits just below the items added
    at z 0 (the scatter, the lines) and takes no mouse events. Inside a
    ``PlotCanvas`` (antialiasing off) it is drawn without antialiasing.

    Parameters
    ----------
    view_box
        The view box the item is added to; its pixel size makes squares square.
    colour
        Outline colour; the fill is the same, mostly transparent.
    max_squares
        Most squares drawn; with more points, those of every ``n/max_squares``-th
        point (about) are drawn.
    """

    #: Read by itemChange, which Qt may call while the item is being built.
    _stale = False

    def __init__(
        self,
        view_box: pg.ViewBox,
        colour: str = "#ff7f0e",
        *,
        max_squares: int = MAX_SQUARES,
    ) -> None:
        outline, fill = QColor(colour), QColor(colour)
        outline.setAlpha(OUTLINE_ALPHA)
        fill.setAlpha(FILL_ALPHA)
        pen = QPen(outline)
        pen.setWidthF(1.0)
        # A DataPath: a cosmetic pen (1 px at any zoom), no mouse, and bounds
        # cached from the path instead of stroking thousands of squares.
        super().__init__(view_box, pen)
        self.setBrush(fill)
        self.setZValue(-1.0)
        self._max_squares = max(int(max_squares), 1)
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._line = (math.nan, math.nan)
        self._squares = np.empty((0, 4))
        view_box.sigTransformChanged.connect(self._rebuild)

    def set_data(self, x: np.ndarray, y: np.ndarray, a: float, b: float) -> None:
        """Draw the squares of the residuals of ``(x, y)`` about ``y = a·x + b``.

        Points with a non-finite coordinate get no square; a non-finite ``a`` or
        ``b`` (a diverged run) draws nothing. Of more than ``max_squares``
        points, an evenly spaced subset gets squares.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError("x and y must be 1-D arrays of the same length")
        if x.shape[0] > self._max_squares:
            # The same points for the same n: squares do not jump between frames.
            pick = np.linspace(0, x.shape[0] - 1, self._max_squares).astype(np.intp)
            x, y = x[pick], y[pick]
        self._x, self._y = x, y
        self._line = (float(a), float(b))
        self._rebuild()

    def squares(self) -> np.ndarray:
        """``(k, 4)`` rows of ``x0, y0, width, height`` in data units, one per
        square drawn: its lower-left corner and size (a copy, for tests)."""
        if self._stale:
            self._build()
        return self._squares.copy()

    # ------------------------------------------------------------- building
    def _rebuild(self, *_) -> None:
        # Building for a hidden item would cost a frame's numpy for nothing.
        if self.isVisible():
            self._build()
        else:
            self._stale = True

    def itemChange(self, change, value):
        if (
            change == QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged
            and self._stale
            and self.isVisible()
        ):
            self._build()
        return super().itemChange(change, value)

    def _aspect(self) -> float:
        """Data-x per data-y of one on-screen length; NaN while unknown."""
        try:
            pixel_x, pixel_y = self._view_box.viewPixelSize()
        except TypeError:  # pyqtgraph's answer while the box is in no view
            return math.nan
        aspect = pixel_x / pixel_y if pixel_y > 0 else math.nan
        return aspect if math.isfinite(aspect) and aspect > 0 else math.nan

    def _geometry(self) -> np.ndarray:
        a, b = self._line
        aspect = self._aspect()
        if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(aspect)):
            return np.empty((0, 4))
        x, y = self._x, self._y
        with np.errstate(over="ignore", invalid="ignore"):
            on_line = a * x + b
            height = np.abs(y - on_line)
            squares = np.column_stack(
                (x, np.minimum(y, on_line), height * aspect, height)
            )
        return squares[np.isfinite(squares).all(axis=1)]

    def _build(self) -> None:
        self._stale = False
        squares = self._geometry()
        self._squares = squares
        k = squares.shape[0]
        if k == 0:
            path = QPainterPath()
        else:
            # (k, 5) corner coordinates by broadcasting: no loop over squares.
            xs = squares[:, :1] + squares[:, 2:3] * _CORNERS_X
            ys = squares[:, 1:2] + squares[:, 3:4] * _CORNERS_Y
            connect = np.tile(_CONNECT, k)
            path = pg.arrayToQPath(
                xs.ravel(), ys.ravel(), connect=connect, finiteCheck=False
            )
            # Every square runs the same way round, so winding fill makes the
            # overlaps one even tint; odd-even fill would punch holes there.
            path.setFillRule(Qt.FillRule.WindingFill)
        self.setPath(path)
        self.refresh_bounds()


__all__ = ["ResidualSquares"]
