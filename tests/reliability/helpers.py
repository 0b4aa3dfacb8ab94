"""Helpers shared by the reliability suites (no fixtures here).

Mouse gestures live in tests/qt_mouse.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

BAD_DIR = Path(__file__).resolve().parents[1] / "data" / "bad"
NOT_INPUTS = {"README.md", "expected.json"}
EXPECTED: dict[str, list[str]] = json.loads(
    (BAD_DIR / "expected.json").read_text(encoding="utf-8")
)
CORPUS = sorted(p.name for p in BAD_DIR.iterdir() if p.name not in NOT_INPUTS)


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
