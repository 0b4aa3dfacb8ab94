"""Level labels on the loss surface's rings: every other ring, at its top,
never over the start handle or the current point, never over each other.

Qt items only (``PixelLabel``); the rings come from the surface view.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF

from sgd_viewer.core.problem import ViewWindow
from sgd_viewer.gui.native_items import PixelLabel

#: Labels keep this far (pixels) from the start handle and the points.
LABEL_CLEARANCE_PX = 36.0


class LevelLabels:
    """The labels of one surface plot, placed anew with each view."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        self.labels: list[PixelLabel] = []
        #: How much larger than drawn the labels will show (presentation mode).
        self.text_scale = 1.0

    def place(
        self,
        levels: np.ndarray,
        a: np.ndarray,
        b: np.ndarray,
        view: ViewWindow,
        avoid: list[tuple[float, float] | None],
    ) -> None:
        """Label every other ring of ``levels`` (drawn as ``a, b`` with NaN
        breaks) where it crosses the view's top-most point, away from the
        points in ``avoid`` and from each other."""
        for label in self.labels:
            self._plot.removeItem(label)
        self.labels = []
        breaks = np.flatnonzero(np.isnan(a) & np.isnan(b))
        rings = np.split(np.arange(a.size), breaks)
        # Keep labels off the edges, where they would be cut in half.
        inner = view.expanded(0.9)
        inside_a = (a >= inner.a_min) & (a <= inner.a_max)
        inside = inside_a & (b >= inner.b_min) & (b <= inner.b_max)
        taken: list[QRectF] = []  # scene rectangles of the labels placed
        view_box = self._plot.getViewBox()
        plot_area = view_box.sceneBoundingRect()
        for level, ring in zip(levels[1::2], rings[1::2], strict=False):
            ring = ring[inside[ring] & self._clear_of(a[ring], b[ring], avoid)]
            if ring.size == 0:
                continue
            top = ring[np.argmax(b[ring])]
            label = PixelLabel(f"{level:.3g}", "#202020", "#ffffffb0")
            label.setPos(a[top], b[top])
            # In a narrow valley the rings' tops crowd together: a label that
            # would overlap one already placed is left out.
            anchor = view_box.mapViewToScene(QPointF(a[top], b[top]))
            box = label.rect().translated(anchor)  # pixels: the scene's units
            if any(box.intersects(other) for other in taken):
                continue
            # Whole inside the plot, also once presentation mode has grown
            # the text by ``text_scale`` (it scales labels after they are placed).
            grow_x = box.width() * (self.text_scale - 1.0) / 2
            grow_y = box.height() * (self.text_scale - 1.0)
            room = box.adjusted(-grow_x, -grow_y, grow_x, grow_y)
            if not plot_area.contains(room):
                continue
            taken.append(box)
            self._plot.addItem(label, ignoreBounds=True)
            self.labels.append(label)

    def _clear_of(
        self, a: np.ndarray, b: np.ndarray, avoid: list[tuple[float, float] | None]
    ) -> np.ndarray:
        """Which of the points are far enough (on screen) from the start
        handle and the current point for a level label to sit there."""
        pixel_a, pixel_b = self._plot.getViewBox().viewPixelSize()
        clear = np.ones(a.shape, bool)
        if not (pixel_a > 0 and pixel_b > 0):
            return clear
        for point in avoid:
            if point is None:
                continue
            # The label sits above its point: measure to its middle.
            dx = (a - point[0]) / pixel_a
            dy = (b - point[1]) / pixel_b + 8.0
            clear &= np.hypot(dx, dy) > LABEL_CLEARANCE_PX
        return clear
