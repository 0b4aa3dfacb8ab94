"""The shape of a CSV table: its delimiter, header, column names and x/y columns.

This module owns sniffing a sample of data lines (:func:`_layout` gives a
:class:`_Layout`), splitting a line into fields (:func:`_split`), telling numbers
from text (:func:`_is_number`) and choosing the x and y columns
(:func:`_choose_columns`), plus the short quoting of bad text in messages
(:func:`_show`). The sniff looks at the first ``_SNIFF_LINES`` data lines only, so
that it decides the same however the file is read.

Delimiter decision: the delimiter (comma, semicolon, tab, or runs of whitespace) is
sniffed from the first non-comment line (and the lines after it when that line holds
several candidates). Every later line must split into the same number of fields; a
line that instead uses another delimiter is reported as "mixed delimiters" with its
line number (by :mod:`csv_rows`), never silently re-split.

Decimal mark decision: numbers use a decimal point, except in a semicolon-separated
file whose first two lines (the lines that also decide the header) write a number
with a decimal comma (``1,5;2,5``) and none with a decimal point: spreadsheets in
many languages export that. The whole file then uses decimal commas, and a value
written with a point is not a number. A decimal comma that first appears further
down is reported as a non-numeric value, like any other text the sniff did not
expect.

It imports numpy, the standard library and :mod:`sgd_viewer.core.dataset` only. It
must never import PySide6, pyqtgraph, torch or anything from ``sgd_viewer.gui``, nor
any other module of the data layer but ``dataset``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sgd_viewer.core.dataset import _fail

_SNIFF_LINES = 100
_SHOW_CHARS = 20
_CANDIDATES = (",", "\t", ";")
_DELIM_NAMES = {",": "commas", "\t": "tabs", ";": "semicolons", None: "whitespace"}
_DECIMAL_SNIFF_LINES = 2


def _show(text: str) -> str:
    short = text if len(text) <= _SHOW_CHARS else text[:_SHOW_CHARS] + "..."
    return repr(short)


def _is_number(text: str, decimal: str = ".") -> bool:
    t = text.strip().strip('"').strip()
    if not t or "_" in t or not t.isascii():
        return False
    if decimal == ",":
        if "." in t:
            return False
        t = t.replace(",", ".")
    try:
        float(t)
    except ValueError:
        return False
    return True


def _to_float(text: str, decimal: str) -> float:
    """The value of a field that :func:`_is_number` accepted."""
    t = text.strip().strip('"').strip()
    return float(t.replace(",", ".") if decimal == "," else t)


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    if '"' in line:
        try:
            return [f.strip() for f in next(csv.reader([line], delimiter=delimiter))]
        except (csv.Error, StopIteration):
            pass
    return [f.strip() for f in line.split(delimiter)]


def _sniff_decimal(rows: Sequence[str], delimiter: str | None) -> str:
    if delimiter != ";":
        return "."
    fields = [f for line in rows[:_DECIMAL_SNIFF_LINES] for f in _split(line, ";")]
    comma = any("," in f and _is_number(f, ",") for f in fields)
    point = any("." in f and _is_number(f) for f in fields)
    return "," if comma and not point else "."


def _sniff_delimiter(sample: Sequence[str]) -> str | None:
    first = sample[0]
    present = [d for d in _CANDIDATES if d in first]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    consistent = [d for d in present if len({s.count(d) for s in sample}) == 1]
    if consistent:
        return consistent[0]
    return max(present, key=first.count)


@dataclass
class _Layout:
    delimiter: str | None
    ncols: int
    names: list[str]
    has_header: bool
    first_line: int  # line number of the header, or of the first data row
    decimal: str = "."  # "," when the file writes decimal commas

    def column(self, i: int) -> str:
        if self.has_header:
            return f"column {self.names[i]!r} (field {i + 1})"
        return f"field {i + 1}"


def _layout(label: str, sample: list[str], first_line: int) -> _Layout:
    sample = sample[:_SNIFF_LINES]
    delimiter = _sniff_delimiter(sample)
    decimal = _sniff_decimal(sample, delimiter)
    row0 = _split(sample[0], delimiter)
    row1 = _split(sample[1], delimiter) if len(sample) > 1 else None
    numeric0 = [_is_number(f, decimal) for f in row0]
    if row1 is None:
        has_header = not any(numeric0)
    else:
        below = [_is_number(f, decimal) for f in row1]
        has_header = not any(numeric0) or any(
            not n0 and i < len(below) and below[i] for i, n0 in enumerate(numeric0)
        )
    ncols = len(row0)
    if has_header:
        names = [f.strip('"').strip() or f"column {i}" for i, f in enumerate(row0)]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise _fail(
                    label,
                    f"duplicate column name {_show(name)} in the header "
                    f"(line {first_line})",
                )
            seen.add(name)
    else:
        names = [f"column {i}" for i in range(ncols)]
    return _Layout(delimiter, ncols, names, has_header, first_line, decimal)


def _resolve_column(label: str, layout: _Layout, spec: str | int, role: str) -> int:
    names = layout.names
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        i = int(spec)
        if not 0 <= i < layout.ncols:
            raise _fail(
                label,
                f"{role} column index {i} is out of range (the file has "
                f"{layout.ncols} columns, 0 to {layout.ncols - 1})",
            )
        return i
    if isinstance(spec, str):
        if spec in names:
            return names.index(spec)
        folded = [n.casefold() for n in names]
        if folded.count(spec.casefold()) == 1:
            return folded.index(spec.casefold())
        if spec.strip().isdigit():
            return _resolve_column(label, layout, int(spec.strip()), role)
        shown = ", ".join(names)
        raise _fail(label, f"no column named {_show(spec)}; columns are: {shown}")
    raise _fail(label, f"{role} column must be a name or an index, got {spec!r}")


def _numeric_columns(layout: _Layout, rows: list[str]) -> list[int]:
    if layout.ncols == 2:
        return [0, 1]  # nothing to choose; bad values get precise errors later
    votes = [0] * layout.ncols
    total = [0] * layout.ncols
    for line in rows[:_SNIFF_LINES]:
        fields = _split(line, layout.delimiter)
        for i, f in enumerate(fields[: layout.ncols]):
            if f.strip('"').strip():
                total[i] += 1
                votes[i] += _is_number(f, layout.decimal)
    return [i for i in range(layout.ncols) if total[i] and 2 * votes[i] > total[i]]


def _choose_columns(
    label: str,
    layout: _Layout,
    rows: list[str],
    x: str | int | None,
    y: str | int | None,
) -> tuple[int, int]:
    ix = None if x is None else _resolve_column(label, layout, x, "x")
    iy = None if y is None else _resolve_column(label, layout, y, "y")
    if ix is None or iy is None:
        free = [i for i in _numeric_columns(layout, rows) if i not in (ix, iy)]
        needed = (ix is None) + (iy is None)
        if len(free) < needed:
            found = len(_numeric_columns(layout, rows))
            raise _fail(
                label,
                f"needs two numeric columns for x and y; found {found} "
                f"(columns: {', '.join(layout.names)})",
            )
        if ix is None:
            ix = free.pop(0)
        if iy is None:
            iy = free.pop(0)
    if ix == iy:
        raise _fail(label, f"x and y are the same column ({layout.names[ix]})")
    return ix, iy
