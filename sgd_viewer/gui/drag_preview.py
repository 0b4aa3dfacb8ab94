"""Dragging the start handle: the line at the handle and a preview of the
next steps from there, computed by the worker on a scratch trainer.

Owns the drag's state (where the handle is, which preview is the newest);
asks the engine for previews and draws the answers that are still wanted.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Slot

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.history import StepBatch


class DragPreview(QObject):
    """The live feedback of one drag at a time. A QObject living in the GUI
    thread: the worker's answers arrive at :meth:`show` queued (a plain
    method would run in the worker's thread)."""

    def __init__(self, engine, fit_view, surface_view) -> None:
        super().__init__(surface_view)
        self._engine = engine
        self._fit_view = fit_view
        self._surface_view = surface_view
        self._request_id = 0
        #: ``(a, b)`` of the handle while it is dragged, else ``None``.
        self.position: tuple[float, float] | None = None

    @property
    def dragging(self) -> bool:
        return self.position is not None

    def moved(self, a: float, b: float, config: TrainingConfig) -> None:
        """The handle is at ``(a, b)``: its line now, its path when computed."""
        self.position = (a, b)
        self._fit_view.set_line(a, b)
        self._request_id += 1
        # Older requests still queued in the worker are skipped.
        self._engine.worker.latest_preview_id = self._request_id
        self._engine.preview.emit(self._request_id, a, b, config)

    @Slot(int, object)
    def show(self, request_id: int, batch: StepBatch) -> None:
        """A preview from the worker, drawn if it is the newest of this drag."""
        if request_id != self._request_id or not self.dragging:
            return
        a, b = self._surface_view.start_position
        self._surface_view.set_preview(np.r_[a, batch.a], np.r_[b, batch.b])

    def stop(self) -> None:
        self.position = None
        self._surface_view.set_preview(None, None)
