"""The narrated step: with Explain on, Step takes one step and then tells
it in four stages (``core.narration``), a sentence and an arrow each, one
stage every ``stage_ms``.

The window calls :meth:`Narrator.expect` when Step is pressed with Explain
on; the update of that step comes from the engine through the window's
:class:`~sgd_viewer.gui.update_panel.UpdateFeed` (:meth:`Narrator.on_update`).
Stepping again skips the rest of a narration.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel

from sgd_viewer.core.narration import Stage, narrate
from sgd_viewer.core.session import Session
from sgd_viewer.gui.native_items import PixelMarker

STAGE_MS = 1800
NARRATION_STYLE = (
    "background: #e8f0fe; color: #0b3d91; border: 1px solid #4a78c2;padding: 6px;"
)
#: The arrow of each stage: the gradient step, then the step taken.
STAGE_COLOURS = ("#c000c0", "#0b3d91", "#0b3d91", "#1a7f37")


class Narrator(QObject):
    """Plays narrations in ``label`` and on ``surface_view``.

    Signals
    -------
    stage_changed(int)
        The stage now shown (1-4), 0 when a narration ends.
    """

    stage_changed = Signal(int)

    def __init__(self, session: Session, label: QLabel, surface_view) -> None:
        super().__init__(label)
        self._session = session
        self._label = label
        self._surface = surface_view
        label.setObjectName("narrationLabel")
        label.setAccessibleName("narrationLabel")
        label.setWordWrap(True)
        label.setStyleSheet(NARRATION_STYLE)
        label.hide()
        self._arrow = PixelMarker(pg.mkPen(STAGE_COLOURS[0], width=3), STAGE_COLOURS[0])
        self._arrow.setZValue(25)
        self._arrow.setVisible(False)
        surface_view.getPlotItem().addItem(self._arrow, ignoreBounds=True)
        self.stage_ms = STAGE_MS
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next)
        self._expected: tuple[int, int] | None = None
        self._stages: list[Stage] = []
        self.stage = 0

    def expect(self, run_id: int, step: int) -> None:
        """Narrate ``step`` of run ``run_id`` once its update arrives (and
        stop any narration playing). A Step pressed again before the last
        one's step arrived narrates the step after that one."""
        if self._expected is not None and self._expected[0] == run_id:
            step = max(step, self._expected[1] + 1)
        self.stop()
        self._expected = (run_id, step)

    def on_update(self, run_id: int, step: int, update) -> None:
        if self._expected != (run_id, step) or update is None:
            return
        self._expected = None
        run = self._session.run
        problem, reduction = self._session.problem, run.config.reduction
        before = float(problem.loss(update["a_before"], update["b_before"], reduction))
        after = float(problem.loss(update["a_after"], update["b_after"], reduction))
        self._stages = narrate(update, run.config.optimizer, before, after)
        self.stage = 0
        self._next()

    def _next(self) -> None:
        if self.stage >= len(self._stages):
            self.stop()
            return
        stage = self._stages[self.stage]
        self.stage += 1
        self._label.setText(f"<b>{stage.title}</b> — {stage.text}")
        self._label.show()
        self._draw(stage, STAGE_COLOURS[self.stage - 1])
        self.stage_changed.emit(self.stage)
        self._timer.start(self.stage_ms)

    def _draw(self, stage: Stage, colour: str) -> None:
        view_box = self._surface.getPlotItem().getViewBox()
        pixel_a, pixel_b = view_box.viewPixelSize()
        dx = stage.vector[0] / pixel_a if pixel_a > 0 else math.nan
        dy = -stage.vector[1] / pixel_b if pixel_b > 0 else math.nan
        length = math.hypot(dx, dy)
        if not (length >= 1.0 and math.isfinite(length)):
            self._arrow.setVisible(False)
            return
        pen = pg.mkPen(colour, width=3)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        self._arrow.setPen(pen)
        self._arrow.setBrush(pg.mkBrush(colour))
        self._arrow.set_arrow(dx, dy, min(14.0, 0.6 * length))
        self._arrow.setPos(*stage.origin)
        self._arrow.setVisible(True)

    def stop(self) -> None:
        """End a narration now (its label and arrow go)."""
        self._timer.stop()
        was_playing = bool(self._stages)
        self._stages = []
        self.stage = 0
        self._expected = None
        self._label.hide()
        self._arrow.setVisible(False)
        if was_playing:
            self.stage_changed.emit(0)

    def as_dict(self) -> dict | None:
        """``snapshot()["narration"]``: the stage shown, or ``None``."""
        if not self.stage or not self._stages:
            return None
        stage = self._stages[self.stage - 1]
        return {"stage": self.stage, "of": len(self._stages)} | stage.as_dict()
