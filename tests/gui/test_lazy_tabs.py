"""The Slices and Stability tabs are built when first shown (``gui.lazy_tab``),
and then behave as if they had been built with the window: they show the
current point, and presentation mode scales them too."""

from __future__ import annotations

FACTOR = 1.6  # presentation mode's scale (test_presentation.py)


def _tick_points(canvas) -> float:
    axis = canvas.getPlotItem().getAxis("bottom")
    return (axis.style["tickFont"] or canvas.font()).pointSizeF()


def test_hidden_tabs_are_built_once_when_first_shown(window):
    assert not window.slices_tab.is_built
    assert not window.stability_tab.is_built
    built = []
    window.slices_tab.built.connect(built.append)
    window.curve_tabs.setCurrentWidget(window.slices_tab)
    assert window.slices_tab.is_built
    view = window.slices_tab.view()
    assert built == [view]
    assert view.isVisible()
    window.curve_tabs.setCurrentIndex(0)
    window.curve_tabs.setCurrentWidget(window.slices_tab)
    assert built == [view]  # shown again, not built again
    assert not window.stability_tab.is_built


def test_slices_built_after_steps_show_the_current_point(window, qtbot):
    window.step(20)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 20)
    window.curve_tabs.setCurrentWidget(window.slices_tab)
    snap = window.snapshot()
    assert window.slices_view._point == (snap["a"], snap["b"])


def test_a_tab_built_while_presenting_is_scaled_and_comes_back(window):
    view_font = window.loss_view.font().pointSizeF()
    window.presentation.enter(fullscreen=False)
    window.curve_tabs.setCurrentWidget(window.stability_tab)
    stability = window.stability_tab.view()
    assert _tick_points(stability) >= FACTOR * view_font - 1e-9
    assert _tick_points(stability) == _tick_points(window.loss_view)
    window.presentation.leave()
    assert _tick_points(stability) == view_font
