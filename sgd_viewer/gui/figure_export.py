"""Figures: a widget of the window (the plot area, one plot, the whole
window) written as PNG at a device-pixel scale or as SVG, and the small
dialog of File ▸ Export figure….

Why not pyqtgraph's exporters: its SVG exporter fails with current Qt
(DESIGN.md §6), and its image exporter renders one scene, not a widget made
of several plots. Here the widget renders itself into a ``QPainter``: on a
``QImage`` whose device-pixel ratio is the scale (so 2× is drawn at twice the
resolution, not enlarged), or on a ``QSvgGenerator`` (SVG 1.1, so the plots'
clipping survives). While it renders, pyqtgraph's items are in "export
mode" and Qt's item caches are off: the points, curves and text go out as
vectors rather than as the cached pixmaps the screen is painted from.

Knows Qt and pyqtgraph's export mode; nothing of runs or torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, Qt
from PySide6.QtGui import QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsView,
    QWidget,
)

#: What a figure can show, with the words the dialog uses.
PARTS = {
    "plots": "The whole plot area",
    "fit": "The data and the fitted line",
    "surface": "The loss surface",
    "loss": "The loss curve",
    "window": "The whole window",
}
FORMATS = {".png": "PNG image", ".svg": "SVG drawing"}
#: Largest device-pixel scale of a PNG (a 1400×900 window at 4× is 20 Mpx).
MAX_SCALE = 4.0


class FigureError(ValueError):
    """A figure that cannot be written; the message is one line."""


def format_of(path: str) -> str:
    """``".png"`` or ``".svg"`` from the file name (``FigureError`` for others)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = f"'{suffix}'" if suffix else "no suffix"
        raise FigureError(f"{path}: {shown} is not a figure format (use .png or .svg)")
    return suffix


@contextmanager
def export_mode(widget: QWidget) -> Iterator[None]:
    """Every plot in ``widget`` drawn for export while the block runs: item
    caches off (vectors, not cached pixmaps), pyqtgraph's export mode on
    (scatter symbols as paths), empty paths hidden (an empty SVG path is
    invalid), the views' background caches off."""
    views = widget.findChildren(QGraphicsView)
    if isinstance(widget, QGraphicsView):
        views.append(widget)
    cached: list[tuple[QGraphicsItem, QGraphicsItem.CacheMode]] = []
    hidden: list[QGraphicsItem] = []
    exported: list[QGraphicsItem] = []
    backgrounds = []
    try:
        for view in views:
            backgrounds.append((view, view.cacheMode()))
            view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
            scene = view.scene()
            if scene is None:
                continue
            for item in scene.items():
                if item.cacheMode() != QGraphicsItem.CacheMode.NoCache:
                    cached.append((item, item.cacheMode()))
                    item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
                if (
                    isinstance(item, QGraphicsPathItem)
                    and item.isVisible()
                    and item.path().isEmpty()
                ):
                    hidden.append(item)
                    item.setVisible(False)
                if hasattr(item, "setExportMode"):
                    item.setExportMode(True, {"antialias": True})
                    exported.append(item)
        yield
    finally:
        for item in exported:
            item.setExportMode(False)
        for item in hidden:
            item.setVisible(True)
        for item, mode in cached:
            item.setCacheMode(mode)
        for view, mode in backgrounds:
            view.setCacheMode(mode)


def _render(widget: QWidget, painter: QPainter) -> None:
    # QWidget's render, also for a plot: a QGraphicsView's own render() draws
    # its scene only, without the view's frame.
    QWidget.render(widget, painter, QPoint(0, 0))


def png_bytes(widget: QWidget, scale: float = 1.0) -> bytes:
    """``widget`` as PNG at ``scale`` device pixels per pixel."""
    if not 0 < scale <= MAX_SCALE:
        raise FigureError(f"scale must be above 0 and at most {MAX_SCALE:g}")
    width = max(1, round(widget.width() * scale))
    height = max(1, round(widget.height() * scale))
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(scale)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    try:
        with export_mode(widget):
            _render(widget, painter)
    finally:
        painter.end()
    return _encoded(image, b"png")


