"""Test set-up shared by every suite.

Qt must run offscreen and pyqtgraph must take every mouse move (no rate limit)
before any Qt import, so this runs first. A test that leaves a worker thread
running fails, and the window it left is closed so the next test starts clean.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Settings (QSettings) go to a folder of the test run's own, never the user's;
# subprocesses inherit it.
_SETTINGS_DIR = tempfile.mkdtemp(prefix="sgd-viewer-test-settings-")
os.environ["SGD_VIEWER_CONFIG_DIR"] = _SETTINGS_DIR
atexit.register(shutil.rmtree, _SETTINGS_DIR, ignore_errors=True)

import pytest  # noqa: E402


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


@pytest.fixture
def make_window(qtbot):
    """Build, show and wait for a window whose engine has loaded."""
    import pyqtgraph as pg

    from sgd_viewer.gui import create_main_window

    # Every mouse move must reach pyqtgraph, and a drag may start at once.
    pg.setConfigOption("mouseRateLimit", -1)

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
def settle(qtbot):
    """``settle(window, step)``: wait until the window shows ``step`` with its
    update's numbers, which the engine sends a moment after the step, so that
    two snapshots taken after it compare equal."""

    def wait(window, step: int) -> None:
        def settled() -> bool:
            snap = window.snapshot()
            return snap["step"] == step and (snap["update"] or {}).get("step") == step

        qtbot.waitUntil(settled)

    return wait


@pytest.fixture
def window(make_window):
    """The default window: the lesson's data, SGD lr 0.01, start (-1, 1)."""
    return make_window()


@pytest.fixture
def mouse():
    """Mouse gestures (press, move, release, drag, click) in data coordinates."""
    import qt_mouse

    return qt_mouse
