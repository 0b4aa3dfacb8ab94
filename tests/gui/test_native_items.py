"""Plot items that Qt paints in C++ (``gui.native_items``): their geometry, their
legend and cache helpers, and the GIL-free painting they exist for."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pyqtgraph as pg
import pytest
from paint_regions import PaintRegions
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
)

from sgd_viewer.gui.legends import add_cached_legend, legend_stand_in
from sgd_viewer.gui.native_items import (
    DataPath,
    PixelMarker,
    PlotCanvas,
    cache_as_pixmap,
)

PEN_WIDTH_PX = 6
CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache


@pytest.fixture
def canvas(qtbot):
    """A shown, laid-out PlotCanvas whose view spans 0..10 on both axes."""
    canvas = PlotCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(500, 400)
    canvas.show()
    qtbot.waitExposed(canvas)
    view_box = canvas.getPlotItem().getViewBox()
    view_box.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    qtbot.waitUntil(lambda: _laid_out(view_box))
    return canvas


def _laid_out(view_box) -> bool:
    (x0, x1), (y0, y1) = view_box.viewRange()
    px, py = view_box.viewPixelSize()
    return (x0, x1, y0, y1) == (0, 10, 0, 10) and px > 0 and py > 0


def _shows_up_to(view_box, span: float) -> bool:
    """Whether the view's right edge is at ``span`` (the range is applied)."""
    right_edge = view_box.mapViewToScene(QPointF(span, 0)).x()
    return abs(right_edge - view_box.sceneBoundingRect().right()) <= 1


def _view_box(canvas) -> pg.ViewBox:
    return canvas.getPlotItem().getViewBox()


def _elements(path: QPainterPath) -> list:
    return [path.elementAt(i) for i in range(path.elementCount())]


def _device_rect(item: QGraphicsItem, canvas) -> QRectF:
    """The item's bounding rect in the canvas viewport's pixels."""
    return item.deviceTransform(canvas.viewportTransform()).mapRect(item.boundingRect())


