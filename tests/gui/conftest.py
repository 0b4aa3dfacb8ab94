"""Fixtures for window tests: a ready window and deterministic mouse drags."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from sgd_viewer.gui import create_main_window

# Every mouse move must reach pyqtgraph, and a drag may start at once.
pg.setConfigOption("mouseRateLimit", -1)


@pytest.fixture
def make_window(qtbot):
    """Build, show and wait for a window whose engine has loaded."""

    def make(**options):
        window = create_main_window(**options)
        qtbot.addWidget(window)
        window.resize(1300, 850)
        window.show()
        qtbot.waitUntil(lambda: window.snapshot()["ready"], timeout=60_000)
        window.surface_view.scene().minDragTime = 0
        return window

    return make


@pytest.fixture
def window(make_window):
    """The default window: the lesson's data, SGD lr 0.01, start (-1, 1)."""
    return make_window()


def viewport_point(plot_widget, a: float, b: float) -> QPoint:
    """Widget coordinates, in the plot's viewport, of the data point (a, b)."""
    scene_pos = plot_widget.getPlotItem().getViewBox().mapViewToScene(QPointF(a, b))
    return plot_widget.mapFromScene(scene_pos)


def send_mouse(widget, kind: QEvent.Type, pos: QPoint, buttons) -> None:
    button = (
        Qt.MouseButton.LeftButton
        if kind != QEvent.Type.MouseMove
        else Qt.MouseButton.NoButton
    )
    global_pos = QPointF(widget.mapToGlobal(pos))
    event = QMouseEvent(
        kind, QPointF(pos), global_pos, button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def press(plot_widget, a: float, b: float) -> None:
    pos = viewport_point(plot_widget, a, b)
    send_mouse(
        plot_widget.viewport(),
        QEvent.Type.MouseButtonPress,
        pos,
        Qt.MouseButton.LeftButton,
    )


def move(plot_widget, a: float, b: float) -> None:
    """Move with the left button held (a drag in progress)."""
    pos = viewport_point(plot_widget, a, b)
    send_mouse(
        plot_widget.viewport(), QEvent.Type.MouseMove, pos, Qt.MouseButton.LeftButton
    )


def release(plot_widget, a: float, b: float) -> None:
    pos = viewport_point(plot_widget, a, b)
    send_mouse(
        plot_widget.viewport(),
        QEvent.Type.MouseButtonRelease,
        pos,
        Qt.MouseButton.NoButton,
    )


def drag(plot_widget, start: tuple[float, float], path: list[tuple[float, float]]):
    """Press at ``start`` (data coordinates), move through ``path``, release."""
    press(plot_widget, *start)
    for a, b in path:
        move(plot_widget, a, b)
    release(plot_widget, *path[-1])


def click(plot_widget, a: float, b: float) -> None:
    press(plot_widget, a, b)
    release(plot_widget, a, b)


class _Mouse:
    """Deterministic mouse gestures on a plot, in data coordinates."""

    press = staticmethod(press)
    move = staticmethod(move)
    release = staticmethod(release)
    drag = staticmethod(drag)
    click = staticmethod(click)
    point = staticmethod(viewport_point)


@pytest.fixture
def mouse():
    return _Mouse()
