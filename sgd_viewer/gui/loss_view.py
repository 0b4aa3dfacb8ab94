"""The loss curve: loss against step on a log scale, with the optimum's loss.

A thin pyqtgraph view; the caller hands it already-decimated arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from sgd_viewer.gui.legends import legend_stand_in
from sgd_viewer.gui.native_items import (
    DataPath,
    PlotCanvas,
    cache_as_pixmap,
)
from sgd_viewer.gui.plot_chrome import add_outside_legend, cache_chrome
from sgd_viewer.gui.run_layers import RunDrawing, RunLayers, faint

#: Smallest loss drawn: a perfect fit has loss 0, which a log axis cannot show.
LOSS_FLOOR = 1e-300


class LossView(PlotCanvas):
    """Full-data loss (and mini-batch loss when batches are smaller) per step."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.setAccessibleName("lossPlot")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setLogMode(x=False, y=True)
        # No grid: pyqtgraph draws it through the axes, which repaint with every
        # frame of a growing curve (4 ms an axis offscreen).
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "loss (log scale)")
        plot.setTitle("Loss curve", size="10pt")
        # The range grows in jumps (see _fit_range): its axes stay put for
        # many frames at a time.
        cache_chrome(plot, still_axes=("left", "bottom"))
        self._legend = add_outside_legend(plot, columns=3, labelTextSize="8pt")
        view_box = plot.getViewBox()
        batch_pen = pg.mkPen("#9ecae1", width=1)
        # A 1-pixel pen takes Qt's hairline fast path: 0.2 ms against 3 ms at
        # width 2. Both curves are drawn by Qt in C++ (see native_items).
        loss_pen = pg.mkPen("#1f77b4", width=1)
        self._batch_curve = DataPath(view_box, batch_pen, log_y=True)
        self._curve = DataPath(view_box, loss_pen, log_y=True)
        # The selected run's curve after the shown step, its point at the
        # shown step, and the other runs' curves.
        self._rest = DataPath(view_box, pg.mkPen(faint("#1f77b4"), width=1), log_y=True)
        self._others = RunLayers(plot, width=1, marker_px=7, log_y=True)
        self._curve_colour = "#1f77b4"
        self._batch_legend = legend_stand_in(self._batch_curve, pen=batch_pen)
        self._curve_legend = legend_stand_in(self._curve, pen=loss_pen)
        self._optimum = pg.InfiniteLine(
            angle=0,
            # Solid: a dashed antialiased line cost 1.3 ms a frame offscreen.
            pen=pg.mkPen("#2ca02c80", width=2),
            label="optimum {value}",
            labelOpts={
                "position": 0.02,
                "color": "#2ca02c",
                "anchors": [(0, 1), (0, 1)],
            },
        )
        # The range is managed below, never fitted to the curves.
        plot.addItem(self._batch_curve, ignoreBounds=True)
        plot.addItem(self._curve, ignoreBounds=True)
        plot.addItem(self._rest, ignoreBounds=True)
        plot.addItem(self._optimum)
        cache_as_pixmap(self._optimum)  # a still line under a moving curve
        self._legend.addItem(self._curve_legend, "loss")
        self._batch_legend.setVisible(False)  # hides the curve too
        self._showing_batches = False
        self.optimum_loss = float("nan")
        # The view's range is set here, not by auto-range: auto-range re-lays the
        # axes on every frame of a growing curve (2 ms each). The range grows in
        # steps instead, so most frames leave the axes as they were.
        plot.disableAutoRange()
        self._x_limit = 0.0
        self._y_limits = (math.inf, -math.inf)

    def set_optimum(self, loss: float) -> None:
        """The smallest reachable loss, as a dashed reference line."""
        self.optimum_loss = float(loss)
        # In log mode the line's position is in log₁₀ units; its label is not.
        self._optimum.setPos(math.log10(max(loss, LOSS_FLOOR)))
        self._optimum.label.setFormat(f"optimum L* = {loss:.4g}")

    def set_curve(
        self,
        steps: np.ndarray,
        losses: np.ndarray,
        batch_losses: np.ndarray | None = None,
    ) -> None:
        """Draw the loss (and the mini-batch loss, if given) against step."""
        self._fit_range(steps, losses, batch_losses)
        self._curve.set_data(steps, np.maximum(losses, LOSS_FLOOR))
        self._show_batches(steps, batch_losses)

    def _show_batches(self, steps: np.ndarray, batch_losses: np.ndarray | None) -> None:
        showing_batches = batch_losses is not None
        if showing_batches != self._showing_batches:
            self._showing_batches = showing_batches
            self._legend.removeItem(self._batch_legend)
            if showing_batches:
                self._legend.addItem(self._batch_legend, "mini-batch loss")
            self._batch_legend.setVisible(showing_batches)
        if showing_batches:
            self._batch_curve.set_data(steps, np.maximum(batch_losses, LOSS_FLOOR))
        else:
            self._batch_curve.set_data([], [])

    def set_runs(
        self,
        selected: RunDrawing,
        others: list[RunDrawing],
        batch_losses: np.ndarray | None = None,
    ) -> None:
        """Every visible run's loss curve, strong up to the shown step and
        faint after; the selected run's mini-batch losses too."""
        if selected.colour != self._curve_colour:
            self._curve_colour = selected.colour
            for item, colour in (
                (self._curve, selected.colour),
                (self._rest, faint(selected.colour)),
            ):
                pen = pg.mkPen(colour, width=1)
                pen.setCosmetic(True)
                item.setPen(pen)
            self._curve_legend.setPen(self._curve.pen())
            self._legend.refresh()
        every = [selected, *others]
        steps = np.concatenate([d.x for d in every])
        losses = np.concatenate([d.y for d in every])
        self._fit_range(steps, losses, batch_losses)
        cut = max(selected.cut, 1)
        floor = np.maximum(selected.y, LOSS_FLOOR)
        self._curve.set_data(selected.x[:cut], floor[:cut])
        if cut < selected.x.size:
            self._rest.set_data(selected.x[cut - 1 :], floor[cut - 1 :])
        elif self._rest.xData.size:  # already empty while following the run
            self._rest.set_data([], [])
        self._show_batches(selected.x, batch_losses)
        self._others.show(
            [
                RunDrawing(
                    d.colour, d.label, d.x, np.maximum(d.y, LOSS_FLOOR), d.cut, d.point
                )
                for d in others
            ]
        )

    def _fit_range(
        self,
        steps: np.ndarray,
        losses: np.ndarray,
        batch_losses: np.ndarray | None,
    ) -> None:
        """Grow the visible range to hold the curve (or start anew after a reset)."""
        last_step = float(steps[-1]) if len(steps) else 0.0
        shown = [losses] if batch_losses is None else [losses, batch_losses]
        values = np.concatenate([*shown, [self.optimum_loss]])
        values = np.log10(np.maximum(values[np.isfinite(values)], LOSS_FLOOR))
        low, high = float(values.min()), float(values.max())
        restarted = last_step < 0.5 * self._x_limit
        if restarted:
            self._x_limit, self._y_limits = 0.0, (math.inf, -math.inf)
        plot = self.getPlotItem()
        if last_step >= self._x_limit:
            self._x_limit = max(10.0, last_step * 1.25)
            plot.setXRange(0.0, self._x_limit, padding=0.02)
        y_low, y_high = self._y_limits
        if low < y_low or high > y_high:
            span = max(high - low, 0.5)
            self._y_limits = (
                min(low, y_low) - 0.1 * span,
                max(high, y_high) + 0.1 * span,
            )
            plot.setYRange(*self._y_limits, padding=0.0)
