"""The data view: scatter of the points, the current line, the true line.

A thin pyqtgraph view. It owns its plot items, creates them once and updates
them in place; it knows nothing of torch, the worker or the other views.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from sgd_viewer.core.data import Dataset
from sgd_viewer.gui.hover_readouts import PointHover
from sgd_viewer.gui.legends import legend_stand_in
from sgd_viewer.gui.native_items import (
    DataPath,
    PixelLabel,
    PlotCanvas,
    SegmentPath,
    SmoothDataPath,
    cache_as_pixmap,
)
from sgd_viewer.gui.plot_chrome import ElidedTitle, add_outside_legend, cache_chrome
from sgd_viewer.gui.residual_squares import ResidualSquares
from sgd_viewer.gui.view_framing import EasedFraming, padded

#: How far beyond the data the view grows to show a line, in data y spans
#: (on each side: 4.5 + 1 + 4.5 = ten spans in all); a line further off is
#: clipped and a marker at the edge says where it is.
LINE_REACH_SPANS = 4.5
#: The view shrinks back once what it must show is less than this share of it.
SHRINK_BELOW = 0.5

#: Most points drawn; beyond this a seeded random subsample is shown (and said).
MAX_SCATTER_POINTS = 10_000

LINE_COLOUR = "#d62728"
TRUE_LINE_COLOUR = "#2ca02c"
PINNED_LINE_COLOUR = "#7b3294"
SQUARES_COLOUR = "#ff7f0e"
POINT_COLOUR = "#1f77b4"


class FitView(PlotCanvas):
    """Scatter of ``(x, y)`` with the line ``y = a·x + b`` being fitted."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("fitPlot")
        self.setAccessibleName("fitPlot")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        # Below the plot area: a legend inside covered points and lines.
        self._legend = add_outside_legend(plot, columns=2, labelTextSize="8pt")
        self._title = ElidedTitle(self, plot)
        # The data's axes stay put while the lines move (see cache_chrome).
        cache_chrome(plot, still_axes=("left", "bottom"))
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
        self.residual_style = "off"
        self.equal_aspect = False
        self._squares = ResidualSquares(plot.getViewBox(), SQUARES_COLOUR)
        self._squares.setVisible(False)
        plot.addItem(self._squares, ignoreBounds=True)
        self._squares_legend = legend_stand_in(
            self._squares, pen=pg.mkPen(SQUARES_COLOUR, width=6)
        )
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
        self._data_y = (0.0, 1.0)
        self._data: Dataset | None = None
        self._shown_index = np.empty(0, np.int64)
        # The line of the guess under the cursor on the surface (a ghost) and
        # the guess pinned as "my line".
        ghost_pen = pg.mkPen("#40404090", width=2, style=Qt.PenStyle.DashLine)
        self._ghost = DataPath(plot.getViewBox(), ghost_pen)
        pinned_pen = pg.mkPen(PINNED_LINE_COLOUR, width=2, style=Qt.PenStyle.DashLine)
        self._pinned = DataPath(plot.getViewBox(), pinned_pen)
        for item in (self._ghost, self._pinned):
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        self._pinned_legend = legend_stand_in(self._pinned, pen=pinned_pen)
        self._pinned_in_legend = False
        self.point_hover = PointHover(
            self,
            lambda: (self._shown_x, self._shown_y, self._shown_index),
            lambda: self.line_parameters,
            lambda: (self._data.x, self._data.y) if self._data else (None, None),
        )
        self.framing = EasedFraming(plot.getViewBox(), self)
        #: Labels at the view's edge for lines beyond it (pooled).
        self._edge_markers: list[PixelLabel] = []

    def set_dataset(self, data: Dataset) -> None:
        """Show new data; a seeded subsample when there are too many points."""
        x, y = data.x, data.y
        self._data = data
        self._shown_index = np.arange(data.n)
        if data.n > MAX_SCATTER_POINTS:
            pick = np.random.default_rng(0).choice(data.n, MAX_SCATTER_POINTS, False)
            pick.sort()
            x, y = x[pick], y[pick]
            self._shown_index = pick
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
        self._title.set_text(title)
        self._data_y = (float(data.y.min()), float(data.y.max()))
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
            self._legend.removeItem(self._true_line)  # no true line to name
        # An easing toward the old data's view would undo the new framing.
        self.framing.cancel()
        plot.enableAutoRange()
        plot.autoRange(items=[self._scatter])
        plot.disableAutoRange()
        self.framing.auto = True
        if self.line_parameters is not None:
            self.set_line(*self.line_parameters)

    def _legend_rename(self, item, text: str) -> None:
        label = self._legend.getLabel(item)
        if label is not None:
            # In place: a new label would take the legend's text size afresh
            # (presentation mode scales labels it finds once).
            label.setText(text)
            self._legend.updateSize()
        else:
            self._legend.addItem(item, text)

    def set_line(self, a: float, b: float) -> None:
        """Draw the fitted line ``y = a·x + b`` (and its residuals)."""
        self.line_parameters = (float(a), float(b))
        self._line.set_data(self._x_ends, a * self._x_ends + b)
        if self.residual_style != "off":
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
            line = SegmentPath(plot.getViewBox(), pg.mkPen(LINE_COLOUR, width=2))
            plot.addItem(line, ignoreBounds=True)
            self._others.append(line)
        for line, (a, b, colour) in zip(self._others, others, strict=False):
            if line.pen().color().name() != colour:
                line.setPen(_cosmetic_pen(colour, 2))
            line.set_data(self._x_ends, a * self._x_ends + b)
            line.setVisible(True)
        for line in self._others[len(others) :]:
            line.setVisible(False)
        every = [selected, *others]
        self.frame_lines([(a, b) for a, b, _ in every], [c for _, _, c in every])

    @property
    def title(self) -> str:
        """The plot's title in full (the one shown may be elided)."""
        return self._title.full_text

    @property
    def scatter(self) -> pg.ScatterPlotItem:
        """The points' item: the data editor previews a dragged point on it."""
        return self._scatter

    def line_reach(self) -> tuple[float, float]:
        """The lowest and highest y the view may grow to for a line."""
        low, high = self._data_y
        span = max(high - low, 1e-12 * max(abs(low), abs(high), 1.0))
        return low - LINE_REACH_SPANS * span, high + LINE_REACH_SPANS * span

    def frame_lines(
        self, lines: list[tuple[float, float]], colours: list[str] | None = None
    ) -> None:
        """Keep the data and every line ``(a, b)`` over the data's x range in
        view (within :meth:`line_reach`); mark the lines beyond it."""
        x0, x1 = (float(v) for v in self._x_ends)
        low, high = self._data_y
        reach_low, reach_high = self.line_reach()
        ends = np.array([[a * x0 + b, a * x1 + b] for a, b in lines], float)
        finite = ends[np.isfinite(ends).all(axis=1)] if len(lines) else ends
        shown = np.clip(finite, reach_low, reach_high)
        need_low = min(low, float(shown.min())) if shown.size else low
        need_high = max(high, float(shown.max())) if shown.size else high
        (view_x0, view_x1), _ = self.getPlotItem().getViewBox().viewRange()
        framing = self.framing
        if framing.auto:
            aim = framing.target
            inside = aim[2] <= need_low and need_high <= aim[3]
            too_big = need_high - need_low < SHRINK_BELOW * (aim[3] - aim[2])
            if not inside or too_big:
                box = padded((view_x0, view_x1, need_low, need_high), 0.06)
                framing.go_to((view_x0, view_x1, box[2], box[3]))
        self._mark_clipped(lines, colours or [LINE_COLOUR] * len(lines))

    @property
    def other_lines(self) -> list[tuple[float, float]]:
        """``(a, b)`` of each other run's line drawn now (for tests)."""
        lines = (_line_of(line) for line in self._others)
        return [line for line in lines if line is not None]

    def _mark_clipped(
        self, lines: list[tuple[float, float]], colours: list[str]
    ) -> None:
        """A label at the view's top or bottom edge for each line that lies
        (at the data's x range) beyond the reach of the view, saying where."""
        reach_low, reach_high = self.line_reach()
        x0, x1 = (float(v) for v in self._x_ends)
        view_box = self.getPlotItem().getViewBox()
        # Where the view is going: the labels are right once it gets there.
        _, _, view_low, view_high = self.framing.target
        pixel_y = abs(view_box.viewPixelSize()[1])
        used = 0
        for (a, b), colour in zip(lines, colours, strict=False):
            y0, y1 = a * x0 + b, a * x1 + b
            above = not (min(y0, y1) <= reach_high)  # NaN counts as beyond
            below = not (max(y0, y1) >= reach_low)
            if not (above or below) or not (math.isfinite(a) and math.isfinite(b)):
                continue
            if used == len(self._edge_markers):
                marker = PixelLabel("", "#ffffff", "#000000")
                self.getPlotItem().addItem(marker, ignoreBounds=True)
                self._edge_markers.append(marker)
            marker = self._edge_markers[used]
            used += 1
            arrow = "↑" if above else "↓"
            marker.set_text(f"{arrow} line off the chart: a = {a:.4g}, b = {b:.4g}")
            marker.set_colours("#ffffff", colour)
            # A label's bottom centre sits on its point; stacked labels (one
            # a line) hang inside the edge the lines are beyond.
            height = marker.rect().height() * pixel_y
            if not math.isfinite(height):
                height = 0.0
            stacked = 1.2 * (used - 1) * height
            if above:
                y = view_high - 1.1 * height - stacked
            else:
                y = view_low + 0.1 * height + stacked
            marker.setPos((x0 + x1) / 2, y)
            marker.setVisible(True)
        for marker in self._edge_markers[used:]:
            marker.setVisible(False)

    def set_guesses(
        self,
        hover: tuple[float, float] | None,
        pinned: tuple[float, float] | None,
    ) -> None:
        """The line of the guess under the cursor on the surface (faint) and
        of the pinned guess, "my line" (``None`` hides either)."""
        for item, guess in ((self._ghost, hover), (self._pinned, pinned)):
            item.setVisible(guess is not None)
            if guess is not None:
                a, b = guess
                item.set_data(self._x_ends, a * self._x_ends + b)
        if (pinned is not None) != self._pinned_in_legend:  # not every hover
            self._pinned_in_legend = pinned is not None
            self._legend.removeItem(self._pinned_legend)
            if pinned is not None:
                self._legend.addItem(self._pinned_legend, "my line")

    @property
    def ghost_line(self) -> tuple[float, float] | None:
        """``(a, b)`` of the hover ghost drawn now (tests)."""
        return _line_of(self._ghost)

    @property
    def pinned_line(self) -> tuple[float, float] | None:
        return _line_of(self._pinned)

    @property
    def edge_markers(self) -> list[str]:
        """The texts of the edge markers shown now (for tests)."""
        return [m.text() for m in self._edge_markers if m.isVisible()]

    def set_residual_style(self, style: str) -> None:
        """Residuals as ``"segments"`` (point to line), ``"squares"`` (the
        squared errors, square on screen) or ``"off"``."""
        self.residual_style = style
        self._residuals.setVisible(style == "segments")
        self._squares.setVisible(style == "squares")
        self._legend.removeItem(self._residuals)
        self._legend.removeItem(self._squares_legend)
        if style == "segments":
            self._legend.addItem(self._residuals, "residuals")
        elif style == "squares":
            self._legend.addItem(self._squares_legend, "squared residuals")
        self._update_residuals()

    def set_equal_aspect(self, equal: bool) -> None:
        """One unit of x as long as one of y (squares square in data units
        too); framing then grows both axes together."""
        self.equal_aspect = equal
        view_box = self.getPlotItem().getViewBox()
        view_box.setAspectLocked(equal, ratio=1.0)
        if not equal:
            return
        self.framing.auto = True
        self.getPlotItem().autoRange(items=[self._scatter])

    def _update_residuals(self) -> None:
        if self.line_parameters is None or self.residual_style == "off":
            return
        a, b = self.line_parameters
        if self.residual_style == "squares":
            self._squares.set_data(self._shown_x, self._shown_y, a, b)
            return
        xs = np.repeat(self._shown_x, 2)
        ys = np.empty_like(xs)
        ys[0::2] = self._shown_y
        ys[1::2] = a * self._shown_x + b
        self._residuals.setData(xs, ys)


def _line_of(path: DataPath) -> tuple[float, float] | None:
    if not path.isVisible() or path.xData.size != 2:
        return None
    (x0, x1), (y0, y1) = path.xData, path.yData
    slope = (y1 - y0) / (x1 - x0)
    return float(slope), float(y0 - slope * x0)


def _cosmetic_pen(colour: str, width: float):
    pen = pg.mkPen(colour, width=width)
    pen.setCosmetic(True)
    return pen
