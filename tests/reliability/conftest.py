"""Fixtures for the reliability suites: ready windows, mouse gestures, the corpus.

The window and mouse fixtures come from tests/conftest.py; the helpers that the
test modules call directly live in ``helpers.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


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
