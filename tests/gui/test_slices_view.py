"""The slices view (``gui.slices_view``): L(a) at the current b and L(b) at
the current a, checked against the closed form computed from the data."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor, QImage

from sgd_viewer.core.data import generate
from sgd_viewer.core.problem import Problem
from sgd_viewer.gui.slices_view import CURVE_COLOUR, TANGENT_SHARE, SlicesView

DATA = generate()
PROBLEM = Problem.from_data(DATA.x, DATA.y)
POINTS = [
    pytest.param((-1.0, 1.0), id="start"),
    pytest.param((PROBLEM.a_opt + 0.01, PROBLEM.b_opt - 0.02), id="near-optimum"),
    pytest.param((40.0, -30.0), id="far"),
]


@pytest.fixture
def view(qtbot):
    """A shown 600×250 slices view of the lesson's data, mean loss."""
    view = SlicesView()
    qtbot.addWidget(view)
    view.resize(600, 250)
    view.show()
    qtbot.waitExposed(view)
    view.set_problem(PROBLEM, "mean")
    return view


def _loss(a: float, b: float) -> float:
    """The mean squared error straight from the data."""
    return float(np.mean((a * DATA.x + b - DATA.y) ** 2))


def _vertex(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """The curve's loss at its vertex ``at`` (which must be one of them)."""
    hits = np.flatnonzero(x == at)
    assert hits.size >= 1, f"no vertex at {at}"
    return float(y[hits[0]])


def _x_range(view: SlicesView, index: int) -> list[float]:
    return view.plots()[index].getPlotItem().getViewBox().viewRange()[0]


@pytest.mark.parametrize("point", POINTS)
def test_slopes_and_drawn_tangents_are_the_gradient(view, point):
    """The labelled slopes are ∂L/∂a and ∂L/∂b, and so are the slopes of the
    drawn tangent segments."""
    view.set_point(*point)
    expected = PROBLEM.gradient(*point, "mean")
    assert view.slopes == pytest.approx(expected, rel=1e-9)
    assert view.tangent_slopes() == pytest.approx(expected, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("point", POINTS)
def test_curves_go_through_the_point_and_bottom_out_at_the_1d_minimum(view, point):
    """Each slice is the exact loss: it passes through L(a, b), and its lowest
    vertex is the one-parameter minimiser of the closed form."""
    a, b = point
    view.set_point(a, b)
    (a_x, a_loss), (b_x, b_loss) = view.slice_curves()
    assert a_x.size >= 200
    assert b_x.size >= 200
    assert _vertex(a_x, a_loss, a) == pytest.approx(_loss(a, b), rel=1e-9)
    assert _vertex(b_x, b_loss, b) == pytest.approx(_loss(a, b), rel=1e-9)
    a_best = float(np.sum(DATA.x * (DATA.y - b)) / np.sum(DATA.x**2))
    b_best = float(np.mean(DATA.y - a * DATA.x))
    slices = (view._a_slice, view._b_slice)
    for piece, x, loss, at, best, fixed in (
        (slices[0], a_x, a_loss, a, a_best, lambda t: _loss(t, b)),
        (slices[1], b_x, b_loss, b, b_best, lambda t: _loss(a, t)),
    ):
        # The dashed line and the marker stand where they should.
        assert piece.minimum.isVisible()
        assert piece.minimum.pos().x() == pytest.approx(best, rel=1e-9, abs=1e-12)
        assert piece.marker.pos().x() == at
        assert piece.marker.pos().y() == pytest.approx(_loss(a, b), rel=1e-9)
        step = (x[-1] - x[0]) / 199
        assert abs(x[np.argmin(loss)] - best) <= step
        nearest = x[np.argmin(np.abs(x - best))]
        assert nearest == pytest.approx(best, rel=1e-9, abs=1e-12)
        assert float(np.min(loss)) == pytest.approx(fixed(best), rel=1e-9)
        # The point and the minimum are both in view with room to spare.
        assert x[0] < min(best, at) <= max(best, at) < x[-1]


@pytest.mark.parametrize("point", POINTS)
def test_labels_show_the_slopes_to_four_digits(view, point):
    view.set_point(*point)
    slope_a, slope_b = PROBLEM.gradient(*point, "mean")
    label_a, label_b = view.label_texts()
    assert label_a == f"slope ∂L/∂a = {slope_a:.4g}"
    assert label_b == f"slope ∂L/∂b = {slope_b:.4g}"


def test_tangent_is_a_fixed_share_of_the_range_centred_on_the_point(view):
    view.set_point(-1.0, 1.0)
    a_slice, b_slice = view._a_slice, view._b_slice
    for piece, at, index in ((a_slice, -1.0, 0), (b_slice, 1.0, 1)):
        x = piece.tangent.xData
        low, high = _x_range(view, index)
        assert x[1] - x[0] == pytest.approx(TANGENT_SHARE * (high - low))
        assert (x[0] + x[1]) / 2 == pytest.approx(at)


def test_axes_and_names(view):
    assert view.objectName() == "slicesView"
    assert view.accessibleName() == "slicesView"
    a_plot, b_plot = view.plots()
    assert (a_plot.objectName(), b_plot.objectName()) == ("sliceAPlot", "sliceBPlot")
    for plot, label in ((a_plot, "a (slope)"), (b_plot, "b (intercept)")):
        item = plot.getPlotItem()
        assert item.getAxis("bottom").labelText == label
        assert item.getAxis("left").labelText == "loss"


def test_set_point_before_set_problem_does_nothing(qtbot):
    view = SlicesView()
    qtbot.addWidget(view)
    view.set_point(1.0, 2.0)
    assert all(math.isnan(s) for s in view.slopes)
    assert all(x.size == 0 for x, _ in view.slice_curves())
    assert all("not finite" in text for text in view.label_texts())


@pytest.mark.parametrize(
    "point",
    [(math.nan, 1.0), (1.0, math.inf), (-math.inf, math.nan), (1e200, 1e200)],
)
def test_non_finite_points_hide_the_slices_and_a_finite_one_shows_them(view, point):
    """Nothing raises or warns (warnings are errors here); the slices come
    back at the next finite point."""
    view.set_point(-1.0, 1.0)
    view.set_point(*point)
    assert all(math.isnan(s) for s in view.slopes)
    assert all(math.isnan(s) for s in view.tangent_slopes())
    assert all(x.size == 0 for x, _ in view.slice_curves())
    assert all("not finite" in text for text in view.label_texts())
    assert not view._a_slice.marker.isVisible()
    view.set_point(2.0, 3.0)
    assert view.slopes == pytest.approx(PROBLEM.gradient(2.0, 3.0), rel=1e-9)
    assert view._a_slice.marker.isVisible()


def test_sum_reduction_scales_the_slices_by_n(view):
    view.set_point(-1.0, 1.0)
    mean_curves, mean_slopes = view.slice_curves(), view.slopes
    view.set_problem(PROBLEM, "sum")  # redraws at the last point
    sum_curves = view.slice_curves()
    assert view.slopes == pytest.approx(np.multiply(mean_slopes, DATA.n), rel=1e-9)
    for (mean_x, mean_loss), (sum_x, sum_loss) in zip(
        mean_curves, sum_curves, strict=True
    ):
        np.testing.assert_allclose(sum_x, mean_x, rtol=1e-12)
        np.testing.assert_allclose(sum_loss, DATA.n * mean_loss, rtol=1e-9)


def test_unknown_reduction_is_refused(view):
    with pytest.raises(ValueError, match="reduction"):
        view.set_problem(PROBLEM, "median")


def test_small_steps_keep_the_range_and_leaving_it_recentres(view):
    """Per-frame moves leave the axes alone; a point outside re-centres."""
    view.set_point(-1.0, 1.0)
    ranges = [_x_range(view, 0), _x_range(view, 1)]
    for step in range(1, 20):
        view.set_point(-1.0 + 0.05 * step, 1.0 + 0.05 * step)
        assert [_x_range(view, 0), _x_range(view, 1)] == ranges
    view.set_point(200.0, 1.0)
    low, high = _x_range(view, 0)
    assert (low + high) / 2 == pytest.approx(200.0)


def test_a_converged_point_zooms_in(view):
    """A run that converged from afar is not left as a flat line."""
    view.set_point(40.0, -30.0)
    far_width = np.diff(_x_range(view, 0))[0]
    view.set_point(PROBLEM.a_opt, PROBLEM.b_opt)
    assert np.diff(_x_range(view, 0))[0] < far_width / 8
    assert view.slopes == pytest.approx((0.0, 0.0), abs=1e-9)


def test_colour_follows_the_run(view):
    view.set_point(-1.0, 1.0, colour="#2ca02c")
    assert view._a_slice.marker.brush().color() == QColor("#2ca02c")
    assert view._b_slice.tangent.pen().color() == QColor("#2ca02c")


@pytest.fixture
def white_plots():
    """The application's plot colours (``gui.app``), restored afterwards."""
    saved = {key: pg.getConfigOption(key) for key in ("background", "foreground")}
    pg.setConfigOptions(background="w", foreground="k")
    yield
    pg.setConfigOptions(**saved)


@pytest.mark.usefixtures("white_plots")
def test_renders_both_slices(qtbot, tmp_path):
    view = SlicesView()
    qtbot.addWidget(view)
    view.resize(600, 250)
    view.show()
    qtbot.waitExposed(view)
    view.set_problem(PROBLEM, "mean")
    view.set_point(-1.0, 1.0)
    path = tmp_path / "slices.png"
    assert view.grab().save(str(path))
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGBA8888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(
        image.height(), image.bytesPerLine()
    )
    rgb = rows[:, : 4 * image.width()].reshape(image.height(), -1, 4)[..., :3]
    rgb = rgb.astype(int)
    assert (rgb < 250).any()
    blue = QColor(CURVE_COLOUR)
    is_curve = np.abs(rgb - [blue.red(), blue.green(), blue.blue()]).sum(axis=-1) < 30
    half = rgb.shape[1] // 2
    assert is_curve[:, :half].sum() > 100  # each plot draws its parabola
    assert is_curve[:, half:].sum() > 100
