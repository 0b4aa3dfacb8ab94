"""A two-pixel path drawn as four one-pixel ones, for the selected run's path.

Why: Qt's raster engine strokes a one-pixel (cosmetic, not antialiased) line
along a fast path, but a wider pen goes through its general stroker, which
outlines every segment and join and fills the outline. For the surface's
1,500-vertex path that is 0.6 ms a frame against 0.05 ms, and the path is
repainted with every frame of a run (eight racing runs leave the window's
thread little more than 5 ms a frame, which the trainer waits for).

A two-pixel line is what a one-pixel line looks like stamped with a 2×2
square: the same path four times, offset by one device pixel right, down and
both. :class:`StampedPath` puts the four copies in one ``QPainterPath`` that
Qt strokes with a one-pixel pen (0.2 ms), and rebuilds them when the zoom
changes what one pixel is in data units.

Only an opaque colour is stamped: where copies overlap, a translucent one
would be drawn darker there. A translucent pen keeps Qt's stroker.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QPainterPath, QPen

from sgd_viewer.gui.native_items import DataPath

#: Widest pen drawn by stamping: the copies grow as the square of the width.
MAX_STAMPED_WIDTH = 2


class StampedPath(DataPath):
    """A :class:`DataPath` whose opaque pen of width 2 is drawn as a 2×2
    stamp of one-pixel lines (see the module's docstring).

    ``pen()`` answers the pen given (what a legend shows and presentation
    mode scales); Qt draws with ``drawn_pen()``."""

    def __init__(self, view_box: pg.ViewBox, pen, log_y: bool = False) -> None:
        self._stamp = 1
        self._requested = QPen(pg.mkPen(pen))
        super().__init__(view_box, pen, log_y=log_y)

    def setPen(self, pen) -> None:
        requested = QPen(pg.mkPen(pen))
        requested.setCosmetic(True)
        self._requested = requested
        width = round(requested.widthF())
        opaque = requested.color().alpha() == 255
        stamp = width if opaque and 1 < width <= MAX_STAMPED_WIDTH else 1
        if stamp > 1:
            drawn = QPen(requested)
            drawn.setWidthF(0.0)
        else:
            drawn = requested
        changed = stamp != self._stamp
        self._stamp = stamp
        super().setPen(drawn)
        if changed and getattr(self, "xData", None) is not None:
            self.set_data(self.xData, self.yData)

    def pen(self) -> QPen:
        return QPen(self._requested)

    def drawn_pen(self) -> QPen:
        """The pen Qt strokes the path with (one pixel wide when stamped)."""
        return super().pen()

    @property
    def stamp(self) -> int:
        """Pixels a side of the square the path is stamped with (1: a plain
        stroke with the given pen)."""
        return self._stamp

    def set_data(self, x, y) -> None:
        super().set_data(x, y)
        if self._stamp > 1 and not self.path().isEmpty():
            self.setPath(self._stamped(self.path()))
            self.refresh_bounds()

    def _on_transform(self, *_) -> None:
        # One pixel is another length in data units now: stamp again.
        self._pixel = None
        if self._stamp > 1 and self.xData.size:
            self.set_data(self.xData, self.yData)
        else:
            self.refresh_bounds()

    def _stamped(self, single: QPainterPath) -> QPainterPath:
        if self._pixel is None:
            self._pixel = self._view_box.viewPixelSize()
        dx, dy = (abs(float(v)) for v in self._pixel)
        if not (math.isfinite(dx) and math.isfinite(dy)):
            return single
        stamped = QPainterPath(single)
        for i in range(self._stamp):
            for j in range(self._stamp):
                if i or j:
                    stamped.addPath(single.translated(i * dx, j * dy))
        return stamped