# ------------------------------------------------------------------ DataPath
def test_data_path_keeps_its_data_as_float_arrays(canvas):
    """``xData``/``yData`` are what pyqtgraph-style callers (and tests) read
    back; they must be float arrays whatever was passed in."""
    path = DataPath(_view_box(canvas), pg.mkPen("r"))
    path.set_data([1, 2, 3], (4, 5, 6))
    for values in (path.xData, path.yData):
        assert isinstance(values, np.ndarray)
        assert values.dtype == np.float64
    np.testing.assert_array_equal(path.xData, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(path.yData, [4.0, 5.0, 6.0])


def test_data_path_draws_one_vertex_per_point(canvas):
    """The drawn polyline goes through every point given, in order."""
    path = DataPath(_view_box(canvas), pg.mkPen("r"))
    x, y = np.array([1.0, 2.0, 4.0, 8.0]), np.array([3.0, 1.0, 4.0, 1.5])
    path.set_data(x, y)
    elements = _elements(path.path())
    assert len(elements) == len(x)
    assert [(e.x, e.y) for e in elements] == list(zip(x, y, strict=True))
    assert elements[0].isMoveTo()
    assert not any(e.isMoveTo() for e in elements[1:])


def test_log_data_path_draws_log10_y_but_keeps_raw_y(canvas):
    """In a log-y plot the line sits at log10(y), while ``yData`` keeps the
    values the caller gave (the loss curve reads them back)."""
    path = DataPath(_view_box(canvas), pg.mkPen("r"), log_y=True)
    path.set_data([0, 1, 2], [10.0, 1000.0, 0.01])
    drawn_y = [e.y for e in _elements(path.path())]
    assert drawn_y == pytest.approx([1.0, 3.0, -2.0])
    np.testing.assert_array_equal(path.yData, [10.0, 1000.0, 0.01])


def test_nan_in_the_data_breaks_the_line(canvas):
    """A non-finite point splits the polyline in two instead of joining its
    neighbours (the contour rings are separated this way)."""
    path = DataPath(_view_box(canvas), pg.mkPen("r"))
    path.set_data([1, 2, np.nan, 4, 5], [1, 2, 3, 4, 5])
    elements = _elements(path.path())
    move_tos = [e for e in elements if e.isMoveTo()]
    assert len(move_tos) == 2
    assert (move_tos[0].x, move_tos[0].y) == (1, 1)
    assert (move_tos[1].x, move_tos[1].y) == (4, 4)


def test_empty_data_path_has_no_path_and_no_bounds(canvas):
    """Clearing a path (a reset) leaves nothing to draw and nothing for the
    scene to repaint."""
    path = DataPath(_view_box(canvas), pg.mkPen("r"))
    path.set_data([1, 2], [3, 4])
    path.set_data([], [])
    assert path.path().isEmpty()
    assert path.boundingRect().isEmpty()
    assert path.xData.size == 0
    assert path.yData.size == 0


def test_data_path_bounds_cover_the_stroke_in_pixels(canvas):
    """The bounds hold every point plus the pen's half width in pixels,
    converted to data units: less, and a moving path leaves a trail."""
    view_box = _view_box(canvas)
    path = DataPath(view_box, pg.mkPen("r", width=PEN_WIDTH_PX))
    canvas.getPlotItem().addItem(path, ignoreBounds=True)
    x, y = np.array([2.0, 3.0, 7.5]), np.array([1.0, 6.0, 4.0])
    path.set_data(x, y)
    _assert_bounds_cover_stroke(path, view_box, x, y)


def test_data_path_bounds_follow_the_zoom(canvas, qtbot):
    """A pixel-wide pen is wider in data units after zooming out: the bounds
    grow with it, without new data."""
    view_box = _view_box(canvas)
    path = DataPath(view_box, pg.mkPen("r", width=PEN_WIDTH_PX))
    canvas.getPlotItem().addItem(path, ignoreBounds=True)
    x, y = np.array([2.0, 3.0, 7.5]), np.array([1.0, 6.0, 4.0])
    path.set_data(x, y)
    before = path.boundingRect()
    view_box.setRange(xRange=(0, 100), yRange=(0, 100), padding=0)
    # The view applies a new range when it next paints.
    qtbot.waitUntil(lambda: path.boundingRect().width() > before.width())
    assert view_box.viewRange()[0] == [0, 100]
    _assert_bounds_cover_stroke(path, view_box, x, y)


def _assert_bounds_cover_stroke(path, view_box, x, y) -> None:
    bounds = path.boundingRect()
    for point in zip(x, y, strict=True):
        assert bounds.contains(QPointF(*point))
    pixel_x, pixel_y = (abs(v) for v in view_box.viewPixelSize())
    half_pen = PEN_WIDTH_PX / 2
    assert bounds.left() <= x.min() - half_pen * pixel_x
    assert bounds.right() >= x.max() + half_pen * pixel_x
    assert bounds.top() <= y.min() - half_pen * pixel_y
    assert bounds.bottom() >= y.max() + half_pen * pixel_y


def test_data_path_has_no_shape_so_clicks_reach_the_plot(canvas):
    """An empty shape: Qt never strokes the long path to hit-test the mouse,
    and a click on the path lands on the surface beneath."""
    path = DataPath(_view_box(canvas), pg.mkPen("r", width=PEN_WIDTH_PX))
    canvas.getPlotItem().addItem(path, ignoreBounds=True)
    path.set_data([1, 9], [1, 9])
    assert path.shape().isEmpty()
    click = _SceneEvent(path.mapToScene(QPointF(5, 5)))
    under_the_click = canvas.scene().itemsNearEvent(click)
    assert path not in under_the_click
    assert _view_box(canvas) in under_the_click


class _SceneEvent:
    """What pyqtgraph's hit test reads of a mouse event: where it happened."""

    def __init__(self, scene_pos: QPointF) -> None:
        self._scene_pos = scene_pos

    def scenePos(self) -> QPointF:
        return self._scene_pos


# ---------------------------------------------------------------- PixelMarker
def test_marker_ignores_the_plot_transform(canvas):
    """Markers are in pixels, y down: the plot's scale and its upward y axis
    must not apply to them."""
    marker = PixelMarker.circle(11, "w", "r")
    flags = marker.flags()
    assert flags & QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations


@pytest.mark.parametrize("view_span", [10, 1000])
def test_marker_bounds_are_its_size_in_pixels_at_any_zoom(canvas, qtbot, view_span):
    """A circle of diameter d covers about d pixels (plus its outline) at any
    zoom; its bounding rect is also what the scene repaints when it moves."""
    view_box = _view_box(canvas)
    view_box.setRange(xRange=(0, view_span), yRange=(0, view_span), padding=0)
    marker = PixelMarker.circle(20, "w", "r")
    canvas.getPlotItem().addItem(marker, ignoreBounds=True)
    marker.setPos(view_span / 2, view_span / 2)
    # The view applies a new range when it next paints.
    qtbot.waitUntil(lambda: _shows_up_to(view_box, view_span))
    rect = _device_rect(marker, canvas)
    assert 20 <= rect.width() <= 24
    assert 20 <= rect.height() <= 24


def test_moving_a_marker_repaints_where_it_was_and_where_it_is(canvas, qtbot):
    """After a move the viewport repaints the marker's whole disc at its old
    place (else it stays there as a ghost) and at its new one (else it shows
    clipped)."""
    marker = PixelMarker.circle(20, "w", "r")
    canvas.getPlotItem().addItem(marker, ignoreBounds=True)
    marker.setPos(2, 2)
    painted = PaintRegions()
    canvas.viewport().installEventFilter(painted)
    # A clean start: whatever adding the marker asked for is painted.
    QApplication.processEvents()
    canvas.viewport().repaint()
    painted.regions.clear()
    old = canvas.mapFromScene(marker.scenePos())
    marker.setPos(8, 8)
    new = canvas.mapFromScene(marker.scenePos())
    qtbot.waitUntil(lambda: bool(painted.regions))
    repainted = painted.union()
    for centre in (old, new):
        disc = QRect(0, 0, 20, 20)
        disc.moveCenter(centre)
        assert repainted.intersected(disc).boundingRect() == disc, (centre, repainted)


@pytest.mark.parametrize(("dx", "dy"), [(40.0, -30.0), (-25.0, 60.0)])
def test_arrow_reaches_its_tip(dx, dy):
    """``set_arrow`` draws from the marker's point to exactly (dx, dy) pixels
    away: the tip is the far corner of the path's bounds."""
    marker = PixelMarker(pg.mkPen("m", width=3), "m")
    marker.set_arrow(dx, dy, 14.0)
    path = marker.path()
    bounds = path.boundingRect()
    assert bounds.contains(QPointF(0, 0))
    assert bounds.adjusted(-1e-9, -1e-9, 1e-9, 1e-9).contains(QPointF(dx, dy))
    vertices = [(e.x, e.y) for e in _elements(path)]
    assert vertices[0] == (0, 0)
    assert (dx, dy) in vertices
    # Nothing sticks out beyond the tip along the arrow's direction.
    length = np.hypot(dx, dy)
    along = [(x * dx + y * dy) / length for x, y in vertices]
    assert max(along) == pytest.approx(length)


def test_zero_length_arrow_draws_nothing():
    """No gradient, no arrow (and no division by zero)."""
    marker = PixelMarker(pg.mkPen("m", width=3), "m")
    marker.set_arrow(30.0, 0.0)
    marker.set_arrow(0.0, 0.0)
    assert marker.path().isEmpty()


# ------------------------------------------------------------------- legends
def test_hiding_the_legend_stand_in_hides_the_item(canvas):
    """A legend sample hides its stand-in when clicked; the real item must
    follow, both ways."""
    item = DataPath(_view_box(canvas), pg.mkPen("r"))
    stand_in = legend_stand_in(item, pen=pg.mkPen("r"))
    stand_in.setVisible(False)
    assert not item.isVisible()
    stand_in.setVisible(True)
    assert item.isVisible()


def test_clicking_the_legend_sample_toggles_the_item(canvas, qtbot, mouse):
    """The user's gesture end to end: a click on the sample in a cached legend
    hides the native item, a second click shows it again."""
    plot = canvas.getPlotItem()
    item = DataPath(_view_box(canvas), pg.mkPen("r"))
    plot.addItem(item, ignoreBounds=True)
    item.set_data([1, 9], [1, 9])
    legend = add_cached_legend(plot, offset=(10, 10))
    legend.addItem(legend_stand_in(item, pen=pg.mkPen("r")), "path")
    sample = legend.items[0][0]
    qtbot.waitUntil(lambda: sample.sceneBoundingRect().width() > 0)
    where = canvas.mapFromScene(sample.sceneBoundingRect().center())
    viewport = canvas.viewport()
    left = pg.QtCore.Qt.MouseButton.LeftButton
    for expected in (False, True):
        mouse.send_mouse(viewport, QEvent.Type.MouseButtonPress, where, left)
        mouse.send_mouse(viewport, QEvent.Type.MouseButtonRelease, where, left)
        assert item.isVisible() is expected


def test_cache_as_pixmap_caches_the_item_and_its_children():
    """Still items are blitted from a pixmap, children included (a legend's
    labels and samples are children)."""
    parent = QGraphicsRectItem(0, 0, 10, 10)
    child = QGraphicsRectItem(0, 0, 5, 5, parent)
    grandchild = QGraphicsRectItem(0, 0, 2, 2, child)
    cache_as_pixmap(parent)
    for item in (parent, child, grandchild):
        assert item.cacheMode() == CACHED


def test_cached_legend_is_the_plots_and_caches_later_entries(canvas):
    """``add_cached_legend`` stands in for ``plot.addLegend``: it becomes
    ``plot.legend`` (so named items appear in it), and entries added later are
    cached like the first ones."""
    plot = canvas.getPlotItem()
    legend = add_cached_legend(plot, offset=(10, 10))
    assert plot.legend is legend
    assert legend.parentItem() is plot.getViewBox()
    assert legend.cacheMode() == CACHED
    legend.addItem(pg.PlotDataItem(pen="b"), "added by hand")
    plot.plot([1, 2], [3, 4], pen="g", name="added by the plot")
    assert [label.text for _, label in legend.items] == [
        "added by hand",
        "added by the plot",
    ]
    for sample, label in legend.items:
        for item in (sample, label, *label.childItems()):
            assert item.cacheMode() == CACHED


# ------------------------------------------------------------ GIL-free paint
#: Python function calls a background thread made while the view painted one
#: long path; read between two probes painted just before and just after it.
_counter = [0]


class _CounterProbe(QGraphicsItem):
    """A tiny item with a Python ``paint`` that notes the counter's value."""

    def __init__(self, seen: list) -> None:
        super().__init__()
        self._seen = seen

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, 4, 4)

    def paint(self, painter, option, widget=None) -> None:
        self._seen.append(_counter[0])


