"""``draw_now``: the window paints a changed plot before it tells the trainer
that the frame is shown (``gui.frame_sync``)."""

from __future__ import annotations

import numpy as np
from paint_regions import PaintRegions
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from sgd_viewer.gui.frame_sync import draw_now


def _settled_surface(window, qtbot) -> PaintRegions:
    """Start from a window with nothing left to paint (``draw_now`` paints
    nothing on the surface plot), recording the surface's paints from then on."""
    recorder = PaintRegions()
    window.surface_view.viewport().installEventFilter(recorder)

    def settled() -> bool:
        QApplication.processEvents()
        window.repaint()
        recorder.regions.clear()
        draw_now(window, window._plot_scenes)
        return not recorder.regions

    qtbot.waitUntil(settled)
    return recorder


def _path_inside_the_view(window) -> tuple[np.ndarray, np.ndarray]:
    view = window.surface_view.visible_window()
    a = np.linspace(view.a_min, view.a_max, 7)[1:-1]
    b = np.linspace(view.b_min, view.b_max, 7)[1:-1][::-1]
    return a, b


def test_draw_now_paints_the_changed_path_before_returning(window, qtbot):
    """The trainer is told a frame is shown right after ``draw_now``: by then
    the surface plot must have painted the new path, not merely scheduled it."""
    recorder = _settled_surface(window, qtbot)
    surface = window.surface_view
    a, b = _path_inside_the_view(window)
    surface.set_path(a, b)
    assert not recorder.regions  # Qt draws lazily: nothing painted yet
    draw_now(window, window._plot_scenes)
    assert recorder.regions, "draw_now returned before the surface was painted"
    # What was painted covers the new path.
    painted = recorder.regions[0]
    for region in recorder.regions[1:]:
        painted = painted.united(region)
    for x, y in zip(a, b, strict=True):
        point = surface.mapFromScene(surface.scene_position(x, y))
        assert painted.contains(QRect(point.x(), point.y(), 1, 1))


def test_draw_now_on_a_hidden_window_draws_nothing(window, qtbot):
    """A minimised or hidden window has no frame to show: ``draw_now`` returns
    at once without painting (the worker's wait then times out on its own)."""
    recorder = _settled_surface(window, qtbot)
    window.hide()
    window.surface_view.set_path(*_path_inside_the_view(window))
    draw_now(window, window._plot_scenes)
    assert not recorder.regions
    assert not window.isVisible()


def test_draw_now_also_paints_other_pending_widgets(window, qtbot):
    """Readouts and the status bar change with the steps too: ``draw_now``
    paints what is pending in the rest of the window, not only the plots."""
    status_bar = window.statusBar()
    recorder = PaintRegions()
    status_bar.installEventFilter(recorder)
    _settled_surface(window, qtbot)
    recorder.regions.clear()
    status_bar.showMessage("step 1,234")
    assert not recorder.regions
    draw_now(window, window._plot_scenes)
    assert recorder.regions
