"""Helpers shared by the reliability suites (no fixtures here).

Mouse gestures live in tests/qt_mouse.py.
"""

from __future__ import annotations

import math

import numpy as np
from bad_corpus import BAD_DIR, CORPUS, EXPECTED


# ------------------------------------------------------------------ messages
def check_message(message: str, name: str, fragments: list[str]) -> None:
    """``message`` is one line naming ``name`` and holding every fragment."""
    assert message.splitlines() == [message], f"not one line: {message!r}"
    assert name in message, f"{name!r} not in {message!r}"
    lowered = message.lower()
    missing = [f for f in fragments if f not in lowered]
    assert not missing, f"{message!r} lacks {missing}"


# ------------------------------------------------------------------ numerics
def all_finite(*arrays) -> bool:
    """True when every given array (None counts as empty) is finite."""
    for array in arrays:
        if array is None:
            continue
        if not np.all(np.isfinite(np.asarray(array, dtype=np.float64))):
            return False
    return True


def views_are_finite(window) -> list[str]:
    """Names of the drawn data of ``window`` that hold NaN or infinity."""
    bad = []
    surface, loss = window.surface_view, window.loss_view
    checks = {
        "path x": surface._path.xData,
        "path y": surface._path.yData,
        "loss curve x": loss._curve.xData,
        "loss curve y": loss._curve.yData,
        "batch loss y": loss._batch_curve.yData,
        "fit line x": window.fit_view._line.xData,
        "fit line y": window.fit_view._line.yData,
    }
    for name, data in checks.items():
        if not all_finite(data):
            bad.append(name)
    line = window.fit_view.line_parameters
    if line is not None and not all(math.isfinite(v) for v in line):
        bad.append("fit line parameters")
    return bad


__all__ = ["BAD_DIR", "CORPUS", "EXPECTED", "check_message", "views_are_finite"]