def _count_while_painting_a_long_path(view, qtbot) -> int:
    """How far a Python thread counts while ``view`` strokes a costly path.

    Probes painted right before and right after the path (by z order) read
    the counter, so only the C++ stroking of the path lies between them. If
    the view paints with the GIL held, the thread barely moves there.
    """
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    rng = np.random.default_rng(0)
    points = rng.uniform(20, 380, size=(20_000, 2))
    long_path = QGraphicsPathItem(pg.arrayToQPath(points[:, 0], points[:, 1]))
    pen = QPen(QColor("red"))
    pen.setWidthF(8)
    long_path.setPen(pen)
    seen: list[int] = []
    before, after = _CounterProbe(seen), _CounterProbe(seen)
    for z, item in enumerate((before, long_path, after)):
        item.setZValue(1e6 + z)
        view.scene().addItem(item)
    view.viewport().repaint()  # the first paint lays everything out
    seen.clear()
    stop = threading.Event()
    # Garbage from earlier tests (Qt wrappers) must not be collected by the
    # counting thread while Qt paints without the GIL: that deleted C++
    # objects off the GUI thread mid-paint and crashed one full run.
    gc.collect()
    gc.disable()

    def count() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            _counter[0] = n

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    try:
        view.viewport().update()
        qtbot.waitUntil(lambda: len(seen) >= 2, timeout=10_000)
    finally:
        stop.set()
        counter.join()
        gc.enable()
    return seen[1] - seen[0]


def test_plot_canvas_paints_without_holding_the_gil(qtbot):
    """While a PlotCanvas strokes a path in C++, a Python thread (the trainer)
    keeps running; a plain pyqtgraph PlotWidget, whose paintEvent is Python,
    holds the GIL throughout and the thread stalls. Both views paint the same
    path, so the comparison does not depend on the machine's speed."""
    with_canvas = _count_while_painting_a_long_path(PlotCanvas(), qtbot)
    with_plot_widget = _count_while_painting_a_long_path(pg.PlotWidget(), qtbot)
    assert with_canvas > 5 * with_plot_widget, (with_canvas, with_plot_widget)
