"""Keeping what matters in sight: a view box that grows, eased, to take in
points that left it, and that stops doing so once the user zooms by hand.

Why eased: a view that jumped to every new point each frame would shake
while a run goes, and each change of range costs a redraw of the cached
heatmap and scatter. Here a range changes only when something leaves it (or
when it is far too big for what it shows), and then glides there over
``EASE_FRAMES`` frames.

Knows pyqtgraph's ViewBox and Qt's timer; nothing of runs or torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer

#: Frames (of ``EASE_INTERVAL_MS``) a change of range takes.
EASE_FRAMES = 8
EASE_INTERVAL_MS = 25
#: Share of the view kept free around points it takes in.
MARGIN = 0.08
#: Coordinates beyond this are not framed (a blown-up run would make every
#: other thing a dot).
FRAMABLE = 1e12

Box = tuple[float, float, float, float]  # x_min, x_max, y_min, y_max


def bounds_of(xs: Iterable[float], ys: Iterable[float]) -> Box | None:
    """The box around the finite, framable points, or ``None``."""
    x = np.asarray(list(xs) if not isinstance(xs, np.ndarray) else xs, float)
    y = np.asarray(list(ys) if not isinstance(ys, np.ndarray) else ys, float)
    # |v| < FRAMABLE is False for NaN and infinities too: one test for all.
    keep = (np.abs(x) < FRAMABLE) & (np.abs(y) < FRAMABLE)
    if keep.all():
        return float(x.min()), float(x.max()), float(y.min()), float(y.max())
    if not keep.any():
        return None
    x, y = x[keep], y[keep]
    return float(x.min()), float(x.max()), float(y.min()), float(y.max())


def padded(box: Box, share: float = MARGIN, minimum: float = 1e-9) -> Box:
    """``box`` grown by ``share`` of its size on each side (never empty)."""
    x0, x1, y0, y1 = box
    dx = max(x1 - x0, minimum, abs(x0) * 1e-9)
    dy = max(y1 - y0, minimum, abs(y0) * 1e-9)
    return x0 - share * dx, x1 + share * dx, y0 - share * dy, y1 + share * dy


def union(first: Box, second: Box) -> Box:
    return (
        min(first[0], second[0]),
        max(first[1], second[1]),
        min(first[2], second[2]),
        max(first[3], second[3]),
    )


def clipped(box: Box, limit: Box) -> Box:
    """``box`` cut down to ``limit`` on each side."""
    return (
        max(box[0], limit[0]),
        min(box[1], limit[1]),
        max(box[2], limit[2]),
        min(box[3], limit[3]),
    )


def contains(outer: Box, inner: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and inner[1] <= outer[1]
        and outer[2] <= inner[2]
        and inner[3] <= outer[3]
    )


class EasedFraming(QObject):
    """Moves ``view_box``'s range to targets, eased, while ``auto`` is on.

    A zoom or pan by hand (pyqtgraph's ``sigRangeChangedManually``) turns
    ``auto`` off: the user's view is theirs until :meth:`frame` is asked.
    """

    def __init__(self, view_box: pg.ViewBox, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view_box = view_box
        self.auto = True
        self._target: Box | None = None
        self._from: Box | None = None
        self._frame = 0
        self._timer = QTimer(self)
        self._timer.setInterval(EASE_INTERVAL_MS)
        self._timer.timeout.connect(self._advance)
        view_box.sigRangeChangedManually.connect(self._taken_by_hand)

    def _taken_by_hand(self, *_) -> None:
        self.auto = False
        self._timer.stop()
        self._target = None

    def current(self) -> Box:
        (x0, x1), (y0, y1) = self._view_box.viewRange()
        return float(x0), float(x1), float(y0), float(y1)

    @property
    def target(self) -> Box:
        """Where the view is going (where it is, when still)."""
        return self._target if self._target is not None else self.current()

    @property
    def moving(self) -> bool:
        return self._timer.isActive()

    def keep(self, box: Box | None) -> None:
        """Grow the view to take in ``box`` (with a margin) if it is not
        inside the view now; nothing when ``auto`` is off."""
        if not self.auto or box is None:
            return
        aim = self.target
        if contains(aim, box):
            return
        self.go_to(padded(union(aim, box), MARGIN))

    def go_to(self, box: Box, eased: bool = True) -> None:
        """Move to ``box`` (eased over a few frames, or at once)."""
        if not all(math.isfinite(v) for v in box):
            return
        if not eased:
            self._timer.stop()
            self._target = None
            self._apply(box)
            return
        self._from = self.current()
        self._target = box
        self._frame = 0
        if not self._timer.isActive():
            self._timer.start()

    def frame(self, box: Box | None) -> None:
        """Frame ``box`` exactly (with a margin) and turn ``auto`` back on."""
        self.auto = True
        if box is not None:
            self.go_to(padded(box, MARGIN))

    def cancel(self) -> None:
        """Stop a framing under way where it is (new data frame themselves)."""
        self._timer.stop()
        self._target = None

    def finish(self) -> None:
        """Jump to where the view is going (tests, screenshots)."""
        if self._target is not None:
            target = self._target
            self._timer.stop()
            self._target = None
            self._apply(target)

    def _advance(self) -> None:
        if self._target is None or self._from is None:
            self._timer.stop()
            return
        self._frame += 1
        t = min(self._frame / EASE_FRAMES, 1.0)
        ease = 1 - (1 - t) ** 3  # fast out, gentle in
        box = tuple(
            a + (b - a) * ease for a, b in zip(self._from, self._target, strict=True)
        )
        self._apply(box)  # type: ignore[arg-type]
        if t >= 1.0:
            self._timer.stop()
            self._target = None

    def _apply(self, box: Box) -> None:
        x0, x1, y0, y1 = box
        self._view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
