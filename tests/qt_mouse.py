"""Deterministic mouse gestures on pyqtgraph plots, in data coordinates.

QMouseEvents go straight to the plot's viewport at the position mapped from
(a, b), so drags and clicks land exactly where a test means them (DESIGN.md §7).
Shared by the GUI and reliability suites.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


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
