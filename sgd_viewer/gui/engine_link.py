"""The window's line to the training engine: the worker's thread, the queued
requests to it, and the one way to stop it.

Requests are signals of this GUI-thread object connected to the worker's
slots, so they queue into the worker's thread (DESIGN.md §3). The thread starts
after the window's first paint: torch's import (1.5 s of Python) would fight
that paint for the GIL.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QWidget

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset
from sgd_viewer.gui.worker import TrainerWorker


class EngineLink(QObject):
    """Owns the worker and its thread; every request to it is a method here."""

    step = Signal(int)
    run = Signal()
    pause_queued = Signal()
    reset = Signal(int, float, float)
    rewind = Signal(int, int)
    add_run = Signal(int, object)
    remove_run = Signal(int)
    set_config = Signal(int, object)
    set_data = Signal(int, object)
    set_speed = Signal(float)
    preview = Signal(int, float, float, object)
    explain = Signal(int, int)
    load = Signal(int, object, object, object)

    def __init__(
        self,
        window: QWidget,
        data: Dataset,
        runs: list[tuple[int, TrainingConfig]],
        start: tuple[float, float],
        speed: float,
    ) -> None:
        super().__init__(window)
        self.thread = QThread()
        self.thread.setObjectName("trainerThread")
        self.worker = worker = TrainerWorker(data, runs, start)
        worker.set_speed(speed)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.initialize)
        # Runs in the worker thread after its event loop ends: the worker's
        # timer must be stopped by its own thread.
        self.thread.finished.connect(
            worker.shutdown, Qt.ConnectionType.DirectConnection
        )
        for request, slot in (
            (self.step, worker.step),
            (self.run, worker.run),
            (self.pause_queued, worker.pause),
            (self.reset, worker.reset),
            (self.rewind, worker.rewind),
            (self.add_run, worker.add_run),
            (self.remove_run, worker.remove_run),
            (self.set_config, worker.set_config),
            (self.set_data, worker.set_data),
            (self.set_speed, worker.set_speed),
            (self.preview, worker.preview),
            (self.explain, worker.explain),
            (self.load, worker.load),
        ):
            request.connect(slot)
        # The thread starts once the window has painted, or after a second if
        # it is never shown (a script driving an unshown window).
        self._first_paint = _FirstPaint(window, self.thread.start)
        window.installEventFilter(self._first_paint)
        QTimer.singleShot(1000, self._first_paint.fire)

    def pause(self) -> None:
        """Stop a running loop at once (an event), and queue a pause behind any
        run request still in flight (which would otherwise start it again)."""
        self.worker.request_pause()
        self.pause_queued.emit()

    def shutdown(self) -> None:
        """Stop the worker thread and wait for it."""
        self._first_paint.cancel()  # a thread not yet started stays so
        self.worker.request_pause()
        self.thread.quit()
        self.thread.wait()


class _FirstPaint(QObject):
    """Calls ``action`` once, after the watched widget's first paint."""

    def __init__(self, parent: QWidget, action: Callable[[], None]) -> None:
        super().__init__(parent)
        self._action: Callable[[], None] | None = action

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and self._action is not None:
            # After this paint has finished, not in the middle of it.
            QTimer.singleShot(0, self.fire)
        return False

    def cancel(self) -> None:
        self._action = None

    def fire(self) -> None:
        action, self._action = self._action, None
        # Done watching: every later event of the window would pass through
        # this Python filter for nothing.
        self.parent().removeEventFilter(self)
        if action is not None:
            action()
