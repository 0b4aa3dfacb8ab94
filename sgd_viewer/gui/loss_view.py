"""The loss curve: loss against step on a log scale, with the optimum's loss.

A thin pyqtgraph view; the caller hands it already-decimated arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

#: Smallest loss drawn: a perfect fit has loss 0, which a log axis cannot show.
LOSS_FLOOR = 1e-300


class LossView(pg.PlotWidget):
    """Full-data loss (and mini-batch loss when batches are smaller) per step."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.setAccessibleName("lossPlot")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setLogMode(x=False, y=True)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "loss (log scale)")
        plot.setTitle("Loss curve", size="10pt")
        self._legend = plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self._batch_curve = pg.PlotDataItem(
            pen=pg.mkPen("#9ecae1", width=1), name="mini-batch loss"
        )
        self._curve = pg.PlotDataItem(pen=pg.mkPen("#1f77b4", width=2), name="loss")
        self._optimum = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen("#2ca02c", width=2, style=Qt.PenStyle.DashLine),
            label="optimum {value}",
            labelOpts={
                "position": 0.02,
                "color": "#2ca02c",
                "anchors": [(0, 1), (0, 1)],
            },
        )
        plot.addItem(self._batch_curve)
        plot.addItem(self._curve)
        plot.addItem(self._optimum)
        self._legend.removeItem(self._batch_curve)
        self._batch_curve.setVisible(False)
        self.optimum_loss = float("nan")

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
        self._curve.setData(steps, np.maximum(losses, LOSS_FLOOR))
        showing_batches = batch_losses is not None
        if showing_batches != self._batch_curve.isVisible():
            self._batch_curve.setVisible(showing_batches)
            self._legend.removeItem(self._batch_curve)
            if showing_batches:
                self._legend.addItem(self._batch_curve, "mini-batch loss")
        if showing_batches:
            self._batch_curve.setData(steps, np.maximum(batch_losses, LOSS_FLOOR))
        else:
            self._batch_curve.setData([], [])
