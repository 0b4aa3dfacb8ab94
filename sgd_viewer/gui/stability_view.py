"""The stability map as a picture: a heatmap over (learning rate, momentum or
another knob), its regions named, the limits drawn, a chosen point marked.

Shows a :class:`~sgd_viewer.core.stability.StabilityMap` (rate per step,
monotone / oscillating / diverging) or an
:class:`~sgd_viewer.core.stability_empirical.EmpiricalMap` (steps to
converge; a sweep over lr alone is drawn as a curve with ``lr_max`` marked).
The learning rate axis is logarithmic: items sit at ``x = log₁₀ lr`` and the
axis labels the ticks with the learning rates themselves. A click reports
the cell's ``(lr, knob)`` (:attr:`StabilityView.picked`); what it means is
the window's business. Knows nothing of torch, runs or the worker.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal

from sgd_viewer.core.optimizers import get_optimizer
from sgd_viewer.core.stability import DIVERGING  # an empirical map's code too
from sgd_viewer.gui.native_items import PlotCanvas
from sgd_viewer.gui.plot_chrome import ElidedTitle, add_outside_legend

#: Region tints under the heatmap (where it has no colour) and text colours.
DIVERGING_TINT = "#f3c9c9"
UNFINISHED_TINT = "#dedede"
LIMIT_COLOUR = "#202020"
MARKER_COLOUR = "#d62728"
CURVE_COLOUR = "#1f77b4"
LR_MAX_COLOUR = "#2ca02c"
DIVERGED_POINT = "#e07b7b"
UNFINISHED_POINT = "#909090"
#: Cells a side of the grid on which region labels look for room: placing
#: them costs a few ms at this size, whatever the map's resolution.
_LABEL_GRID = 40
_LABEL_PAD_PX = 4.0
_MARKER_CLEARANCE_PX = 14.0


def _reversed_viridis(white_share: float = 0.25) -> pg.ColorMap:
    """viridis paled with white (dark limit lines and labels stay readable) and
    reversed, so that the fast (few steps) end is the bright one."""
    positions, colours = pg.colormap.get("viridis").getStops(mode=pg.ColorMap.BYTE)
    rgb = colours[::-1, :3].astype(np.float64)
    paled = np.round(rgb * (1 - white_share) + 255 * white_share).astype(np.uint8)
    return pg.ColorMap(positions, np.column_stack([paled, colours[::-1, 3]]))


def _plain_number(value: float) -> str:
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)) + 1e-9)
    if -3 <= exponent <= 3:
        return f"{value:.{max(0, -exponent)}f}"
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


#: Pixels a decade needs before its 2× and 5× ticks get labels, and before
#: every minor tick does: pyqtgraph labels every log tick, which at 600 px
#: over 2.5 decades ran "0.030.040.05…" together.
_DECADE_PX_FOR_2_5 = 150.0
_DECADE_PX_FOR_ALL = 450.0


class LogAxis(pg.AxisItem):
    """An axis over ``log₁₀ v`` (log mode) that labels its ticks with ``v`` as
    a plain number (0.01, 0.1, 1), decades always and the minor ticks as
    room allows. A linear axis (log mode off) shows values as they are,
    without pyqtgraph's "(x0.001)" rescaling."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)
        self.setLogMode(True)

    def _decade_px(self) -> float:
        span = abs(self.range[1] - self.range[0]) or 1.0
        size = self.geometry()
        length = (
            size.width() if self.orientation in ("top", "bottom") else (size.height())
        )
        return length / span

    def logTickStrings(self, values, scale, spacing):
        decade_px = self._decade_px()
        texts = []
        for value in values:
            number = float(10.0**value * scale)
            mantissa = round(number / 10.0 ** math.floor(math.log10(number) + 1e-9))
            shown = (
                mantissa == 1  # a decade (pyqtgraph may list it as minor)
                or decade_px >= _DECADE_PX_FOR_ALL
                or (mantissa in (2, 5) and decade_px >= _DECADE_PX_FOR_2_5)
            )
            texts.append(_plain_number(number) if shown else "")
        return texts


