"""Fixtures for the reliability suites: ready windows, mouse gestures, the corpus.

Copied in small from tests/gui/conftest.py (conftests are not imported across
suites); the helpers that the test modules call directly live in ``helpers.py``.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pytest

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


def pytest_collection_modifyitems(config, items):
    """Soak runs (minutes, GBs) run only when asked for with ``-m soak``.

    Their short versions, unmarked, run by default.
    """
    if "soak" in (config.getoption("markexpr") or ""):
        return
    here = str(Path(__file__).parent)
    skip = pytest.mark.skip(reason="soak run: select it with -m soak")
    for item in items:
        if str(item.path).startswith(here) and item.get_closest_marker("soak"):
            item.add_marker(skip)
