"""What one run looks like in a plot: its path up to the shown step, the rest
of it faint, and a marker at the shown step.

:class:`RunDrawing` is the plain data a view gets for one run (built by the
presenter from the session); :class:`RunLayer` is the set of Qt items a view
keeps per run, created once and updated in place. Every item is painted by
Qt's C++ (see ``native_items``) and ignored by auto-range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from sgd_viewer.gui.native_items import DataPath, HairlinePath, PixelMarker

#: Opacity of a path's part after the shown step (the timeline's "future").
FAINT_ALPHA = 70


@dataclass(frozen=True)
class RunDrawing:
    """One visible run as a view draws it.

    ``x``/``y`` are the thinned path (or curve) from step 0 to the run's latest
    step; the first ``cut`` vertices are at or before the shown step.
    ``point`` is the run's exact position at the shown step.
    """

    colour: str
    label: str
    x: np.ndarray
    y: np.ndarray
    cut: int
    point: tuple[float, float]


def faint(colour: str) -> QColor:
    shade = QColor(colour)
    shade.setAlpha(FAINT_ALPHA)
    return shade


class RunLayer:
    """The items of one run in one plot: strong path, faint rest, marker."""

    def __init__(
        self,
        plot: pg.PlotItem,
        width: float = 2,
        marker_px: float = 9,
        log_y: bool = False,
    ) -> None:
        view_box = plot.getViewBox()
        self._width = width
        self._log_y = log_y
        # One-pixel paths (the runs not selected) let Qt keep their bounds.
        path = HairlinePath if width <= 1 else DataPath
        self.strong = path(view_box, pg.mkPen("k", width=width), log_y=log_y)
        self.rest = path(view_box, pg.mkPen("k", width=width), log_y=log_y)
        self.marker = PixelMarker.circle(marker_px, "w", "k")
        for item in (self.rest, self.strong, self.marker):
            plot.addItem(item, ignoreBounds=True)
        self.colour: str | None = None

    def show(self, drawing: RunDrawing) -> None:
        if drawing.colour != self.colour:
            self.colour = drawing.colour
            self.strong.setPen(_pen(drawing.colour, self._width))
            self.rest.setPen(_pen(faint(drawing.colour), self._width))
            self.marker.setBrush(pg.mkBrush(drawing.colour))
        cut = max(drawing.cut, 1)
        self.strong.set_data(drawing.x[:cut], drawing.y[:cut])
        if cut < drawing.x.size:
            self.rest.set_data(drawing.x[cut - 1 :], drawing.y[cut - 1 :])
        elif self.rest.xData.size:  # already empty while following the run
            self.rest.set_data([], [])
        x, y = drawing.point
        if self._log_y:
            y = math.log10(y) if y > 0 else math.nan
        shown = math.isfinite(x) and math.isfinite(y)
        if shown:
            self.marker.setPos(x, y)
        self.strong.setVisible(True)
        # An empty remainder (the run followed to its latest step) is hidden:
        # one item fewer for the scene to visit each frame.
        self.rest.setVisible(bool(self.rest.xData.size))
        self.marker.setVisible(shown)

    def hide(self) -> None:
        for item in (self.strong, self.rest, self.marker):
            item.setVisible(False)


def _pen(colour, width: float):
    pen = pg.mkPen(colour, width=width)
    pen.setCosmetic(True)
    return pen


class RunLayers:
    """A pool of :class:`RunLayer` for the runs that are not selected."""

    def __init__(self, plot: pg.PlotItem, **layer_options) -> None:
        self._plot = plot
        self._options = layer_options
        self.layers: list[RunLayer] = []

    def show(self, drawings: list[RunDrawing]) -> None:
        while len(self.layers) < len(drawings):
            self.layers.append(RunLayer(self._plot, **self._options))
        for layer, drawing in zip(self.layers, drawings, strict=False):
            layer.show(drawing)
        for layer in self.layers[len(drawings) :]:
            layer.hide()
