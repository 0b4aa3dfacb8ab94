"""Turning batches of CSV data lines into ``(x, y)`` float64 pairs, strictly.

This module owns parsing: checking that every line has the layout's field count
(else "mixed delimiters" or "line N has K fields"), the fast ``numpy.loadtxt`` path
with a row-by-row fallback that names the first bad field, and the check that every
value is finite and within :data:`~sgd_viewer.core.dataset.MAX_ABS_VALUE`. Each error
is a one-line :class:`DataError` with the 1-based line number and the column, and
it is always the error of the first bad line, however the lines were batched. It is
the careful reader: small files are parsed here, and so is every file the bulk parse
(:mod:`csv_bulk`) does not vouch for, which is how every message stays precise.

It imports numpy, the standard library, :mod:`sgd_viewer.core.dataset` and
:mod:`sgd_viewer.core.csv_layout` only. It must never import PySide6, pyqtgraph,
torch or anything from ``sgd_viewer.gui``, nor any other module of the data layer.
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
    _to_float,
)
from sgd_viewer.core.dataset import _MAX_ABS_TEXT, MAX_ABS_VALUE, DataError, _fail

# For numpy.loadtxt, which knows only decimal points: decimal commas become points,
# and points become a letter so that a value written with one still fails to parse
# (and the row-by-row parse then names it).
_DECIMAL_COMMA_TO_POINT = str.maketrans({",": ".", ".": "x"})


def _field_count_error(
    label: str, layout: _Layout, line: str, lineno: int, count: int
) -> DataError:
    d = layout.delimiter
    if d is None:
        others: list[str | None] = [c for c in (",", ";") if c in line]
    else:
        # In a file with decimal commas a comma is part of a number, not a delimiter.
        others = [c for c in _CANDIDATES if c not in (d, layout.decimal) and c in line]
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


def _field_count_problem(
    label: str, layout: _Layout, lines: list[str], numbers: np.ndarray
) -> tuple[int, DataError] | None:
    """The index of the first line with the wrong number of fields, and its error."""
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
            error = _field_count_error(
                label, layout, lines[i], int(numbers[i]), len(fields)
            )
            return i, error
    return None


def _field_value(
    label: str, layout: _Layout, text: str, col: int, lineno: int
) -> float:
    t = text.strip().strip('"').strip()
    where = f"line {lineno}, {layout.column(col)}"
    if not t:
        raise _fail(label, f"{where}: missing value (empty field)")
    if not _is_number(t, layout.decimal):
        raise _fail(label, f"{where}: non-numeric value {_show(t)}")
    return _to_float(t, layout.decimal)


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
        if len(fields) != layout.ncols:
            # The delimiters are all there, but a quote joins fields.
            raise _fail(
                label,
                f'line {int(numbers[r])}: a double quote (") opens a field that '
                "does not close on this line",
            )
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
    """The batch's x and y; else the error of its first bad line, whatever it is."""
    problem = _field_count_problem(label, layout, lines, numbers)
    if problem is None:
        return _parse_values(label, layout, lines, numbers, cols)
    bad_line, error = problem
    if bad_line:
        # Any bad value above the ragged line comes first.
        _parse_values(label, layout, lines[:bad_line], numbers[:bad_line], cols)
    raise error


def _parse_values(
    label: str,
    layout: _Layout,
    lines: list[str],
    numbers: np.ndarray,
    cols: tuple[int, int],
) -> np.ndarray:
    plain = lines
    if layout.decimal == ",":
        plain = [line.translate(_DECIMAL_COMMA_TO_POINT) for line in lines]
    try:
        arr = np.loadtxt(
            plain,
            delimiter=layout.delimiter,
            usecols=cols,
            dtype=np.float64,
            comments=None,
            # _split does not unquote whitespace-separated fields either.
            quotechar=None if layout.delimiter is None else '"',
            ndmin=2,
        )
    except ValueError:
        arr = None
    if arr is None or arr.shape[0] != len(lines):
        # A stray quote made loadtxt read on into the next lines: go line by line.
        arr = _slow_parse(label, layout, lines, numbers, cols)
    _check_values(label, layout, lines, numbers, cols, arr)
    return arr
