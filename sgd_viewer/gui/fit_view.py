"""The data view: scatter of the points, the current line, the true line.

A thin pyqtgraph view. It owns its plot items, creates them once and updates
them in place; it knows nothing of torch, the worker or the other views.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from sgd_viewer.core.data import Dataset
from sgd_viewer.gui.native_items import (
    DataPath,
    PlotCanvas,
    SmoothDataPath,
    add_cached_legend,
    cache_as_pixmap,
    legend_stand_in,
)

#: Most points drawn; beyond this a seeded random subsample is shown (and said).
MAX_SCATTER_POINTS = 10_000

LINE_COLOUR = "#d62728"
TRUE_LINE_COLOUR = "#2ca02c"
POINT_COLOUR = "#1f77b4"


class FitView(PlotCanvas):
    """Scatter of ``(x, y)`` with the line ``y = a·x + b`` being fitted."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("fitPlot")
        self.setAccessibleName("fitPlot")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        # Points rise to the right in the lesson's data: the bottom-right
        # corner is the one most often empty.
        self._legend = add_cached_legend(plot, offset=(-10, -10), labelTextSize="8pt")
        self._scatter = pg.ScatterPlotItem(
            size=6, pen=None, brush=pg.mkBrush(POINT_COLOUR + "b0"), name="data"
        )
        # A static scatter drawn from a cache is a blit; repainting 10k
        # symbols every frame would eat the frame budget (DESIGN.md §5).
        cache_as_pixmap(self._scatter)
        self._residuals = pg.PlotDataItem(
            pen=pg.mkPen("#7f7f7f", width=1), connect="pairs", name="residuals"
        )
        self._true_line = pg.PlotDataItem(
            pen=pg.mkPen(TRUE_LINE_COLOUR, width=2, style=Qt.PenStyle.DashLine),
            name="true line",
        )
        # Moves every frame: drawn by Qt in C++ (see native_items).
        line_pen = pg.mkPen(LINE_COLOUR, width=3)
        self._line = SmoothDataPath(plot.getViewBox(), line_pen)
        for item in (self._scatter, self._residuals, self._true_line):
            plot.addItem(item)
        plot.addItem(self._line, ignoreBounds=True)
        self._line_legend = legend_stand_in(self._line, pen=line_pen)
        self._legend.addItem(self._line_legend, "fit")
        self._residuals.setVisible(False)
        self._legend.removeItem(self._residuals)
        # Static between datasets: drawn once into a pixmap, then blitted (a
        # dashed antialiased line costs over 1 ms to stroke each frame).
        cache_as_pixmap(self._true_line)  # and the curve in it
        # The other runs' lines are painted by Qt's C++ without antialiasing:
        # eight antialiased lines painted from Python held the GIL for 3 ms a
        # frame and starved the trainer of a race.
        self._others: list[DataPath] = []
        self._line_colour = LINE_COLOUR
        self._shown_x = np.empty(0)
        self._shown_y = np.empty(0)
        self._x_ends = np.array([0.0, 1.0])
        self.line_parameters: tuple[float, float] | None = None
        self.shown_points = 0
        self.total_points = 0

    def set_dataset(self, data: Dataset) -> None:
        """Show new data; a seeded subsample when there are too many points."""
        x, y = data.x, data.y
        if data.n > MAX_SCATTER_POINTS:
            pick = np.random.default_rng(0).choice(data.n, MAX_SCATTER_POINTS, False)
            pick.sort()
            x, y = x[pick], y[pick]
            title = (
                f"{data.name}: {MAX_SCATTER_POINTS:,} of {data.n:,} points shown "
                "(seeded random subsample)"
            )
        else:
            title = f"{data.name}: {data.n:,} points"
        self._shown_x, self._shown_y = x, y
        self.shown_points, self.total_points = x.shape[0], data.n
        self._scatter.setData(x, y)
        span = float(data.x.max() - data.x.min())
        self._x_ends = np.array(
            [float(data.x.min()) - 0.05 * span, float(data.x.max()) + 0.05 * span]
        )
        plot = self.getPlotItem()
        plot.setTitle(title, size="10pt")
        plot.setLabel("bottom", data.x_label)
        plot.setLabel("left", data.y_label)
        if data.true_a is not None and data.true_b is not None:
            self._true_line.setData(
                self._x_ends, data.true_a * self._x_ends + data.true_b
            )
            self._true_line.setVisible(True)
            self._legend_rename(
                self._true_line, f"true: y = {data.true_a:g}x + {data.true_b:g}"
            )
        else:
            self._true_line.setVisible(False)
        plot.enableAutoRange()
        plot.autoRange(items=[self._scatter])
        plot.disableAutoRange()
        if self.line_parameters is not None:
            self.set_line(*self.line_parameters)

    def _legend_rename(self, item, text: str) -> None:
        self._legend.removeItem(item)
        self._legend.addItem(item, text)

    def set_line(self, a: float, b: float) -> None:
        """Draw the fitted line ``y = a·x + b`` (and its residuals)."""
        self.line_parameters = (float(a), float(b))
        self._line.set_data(self._x_ends, a * self._x_ends + b)
        if self._residuals.isVisible():
            self._update_residuals()

    def set_lines(
        self, selected: tuple[float, float, str], others: list[tuple[float, float, str]]
    ) -> None:
        """The selected run's line (with residuals) and the other visible runs'
        lines, each in its run's colour."""
        a, b, colour = selected
        if colour != self._line_colour:
            self._line_colour = colour
            self._line.setPen(_cosmetic_pen(colour, 3))
            self._line_legend.setPen(pg.mkPen(colour, width=3))  # the legend too
            self._legend.refresh()
        self.set_line(a, b)
        plot = self.getPlotItem()
        while len(self._others) < len(others):
            line = DataPath(plot.getViewBox(), pg.mkPen(LINE_COLOUR, width=2))
            plot.addItem(line, ignoreBounds=True)
            self._others.append(line)
        for line, (a, b, colour) in zip(self._others, others, strict=False):
            if line.pen().color().name() != colour:
                line.setPen(_cosmetic_pen(colour, 2))
            line.set_data(self._x_ends, a * self._x_ends + b)
            line.setVisible(True)
        for line in self._others[len(others) :]:
            line.setVisible(False)

    @property
    def other_lines(self) -> list[tuple[float, float]]:
        """``(a, b)`` of each other run's line drawn now (for tests)."""
        shown = []
        for line in self._others:
            if line.isVisible() and line.xData.size == 2:
                x0, x1 = line.xData
                y0, y1 = line.yData
                slope = (y1 - y0) / (x1 - x0)
                shown.append((float(slope), float(y0 - slope * x0)))
        return shown

    def set_residuals_visible(self, visible: bool) -> None:
        self._residuals.setVisible(visible)
        self._legend.removeItem(self._residuals)
        if visible:
            self._legend.addItem(self._residuals, "residuals")
            self._update_residuals()

    def _update_residuals(self) -> None:
        if self.line_parameters is None:
            return
        a, b = self.line_parameters
        xs = np.repeat(self._shown_x, 2)
        ys = np.empty_like(xs)
        ys[0::2] = self._shown_y
        ys[1::2] = a * self._shown_x + b
        self._residuals.setData(xs, ys)


def _cosmetic_pen(colour: str, width: float):
    pen = pg.mkPen(colour, width=width)
    pen.setCosmetic(True)
    return pen
