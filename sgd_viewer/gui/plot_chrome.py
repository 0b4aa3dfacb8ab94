"""What frames a plot: a title that elides to the plot's width and a legend
in a row of its own below the plot area.

Why: a pyqtgraph title sets its plot item's minimum width to the full text,
so a long title made the fit view's plot item wider than its widget at
1024×768 and cut off its right side, its legend and the colour bar. A legend
inside the view box covered data, the start handle and paths. Here the title
is elided to the width there is (the full text in its tooltip), and the
legend lies in a reserved row under the bottom axis, where nothing is drawn.

Knows pyqtgraph and Qt only; nothing of runs, torch or the window.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QGraphicsWidget

from sgd_viewer.gui.legends import CachedLegend
from sgd_viewer.gui.native_items import cache_as_pixmap

#: The plot item's grid row below the bottom axis (pyqtgraph uses rows 0-3).
LEGEND_ROW = 4
#: Pixels kept free of title text at the sides (axes and colour bar).
TITLE_MARGIN_PX = 70


class ElidedTitle(QObject):
    """Keeps ``plot``'s title within the width of ``canvas``.

    Parameters
    ----------
    canvas
        The widget showing the plot (its resizes re-elide the title).
    plot
        The plot item whose title this is.
    size
        The title's font size, as pyqtgraph takes it (``"10pt"``).
    """

    def __init__(self, canvas, plot: pg.PlotItem, size: str = "10pt") -> None:
        super().__init__(canvas)
        self._canvas = canvas
        self._plot = plot
        self._size = size
        self.full_text = ""
        self.shown_text = ""
        font = QFont(canvas.font())
        font.setPointSizeF(float(size.removesuffix("pt")))
        self._metrics = QFontMetrics(font)
        canvas.installEventFilter(self)
        label = plot.titleLabel
        measure = label.updateMin

        def no_minimum_width() -> None:
            # pyqtgraph sets the label's minimum (and preferred) width to its
            # text's on every resize: keep the height, drop the width.
            measure()
            label.setMinimumWidth(0)
            for hint, (_, height) in list(label._sizeHint.items()):
                if hint != Qt.SizeHint.MaximumSize:
                    label._sizeHint[hint] = (0, height)

        label.updateMin = no_minimum_width

    def set_text(self, text: str) -> None:
        self.full_text = text
        self._fit()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == event.Type.Resize:
            self._fit()
        return False

    def _fit(self) -> None:
        room = max(self._canvas.width() - TITLE_MARGIN_PX, 40)
        shown = self._metrics.elidedText(
            self.full_text, Qt.TextElideMode.ElideRight, room
        )
        if shown != self.shown_text:
            self.shown_text = shown
            self._plot.setTitle(shown, size=self._size)
            self._plot.titleLabel.setToolTip(
                self.full_text if shown != self.full_text else ""
            )


class _LegendSlot(QGraphicsWidget):
    """An empty cell of the plot's layout, as tall as the legend above it."""


def add_outside_legend(plot: pg.PlotItem, columns: int = 3, **options) -> pg.LegendItem:
    """A cached legend of ``columns`` entries a row, laid out below the plot's
    bottom axis: it can never cover anything drawn in the plot area."""
    legend = CachedLegend(offset=None, **options)
    # Tighter than pyqtgraph's default: two columns fit a plot 1024×768 gives.
    legend.layout.setHorizontalSpacing(4)
    legend.layout.setContentsMargins(2, 2, 2, 2)
    legend.set_columns(columns)
    slot = _LegendSlot()
    slot.setSizePolicy(
        pg.QtWidgets.QSizePolicy.Policy.Ignored, pg.QtWidgets.QSizePolicy.Policy.Fixed
    )
    plot.layout.addItem(slot, LEGEND_ROW, 1)
    legend.setParentItem(plot)
    plot.legend = legend  # items added with a name then appear in it

    state = {"busy": False, "again": False}

    def place() -> None:
        geometry = slot.geometry()
        # As many entries a row as fit the plot's width, at most ``columns``.
        wanted = columns
        while wanted > 1 and legend.natural_size(wanted)[0] > geometry.width():
            wanted -= 1
        legend.set_columns(wanted)
        # The slot reserves the legend's height; the legend sits on it,
        # centred (the legend sizes itself, not the layout).
        height = legend.height() if legend.items else 0.0
        slot.setMinimumHeight(height)
        slot.setMaximumHeight(height)
        geometry = slot.geometry()
        legend.setPos(
            geometry.x() + max((geometry.width() - legend.width()) / 2, 0.0),
            geometry.y(),
        )

    def follow() -> None:
        # Placing the legend changes the slot's geometry, which calls this
        # again: run once more then, not recursively (a few rounds settle it).
        if state["busy"]:
            state["again"] = True
            return
        state["busy"] = True
        try:
            for _ in range(4):
                state["again"] = False
                place()
                if not state["again"]:
                    break
        finally:
            state["busy"] = False

    legend.geometryChanged.connect(follow)
    slot.geometryChanged.connect(follow)
    legend.slot = slot  # the row it sits on lives as long as the legend
    cache_as_pixmap(legend)
    follow()
    return legend


def cache_chrome(plot: pg.PlotItem, still_axes: tuple[str, ...] = ()) -> None:
    """Draw ``plot``'s title, its axes' labels and the axes named in
    ``still_axes`` from pixmaps (see ``native_items.cache_as_pixmap``).

    Each is repainted in Python only when it changes; otherwise every frame
    of a run painted them again (text layout, tick labels), about 0.4 ms of
    a race's frame. An axis whose range moves with every frame (the loss
    curve's steps) is better painted directly: its pixmap would be redrawn
    each frame anyway."""
    cache_as_pixmap(plot.titleLabel)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        cache_as_pixmap(axis if name in still_axes else axis.label)
