"""Turning batches of CSV data lines into ``(x, y)`` float64 pairs, strictly.

This module owns parsing: checking that every line has the layout's field count
(else "mixed delimiters" or "line N has K fields"), the fast ``numpy.loadtxt`` path
with a row-by-row fallback that names the first bad field, and the check that every
value is finite and within :data:`~sgd_viewer.core.dataset.MAX_ABS_VALUE`. Each error
is a one-line :class:`DataError` with the 1-based line number and the column.

It imports numpy, the standard library, :mod:`sgd_viewer.core.dataset` and
:mod:`sgd_viewer.core.csv_layout` only. It must never import PySide6, pyqtgraph,
torch or anything from ``sgd_viewer.gui``, nor ``data``, ``csv_lines``,
``csv_reader`` or ``bundled``.
"""

from __future__ import annotations

import operator

import numpy as np

from sgd_viewer.core.csv_layout import (
    _CANDIDATES,
    _DELIM_NAMES,
    _is_number,
    _Layout,
    _show,
    _split,
)
from sgd_viewer.core.dataset import _MAX_ABS_TEXT, MAX_ABS_VALUE, DataError, _fail


def _field_count_error(
    label: str, layout: _Layout, line: str, lineno: int, count: int
) -> DataError:
    d = layout.delimiter
    if d is None:
        others: list[str | None] = [c for c in (",", ";") if c in line]
    else:
        others = [c for c in _CANDIDATES if c != d and c in line]
        if not others and len(line.split()) == layout.ncols:
            others = [None]
    if others:
        found = _DELIM_NAMES[others[0]]
        return _fail(
            label,
            f"line {lineno}: mixed delimiters: it uses {found} but the file uses "
            f"{_DELIM_NAMES[d]} (see line {layout.first_line})",
        )
    ref = "the header" if layout.has_header else "the first row"
    return _fail(
        label,
        f"line {lineno} has {count} field{'s' * (count != 1)} but {ref} "
        f"(line {layout.first_line}) has {layout.ncols}",
    )


def _check_field_counts(
    label: str, layout: _Layout, lines: list[str], numbers: np.ndarray
) -> None:
    d = layout.delimiter
    if d is None:
        counts = np.fromiter(map(len, map(str.split, lines)), np.intp, len(lines))
        expected = layout.ncols
    else:
        count = operator.methodcaller("count", d)
        counts = np.fromiter(map(count, lines), np.intp, len(lines))
        expected = layout.ncols - 1
    bad = np.flatnonzero(counts != expected)
    for i in bad.tolist():
        fields = _split(lines[i], d)
        if len(fields) != layout.ncols:  # a quoted delimiter is not a field break
            raise _field_count_error(
                label, layout, lines[i], int(numbers[i]), len(fields)
            )


def _field_value(
    label: str, layout: _Layout, text: str, col: int, lineno: int
) -> float:
    t = text.strip().strip('"').strip()
    where = f"line {lineno}, {layout.column(col)}"
    if not t:
        raise _fail(label, f"{where}: missing value (empty field)")
    if not _is_number(t):
        raise _fail(label, f"{where}: non-numeric value {_show(t)}")
    return float(t)


def _slow_parse(
    label: str,
    layout: _Layout,
    lines: list[str],
    numbers: np.ndarray,
    cols: tuple[int, int],
) -> np.ndarray:
    """Parse row by row, reporting the first bad field precisely."""
    out = np.empty((len(lines), 2), dtype=np.float64)
    order = sorted(range(2), key=lambda k: cols[k])
    for r, line in enumerate(lines):
        fields = _split(line, layout.delimiter)
        for k in order:
            out[r, k] = _field_value(
                label, layout, fields[cols[k]], cols[k], int(numbers[r])
            )
    return out


def _check_values(
    label: str,
    layout: _Layout,
    lines: list[str],
    numbers: np.ndarray,
    cols: tuple[int, int],
    arr: np.ndarray,
) -> None:
    finite = np.isfinite(arr)
    big = np.abs(np.where(finite, arr, 0.0)) > MAX_ABS_VALUE
    bad = ~finite | big
    if not bad.any():
        return
    r = int(np.argmax(bad.any(axis=1)))
    k = min((k for k in range(2) if bad[r, k]), key=lambda k: cols[k])
    col = cols[k]
    text = _split(lines[r], layout.delimiter)[col].strip('"').strip()
    where = f"line {int(numbers[r])}, {layout.column(col)}"
    value = arr[r, k]
    if np.isnan(value):
        problem = f"value {_show(text)} is NaN (not a number)"
    elif np.isinf(value):
        if text.lstrip("+-").lower() in ("inf", "infinity"):
            problem = f"value {_show(text)} is infinite"
        else:
            problem = f"value {_show(text)} overflows float64 (becomes infinite)"
    else:
        problem = (
            f"value {_show(text)} is too large (|v| > {_MAX_ABS_TEXT}): "
            "its square overflows float64"
        )
    if not np.isfinite(value):
        problem += "; all values must be finite numbers"
    raise _fail(label, f"{where}: {problem}")


def _parse_batch(
    label: str,
    layout: _Layout,
    lines: list[str],
    numbers: np.ndarray,
    cols: tuple[int, int],
) -> np.ndarray:
    _check_field_counts(label, layout, lines, numbers)
    try:
        arr = np.loadtxt(
            lines,
            delimiter=layout.delimiter,
            usecols=cols,
            dtype=np.float64,
            comments=None,
            quotechar='"',
            ndmin=2,
        )
    except ValueError:
        arr = _slow_parse(label, layout, lines, numbers, cols)
    _check_values(label, layout, lines, numbers, cols, arr)
    return arr