def _encoded(image: QImage, fmt: bytes) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, fmt)
    if not writer.write(image):
        raise FigureError(f"cannot encode the image: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def svg_bytes(widget: QWidget, title: str = "sgd_viewer") -> bytes:
    """``widget`` as an SVG 1.1 drawing, one SVG unit a pixel."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # SVG 1.1 rather than the default Tiny 1.2: only 1.1 keeps clip paths, and
    # without them the loss surface's ellipses spill over the axes.
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setOutputDevice(buffer)
    generator.setSize(widget.size())
    generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    # 96 dpi: the size in mm that browsers show at the widget's pixel size.
    generator.setResolution(96)
    generator.setTitle(title)
    generator.setDescription("Exported by sgd_viewer (File > Export figure)")
    painter = QPainter(generator)
    try:
        with export_mode(widget):
            _render(widget, painter)
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def write_figure(widget: QWidget, path: str, scale: float = 1.0) -> None:
    """Write ``widget`` to ``path`` as PNG or SVG, by its suffix.

    Raises :class:`FigureError` (one line, naming the file) for an unknown
    suffix, a bad scale, or a file that cannot be written.
    """
    suffix = format_of(path)
    if suffix == ".svg":
        content = svg_bytes(widget, f"sgd_viewer: {Path(path).stem}")
    else:
        content = png_bytes(widget, scale)
    try:
        Path(path).write_bytes(content)
    except OSError as error:
        raise FigureError(
            f"{path}: cannot be written ({error.strerror or error})"
        ) from None


def write_screenshot(widget: QWidget, path: str) -> None:
    """``--screenshot``: SVG or PNG through :func:`write_figure`; any other
    suffix Qt can write (``.jpg``, ``.bmp`` …) as a plain grab, as before."""
    if Path(path).suffix.lower() in FORMATS:
        write_figure(widget, path)
        return
    if not widget.grab().save(path):
        raise FigureError(f"{path}: cannot be written")


def save_buttons(dialog: QDialog, name: str) -> QDialogButtonBox:
    """Save… and Cancel, wired to ``dialog``'s accept and reject."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.setObjectName(name)
    buttons.button(QDialogButtonBox.StandardButton.Save).setText("Save…")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class FigureDialog(QDialog):
    """What to export, in which format and at which scale; the file name is
    asked for after (its suffix, when given, chooses the format)."""

    def __init__(self, parent: QWidget, what: str = "plots") -> None:
        super().__init__(parent)
        self.setObjectName("exportFigureDialog")
        self.setWindowTitle("Export figure")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.what_combo = _combo("figureWhatCombo", PARTS, what)
        self.format_combo = _combo("figureFormatCombo", FORMATS, ".png")
        self.scale_combo = _combo(
            "figureScaleCombo", {1.0: "1× (as on screen)", 2.0: "2× (sharp)"}, 1.0
        )
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        form = QFormLayout(self)
        form.addRow("Show", self.what_combo)
        form.addRow("Format", self.format_combo)
        form.addRow("Scale", self.scale_combo)
        form.addRow(save_buttons(self, "figureButtons"))

    def _format_changed(self) -> None:
        # A drawing has no pixels to scale.
        self.scale_combo.setEnabled(self.suffix == ".png")

    @property
    def what(self) -> str:
        return self.what_combo.currentData()

    @property
    def suffix(self) -> str:
        return self.format_combo.currentData()

    @property
    def scale(self) -> float:
        return float(self.scale_combo.currentData())


def _combo(name: str, choices: dict, current) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(name)
    for value, text in choices.items():
        combo.addItem(text, value)
    combo.setCurrentIndex(list(choices).index(current))
    return combo
