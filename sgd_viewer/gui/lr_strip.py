"""The learning-rate strip under the loss curve: the lr each step of the
selected run used, on a log scale, sharing the loss curve's step axis.

Shown only while it says something: for a run with a schedule or with a
learning rate changed mid-run. A thin pyqtgraph view; painted by Qt's C++.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from sgd_viewer.gui.native_items import DataPath, PlotCanvas

STRIP_HEIGHT = 80


class LrStrip(PlotCanvas):
    """lr against step for the selected run."""

    def __init__(self, loss_view: PlotCanvas, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("lrPlot")
        self.setAccessibleName("lrPlot")
        self.setFixedHeight(STRIP_HEIGHT)
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setLogMode(x=False, y=True)
        plot.setLabel("left", "lr")
        plot.hideAxis("bottom")
        plot.setXLink(loss_view.getPlotItem())
        # The same left-axis width as the loss view, so their steps line up.
        plot.getAxis("left").setWidth(loss_view.getPlotItem().getAxis("left").width())
        self._curve = DataPath(
            plot.getViewBox(), pg.mkPen("#555555", width=1), log_y=True
        )
        plot.addItem(self._curve, ignoreBounds=True)
        self._range = (np.inf, -np.inf)
        self.hide()

    def set_lr(self, steps: np.ndarray, lrs: np.ndarray | None, colour: str) -> None:
        """Draw ``lrs`` over ``steps``; ``None`` or a constant lr hides the strip."""
        if lrs is None or lrs.size < 2 or np.all(lrs == lrs[0]):
            self.hide()
            return
        self._curve.setPen(_pen(colour))
        self._curve.set_data(steps, lrs)
        low, high = float(np.log10(lrs.min())), float(np.log10(lrs.max()))
        if (low, high) != self._range:
            self._range = (low, high)
            pad = max(0.1 * (high - low), 0.05)
            self.getPlotItem().setYRange(low - pad, high + pad, padding=0)
        self.show()


def _pen(colour: str):
    pen = pg.mkPen(colour, width=1)
    pen.setCosmetic(True)
    return pen
