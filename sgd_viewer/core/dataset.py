"""The validated :class:`Dataset` value and :class:`DataError`: the data layer's base.

This module owns what every way of getting ``(x, y)`` points into the program
shares:

* :class:`Dataset`, a frozen value holding read-only float64 arrays that are
  guaranteed valid (finite, at least two points, x not constant, no overflow);
* :func:`validate_xy`, the check every dataset passes through;
* :class:`DataError`, the one exception every bad input turns into. Its message is
  one line that starts with the file name (or ``name``) and says what is wrong;
  ``_fail`` builds it;
* the limits :data:`DEFAULT_MAX_ROWS` and :data:`MAX_ABS_VALUE`.

Everyone imports it through :mod:`sgd_viewer.core.data`, which re-exports it.

It imports numpy and the standard library only. It must never import PySide6,
pyqtgraph, torch or anything from ``sgd_viewer.gui``, nor any other module of the
data layer (``data``, ``csv_source``, ``csv_lines``, ``csv_layout``, ``csv_rows``,
``csv_bulk``, ``csv_reader``, ``bundled``): they all import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_MAX_ROWS",
    "MAX_ABS_VALUE",
    "DataError",
    "Dataset",
    "validate_xy",
]

DEFAULT_MAX_ROWS = 10_000_000
"""Most data rows :func:`load_csv` accepts (and most points :func:`generate` makes)."""

MAX_ABS_VALUE = 1e150
"""Largest accepted ``|value|``: sums of squares of 1e7 such values stay finite."""

_MAX_ABS_TEXT = "1e150"


class DataError(ValueError):
    """Bad input data.

    ``str(err)`` is one clear line naming the file (if any) and the problem, fit to
    show a user as is (status bar, dialog, CLI error).
    """


def _fail(label: str, problem: str) -> DataError:
    # Keep the message on one line whatever the label or problem text contains.
    text = f"{label}: {problem}"
    return DataError(" ".join(text.splitlines()))


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated set of points to fit ``y = a·x + b`` to.

    Construction validates and normalises ``x`` and ``y`` with :func:`validate_xy`:
    both become read-only, 1-D float64 arrays of equal length (copied if the caller
    could still modify them). Equality is identity (arrays do not compare as bools).

    Attributes
    ----------
    x, y : numpy.ndarray
        float64, 1-D, read-only, finite, same length (>= 2), x not constant.
    name : str
        Human-readable name, e.g. ``"generated (n=50, a=3, b=8, σ=0.3, seed 0)"``,
        the file name, or the bundled dataset's name.
    true_a, true_b, noise, seed
        The generating parameters; set only for generated data.
    source : str
        ``"generated"``, ``"bundled:<name>"`` or the CSV path.
    x_label, y_label : str
        Column names when loaded from a file with a header, else ``"x"`` / ``"y"``.
    """

    x: np.ndarray
    y: np.ndarray
    name: str
    true_a: float | None = None
    true_b: float | None = None
    noise: float | None = None
    seed: int | None = None
    source: str = ""
    x_label: str = "x"
    y_label: str = "y"

    def __post_init__(self) -> None:
        x, y = validate_xy(self.x, self.y, name=self.name or "data")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.x.shape[0])

    @property
    def is_generated(self) -> bool:
        """True for data made by :func:`~sgd_viewer.core.data.generate`."""
        return self.source == "generated"

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, n={self.n}, source={self.source!r})"


# --------------------------------------------------------------------------- arrays


def _readonly_float_vector(v: Any, what: str, name: str) -> np.ndarray:
    if (
        isinstance(v, np.ndarray)
        and v.dtype == np.float64
        and not v.flags.writeable
        and v.flags.owndata
    ):
        arr = v  # already immutable and not a view of something mutable
    else:
        try:
            raw = np.asarray(v)
        except (TypeError, ValueError) as exc:
            raise _fail(name, f"{what} is not an array of numbers ({exc})") from None
        if np.iscomplexobj(raw):
            raise _fail(name, f"{what} holds complex numbers; need real numbers")
        if raw.dtype == object or raw.dtype.kind in "USVMm":
            try:
                raw = raw.astype(np.float64)
            except (TypeError, ValueError):
                raise _fail(name, f"{what} holds values that are not numbers") from None
        # A copy, so that the caller cannot change the data behind our back.
        arr = np.array(raw, dtype=np.float64, copy=True)
    if arr.ndim != 1:
        raise _fail(name, f"{what} must be 1-D, got shape {arr.shape}")
    arr.flags.writeable = False
    return arr


def _bounds(arr: np.ndarray) -> tuple[float, float] | None:
    """``(min, max)`` of ``arr`` when every value is finite and within
    :data:`MAX_ABS_VALUE`, else None: two passes, no temporary arrays (a NaN
    fails both comparisons)."""
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= -MAX_ABS_VALUE and hi <= MAX_ABS_VALUE:
        return lo, hi
    return None


def _value_problem(xa: np.ndarray, ya: np.ndarray, name: str) -> DataError:
    """What is wrong with the values of ``x`` or ``y`` (one of them is bad)."""
    for what, arr in (("x", xa), ("y", ya)):
        finite = np.isfinite(arr)
        if not finite.all():
            i = int(np.argmin(finite))
            kind = "NaN" if np.isnan(arr[i]) else "infinite"
            return _fail(name, f"{what}[{i}] is {kind}; all values must be finite")
    for what, arr in (("x", xa), ("y", ya)):
        big = np.abs(arr) > MAX_ABS_VALUE
        if big.any():
            i = int(np.argmax(big))
            return _fail(
                name,
                f"values too large (|v| > {_MAX_ABS_TEXT}): their squares overflow "
                f"float64 ({what}[{i}] = {arr[i]:g})",
            )
    raise AssertionError("no bad value")  # pragma: no cover - _bounds said so


def _xy_problem(x_bounds: tuple[float, float], name: str) -> None:
    lo, hi = x_bounds
    spread = hi - lo
    scale = max(abs(lo), abs(hi))
    # A spread this small relative to |x| leaves no resolvable slope in float64.
    if spread <= 64.0 * np.finfo(np.float64).eps * scale:
        raise _fail(name, "all x values are equal: no unique line")


def validate_xy(x: Any, y: Any, *, name: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """Check and normalise the arrays of a dataset.

    Parameters
    ----------
    x, y : array_like
        The coordinates; anything ``numpy.asarray`` turns into real numbers.
    name : str
        Names the data in error messages (a file name, ``"data"``...).

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y)`` as read-only, 1-D float64 arrays (copies unless the input already
        was read-only float64).

    Raises
    ------
    DataError
        If the arrays are not 1-D or differ in length, hold fewer than 2 points, hold
        NaN or infinity (the first offending index is named), have all x equal (or so
        close that float64 cannot resolve a slope), or hold values with
        ``|v| > 1e150`` whose squares would overflow float64.
    """
    xa = _readonly_float_vector(x, "x", name)
    ya = _readonly_float_vector(y, "y", name)
    if xa.shape != ya.shape:
        raise _fail(name, f"x and y have different lengths ({xa.size} and {ya.size})")
    if xa.size < 2:
        raise _fail(
            name,
            f"has {xa.size} point{'s' * (xa.size != 1)}; need at least 2 to fit a line",
        )
    x_bounds = _bounds(xa)
    if x_bounds is None or _bounds(ya) is None:
        raise _value_problem(xa, ya, name)
    _xy_problem(x_bounds, name)
    return xa, ya
