"""What matters stays in sight: the fit view frames every line, the surface
keeps the start, the optimum and the current points, legends lie outside the
plot areas, the plots fit their widgets at projector sizes, and the downhill
arrow shrinks with the step."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QWidget


def _settled(window, qtbot):
    """Finish eased framings now (they glide over a few frames otherwise)."""
    window.settle_views()
    return window.snapshot()


def _y_range(view):
    return view.getPlotItem().getViewBox().viewRange()[1]


def _in_surface_view(window, a: float, b: float) -> bool:
    (a0, a1), (b0, b1) = window.surface_view.getPlotItem().getViewBox().viewRange()
    return a0 <= a <= a1 and b0 <= b <= b1


def _run_steps(window, qtbot, count: int) -> None:
    target = window.snapshot()["latest_step"] + count
    window.step(count)
    qtbot.waitUntil(
        lambda: (
            window.snapshot()["latest_step"] >= target
            or window.snapshot()["status"] == "diverged"
        ),
        timeout=20_000,
    )


# ----------------------------------------------------------------- fit view
def test_at_launch_the_line_from_the_start_is_in_the_fit_view(window, qtbot):
    snap = _settled(window, qtbot)
    a, b = snap["a"], snap["b"]
    assert (a, b) == (-1.0, 1.0)
    x = window.session.data.x
    low, high = _y_range(window.fit_view)
    for end in (x.min(), x.max()):
        assert low <= a * end + b <= high
    # ... and the data too.
    y = window.session.data.y
    assert low <= y.min()
    assert y.max() <= high
    assert window.fit_view.edge_markers == []


def test_fit_view_shrinks_back_once_the_line_reaches_the_data(window, qtbot):
    _settled(window, qtbot)
    grown = np.ptp(_y_range(window.fit_view))
    _run_steps(window, qtbot, 400)
    window.settle_views()
    y = window.session.data.y
    low, high = _y_range(window.fit_view)
    assert high - low < grown
    assert low <= y.min()
    assert y.max() <= high


def test_a_line_beyond_ten_data_spans_is_clipped_and_marked(window, qtbot):
    window.set_start(0.0, 5_000.0)
    _settled(window, qtbot)
    _reach_low, reach_high = window.fit_view.line_reach()
    _low, high = _y_range(window.fit_view)
    assert high <= reach_high * 1.07 + 1  # grew no further than its reach
    markers = window.fit_view.edge_markers
    assert len(markers) == 1
    assert "a = 0" in markers[0]
    assert "b = 5000" in markers[0]
    assert markers[0].startswith("↑")


def test_other_runs_lines_are_framed_too(window, qtbot):
    window.add_run("sgd:lr=0.001")
    window.select_run(0)
    _run_steps(window, qtbot, 5)
    window.settle_views()
    low, high = _y_range(window.fit_view)
    x = window.session.data.x
    for row in window.snapshot()["runs"]:
        for end in (x.min(), x.max()):
            assert low <= row["a"] * end + row["b"] <= high


# ------------------------------------------------------------- the surface
def test_a_far_start_stays_in_the_surface_view(window, qtbot):
    window.set_start(40.0, -30.0)
    _run_steps(window, qtbot, 3)
    snap = _settled(window, qtbot)
    assert _in_surface_view(window, *snap["start"])
    assert _in_surface_view(window, snap["a"], snap["b"])
    problem = window.session.problem
    assert _in_surface_view(window, problem.a_opt, problem.b_opt)


def test_every_current_point_stays_in_view_at_a_high_lr(window, qtbot):
    window.add_run("momentum:lr=0.5,momentum=0.9")
    window.add_run("adam:lr=3")
    _run_steps(window, qtbot, 25)
    window.settle_views()
    for row in window.snapshot()["runs"]:
        assert _in_surface_view(window, row["a"], row["b"]), row["label"]


def test_a_zoom_by_hand_stops_following_until_frame(window, qtbot):
    view_box = window.surface_view.getPlotItem().getViewBox()
    view_box.scaleBy((0.2, 0.2))  # what the mouse wheel does
    view_box.sigRangeChangedManually.emit(view_box.state["mouseEnabled"])
    assert not window.surface_view.framing.auto
    zoomed = view_box.viewRange()
    window.set_start(40.0, -30.0)
    _run_steps(window, qtbot, 2)
    window.settle_views()
    assert view_box.viewRange() == zoomed  # the user's view is kept
    window.findChild(QWidget, "frameButton").click()
    window.settle_views()
    assert window.surface_view.framing.auto
    snap = window.snapshot()
    problem = window.session.problem
    for a, b in (snap["start"], (snap["a"], snap["b"]), (problem.a_opt, problem.b_opt)):
        assert _in_surface_view(window, a, b)


def test_frame_takes_in_every_path_vertex(window, qtbot):
    window.add_run("momentum:lr=0.5,momentum=0.9")
    _run_steps(window, qtbot, 30)
    window.frame_views()
    window.settle_views()
    for run in window.session.runs:
        history = run.history
        a, b = (
            history.take("a", history.display_indices(1500)),
            history.take("b", history.display_indices(1500)),
        )
        for x, y in zip(a, b, strict=True):
            assert _in_surface_view(window, x, y)


# ---------------------------------------------------------------- legends
@pytest.mark.parametrize("view_name", ["fit_view", "surface_view", "loss_view"])
def test_legends_lie_outside_the_plot_area(window, qtbot, view_name):
    window.add_run("adam:lr=0.1")
    _run_steps(window, qtbot, 20)
    window.settle_views()
    plot = getattr(window, view_name).getPlotItem()
    legend = plot.legend
    assert legend.items  # it has entries
    view_rect = plot.getViewBox().sceneBoundingRect()
    legend_rect = legend.sceneBoundingRect()
    assert not legend_rect.intersects(view_rect)
    # ... and inside the widget, not cut off.
    widget_rect = getattr(window, view_name).sceneRect()
    assert widget_rect.contains(legend_rect)


def test_level_labels_keep_clear_of_the_start_handle(window, qtbot):
    view = window.surface_view
    start = view.start_position
    handle = view.scene_position(*start)
    # A start on a labelled ring's top would put its label on the handle.
    window.set_start(start[0], start[1])
    view.settle()
    for label in view.level_labels.labels:
        centre = label.sceneBoundingRect().center()
        assert math.hypot(centre.x() - handle.x(), centre.y() - handle.y()) > 20


# ---------------------------------------------------------------- sizes
@pytest.mark.parametrize("size", [(1024, 700), (1024, 768), (1280, 720), (1920, 1080)])
def test_every_plot_fits_its_widget(window, qtbot, size):
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() == size[0], timeout=5_000)
    window.settle_views()
    for view in window.plot_views[:3]:
        plot = view.getPlotItem()
        assert plot.sceneBoundingRect().width() <= view.viewport().width() + 1, (
            view.objectName()
        )
        legend = plot.legend
        assert legend.sceneBoundingRect().right() <= view.viewport().width() + 1
    key = window.findChild(QWidget, "keyReadout")
    assert key.isVisible()
    corner = key.mapTo(window, key.rect().bottomRight())
    assert corner.x() <= window.width()
    assert corner.y() <= window.height()
    snap = window.snapshot()
    assert f"{snap['a']:.5g}" in key.text()
    assert f"{snap['loss']:.5g}" in key.text()


def test_the_surface_keeps_its_share_at_1024(window, qtbot):
    """Nothing under the data plot is so wide that it squeezes the loss
    surface beside it: at 1024×768 the surface gets at least its 6:5 share
    of the row (the edit-data how-to wraps instead of widening the panel)."""
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=5_000)
    window.settle_views()
    fit_panel = window.data_edit_bar.parentWidget()
    surface = window.surface_view
    assert surface.width() >= fit_panel.width()
    how_to = window.data_edit_bar.how_to
    assert how_to.isVisible()
    assert how_to.geometry().right() <= window.data_edit_bar.width()


def test_clicking_the_edit_data_how_to_toggles_its_box(window, qtbot):
    """The how-to beside the box is its text: a click on it ticks the box."""
    bar = window.data_edit_bar
    assert not bar.check.isChecked()
    qtbot.mouseClick(bar.how_to, Qt.MouseButton.LeftButton)
    assert bar.check.isChecked()
    qtbot.mouseClick(bar.how_to, Qt.MouseButton.LeftButton)
    assert not bar.check.isChecked()


def test_titles_elide_with_the_full_text_in_a_tooltip(window, qtbot):
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=5_000)
    plot = window.fit_view.getPlotItem()
    assert window.fit_view.title.startswith("generated (n=50")
    shown = plot.titleLabel.text
    assert shown.endswith("…") or shown == window.fit_view.title
    assert plot.titleLabel.minimumWidth() == 0


# ---------------------------------------------------------------- arrow
def test_the_arrow_shrinks_with_the_step_and_vanishes_at_the_optimum(window, qtbot):
    view = window.surface_view
    window.settle_views()
    first = view.arrow_length_px
    first_step = view.arrow_step
    assert first > 0
    _run_steps(window, qtbot, 120)
    window.settle_views()
    assert view.arrow_step < first_step
    assert view.arrow_length_px <= first
    problem = window.session.problem
    window.set_start(problem.a_opt, problem.b_opt)
    window.settle_views()
    assert view.arrow_length_px == 0.0
    assert not view._arrow.isVisible()


def test_the_arrow_is_the_gradient_step_in_pixels_between_its_bounds(window, qtbot):
    from sgd_viewer.gui.surface_view import ARROW_MAX_SHARE, ARROW_MIN_PX

    view = window.surface_view
    window.settle_views()
    a, b = view.current
    grad = window.session.problem.gradient(a, b, "mean")
    pixel_a, pixel_b = view.getPlotItem().getViewBox().viewPixelSize()
    step_px = math.hypot(0.01 * grad[0] / pixel_a, 0.01 * grad[1] / pixel_b)
    width = view.getPlotItem().getViewBox().width()
    height = view.getPlotItem().getViewBox().height()
    expected = min(max(step_px, ARROW_MIN_PX), ARROW_MAX_SHARE * min(width, height))
    assert view.arrow_length_px == pytest.approx(expected, rel=1e-6)
    # It points downhill.
    tip = view._arrow.mapToScene(view._arrow.path().pointAtPercent(0.5))
    origin = view.scene_position(a, b)
    towards = QPointF(tip - origin)
    down_a, down_b = -grad[0] / pixel_a, grad[1] / pixel_b
    assert towards.x() * down_a + towards.y() * down_b > 0