def _geometric(values: np.ndarray) -> bool:
    """Whether ``values`` are log-spaced (and not evenly spaced too)."""
    if values.size < 3 or np.any(values <= 0):
        return False
    steps = np.diff(np.log(values))
    return bool(np.allclose(steps, steps[0])) and not np.allclose(
        np.diff(values), values[1] - values[0]
    )


class StabilityView(PlotCanvas):
    """A stability map, its regions and limits, and one marked point.

    Signals
    -------
    picked(float, float)
        The map was clicked at ``(lr, knob)`` (``knob`` NaN on a sweep).
    """

    picked = Signal(float, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("stabilityView")
        self.setAccessibleName("stabilityView")
        self._left = LogAxis("left")
        self.setAxisItems({"bottom": LogAxis("bottom"), "left": self._left})
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("bottom", "learning rate lr (log scale)")
        self._title = ElidedTitle(self, plot)
        view_box = plot.getViewBox()
        # A picker, not a chart to explore: a drag would only move the map
        # away from its labels.
        view_box.setMouseEnabled(x=False, y=False)
        plot.disableAutoRange()
        self._legend = add_outside_legend(plot, columns=4, labelTextSize="8pt")
        self._tint = pg.ImageItem(axisOrder="row-major")
        self._tint.setZValue(-20)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setZValue(-10)
        plot.addItem(self._tint)
        plot.addItem(self._image)
        self._colour_bar = pg.ColorBarItem(
            colorMap=_reversed_viridis(), interactive=False, width=14
        )
        self._colour_bar.setImageItem(self._image, insert_in=plot)
        self._stable_line = pg.PlotDataItem(pen=pg.mkPen(LIMIT_COLOUR, width=2))
        self._monotone_line = pg.PlotDataItem(
            pen=pg.mkPen(LIMIT_COLOUR, width=1.5, style=Qt.PenStyle.DashLine)
        )
        self._curve = pg.PlotDataItem(
            pen=pg.mkPen(CURVE_COLOUR, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=CURVE_COLOUR,
            symbolPen=None,
        )
        self._misses = pg.ScatterPlotItem(size=9, pen=None)
        self._budget_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen("#808080", width=1, style=Qt.PenStyle.DashLine)
        )
        self._lr_max_line = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(LR_MAX_COLOUR, width=2),
            label="lr_max = 2/λmax",
            # Low on the line: the curve and the budget's points run along the top.
            labelOpts={
                "position": 0.08,
                "color": LR_MAX_COLOUR,
                "fill": "#ffffffd0",
                "anchors": [(1.05, 0.5), (1.05, 0.5)],  # left of the line
            },
        )
        self._marker = pg.TargetItem(
            size=16, pen=pg.mkPen(MARKER_COLOUR, width=2.5), movable=False
        )
        self._marker_line = pg.InfiniteLine(
            angle=90, pen=pg.mkPen(MARKER_COLOUR, width=2)
        )
        self._sweep_items = [self._curve, self._misses, self._budget_line]
        self._sweep_items.append(self._lr_max_line)
        lines = [self._stable_line, self._monotone_line, self._marker_line]
        for item in (*lines, *self._sweep_items, self._marker):
            plot.addItem(item, ignoreBounds=True)
        self._marker.setZValue(10)
        #: The region labels by name (a label is hidden where it does not fit).
        self.region_labels: dict[str, pg.TextItem] = {}
        self._map = None
        self._rect = QRectF()
        self._log_knob = False
        self.marker_position: tuple[float, float] | None = None
        for item in (self._marker, self._marker_line, *self._sweep_items):
            item.setVisible(False)
        view_box.sigResized.connect(self._place_labels)
        self.scene().sigMouseClicked.connect(self._on_clicked)

    # ------------------------------------------------------------ coordinates
    def to_view(self, lr: float, knob: float) -> tuple[float, float]:
        """Where ``(lr, knob)`` lies in the plot's coordinates."""
        y = math.log10(knob) if self._log_knob else knob
        return math.log10(lr), y

    def from_view(self, x: float, y: float) -> tuple[float, float]:
        """``(lr, knob)`` at the plot's coordinates ``(x, y)``."""
        return 10.0**x, 10.0**y if self._log_knob else y

    # ------------------------------------------------------------------ maps
    def show_message(self, text: str) -> None:
        """Say why there is no map to show (in the title's place)."""
        self._title.set_text(text)

    def set_map(self, result) -> None:
        """Show ``result``: an analytic map, an empirical map, or a sweep."""
        self._map = result
        sweep = getattr(result, "is_sweep", False)
        for item in self._sweep_items:
            item.setVisible(sweep)
        for item in (self._image, self._tint, self._colour_bar):
            item.setVisible(not sweep)
        self._legend.clear()
        label = get_optimizer(result.optimizer).label
        if sweep:
            self._show_sweep(result, label)
        else:
            self._show_grid(result, label)
        self._place_labels()

    def _show_grid(self, result, label: str) -> None:
        lr_x = np.log10(result.lr)
        knob_name = result.knob_name
        self._log_knob = _geometric(np.asarray(result.knob, dtype=np.float64))
        self._left.setLogMode(self._log_knob)
        knob_y = np.log10(result.knob) if self._log_knob else np.asarray(result.knob)
        hyper = get_optimizer(result.optimizer).hyperparameter(knob_name)
        self.getPlotItem().setLabel("left", hyper.label)
        # A cell's size; a single column or row gets one of its own.
        dx = (lr_x[-1] - lr_x[0]) / max(len(lr_x) - 1, 1) or 0.1
        dy = (knob_y[-1] - knob_y[0]) / max(len(knob_y) - 1, 1) or 0.05
        self._rect = QRectF(
            lr_x[0] - dx / 2,
            knob_y[0] - dy / 2,
            lr_x[-1] - lr_x[0] + dx,
            knob_y[-1] - knob_y[0] + dy,
        )
        analytic = hasattr(result, "rate")
        with np.errstate(divide="ignore"):
            if analytic:
                self._title.set_text(f"Stability of {label}: rate per step")
                speed = np.log10(np.maximum(result.steps_per_tenfold(), 0.1))
                bar = "log₁₀ steps per 10× closer"
            else:
                tolerance = _plain_number(result.tolerance)
                self._title.set_text(f"{label}: steps to L* + {tolerance}·(L0 − L*)")
                speed = np.log10(result.steps)
                bar = "log₁₀ steps to converge"
        speed = np.where(np.isfinite(speed), speed, np.nan)
        finite = speed[np.isfinite(speed)]
        low, high = (0.0, 1.0) if finite.size == 0 else (finite.min(), finite.max())
        self._image.setImage(speed, autoLevels=False)
        self._image.setRect(self._rect)
        self._colour_bar.setLevels((low, max(high, low + 1e-3)))
        self._colour_bar.axis.setLabel(bar)
        # Cells with no speed to colour (codes 2, and 1 of an empirical map).
        tints = (
            {2: DIVERGING_TINT} if analytic else {1: UNFINISHED_TINT, 2: DIVERGING_TINT}
        )
        tint = np.zeros((*result.regime.shape, 4), dtype=np.ubyte)
        for code, colour in tints.items():
            tint[result.regime == code] = pg.mkColor(colour).getRgb()
        self._tint.setImage(tint, autoLevels=False, levels=(0, 255))
        self._tint.setRect(self._rect)
        self._draw_limits(result, analytic, knob_y)
        self.getPlotItem().getViewBox().setRange(rect=self._rect, padding=0)
        self._make_region_labels(result.regime_names)
        names = {1: f"not within {getattr(result, 'budget', 0)} steps"}
        for code, colour in tints.items():
            if np.any(result.regime == code):
                swatch = pg.ScatterPlotItem(
                    symbol="s", size=13, pen=pg.mkPen("#a0a0a0"), brush=colour
                )
                self._legend.addItem(swatch, names.get(code, result.regime_names[code]))
        chosen = pg.ScatterPlotItem(
            symbol="o", size=10, pen=pg.mkPen(MARKER_COLOUR, width=2), brush=None
        )
        self._legend.addItem(chosen, "chosen")

    def _draw_limits(self, result, analytic: bool, knob_y: np.ndarray) -> None:
        if analytic:
            monotone, stable = result.limits()
            self._stable_line.setData(np.log10(stable), knob_y)
            self._monotone_line.setData(np.log10(monotone), knob_y)
            self._legend.addItem(self._stable_line, "limit: rate = 1")
            self._legend.addItem(self._monotone_line, "monotone edge")
        else:
            # Empirically the limit is where the diverged cells begin.
            edge = self._diverged_edge(result)
            self._stable_line.setData(edge, knob_y, connect="finite")
            self._monotone_line.setData([], [])
            if np.isfinite(edge).any():
                self._legend.addItem(self._stable_line, "divergence limit")

    @staticmethod
    def _diverged_edge(result) -> np.ndarray:
        """Per knob row, ``log₁₀ lr`` halfway into the run of diverged cells
        that ends the row (NaN where the row has none)."""
        lr_x = np.log10(result.lr)
        diverged = result.regime == DIVERGING
        edge = np.full(diverged.shape[0], np.nan)
        for i, row in enumerate(diverged):
            if not row[-1]:
                continue
            kept = np.flatnonzero(~row)
            j = 0 if kept.size == 0 else int(kept[-1]) + 1
            edge[i] = lr_x[j] if j == 0 else (lr_x[j - 1] + lr_x[j]) / 2
        return edge

    def _show_sweep(self, result, label: str) -> None:
        self._log_knob = False
        self._left.setLogMode(True)
        self._title.set_text(f"{label}: steps to converge against lr")
        self.getPlotItem().setLabel("left", "steps (log scale)")
        self._stable_line.setData([], [])
        self._monotone_line.setData([], [])
        lr_x = np.log10(result.lr)
        converged = np.isfinite(result.steps)
        self._curve.setData(
            lr_x[converged], np.log10(np.maximum(result.steps[converged], 1.0))
        )
        top = math.log10(max(result.budget, 1))
        # Cells that never got there sit on the budget line, coloured by why.
        misses = ~converged
        diverged = result.outcome == DIVERGING
        brushes = [
            pg.mkBrush(DIVERGED_POINT if d else UNFINISHED_POINT)
            for d in diverged[misses]
        ]
        self._misses.setData(
            lr_x[misses], np.full(int(misses.sum()), top), brush=brushes
        )
        self._budget_line.setPos(top)
        self._lr_max_line.setPos(math.log10(result.lr_max))
        self._rect = QRectF(lr_x[0], 0.0, lr_x[-1] - lr_x[0], top)
        self.getPlotItem().getViewBox().setRange(rect=self._rect, padding=0.05)
        self._legend.addItem(self._curve, "steps to converge")
        for code, brush, name in (
            (2, DIVERGED_POINT, "diverged"),
            (1, UNFINISHED_POINT, f"not within {result.budget}"),
        ):
            if np.any(result.outcome == code):
                swatch = pg.ScatterPlotItem(symbol="o", size=9, pen=None, brush=brush)
                self._legend.addItem(swatch, name)
        line = pg.PlotDataItem(pen=pg.mkPen(MARKER_COLOUR, width=2))
        self._legend.addItem(line, "chosen lr")
        self._make_region_labels(())

    # ---------------------------------------------------------------- marker
    def set_marker(self, lr: float, knob: float = math.nan) -> None:
        """Mark ``(lr, knob)`` (on a sweep: a line at ``lr``)."""
        self.marker_position = (float(lr), float(knob))
        sweep = getattr(self._map, "is_sweep", False)
        x = math.log10(lr)
        if sweep or not math.isfinite(knob):
            self._marker_line.setPos(x)
            self._marker_line.setVisible(True)
            self._marker.setVisible(False)
        else:
            self._marker.setPos(*self.to_view(lr, knob))
            self._marker.setVisible(True)
            self._marker_line.setVisible(False)
        self._place_labels()

    def _on_clicked(self, event) -> None:
        if self._map is None or event.button() != Qt.MouseButton.LeftButton:
            return
        view_box = self.getPlotItem().getViewBox()
        if not view_box.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view_box.mapSceneToView(event.scenePos())
        rect = self._rect
        x = min(max(point.x(), rect.left()), rect.right())
        if getattr(self._map, "is_sweep", False):
            lr, knob = 10.0**x, math.nan
        else:
            y = min(max(point.y(), rect.top()), rect.bottom())
            lr, knob = self.from_view(x, y)
        self.set_marker(lr, knob)
        self.picked.emit(lr, knob)

    # ---------------------------------------------------------------- labels
    def _make_region_labels(self, names) -> None:
        plot = self.getPlotItem()
        for label in self.region_labels.values():
            plot.removeItem(label)
        self.region_labels = {}
        for name in names:
            label = pg.TextItem(
                name,
                color="#202020",
                fill=pg.mkBrush(255, 255, 255, 200),
                anchor=(0.5, 0.5),
            )
            label.setZValue(5)
            plot.addItem(label, ignoreBounds=True)
            self.region_labels[name] = label

    def _place_labels(self, *_args) -> None:
        """Put each region's name where its box fits inside the region, as far
        from the other regions, the edges and the marker as can be; hide it
        where it fits nowhere (the legend and limit lines still tell)."""
        result = self._map
        if result is None or not self.region_labels:
            return
        view_box = self.getPlotItem().getViewBox()
        width_px, height_px = view_box.width(), view_box.height()
        if width_px < 10 or height_px < 10:
            return
        regime = np.asarray(result.regime)
        stride_i = max(1, math.ceil(regime.shape[0] / _LABEL_GRID))
        stride_j = max(1, math.ceil(regime.shape[1] / _LABEL_GRID))
        coarse = regime[::stride_i, ::stride_j]
        rows, columns = coarse.shape
        # Cell centres in pixels across the map (y up, as the plot's).
        u = (np.arange(columns) * stride_j + 0.5 * stride_j) / regime.shape[1]
        v = (np.arange(rows) * stride_i + 0.5 * stride_i) / regime.shape[0]
        px, py = np.meshgrid(u * width_px, v * height_px)
        cell = (
            width_px * stride_j / regime.shape[1],
            height_px * stride_i / regime.shape[0],
        )
        marker = self._marker_pixels(width_px, height_px)
        rect = self._rect
        for name, label in self.region_labels.items():
            inside = coarse == result.regime_names.index(name)
            box = label.textItem.boundingRect()
            spot = _roomiest_spot(
                inside,
                px,
                py,
                (box.width() / 2 + _LABEL_PAD_PX, box.height() / 2 + _LABEL_PAD_PX),
                (width_px, height_px),
                cell,
                marker,
            )
            label.setVisible(spot is not None)
            if spot is not None:
                label.setPos(
                    rect.left() + spot[0] / width_px * rect.width(),
                    rect.top() + spot[1] / height_px * rect.height(),
                )

    def _marker_pixels(self, width_px: float, height_px: float):
        """The marker's position in the map's pixels (y up), if shown."""
        if not self._marker.isVisible() or self._rect.width() <= 0:
            return None
        pos = self._marker.pos()
        rect = self._rect
        return (
            (pos.x() - rect.left()) / rect.width() * width_px,
            (pos.y() - rect.top()) / rect.height() * height_px,
        )


