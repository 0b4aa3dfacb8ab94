"""Legends for plots whose items Qt paints in C++ (see ``native_items``):
cached as pixmaps, laid out a given number of entries a row, and shown
through stand-ins that only lend their pen or symbol.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem

from sgd_viewer.gui.native_items import cache_as_pixmap


class CachedLegend(pg.LegendItem):
    """A legend whose entries, the ones added later included, are cached."""

    def addItem(self, item, name) -> None:
        super().addItem(item, name)
        cache_as_pixmap(self)

    #: ``(columns, entries)`` of the grid as last laid out.
    _arranged: tuple[int, int] | None = None

    def _addItemToLayout(self, sample, label) -> None:
        self.set_columns(self.columnCount, force=True)

    def removeItem(self, item) -> None:
        super().removeItem(item)
        self.set_columns(self.columnCount, force=True)

    def set_columns(self, columns: int, force: bool = False) -> None:
        """Lay the entries out ``columns`` a row, in the order added (nothing
        to do when they already are: the plot's legend slot asks at every
        change of its geometry).

        (pyqtgraph's own placement reads the grid's row and column counts,
        which keep their old values after entries are taken out.)
        """
        self.columnCount = max(int(columns), 1)
        arranged = (self.columnCount, len(self.items))
        if arranged == self._arranged and not force:
            return
        self._arranged = arranged
        grid = self.layout
        for index in range(grid.count() - 1, -1, -1):
            grid.removeAt(index)
        for index, (sample, label) in enumerate(self.items):
            row, column = divmod(index, self.columnCount)
            grid.addItem(sample, row, 2 * column)
            grid.addItem(label, row, 2 * column + 1)
        self.updateSize()

    def natural_size(self, columns: int) -> tuple[float, float]:
        """Width and height the entries take laid out ``columns`` a row.

        pyqtgraph sums its entries' current widths, which are stale after a
        change of column count (entries stretched to the old width); Qt's
        layout hint is cached until the layout activates. This adds up the
        entries' natural sizes instead.
        """
        preferred = Qt.SizeHint.PreferredSize
        grid = self.layout
        widths: dict[int, float] = {}
        heights: dict[int, float] = {}
        for index, pair in enumerate(self.items):
            row, column = divmod(index, columns)
            for offset, item in enumerate(pair):
                hint = item.effectiveSizeHint(preferred)
                cell = 2 * column + offset
                widths[cell] = max(widths.get(cell, 0.0), hint.width())
                heights[row] = max(heights.get(row, 0.0), hint.height())
        left, top, right, bottom = grid.getContentsMargins()
        width = sum(widths.values()) + grid.horizontalSpacing() * max(
            len(widths) - 1, 0
        )
        height = sum(heights.values()) + grid.verticalSpacing() * max(
            len(heights) - 1, 0
        )
        return width + left + right, height + top + bottom

    def updateSize(self) -> None:
        if self.size is not None:
            return
        self.setGeometry(0, 0, *self.natural_size(self.columnCount))

    def refresh(self) -> None:
        """Paint the samples anew (after an entry's pen or brush changed):
        each is cached as a pixmap of its own."""
        for sample, _label in self.items:
            sample.update()
        self.update()


def add_cached_legend(plot: pg.PlotItem, **options) -> pg.LegendItem:
    """What ``plot.addLegend(**options)`` does, with a cached legend."""
    legend = CachedLegend(**options)
    legend.setParentItem(plot.getViewBox())
    plot.legend = legend  # items added with a name then appear in it
    cache_as_pixmap(legend)
    return legend


def legend_stand_in(item: QGraphicsItem, scatter: bool = False, **style):
    """A pyqtgraph item that shows ``item`` in a legend: it is never drawn in
    a plot, only lends its pen (or, with ``scatter``, its symbol) to the
    legend's sample, and passes a click on that sample (which hides or shows
    it) on to ``item``."""
    stand_in = pg.ScatterPlotItem(**style) if scatter else pg.PlotDataItem(**style)

    def follow() -> None:
        item.setVisible(stand_in.isVisible())

    stand_in.visibleChanged.connect(follow)
    return stand_in
