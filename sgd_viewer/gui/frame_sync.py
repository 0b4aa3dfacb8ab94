"""Drawing a frame now, so the trainer can wait for it (see ``worker``).

Qt draws lazily: a changed plot item marks its scene dirty through a queued
call, the scene then asks its views to update, and the window paints at a
later turn of the event loop. The trainer's thread waits while the window
draws a frame; to tell it when the frame is done, the window runs exactly
those two queued steps at once, for its own widgets only, instead of a whole
``processEvents`` (which could deliver other signals re-entrantly).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QGraphicsScene, QWidget


def draw_now(window: QWidget, scenes: Iterable[QGraphicsScene]) -> None:
    """Paint what changed in ``scenes`` (and anything else pending in
    ``window``) before returning. A hidden window draws nothing."""
    if not window.isVisible():
        return
    for scene in scenes:
        # The scene's queued dirty-item pass: it turns changed items into
        # update requests of the views showing them.
        QCoreApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)
    # The top-level window's pending repaint, painted synchronously.
    QCoreApplication.sendPostedEvents(window, QEvent.Type.UpdateRequest)
