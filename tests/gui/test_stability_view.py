"""The stability view (``gui.stability_view``): a click reports the map's
(lr, knob), the marker follows, the regions are named inside themselves and
never under the marker, and a sweep shows its curve with lr_max."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt

from sgd_viewer.core.data import generate
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.stability import OUTCOMES, REGIMES, analytic_map
from sgd_viewer.core.stability import optimizer_lr_range as lr_range
from sgd_viewer.core.stability_empirical import empirical_map
from sgd_viewer.gui.stability_view import StabilityView

DATA = generate()
PROBLEM = Problem.from_data(DATA.x, DATA.y)


@pytest.fixture
def view(qtbot):
    """A shown 640×480 view of the lesson's analytic heavy-ball map."""
    view = StabilityView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    view.set_map(analytic_map(PROBLEM, "mean"))
    return view


def _cell(result, x: float, y: float) -> tuple[int, int]:
    """The grid cell under the plot point ``(x, y)`` (x = log₁₀ lr)."""
    j = int(np.argmin(np.abs(np.log10(result.lr) - x)))
    i = int(np.argmin(np.abs(np.asarray(result.knob) - y)))
    return i, j


def _label_cells(view, result, label) -> set[int]:
    """The regime codes under the corners and the centre of ``label``."""
    view_box = view.getPlotItem().getViewBox()
    rect = label.sceneBoundingRect()
    codes = set()
    for corner in (
        rect.topLeft(),
        rect.topRight(),
        rect.bottomLeft(),
        rect.bottomRight(),
        rect.center(),
    ):
        point = view_box.mapSceneToView(corner)
        codes.add(int(result.regime[_cell(result, point.x(), point.y())]))
    return codes


def test_object_name_for_automation(view):
    assert view.objectName() == "stabilityView"


def test_a_click_emits_the_lr_and_momentum_there(view, qtbot, mouse):
    lr, momentum = 0.2, 0.6
    with qtbot.waitSignal(view.picked, timeout=2000) as blocker:
        mouse.click(view, *view.to_view(lr, momentum))
    picked_lr, picked_momentum = blocker.args
    # Within a pixel of the clicked point: 2.5 decades over ~500 pixels.
    assert picked_lr == pytest.approx(lr, rel=0.02)
    assert picked_momentum == pytest.approx(momentum, abs=0.01)
    assert view.marker_position == (picked_lr, picked_momentum)


def test_a_click_outside_the_map_emits_nothing(view, qtbot, mouse):
    corner = QPoint(4, 4)  # on the title, above the map
    with qtbot.assertNotEmitted(view.picked):
        for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
            mouse.send_mouse(view.viewport(), kind, corner, Qt.MouseButton.LeftButton)


def test_the_marker_moves_to_the_point_set(view):
    view_box = view.getPlotItem().getViewBox()
    for lr, momentum in ((0.05, 0.2), (0.5, 0.8)):
        view.set_marker(lr, momentum)
        x, y = view.to_view(lr, momentum)
        assert view._marker.isVisible()
        assert view._marker.pos().x() == pytest.approx(math.log10(lr))
        assert view._marker.pos().y() == pytest.approx(momentum)
        assert view_box.viewRect().contains(QPointF(x, y))
        assert view.marker_position == (lr, momentum)


def test_every_region_is_labelled_inside_itself(view):
    result = view._map
    assert set(view.region_labels) == set(REGIMES)
    for name, label in view.region_labels.items():
        assert label.isVisible(), name
        assert label.textItem.toPlainText() == name
        # The whole label lies on cells of its own regime.
        assert _label_cells(view, result, label) == {REGIMES.index(name)}, name


def test_a_label_moves_off_the_marker(view):
    label = view.region_labels["monotone"]
    view_box = view.getPlotItem().getViewBox()
    where = label.pos()
    lr, momentum = view.from_view(where.x(), where.y())
    view.set_marker(lr, momentum)
    marker_scene = view_box.mapViewToScene(QPointF(where.x(), where.y()))
    assert label.isVisible()
    assert label.pos() != where
    box = label.sceneBoundingRect().adjusted(-8, -8, 8, 8)  # the marker's size
    assert not box.contains(marker_scene)
    assert _label_cells(view, view._map, label) == {REGIMES.index("monotone")}


def test_the_stability_limit_is_drawn_at_rate_one(view):
    result = view._map
    _, stable_below = result.limits()
    x, y = view._stable_line.getData()
    np.testing.assert_allclose(x, np.log10(stable_below))
    np.testing.assert_allclose(y, result.momentum)
    # Just left of the line the map converges, just right it diverges.
    for k in (0, 100, 199):
        lr = 10.0 ** x[k]
        assert result.rate_at(lr * 0.99, y[k]) < 1.0 <= result.rate_at(lr * 1.01, y[k])


def test_an_empirical_map_names_its_outcomes(view):
    lrs = lr_range(PROBLEM, "momentum", "mean", 32)
    result = empirical_map(PROBLEM, "momentum", lrs, budget=300)
    view.set_map(result)
    assert set(view.region_labels) == set(OUTCOMES)
    shown = [name for name, label in view.region_labels.items() if label.isVisible()]
    assert "converged" in shown
    for name in shown:
        label = view.region_labels[name]
        assert _label_cells(view, result, label) == {OUTCOMES.index(name)}


def test_a_sweep_is_a_curve_with_lr_max(view, qtbot, mouse):
    lrs = lr_range(PROBLEM, "sgd", "mean", 24)
    result = empirical_map(PROBLEM, "sgd", lrs, budget=300)
    view.set_map(result)
    assert not view._image.isVisible()
    assert view._lr_max_line.isVisible()
    assert view._lr_max_line.value() == pytest.approx(math.log10(PROBLEM.lr_max()))
    x, y = view._curve.getData()
    converged = np.isfinite(result.steps)
    np.testing.assert_allclose(x, np.log10(lrs[converged]))
    np.testing.assert_allclose(10.0**y, result.steps[converged])
    assert view.region_labels == {}
    with qtbot.waitSignal(view.picked, timeout=2000) as blocker:
        mouse.click(view, math.log10(0.1), 1.5)
    picked_lr, knob = blocker.args
    assert picked_lr == pytest.approx(0.1, rel=0.02)
    assert math.isnan(knob)
    assert view._marker_line.isVisible()
    assert view._marker_line.value() == pytest.approx(math.log10(picked_lr))
