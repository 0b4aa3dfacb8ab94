"""Building the window with Python's cyclic garbage collector paused, and
keeping what it built out of later collections while it is open.

A window is some 70,000 Python objects (pyqtgraph items, their signals,
wrappers of Qt objects) that live as long as it does. While they were being
made the collector ran about twenty times, scanning ever more of them (about
7 ms of the time to first paint, the `startup` bench row), and each full
collection while training runs scans them all again, in the middle of a
frame. Built with the collector paused and then frozen (``gc.freeze``), they
are never scanned. When a window closes they are unfrozen, so that what it
leaves behind in reference cycles is collected as before.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def building() -> Iterator[None]:
    """Pause the collector while the block runs; freeze every object alive
    at its end (a block that raises freezes nothing)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


def release() -> None:
    """Return the frozen objects to the collector (a window has closed)."""
    gc.unfreeze()
