"""The squared residuals drawn as squares (``gui.residual_squares``): their size
in data units, that they are square on screen at any zoom and size, and what a
diverged line or many points draw."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF

from sgd_viewer.gui.residual_squares import MAX_SQUARES, ResidualSquares

# Points on both sides of y = 4x + 3 (residuals 2, −1.5, 0.5, −3, 1).
X = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
A, B = 4.0, 3.0
Y = A * X + B + np.array([2.0, -1.5, 0.5, -3.0, 1.0])


@pytest.fixture
def plot(qtbot):
    """A shown 400×300 PlotWidget whose view spans x 0..1 and y 0..10."""
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    view_box = widget.getPlotItem().getViewBox()
    view_box.setRange(xRange=(0, 1), yRange=(0, 10), padding=0)
    qtbot.waitUntil(lambda: _shows(view_box, (0, 1), (0, 10)))
    return widget


def _shows(view_box, x_range, y_range) -> bool:
    """Whether the view box is laid out and its transform shows the ranges."""
    rect = view_box.rect()
    if rect.width() < 10 or rect.height() < 10:
        return False
    corner = view_box.mapToView(rect.bottomLeft())
    far = view_box.mapToView(rect.topRight())
    wanted = (x_range[0], y_range[0], x_range[1], y_range[1])
    return np.allclose((corner.x(), corner.y(), far.x(), far.y()), wanted)


def _squares_item(plot, **options) -> ResidualSquares:
    view_box = plot.getPlotItem().getViewBox()
    squares = ResidualSquares(view_box, **options)
    plot.getPlotItem().addItem(squares, ignoreBounds=True)
    return squares


def _screen_sides(view_box, squares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widths and heights of the squares in scene pixels, mapped by the view
    itself (not by the pixel size the item used)."""
    widths, heights = [], []
    for x0, y0, width, height in squares:
        corner = view_box.mapViewToScene(QPointF(x0, y0))
        far = view_box.mapViewToScene(QPointF(x0 + width, y0 + height))
        widths.append(abs(far.x() - corner.x()))
        heights.append(abs(far.y() - corner.y()))
    return np.array(widths), np.array(heights)


def test_squares_are_the_residuals_and_square_on_screen(plot):
    view_box = plot.getPlotItem().getViewBox()
    item = _squares_item(plot)
    item.set_data(X, Y, A, B)
    squares = item.squares()
    line = A * X + B
    np.testing.assert_allclose(squares[:, 0], X)  # from the point, rightwards
    np.testing.assert_allclose(squares[:, 1], np.minimum(Y, line))
    np.testing.assert_allclose(squares[:, 3], np.abs(Y - line))
    widths, heights = _screen_sides(view_box, squares)
    np.testing.assert_allclose(widths, heights, rtol=1e-6)
    # x spans 1 and y spans 10 on a wider than tall view: a square is much
    # narrower than tall in data units.
    assert np.all(squares[:, 2] < squares[:, 3] / 5)


def test_the_path_draws_each_square_once(plot):
    item = _squares_item(plot)
    item.set_data(X, Y, A, B)
    path = item.path()
    assert path.elementCount() == 5 * len(X)
    elements = [path.elementAt(i) for i in range(path.elementCount())]
    # Each square starts apart: no line joins one square to the next.
    assert [e.isMoveTo() for e in elements] == [True, False, False, False, False] * 5
    starts = elements[::5]
    for element, (x0, y0, _, _) in zip(starts, item.squares(), strict=True):
        assert (element.x, element.y) == pytest.approx((x0, y0))
    bounds = item.boundingRect()
    for x0, y0, width, height in item.squares():
        assert bounds.contains(QPointF(x0, y0))
        assert bounds.contains(QPointF(x0 + width, y0 + height))


def test_squares_stay_square_when_the_range_changes(plot, qtbot):
    view_box = plot.getPlotItem().getViewBox()
    item = _squares_item(plot)
    item.set_data(X, Y, A, B)
    before = item.squares()
    view_box.setRange(xRange=(0, 1), yRange=(0, 20), padding=0)
    # The view applies a new range when it next paints; the item follows.
    qtbot.waitUntil(lambda: _shows(view_box, (0, 1), (0, 20)))
    qtbot.waitUntil(lambda: not np.allclose(item.squares()[:, 2], before[:, 2]))
    after = item.squares()
    np.testing.assert_allclose(after[:, 3], before[:, 3])  # heights are data
    np.testing.assert_allclose(after[:, 2], before[:, 2] / 2, rtol=1e-6)
    widths, heights = _screen_sides(view_box, after)
    np.testing.assert_allclose(widths, heights, rtol=1e-6)


