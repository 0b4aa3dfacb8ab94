"""Scale the plots' text, lines and markers by one factor, and undo it exactly.

Owns :class:`PlotScaler`, used by presentation mode. It walks the items of
every plot scene and scales, per item, what makes it readable from afar: the
fonts of axes, titles, legends and labels, the widths of pens (paths, fit
lines, curves), and the sizes of markers (scatter points, the current point,
the start handle, the optimum's star). Each original is remembered, so that
:meth:`PlotScaler.restore` puts back exactly what was there.

Why a walk before every paint and not one pass: the views create some items
as they go (level labels, hover readouts, a run's layer) and give some items
new pens while running (a run's colour, the lr strip, the step arrows). A
viewport event filter (as ``native_items`` uses for pyqtgraph's own
preparation) checks each item just before its plot paints: a value that is no
longer the one this class set is the view's new original, and is scaled again.
So no view needs to know about the scale.

Knows pyqtgraph, Qt and the plot pieces of ``native_items`` and
``plot_chrome``; nothing of runs, torch or the window.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont, QFontMetrics, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from sgd_viewer.gui.native_items import PixelLabel
from sgd_viewer.gui.plot_chrome import ElidedTitle

_IGNORES_TRANSFORMS = QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
_CSS_SIZE = re.compile(r"^\s*([0-9.]+)\s*(pt|px)\s*$")

#: One scalable value of an item: its name, how to read it, how to set it,
#: and how to scale a value read.
Slot = tuple[str, Callable[[], object], Callable[[object], None], Callable]


def scaled_pen(pen, factor: float):
    """``pen`` with its width times ``factor`` (a hairline counts as 1 px)."""
    if pen is None:
        return None
    scaled = QPen(pg.mkPen(pen))
    scaled.setWidthF(max(scaled.widthF(), 1.0) * factor)
    return scaled


def scaled_font(font: QFont, factor: float) -> QFont:
    scaled = QFont(font)
    if font.pointSizeF() > 0:
        scaled.setPointSizeF(font.pointSizeF() * factor)
    else:
        scaled.setPixelSize(max(round(font.pixelSize() * factor), 1))
    return scaled


def scaled_css_size(size: str | None, factor: float, base_pt: float) -> str:
    """A CSS font size (``"10pt"``, ``"12px"``; ``None`` for the default
    font of ``base_pt`` points) times ``factor``."""
    match = _CSS_SIZE.match(size) if size else None
    if match is None:
        return f"{base_pt * factor:.3g}pt"
    return f"{float(match.group(1)) * factor:.3g}{match.group(2)}"


def css_points(size: str | None, base_pt: float) -> float:
    """The size in points of a CSS font size (pixels at 96 dpi)."""
    match = _CSS_SIZE.match(size) if size else None
    if match is None:
        return base_pt
    value = float(match.group(1))
    return value if match.group(2) == "pt" else value * 0.75


class PlotScaler(QObject):
    """Scales everything drawn in ``canvases`` by ``factor`` while active.

    Parameters
    ----------
    canvases
        Returns the pyqtgraph views to scale (asked on :meth:`apply`, so that
        views added later are found).
    factor
        How much larger text, lines and markers become.
    """

    def __init__(
        self, canvases: Callable[[], Iterable[pg.GraphicsView]], factor: float
    ) -> None:
        super().__init__()
        self._canvases = canvases
        self.factor = float(factor)
        self.active = False
        #: Per scene: (id of item, slot name) -> [item, original, value set
        #: here, getter, setter]. Rebuilt with each walk, so that items the
        #: views dropped (old level labels) are let go.
        self._scaled: dict[int, dict[tuple[int, str], list]] = {}
        #: Per scene: id of item -> (item, its slots), built once per item.
        self._slots_of: dict[int, dict[int, tuple[object, list[Slot]]]] = {}
        self._watched: list[pg.GraphicsView] = []
        self._fonts: dict[int, QFont] = {}
        self._titles: dict[int, list[ElidedTitle]] = {}
        self._axis_space: dict[int, tuple[pg.AxisItem, float, float]] = {}

    # ------------------------------------------------------------ public
    def apply(self) -> None:
        """Scale every plot now, and every change made to them from now on."""
        if self.active:
            return
        self.active = True
        self._watched = []
        self.watch(self._canvases())

    def watch(self, canvases: Iterable[pg.GraphicsView]) -> None:
        """While active, scale these plots too (those not watched yet: a tab
        built after :meth:`apply`)."""
        if not self.active:
            return
        for canvas in canvases:
            if canvas.scene() is None or canvas in self._watched:
                continue
            self._watched.append(canvas)
            scene = id(canvas.scene())
            self._fonts[scene] = QFont(canvas.font())
            self._titles[scene] = canvas.findChildren(ElidedTitle)
            canvas.viewport().installEventFilter(self)
            self.refresh(canvas)

    def restore(self) -> None:
        """Put back every original size that is still the one set here."""
        if not self.active:
            return
        self.active = False
        for canvas in self._watched:
            canvas.viewport().removeEventFilter(self)
        for scaled in self._scaled.values():
            # Reverse order: a legend's entries before the legend, and so on.
            for _item, original, applied, get, set_ in reversed(scaled.values()):
                try:
                    if _same(get(), applied):
                        set_(original)
                except RuntimeError:  # the item is gone already
                    continue
        for axis, width, height in self._axis_space.values():
            axis.textWidth, axis.textHeight = width, height
            axis._adjustSize()  # reserve the space of the original font again
        for canvas in self._watched:
            for item in canvas.scene().items():
                if isinstance(item, pg.LegendItem) and hasattr(item, "refresh"):
                    item.refresh()  # its samples are cached pixmaps
        for store in (self._scaled, self._slots_of, self._fonts, self._titles):
            store.clear()
        self._axis_space.clear()
        self._watched = []

    def refresh(self, canvas: pg.GraphicsView) -> None:
        """Scale what in ``canvas`` is new or was given a new value."""
        scene = canvas.scene()
        if not self.active or scene is None:
            return
        key = id(scene)
        base_font = self._fonts[key]
        old_scaled = self._scaled.get(key, {})
        old_slots = self._slots_of.get(key, {})
        scaled: dict[tuple[int, str], list] = {}
        slots_of: dict[int, tuple[object, list[Slot]]] = {}

        changed: set[int] = set()

        def check(item, make_slots) -> None:
            known = old_slots.get(id(item))
            slots = known[1] if known is not None else make_slots()
            slots_of[id(item)] = (item, slots)
            if self._check(item, slots, old_scaled, scaled):
                changed.add(id(item))

        managed = set()
        for title in self._titles.get(key, []):
            managed.add(id(title._plot.titleLabel))
            check(title, lambda t=title: self._title_slots(t, base_font))
        legends = []
        for item in scene.items():
            if id(item) in managed:
                continue
            check(item, lambda i=item: self._slots(i, base_font))
            if isinstance(item, pg.LegendItem):
                legends.append(item)
        for legend in legends:
            # Legend samples draw the items they stand for, some of which
            # are never added to a plot (native_items.legend_stand_in).
            samples = [getattr(sample, "item", None) for sample, _ in legend.items]
            for stand_in in samples:
                if stand_in is not None and stand_in.scene() is None:
                    check(stand_in, lambda i=stand_in: self._slots(i, base_font))
            if hasattr(legend, "refresh") and any(id(i) in changed for i in samples):
                legend.refresh()  # the samples are cached pixmaps
        self._scaled[key] = scaled
        self._slots_of[key] = slots_of

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            for canvas in self._watched:
                if canvas.viewport() is watched:
                    self.refresh(canvas)
                    break
        return False

    # ---------------------------------------------------------- internals
    @staticmethod
    def _check(item, slots: list[Slot], old: dict, new: dict) -> bool:
        """Scale the slots of ``item`` not (or no longer) scaled; whether any."""
        changed = False
        for name, get, set_, scale in slots:
            key = (id(item), name)
            entry = old.get(key)
            current = get()
            if entry is not None and _same(current, entry[2]):
                new[key] = entry  # still as scaled here
                continue
            applied = scale(current)
            # The item is kept with it: an id is unique only while its item lives.
            new[key] = [item, current, applied, get, set_]
            set_(applied)
            changed = True
        return changed

    def _slots(self, item, base_font: QFont) -> list[Slot]:
        f = self.factor
        pen = _pen_slot
        if isinstance(item, pg.AxisItem):
            return self._axis_slots(item, base_font)
        if isinstance(item, pg.LabelItem):
            return [self._label_slot(item, base_font)]
        if isinstance(item, pg.TextItem):
            return [
                (
                    "font",
                    item.textItem.font,
                    item.setFont,
                    lambda font: scaled_font(font, f),
                )
            ]
        if isinstance(item, PixelLabel):
            return [("font", item.text_item.font, _label_font_setter(item), _sf(f))]
        if isinstance(item, pg.LegendItem):
            return [_opts_slot(item, "labelTextSize", _css(f, base_font))]
        if isinstance(item, pg.PlotDataItem):
            slots = [pen(lambda: item.opts["pen"], item.setPen, f)]
            if item.opts.get("symbol") is not None:
                size = ("symbolSize", lambda: item.opts["symbolSize"])
                slots.append((*size, item.setSymbolSize, lambda s: s * f))
            return slots
        parent = item.parentItem()
        if isinstance(parent, pg.PlotDataItem):
            return []  # its curve and symbols follow the PlotDataItem's opts
        if isinstance(item, pg.PlotCurveItem):
            return [pen(lambda: item.opts["pen"], item.setPen, f)]
        if isinstance(item, pg.ScatterPlotItem):
            return [("size", lambda: item.opts["size"], item.setSize, lambda s: s * f)]
        if isinstance(item, pg.InfiniteLine):
            return [pen(lambda: item.pen, item.setPen, f)]
        if isinstance(item, pg.TargetItem):
            return [
                pen(lambda: item.pen, item.setPen, f),
                pen(lambda: item.hoverPen, item.setHoverPen, f, "hoverPen"),
                ("scale", lambda: item.scale, _target_size_setter(item), _sf(f)),
            ]
        if isinstance(item, QGraphicsPathItem):
            if item.flags() & _IGNORES_TRANSFORMS and _centred(item):
                # A marker of fixed pixel size: grow it, outline and all.
                return [("scale", item.scale, item.setScale, lambda s: s * f)]
            # A path, or an arrow whose length means something: its pen only.
            return [pen(item.pen, _path_pen_setter(item), f)]
        return []

    def _axis_slots(self, axis: pg.AxisItem, base_font: QFont) -> list[Slot]:
        f = self.factor
        if id(axis) not in self._axis_space:
            self._axis_space[id(axis)] = (axis, axis.textWidth, axis.textHeight)

        def set_label_font(font: QFont) -> None:
            axis.label.setFont(font)
            axis._updateLabel()  # re-lays the axis for the label's new height

        slots: list[Slot] = [
            (
                "tickFont",
                lambda: axis.style["tickFont"],
                axis.setTickFont,
                lambda font: scaled_font(font or base_font, f),
            ),
            ("labelFont", axis.label.font, set_label_font, _sf(f)),
        ]
        if axis.fixedWidth is not None:
            # The lr strip keeps its axis as wide as the loss curve's.
            slots.append(
                (
                    "fixedWidth",
                    lambda: axis.fixedWidth,
                    axis.setWidth,
                    lambda w: None if w is None else round(w * f),
                )
            )
        return slots

    def _label_slot(self, label: pg.LabelItem, base_font: QFont) -> Slot:
        f = self.factor
        base_pt = base_font.pointSizeF()
        plot = label.parentItem()
        is_title = isinstance(plot, pg.PlotItem) and plot.titleLabel is label
        title_height = label.maximumHeight()

        def set_size(size: str | None) -> None:
            if size is None:
                label.opts.pop("size", None)
            else:
                label.opts["size"] = size
            label.setText(label.text)
            if is_title and label.isVisible():
                # pyqtgraph fixes a title's row at 30 px: room for 10 points.
                points = css_points(size, base_pt)
                height = max(title_height, math.ceil(30 * points / 10))
                plot.layout.setRowFixedHeight(0, height)
                label.setMaximumHeight(height)

        return (
            "size",
            lambda: label.opts.get("size"),
            set_size,
            lambda size: scaled_css_size(size, f, base_pt),
        )

    def _title_slots(self, title: ElidedTitle, base_font: QFont) -> list[Slot]:
        """An elided title measures its text in its own font: scale both."""
        f = self.factor
        base_pt = base_font.pointSizeF()
        inner = self._label_slot(title._plot.titleLabel, base_font)

        def set_size(size: str) -> None:
            font = QFont(base_font)
            font.setPointSizeF(css_points(size, base_pt))
            title._size = size
            title._metrics = QFontMetrics(font)
            title.shown_text = ""  # elide (and set) the text anew
            title._fit()
            inner[2](size)

        return [
            (
                "titleSize",
                lambda: title._size,
                set_size,
                lambda size: scaled_css_size(size, f, base_pt),
            )
        ]


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except TypeError:  # e.g. a QPen against None
        return False


def _sf(factor: float) -> Callable:
    def scale(value):
        if isinstance(value, QFont):
            return scaled_font(value, factor)
        return value * factor

    return scale


def _css(factor: float, base_font: QFont) -> Callable:
    return lambda size: scaled_css_size(size, factor, base_font.pointSizeF())


def _pen_slot(get, set_, factor: float, name: str = "pen") -> Slot:
    return (name, get, set_, lambda pen: scaled_pen(pen, factor))


def _opts_slot(item, key: str, scale: Callable) -> Slot:
    def set_(value) -> None:
        item.opts[key] = value

    return (key, lambda: item.opts.get(key), set_, scale)


def _label_font_setter(label: PixelLabel) -> Callable[[QFont], None]:
    def set_(font: QFont) -> None:
        label.text_item.setFont(font)
        label._fit_box()  # the box around the text follows its size

    return set_


def _target_size_setter(target: pg.TargetItem) -> Callable[[float], None]:
    def set_(size: float) -> None:
        # TargetItem keeps its size in ``scale`` and its shape cached.
        target.scale = size
        target.prepareGeometryChange()
        target.viewTransformChanged()

    return set_


def _path_pen_setter(item: QGraphicsPathItem) -> Callable[[QPen], None]:
    def set_(pen: QPen) -> None:
        item.setPen(pen)
        refresh = getattr(item, "refresh_bounds", None)
        if refresh is not None:  # a DataPath's bounds hold half its pen's width
            refresh()

    return set_


def _centred(item: QGraphicsPathItem) -> bool:
    """A marker's outline is centred on its point; an arrow starts there."""
    rect = item.path().boundingRect()
    if rect.isEmpty() and rect.width() == 0 and rect.height() == 0:
        return False
    centre = rect.center()
    reach = max(rect.width(), rect.height())
    return abs(centre.x()) <= 0.05 * reach and abs(centre.y()) <= 0.05 * reach


__all__ = ["PlotScaler", "scaled_css_size", "scaled_font", "scaled_pen"]
