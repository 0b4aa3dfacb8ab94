"""What keeps a racing window's frames cheap: the selected path stamped from
one-pixel lines, two-vertex lines built by hand, still chrome drawn from
pixmaps, thinned indices shared between runs, and readouts that restyle only
on a change. Each keeps what is drawn exactly as it was."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QObject, QPointF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

from sgd_viewer.core.history import display_indices
from sgd_viewer.gui.native_items import DataPath, PlotCanvas, SegmentPath
from sgd_viewer.gui.stamped_path import StampedPath

CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache
RED = "#ff0000"


@pytest.fixture
def canvas(qtbot):
    """A shown PlotCanvas whose view spans 0..10 on both axes, on white."""
    canvas = PlotCanvas()
    canvas.setBackground("w")
    qtbot.addWidget(canvas)
    canvas.resize(400, 400)
    canvas.show()
    qtbot.waitExposed(canvas)
    view_box = canvas.getPlotItem().getViewBox()
    view_box.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    qtbot.waitUntil(lambda: view_box.viewRange() == [[0, 10], [0, 10]])
    return canvas


def _view_box(canvas):
    return canvas.getPlotItem().getViewBox()


def _add(canvas, item):
    canvas.getPlotItem().addItem(item, ignoreBounds=True)
    return item


def _rendered(canvas) -> QImage:
    image = QImage(canvas.viewport().size(), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    canvas.render(painter)
    painter.end()
    return image


def _red_rows(image: QImage, column: int) -> list[int]:
    """Rows of ``column`` painted in (nearly) pure red."""
    rows = []
    for row in range(image.height()):
        colour = image.pixelColor(column, row)
        if colour.red() > 200 and colour.green() < 60 and colour.blue() < 60:
            rows.append(row)
    return rows


# ---------------------------------------------------------------- stamping
def test_an_opaque_two_pixel_path_is_four_one_pixel_copies(canvas):
    path = _add(canvas, StampedPath(_view_box(canvas), pg.mkPen(RED, width=2)))
    path.set_data([1.0, 5.0, 9.0], [1.0, 6.0, 2.0])
    assert path.stamp == 2
    assert path.drawn_pen().widthF() == 0.0  # Qt's one-pixel fast path
    assert path.pen().widthF() == 2.0  # what the legend and presentation see
    assert path.path().elementCount() == 4 * 3
    # The copies sit one device pixel apart, right, down and both.
    px, py = (abs(v) for v in _view_box(canvas).viewPixelSize())
    starts = {
        (round(path.path().elementAt(i).x, 9), round(path.path().elementAt(i).y, 9))
        for i in range(0, 12, 3)
    }
    expected = {
        (round(1.0 + i * px, 9), round(1.0 + j * py, 9))
        for i in range(2)
        for j in range(2)
    }
    assert starts == expected
    # Its data stay the points given.
    assert list(path.xData) == [1.0, 5.0, 9.0]


def test_a_translucent_path_keeps_the_wide_pen(canvas):
    colour = QColor(RED)
    colour.setAlpha(70)
    path = _add(canvas, StampedPath(_view_box(canvas), pg.mkPen(colour, width=2)))
    path.set_data([1.0, 9.0], [1.0, 9.0])
    # Overlapping translucent copies would be drawn darker where they cross.
    assert path.stamp == 1
    assert path.drawn_pen().widthF() == 2.0
    assert path.path().elementCount() == 2


def test_changing_the_pen_stamps_or_strokes_again(canvas):
    path = _add(canvas, StampedPath(_view_box(canvas), pg.mkPen(RED, width=2)))
    path.set_data([1.0, 9.0], [5.0, 5.0])
    path.setPen(pg.mkPen(RED, width=4))  # presentation mode's wider pen
    assert path.stamp == 1
    assert path.drawn_pen().widthF() == 4.0
    assert path.path().elementCount() == 2
    path.setPen(pg.mkPen("#0000ff", width=2))
    assert path.stamp == 2
    assert path.path().elementCount() == 8


def test_a_zoom_restamps_one_pixel_apart(canvas, qtbot):
    view_box = _view_box(canvas)
    path = _add(canvas, StampedPath(view_box, pg.mkPen(RED, width=2)))
    path.set_data([1.0, 2.0], [1.0, 1.0])
    view_box.setRange(xRange=(0, 2), yRange=(0, 2), padding=0)
    qtbot.waitUntil(lambda: view_box.viewRange() == [[0, 2], [0, 2]])
    px, py = (abs(v) for v in view_box.viewPixelSize())
    starts = sorted(
        (path.path().elementAt(i).x, path.path().elementAt(i).y) for i in (0, 2, 4, 6)
    )
    expected = sorted([(1, 1), (1, 1 + py), (1 + px, 1), (1 + px, 1 + py)])
    assert np.allclose(starts, expected, rtol=1e-9, atol=0)


def test_a_stamped_line_is_two_pixels_thick_as_a_stroked_one(canvas, qtbot):
    view_box = _view_box(canvas)
    stamped = _add(canvas, StampedPath(view_box, pg.mkPen(RED, width=2)))
    stamped.set_data([1.0, 9.0], [7.0, 7.0])
    stroked = _add(canvas, DataPath(view_box, pg.mkPen(RED, width=2)))
    stroked.set_data([1.0, 9.0], [3.0, 3.0])
    canvas.viewport().repaint()
    image = _rendered(canvas)
    column = int(view_box.mapViewToDevice(QPointF(5.0, 5.0)).x())
    rows = _red_rows(image, column)
    top = [r for r in rows if r < image.height() / 2]
    bottom = [r for r in rows if r >= image.height() / 2]
    assert len(top) == 2  # the stamped line, at b = 7
    assert len(bottom) == 2  # the stroked one, at b = 3
    assert top == list(range(top[0], top[0] + 2))


# ---------------------------------------------------------------- segments
def test_a_segment_draws_its_two_points(canvas):
    line = _add(canvas, SegmentPath(_view_box(canvas), pg.mkPen(RED, width=2)))
    line.set_data([0.0, 10.0], [2.0, 8.0])
    path = line.path()
    assert path.elementCount() == 2
    assert (path.elementAt(0).x, path.elementAt(0).y) == (0.0, 2.0)
    assert (path.elementAt(1).x, path.elementAt(1).y) == (10.0, 8.0)
    assert not line.boundingRect().isEmpty()


def test_a_segment_with_a_non_finite_end_draws_nothing_there(canvas):
    line = _add(canvas, SegmentPath(_view_box(canvas), pg.mkPen(RED, width=2)))
    line.set_data([0.0, 10.0], [2.0, np.inf])
    # Drawn as a DataPath draws it (broken at the non-finite point).
    reference = DataPath(_view_box(canvas), pg.mkPen(RED, width=2))
    reference.set_data([0.0, 10.0], [2.0, np.inf])
    assert line.path() == reference.path()
    line.set_data([0.0, 10.0], [2.0, 3.0])
    assert line.path().elementCount() == 2


# ------------------------------------------------------------------ chrome
def test_still_chrome_is_drawn_from_pixmaps(window):
    for view in (window.fit_view, window.surface_view):
        plot = view.getPlotItem()
        assert plot.titleLabel.cacheMode() == CACHED
        for name in ("left", "bottom"):
            assert plot.getAxis(name).cacheMode() == CACHED
            assert plot.getAxis(name).label.cacheMode() == CACHED
    loss = window.loss_view.getPlotItem()
    assert loss.getAxis("left").label.cacheMode() == CACHED
    assert window.surface_view._colour_bar.cacheMode() == CACHED


# ------------------------------------------------------------------- rows
def test_thinned_indices_are_shared_and_read_only():
    first = display_indices(100_000, 600)
    again = display_indices(100_000, 600)
    assert again is first  # eight racing runs of one length: computed once
    assert not first.flags.writeable
    assert first[0] == 0
    assert first[-1] == 100_000 - 1
    assert np.all(np.diff(first) > 0)
    assert display_indices(100_001, 600)[-1] == 100_000


# --------------------------------------------------------------- readouts
class _StyleChanges(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.StyleChange:
            self.count += 1
        return False


def test_readouts_restyle_only_when_the_colour_changes(window):
    readouts = window.readouts
    label = readouts.status_label
    changes = _StyleChanges()
    label.installEventFilter(changes)
    readouts.show_status("running")
    first = changes.count
    readouts.show_status("running", "step 10")
    readouts.show_status("running", "step 20")
    assert changes.count == first  # same colour: no re-polish, no relayout
    readouts.show_status("diverged")
    assert changes.count > first
    assert "#b3261e" in label.styleSheet()
    label.removeEventFilter(changes)