def test_squares_stay_square_when_the_view_is_resized(plot, qtbot):
    view_box = plot.getPlotItem().getViewBox()
    item = _squares_item(plot)
    item.set_data(X, Y, A, B)
    before = item.squares()
    plot.resize(300, 450)
    qtbot.waitUntil(lambda: not np.allclose(item.squares()[:, 2], before[:, 2]))
    widths, heights = _screen_sides(view_box, item.squares())
    np.testing.assert_allclose(widths, heights, rtol=1e-6)


def test_a_hidden_item_catches_up_when_shown(plot, qtbot):
    """Hidden, it skips the work; shown again, it draws for the current view."""
    view_box = plot.getPlotItem().getViewBox()
    item = _squares_item(plot)
    item.setVisible(False)
    item.set_data(X, Y, A, B)
    assert item.path().isEmpty()
    view_box.setRange(xRange=(0, 2), yRange=(0, 10), padding=0)
    qtbot.waitUntil(lambda: _shows(view_box, (0, 2), (0, 10)))
    item.setVisible(True)
    assert item.path().elementCount() == 5 * len(X)
    widths, heights = _screen_sides(view_box, item.squares())
    np.testing.assert_allclose(widths, heights, rtol=1e-6)


@pytest.mark.parametrize(
    ("a", "b"), [(math.nan, 0.0), (math.inf, 1.0), (1.0, -math.inf)]
)
def test_a_non_finite_line_draws_nothing(plot, a, b):
    item = _squares_item(plot)
    item.set_data(X, Y, A, B)
    item.set_data(X, Y, a, b)
    assert item.squares().shape == (0, 4)
    assert item.path().isEmpty()
    assert item.boundingRect().isEmpty()
    item.set_data(X, Y, A, B)  # and a finite line draws again
    assert item.squares().shape == (len(X), 4)


def test_points_with_a_nan_get_no_square(plot):
    item = _squares_item(plot)
    y = Y.copy()
    y[1] = np.nan
    item.set_data(X, y, A, B)
    np.testing.assert_array_equal(item.squares()[:, 0], np.delete(X, 1))


def test_ten_thousand_points(plot):
    """The fit view's most points: an evenly spaced subset gets squares, the
    same one from frame to frame; asked to, the item draws all of them."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 10_000)
    y = 4 * x + 3 + rng.normal(0, 1, 10_000)
    item = _squares_item(plot)
    item.set_data(x, y, 4.0, 3.0)
    first = item.squares()
    assert first.shape == (MAX_SQUARES, 4)
    assert set(first[:, 0]) <= set(x)
    item.set_data(x, y, 4.5, 2.0)
    np.testing.assert_array_equal(item.squares()[:, 0], first[:, 0])
    every = _squares_item(plot, max_squares=10_000)
    every.set_data(x, y, 4.0, 3.0)
    assert every.squares().shape == (10_000, 4)
    assert every.path().elementCount() == 50_000


def test_squares_take_no_mouse_and_have_no_shape(plot):
    item = _squares_item(plot)
    item.set_data(X, Y, A, B)
    assert item.shape().isEmpty()
    assert item.acceptedMouseButtons() == pg.QtCore.Qt.MouseButton.NoButton


def test_squares_show_in_the_rendered_plot(plot, tmp_path):
    """Rendered, the squares tint the plot in their colour, beside the points."""
    plot.setBackground("w")  # the application's
    item = _squares_item(plot, colour="#ff7f0e")
    plot.getPlotItem().addItem(pg.ScatterPlotItem(X, Y, size=7, brush="#1f77b4"))
    item.set_data(X, Y, A, B)
    image = plot.grab().toImage()
    image.save(str(tmp_path / "residual_squares.png"))
    tinted = 0
    for row in range(0, image.height(), 2):
        for column in range(0, image.width(), 2):
            colour = image.pixelColor(column, row)
            # Orange, however faint: far more red than blue. The points (blue)
            # and the axes (grey) are not.
            tinted += colour.red() - colour.blue() > 30
    # The squares' area is about 1,000 of the sampled pixels.
    assert tinted > 300
