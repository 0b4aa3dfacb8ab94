"""Guard against the PySide6 6.12.0 ``none_dealloc`` crash (DESIGN.md §6).

That release drops a reference to ``None`` on every void-returning Qt call; after
enough calls the interpreter frees ``None`` and aborts. A correct binding leaves
``sys.getrefcount(None)`` unchanged (or higher: other code may hold more).
"""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

QtCore = pytest.importorskip("PySide6.QtCore")

CALLS = 10_000


def _none_refs() -> int:
    return sys.getrefcount(None)


def test_void_qobject_calls_do_not_leak_none_references() -> None:
    obj = QtCore.QObject()
    obj.setObjectName("warm-up")
    before = _none_refs()
    for i in range(CALLS):
        obj.setObjectName("x" if i % 2 else "y")
    after = _none_refs()
    # A leak of one per call would show as a fall of ~10,000.
    assert after >= before, f"None lost {before - after} references in {CALLS} calls"


def test_void_qtimer_calls_do_not_leak_none_references() -> None:
    timer = QtCore.QTimer()
    timer.setInterval(1)
    before = _none_refs()
    for i in range(CALLS):
        timer.setInterval(i % 7 + 1)
        timer.setSingleShot(bool(i % 2))
    after = _none_refs()
    assert after >= before, f"None lost {before - after} references in {CALLS} calls"


def test_installed_pyside6_is_not_the_crashing_release() -> None:
    import PySide6

    if sys.version_info < (3, 12):
        assert PySide6.__version__ != "6.12.0"
