"""Feature scaling: the runs train on centred or standardized data, and their
lines map back to the original units.

Scaling x by ``x' = (x − mx)/sx`` and y by ``y' = (y − my)/sy`` turns the fit
``y' = a'·x' + b'`` into ``y = a·x + b`` with

    a = sy·a'/sx,    b = sy·b' + my − a·mx.

Standardizing x makes the loss surface round (its Hessian's condition number
drops to 1 for the mean loss), which is the whole point of the lesson: the same
learning rate then converges in far fewer steps.

numpy only: no torch, no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sgd_viewer.core.data import Dataset

X_MODES = ("none", "center", "standardize")
Y_MODES = ("none", "center", "standardize")


@dataclass(frozen=True)
class Scaling:
    """How the data were scaled: ``x' = (x − x_shift)/x_scale``, the same
    for y; the identity when nothing is scaled."""

    x_shift: float = 0.0
    x_scale: float = 1.0
    y_shift: float = 0.0
    y_scale: float = 1.0

    @property
    def is_identity(self) -> bool:
        return (self.x_shift, self.x_scale, self.y_shift, self.y_scale) == (
            0.0,
            1.0,
            0.0,
            1.0,
        )

    def to_original(self, a: float, b: float) -> tuple[float, float]:
        """The line ``(a', b')`` of the scaled data in the original units."""
        slope = self.y_scale * a / self.x_scale
        return slope, self.y_scale * b + self.y_shift - slope * self.x_shift

    def to_scaled(self, a: float, b: float) -> tuple[float, float]:
        """The line ``(a, b)`` of the original data in the scaled units."""
        slope = a * self.x_scale / self.y_scale
        return slope, (b + a * self.x_shift - self.y_shift) / self.y_scale


def _shift_and_scale(values, mode: str) -> tuple[float, float]:
    if mode == "none":
        return 0.0, 1.0
    mean = float(values.mean())
    if mode == "center":
        return mean, 1.0
    spread = float(values.std())
    if not (math.isfinite(spread) and spread > 0):
        raise ValueError("cannot standardize: every value is the same")
    return mean, spread


def scale(data: Dataset, x: str = "none", y: str = "none") -> tuple[Dataset, Scaling]:
    """``data`` scaled as asked (``x``: none, center or standardize; ``y``
    the same) and the :class:`Scaling` that maps lines back."""
    if x not in X_MODES:
        raise ValueError(f"x scaling must be one of {', '.join(X_MODES)}, got {x!r}")
    if y not in Y_MODES:
        raise ValueError(f"y scaling must be one of {', '.join(Y_MODES)}, got {y!r}")
    x_shift, x_scale = _shift_and_scale(data.x, x)
    y_shift, y_scale = _shift_and_scale(data.y, y)
    scaling = Scaling(x_shift, x_scale, y_shift, y_scale)
    if scaling.is_identity:
        return data, scaling
    words = [w for w, mode in (("x", x), ("y", y)) if mode != "none"]
    scaled = Dataset(
        x=(data.x - x_shift) / x_scale,
        y=(data.y - y_shift) / y_scale,
        name=f"{data.name} ({' and '.join(words)} scaled)",
        # Not the original's source: these are not the generator's (or the
        # bundled file's) points any more.
        source="scaled",
        x_label=_scaled_label(data.x_label, x),
        y_label=_scaled_label(data.y_label, y),
    )
    return scaled, scaling


def _scaled_label(label: str, mode: str) -> str:
    return {"none": label, "center": f"{label} − mean", "standardize": f"{label} (z)"}[
        mode
    ]
