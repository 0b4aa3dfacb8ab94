"""Slices of the loss through the current point: L(a) at the current b and
L(b) at the current a, each with its tangent, its minimum and its slope.

Owns the two small plots and how their ranges follow the point. It draws only
from a :class:`~sgd_viewer.core.problem.Problem` (the exact quadratic) and the
``(a, b)`` it is handed; it knows nothing of torch, the worker or the runs.

Everything that moves with the point is an item Qt paints in C++ (see
``native_items``), and the ranges change only when the point or the slice's
minimum leaves them, so a frame costs Python a few numpy calls and set_data.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QHBoxLayout, QWidget

from sgd_viewer.core.problem import Problem
from sgd_viewer.gui.native_items import (
    DataPath,
    PixelLabel,
    PixelMarker,
    PlotCanvas,
    SegmentPath,
)

#: Samples of each slice's parabola (the point and the minimum are added).
SLICE_SAMPLES = 200
#: The tangent segment's length as a share of the slice's x-range.
TANGENT_SHARE = 0.25
#: Where the samples lie across a slice's range, made once (not per frame).
_GRID = np.linspace(0.0, 1.0, SLICE_SAMPLES)
#: Half-width of a fitted x-range per distance from the point to the minimum.
X_MARGIN = 1.3
#: A fitted range is refitted once it is this many times wider than needed:
#: a run converging from afar would otherwise end as a flat line at the bottom.
SHRINK_FACTOR = 8.0
#: Room below and above the curve, as shares of its span (the label sits above).
Y_ROOM = (0.05, 0.3)
CURVE_COLOUR = "#606060"
MINIMUM_COLOUR = "#2ca02c"
LABEL_PADDING_PX = 2.0
#: Half-length of the minimum's vertical line: taller than any plot (the view
#: clips it), so it spans the plot whatever the zoom.
MINIMUM_LINE_PX = 4000.0


def _slope_text(symbol: str, slope: float) -> str:
    value = f"{slope:.4g}" if math.isfinite(slope) else "not finite"
    return f"slope ∂L/∂{symbol} = {value}"


class _Slice:
    """One plot: the loss along one parameter with the other held fixed."""

    def __init__(self, symbol: str, axis_label: str, object_name: str) -> None:
        self.symbol = symbol
        self.canvas = PlotCanvas()
        self.canvas.setObjectName(object_name)
        self.canvas.setAccessibleName(object_name)
        plot = self.canvas.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("bottom", axis_label)
        plot.setLabel("left", "loss")
        view_box = plot.getViewBox()
        # The range follows the point (see update); a pan or zoom would fight it.
        view_box.setMouseEnabled(x=False, y=False)
        plot.disableAutoRange()
        self.curve = DataPath(view_box, pg.mkPen(CURVE_COLOUR, width=2))
        # A line of fixed pixel length moved by setPos: a moving DataPath costs
        # ~60 µs a frame (a new path and its bounds), this under one. Plain Qt
        # item: painted in C++ without the GIL.
        line = QPainterPath()
        line.moveTo(0.0, -MINIMUM_LINE_PX)
        line.lineTo(0.0, MINIMUM_LINE_PX)
        self.minimum = QGraphicsPathItem(line)
        self.minimum.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.minimum.setPen(pg.mkPen(MINIMUM_COLOUR, style=Qt.PenStyle.DashLine))
        self.minimum.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.tangent = SegmentPath(view_box, pg.mkPen("#d62728", width=2))
        self.marker = PixelMarker.circle(9, "w", "#d62728")
        for item in (self.minimum, self.curve, self.tangent, self.marker):
            plot.addItem(item, ignoreBounds=True)
        # On the view box, not in data coordinates: it stays in the corner.
        self.label = PixelLabel("", "#202020", "#ffffffd0", LABEL_PADDING_PX)
        self.label.setParentItem(view_box)
        self.label.setPos(4.0, 4.0)
        self.slope = math.nan
        self.range: tuple[float, float, float, float] | None = None
        # Set by SlicesView.set_problem: L'' along this axis, and the smallest
        # half-width worth showing.
        self.curvature = self.unit = math.nan
        self.hide()

    def set_text(self, text: str) -> None:
        """Show ``text`` in the label, its box anchored at the top left."""
        label = self.label
        if label.text() == text:
            return
        label.text_item.setText(text)
        size = label.text_item.boundingRect()
        pad = LABEL_PADDING_PX
        label.setRect(0.0, 0.0, size.width() + 2 * pad, size.height() + 2 * pad)
        label.text_item.setPos(pad, pad)

    def set_colour(self, colour: str) -> None:
        pen = pg.mkPen(colour, width=2)
        pen.setCosmetic(True)
        self.tangent.setPen(pen)
        self.marker.setBrush(pg.mkBrush(colour))

    def hide(self) -> None:
        """Draw nothing but a label saying the slope is not finite."""
        self.slope = math.nan
        for path in (self.curve, self.tangent):
            path.set_data([], [])
        self.marker.setVisible(False)
        self.minimum.setVisible(False)
        self.set_text(_slope_text(self.symbol, math.nan))

    def update(self, at: float, slope: float, loss_at) -> None:
        """Draw the slice through ``at``; hide it where anything is not finite.

        Parameters
        ----------
        at, slope
            The coordinate along this axis and ∂L there.
        loss_at
            The loss of an array of coordinates along this axis.
        """
        centre = at - slope / self.curvature  # the slice's minimum: the vertex
        # Never narrower than the floats next to ``at`` can resolve.
        unit = max(self.unit, 1e-9 * max(1.0, abs(at)))
        half = max(X_MARGIN * abs(at - centre), unit)
        if not all(map(math.isfinite, (at, slope, centre, half))):
            self.hide()
            return
        ranged = self.range
        refit_x = (
            ranged is None
            or not ranged[0] <= at <= ranged[1]
            or not ranged[0] <= centre <= ranged[1]
            or ranged[1] - ranged[0] > 2 * SHRINK_FACTOR * half
        )
        x_lo, x_hi = (at - half, at + half) if refit_x else ranged[:2]
        # The exact point and minimum are vertices: the curve goes through them.
        values = np.sort(np.concatenate([x_lo + (x_hi - x_lo) * _GRID, [at, centre]]))
        losses = np.asarray(loss_at(values), dtype=np.float64)
        loss = float(losses[np.searchsorted(values, at)])
        if not math.isfinite(loss):
            self.hide()
            return
        finite = losses[np.isfinite(losses)]
        low, high = float(finite.min()), float(finite.max())
        span = high - low if high > low else max(abs(high), 1.0) * 1e-6
        if (
            refit_x
            or low < ranged[2]
            or high > ranged[3]
            or span < 0.3 * (ranged[3] - ranged[2])
        ):
            y_lo, y_hi = low - Y_ROOM[0] * span, high + Y_ROOM[1] * span
            if not (math.isfinite(y_hi - y_lo) and y_hi > y_lo and x_hi > x_lo):
                self.hide()
                return
            self.range = (x_lo, x_hi, y_lo, y_hi)
            self.canvas.getPlotItem().getViewBox().setRange(
                xRange=(x_lo, x_hi), yRange=(y_lo, y_hi), padding=0.0
            )
        x_lo, x_hi, y_lo, y_hi = self.range
        self.slope = slope
        self.curve.set_data(values, losses)
        reach = TANGENT_SHARE * (x_hi - x_lo) / 2
        self.tangent.set_data(
            [at - reach, at + reach], [loss - slope * reach, loss + slope * reach]
        )
        self.minimum.setPos(centre, (y_lo + y_hi) / 2)
        self.marker.setPos(at, loss)
        self.marker.setVisible(True)
        self.minimum.setVisible(True)
        self.set_text(_slope_text(self.symbol, slope))


class SlicesView(QWidget):
    """L(a) at the current b beside L(b) at the current a (Coursera's
    ``plt_gradients``): where a slice's tangent points is what one step of
    gradient descent does to that parameter."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("slicesView")
        self.setAccessibleName("slicesView")
        self._a_slice = _Slice("a", "a (slope)", "sliceAPlot")
        self._b_slice = _Slice("b", "b (intercept)", "sliceBPlot")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self._a_slice.canvas)
        layout.addWidget(self._b_slice.canvas)
        self._problem: Problem | None = None
        self._reduction = "mean"
        self._point: tuple[float, float] | None = None
        self._colour = "#d62728"

    def set_problem(self, problem: Problem, reduction: str) -> None:
        """Slice the loss of ``problem`` (``"mean"`` or ``"sum"``) from now on;
        the ranges are fitted anew, at the last point if there is one."""
        problem.scale(reduction)  # an unknown reduction fails here, not per frame
        self._problem, self._reduction = problem, reduction
        hessian = problem.hessian(reduction)
        # Half-widths over which the loss rises by the data's own spread.
        spread = max(problem.cyy, problem.residual) or 1.0
        for index, piece in enumerate((self._a_slice, self._b_slice)):
            piece.curvature = float(hessian[index, index])
            piece.unit = math.sqrt(spread * 2.0 * problem.scale(reduction))
            piece.unit /= math.sqrt(piece.curvature)
            piece.range = None
        last, self._point = self._point, None  # forgotten: it must be redrawn
        if last is not None:
            self.set_point(*last, self._colour)

    def set_point(self, a: float, b: float, colour: str = "#d62728") -> None:
        """Cut the loss through ``(a, b)`` and redraw; cheap enough per frame.

        Does nothing before :meth:`set_problem`. A point whose loss or slope is
        not finite hides the slices instead of raising.

        Parameters
        ----------
        a, b
            The selected run's shown parameters.
        colour
            The run's colour, for the marker and the tangents.
        """
        problem = self._problem
        if problem is None:
            return
        if colour != self._colour:
            self._colour = colour
            for piece in (self._a_slice, self._b_slice):
                piece.set_colour(colour)
        a, b = float(a), float(b)
        if (a, b) == self._point:  # a paused run is shown again and again
            return
        self._point = (a, b)
        reduction = self._reduction
        # Far points overflow to inf: shown as hidden slices, never as warnings.
        with np.errstate(all="ignore"):
            slope_a, slope_b = map(float, problem.gradient(a, b, reduction))
            self._a_slice.update(a, slope_a, lambda t: problem.loss(t, b, reduction))
            self._b_slice.update(b, slope_b, lambda t: problem.loss(a, t, reduction))

    @property
    def slopes(self) -> tuple[float, float]:
        """``(∂L/∂a, ∂L/∂b)`` as labelled (NaN where hidden)."""
        return self._a_slice.slope, self._b_slice.slope

    def tangent_slopes(self) -> tuple[float, float]:
        """The slopes of the drawn tangent segments, from their vertices."""
        measured = []
        for piece in (self._a_slice, self._b_slice):
            x, y = piece.tangent.xData, piece.tangent.yData
            measured.append(
                float((y[-1] - y[0]) / (x[-1] - x[0])) if x.size >= 2 else math.nan
            )
        return measured[0], measured[1]

    def slice_curves(
        self,
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """The drawn ``(parameter values, losses)`` of the a- and b-slice."""
        a, b = self._a_slice.curve, self._b_slice.curve
        return (a.xData.copy(), a.yData.copy()), (b.xData.copy(), b.yData.copy())

    def label_texts(self) -> tuple[str, str]:
        return self._a_slice.label.text(), self._b_slice.label.text()

    def plots(self) -> tuple[PlotCanvas, PlotCanvas]:
        """The a- and b-slice plots (for tests and layouts)."""
        return self._a_slice.canvas, self._b_slice.canvas


__all__ = ["SlicesView"]