def _roomiest_spot(inside, px, py, text_half, size, cell, marker):
    """The centre (pixels, y up) for a label of half-size ``text_half`` among
    the cells ``inside`` a region whose box holds no other region's cell, stays
    on the map (``size``) and off the marker, the one with the most room; None
    where no spot fits.

    Room is counted in label half-sizes (≥ 1: it fits). Another region's cell
    is a square of ``cell`` pixels, not a point: its half is kept out too.
    """
    if not inside.any():
        return None
    (text_w, text_h), (width, height) = text_half, size
    half_w, half_h = text_w + cell[0] / 2, text_h + cell[1] / 2
    cx, cy = px[inside], py[inside]
    ox, oy = px[~inside], py[~inside]
    room = np.minimum.reduce(
        [cx / text_w, (width - cx) / text_w, cy / text_h, (height - cy) / text_h]
    )
    if ox.size:
        apart = np.maximum(
            np.abs(cx[:, None] - ox[None, :]) / half_w,
            np.abs(cy[:, None] - oy[None, :]) / half_h,
        )
        room = np.minimum(room, apart.min(axis=1))
    if marker is not None:
        clear = _MARKER_CLEARANCE_PX
        room = np.minimum(
            room,
            np.maximum(
                np.abs(cx - marker[0]) / (text_w + clear),
                np.abs(cy - marker[1]) / (text_h + clear),
            ),
        )
    best = int(np.argmax(room))
    return None if room[best] < 1.0 else (float(cx[best]), float(cy[best]))
