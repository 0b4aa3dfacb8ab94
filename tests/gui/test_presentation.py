"""Presentation mode: the toolbar for the side panel, plots 1.6× larger and
back exactly, the toolbar's commands, F11/Escape, and ``--presentation``."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QApplication, QToolBar

FACTOR = 1.6


def _points(font: QFont | None, canvas) -> float:
    return (font or canvas.font()).pointSizeF()


def _sizes(window) -> dict:
    """Representative text, line and marker sizes of the plots."""
    fit, surface, loss = window.fit_view, window.surface_view, window.loss_view
    axis = fit.getPlotItem().getAxis("bottom")
    return {
        "tick_pt": _points(axis.style["tickFont"], fit),
        "axis_label_pt": axis.label.font().pointSizeF(),
        "title": surface.getPlotItem().titleLabel.opts.get("size"),
        "loss_title": loss.getPlotItem().titleLabel.opts.get("size"),
        "legend": fit.getPlotItem().legend.items[0][1].opts.get("size"),
        "fit_line": fit._line.pen().widthF(),
        "path": surface._path.pen().widthF(),
        "loss_curve": loss._curve.pen().widthF(),
        "scatter": fit._scatter.opts["size"],
        "current": surface._current.scale(),
        "start": surface._start.scale,
        "optimum": surface._optimum.opts["size"],
    }


def _pt(size: str) -> float:
    return float(size.removesuffix("pt"))


@pytest.fixture
def presenting(window, qtbot):
    window.presentation.enter(fullscreen=False)
    yield window
    window.presentation.leave()


def test_entering_swaps_the_side_panel_for_the_toolbar(window):
    toolbar = window.findChild(QToolBar, "presentationToolbar")
    action = window.findChild(type(window.side_panel_action), "presentationAction")
    assert not toolbar.isVisible()
    assert window.side_panel.isVisible()
    window.presentation.enter(fullscreen=False)
    assert window.presentation.active
    assert action.isChecked()
    assert toolbar.isVisible()
    assert not window.side_panel.isVisible()
    assert toolbar.font().pointSizeF() >= FACTOR * window.font().pointSizeF()
    window.presentation.leave()
    assert not window.presentation.active
    assert not action.isChecked()
    assert not toolbar.isVisible()
    assert window.side_panel.isVisible()


def test_text_lines_and_markers_grow_and_come_back_exactly(window, qtbot):
    before = _sizes(window)
    splitters = [s.sizes() for s in window.splitters]
    window.presentation.enter(fullscreen=False)
    during = _sizes(window)
    for key in ("tick_pt", "axis_label_pt", "fit_line", "path", "loss_curve"):
        assert during[key] >= FACTOR * before[key] - 1e-9, key
    for key in ("scatter", "current", "start", "optimum"):
        assert during[key] >= FACTOR * before[key] - 1e-9, key
    for key in ("title", "loss_title", "legend"):
        assert _pt(during[key]) >= FACTOR * _pt(before[key]) - 1e-9, key
    window.presentation.leave()
    assert _sizes(window) == before
    assert [s.sizes() for s in window.splitters] == splitters


def test_a_pen_a_view_replaces_while_presenting_is_scaled_too(presenting, qtbot):
    window = presenting
    width = window.surface_view._path.pen().widthF()
    window.add_run("adam:lr=0.1")  # selected: the path takes its colour
    window.surface_view.viewport().update()
    qtbot.waitUntil(
        lambda: (
            window.surface_view._path.pen().widthF() == pytest.approx(width)
            and window.surface_view._path.pen().color().name()
            == window.session.run.colour
        )
    )
    window.presentation.leave()
    assert window.surface_view._path.pen().widthF() == pytest.approx(width / FACTOR)


def test_toolbar_steps_runs_and_pauses(presenting, qtbot):
    window = presenting
    toolbar = window.presentation.toolbar
    toolbar.step_button.click()
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] >= 1)
    toolbar.run_button.click()
    qtbot.waitUntil(lambda: window.snapshot()["running"])
    assert toolbar.run_button.text() == "Pause"
    toolbar.run_button.click()
    qtbot.waitUntil(lambda: not window.snapshot()["running"])
    assert toolbar.run_button.text() == "Run"
    assert not toolbar.run_button.isChecked()


def test_toolbar_lr_applies_mid_run_and_follows_changes(presenting, qtbot):
    window = presenting
    box = window.presentation.toolbar.lr_spin
    window.run()
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] >= 5)
    box.setValue(0.05)
    assert window.snapshot()["running"]  # applied without a restart
    assert window.session.run.config.lr == pytest.approx(0.05)
    assert window.controls.lr_spin.value() == pytest.approx(0.05)
    qtbot.waitUntil(lambda: window.snapshot()["lr_now"] == pytest.approx(0.05))
    window.pause()
    window.controls.lr_spin.setValue(0.02)  # the side panel's box
    assert box.value() == pytest.approx(0.02)
    window.add_run("sgd:lr=0.3")
    assert box.value() == pytest.approx(0.3)


def test_f11_toggles_and_escape_leaves(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    geometry = window.geometry()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.presentation.active
    assert window.isFullScreen()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presentation.active
    qtbot.waitUntil(lambda: window.geometry() == geometry)
    assert not window.isFullScreen()
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Escape never enters it
    assert not window.presentation.active
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.presentation.active


class _FakeLesson(QObject):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.pages_turned = 0
        self.hidden = False

    def isHidden(self) -> bool:
        return self.hidden

    def next_page(self) -> None:
        self.pages_turned += 1


def test_next_follows_the_open_lesson(presenting, qtbot, monkeypatch):
    window = presenting
    toolbar = window.presentation.toolbar
    monkeypatch.setattr(window, "lesson_panel", None, raising=False)
    toolbar.follow()
    assert not toolbar.next_button.isVisible()
    assert not toolbar.next_button.isEnabled()
    lesson = _FakeLesson()
    monkeypatch.setattr(window, "lesson_panel", lesson, raising=False)
    toolbar.follow()
    # The toolbar lays out a shown action's widget at its next layout pass.
    qtbot.waitUntil(toolbar.next_button.isVisible)
    assert toolbar.next_button.isEnabled()
    toolbar.next_button.click()
    assert lesson.pages_turned == 1
    lesson.hidden = True
    lesson.changed.emit()  # followed from the first follow() on
    qtbot.waitUntil(lambda: not toolbar.next_button.isVisible())
    assert not toolbar.next_button.isEnabled()


def test_presentation_screenshot_at_the_requested_size(tmp_path, qtbot):
    from sgd_viewer.cli import main

    path = tmp_path / "presenting.png"
    shot = ["--screenshot", str(path), "--size", "1280x720", "--steps", "5"]
    code = main(["--presentation", "--fresh", *shot])
    assert code == 0
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1280, 720)
