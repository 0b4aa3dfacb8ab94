"""Test set-up shared by every suite.

Qt must run offscreen and pyqtgraph must take every mouse move (no rate limit)
before any Qt import, so this runs first. A test that leaves a worker thread
running fails, and the window it left is closed so the next test starts clean.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _no_thread_left_running(request):
    """Fail a test that leaves a trainer thread running after its teardown.

    Autouse fixtures are set up before the test's own (qtbot's included), so
    this teardown runs after qtbot has closed the test's widgets.
    """
    yield
    if "PySide6" not in __import__("sys").modules:
        return
    from sgd_viewer.gui import main_window

    leftovers = list(main_window.LIVE_WINDOWS)
    for window in leftovers:
        window.shutdown()
    assert not leftovers, f"{len(leftovers)} window(s) left their worker thread running"
