"""Guesses on the loss surface: the crosshair under the cursor with its
``a, b, L(a, b)``, and the guess pinned as "my line".

AlexanderFillbrunn's linreg-visualization shows the line of the point under
the cursor; PhET's least-squares simulation compares "my line" with the best
fit. This layer reports the cursor's ``(a, b)`` (``hovered``) and a request
to pin it (``pin_requested``, from P or the right-click menu); the window
puts both into the session, and draws them back here with :meth:`show_hover`
and :meth:`show_pinned`. It computes no loss itself: it is told.

Qt and pyqtgraph only; nothing of torch or the worker.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from sgd_viewer.gui.native_items import PixelLabel, PixelMarker, place_beside

HOVER_COLOUR = "#202020"
PINNED_COLOUR = "#7b3294"


def guess_text(a: float, b: float, loss: float) -> str:
    return f"a = {a:.4g}, b = {b:.4g}, L = {loss:.4g}"


class SurfaceGuesses(QObject):
    """Crosshair and pinned guess of one surface plot.

    Signals
    -------
    hovered(object)
        The cursor is over ``(a, b)`` of the plot area; ``None`` once it left.
    pin_requested(object)
        Pin ``(a, b)`` as my line; ``None`` unpins.
    """

    hovered = Signal(object)
    pin_requested = Signal(object)

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._canvas = canvas
        plot = canvas.getPlotItem()
        self._view_box = plot.getViewBox()
        self._cross = PixelMarker.cross(14, pg.mkPen(HOVER_COLOUR, width=1.5))
        self._label = PixelLabel("", HOVER_COLOUR, "#ffffffe0")
        self._label.set_offset(10, -8)
        self._pinned = PixelMarker.diamond(13, "w", PINNED_COLOUR)
        self._pinned_label = PixelLabel("my line", PINNED_COLOUR, "#ffffffc0")
        self._pinned_label.set_offset(9, -6)
        for item in (self._pinned, self._pinned_label, self._cross, self._label):
            item.setZValue(20)
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        #: The cursor's ``(a, b)`` last reported, ``None`` off the plot area.
        self.at: tuple[float, float] | None = None
        self.pinned = False
        canvas.scene().sigMouseMoved.connect(self._on_moved)
        canvas.scene().sigMouseClicked.connect(self._on_clicked)
        canvas.viewport().installEventFilter(self)

    # -------------------------------------------------------------- mouse
    def _on_moved(self, scene_pos) -> None:
        if not self._view_box.sceneBoundingRect().contains(scene_pos):
            self._report(None)
            return
        point = self._view_box.mapSceneToView(scene_pos)
        self._report((float(point.x()), float(point.y())))

    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.RightButton:
            return
        if not self._view_box.sceneBoundingRect().contains(event.scenePos()):
            return
        self._on_moved(event.scenePos())
        event.accept()
        self.context_menu(self.pinned).popup(event.screenPos().toPoint())

    def move_to(self, a: float, b: float) -> None:
        """As if the cursor were over ``(a, b)`` (scripts and tests)."""
        self._on_moved(self._view_box.mapViewToScene(QPointF(a, b)))

    def leave(self) -> None:
        self._report(None)

    def _report(self, at: tuple[float, float] | None) -> None:
        if at != self.at:
            self.at = at
            self.hovered.emit(at)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.leave()
        return False

    def context_menu(self, pinned: bool) -> QMenu:
        """The right-click menu over the surface: pin the guess there."""
        menu = QMenu(self._canvas)
        menu.setObjectName("surfaceMenu")
        at = self.at
        pin = QAction("Pin this guess as my line (P)", menu)
        pin.setEnabled(at is not None)
        pin.triggered.connect(lambda: self.pin_requested.emit(at))
        menu.addAction(pin)
        unpin = QAction("Unpin my line", menu)
        unpin.setEnabled(pinned)
        unpin.triggered.connect(lambda: self.pin_requested.emit(None))
        menu.addAction(unpin)
        return menu

    # ------------------------------------------------------------ drawing
    def show_hover(self, at: tuple[float, float] | None, loss: float) -> None:
        """The crosshair and its label at ``at`` (hidden for ``None``)."""
        shown = at is not None and all(math.isfinite(v) for v in at)
        for item in (self._cross, self._label):
            item.setVisible(shown)
        if shown:
            self._cross.setPos(*at)
            self._label.setPos(*at)
            self._label.set_text(guess_text(at[0], at[1], loss))
            place_beside(self._label, self._view_box, *at)

    def show_pinned(self, at: tuple[float, float] | None, loss: float) -> None:
        shown = at is not None and all(math.isfinite(v) for v in at)
        self.pinned = at is not None
        for item in (self._pinned, self._pinned_label):
            item.setVisible(shown)
        if shown:
            self._pinned.setPos(*at)
            self._pinned_label.setPos(*at)
            self._pinned_label.set_text(f"my line: L = {loss:.4g}")

    @property
    def hover_text(self) -> str:
        return self._label.text() if self._label.isVisible() else ""
