"""Loading a CSV-like text file: :func:`load_csv` and :func:`csv_columns`.

This module owns the entry points and the order of the work: open the file
(:mod:`csv_source`: regular files only, gzip undone), sniff its layout from the
first lines (:mod:`csv_lines`, :mod:`csv_layout`), then parse the data rows within
the row limit, and validate the result, turning every failure (missing, unreadable,
binary, empty, out of memory...) into one :class:`DataError`. ``_load`` is shared
with :mod:`sgd_viewer.core.bundled`. Import the public names from
:mod:`sgd_viewer.core.data`, which re-exports them.

Parsing decision: a file of at most ``_CAREFUL_MAX_ROWS`` data lines is parsed by
the careful reader (:mod:`csv_rows`) from the lines the sniff already holds. A
longer one goes to pandas' C engine (:mod:`csv_bulk`, about 16 times faster), and
back to the careful reader, reading from the start, whenever pandas cannot vouch
for the result: the careful reader either loads the file or names the line and
column of the first problem, so a message never depends on which parser ran.

It imports numpy, the standard library and the lower data modules (``dataset``,
``csv_source``, ``csv_lines``, ``csv_layout``, ``csv_rows``, ``csv_bulk``) only. It
must never import PySide6, pyqtgraph, torch or anything from ``sgd_viewer.gui``,
nor ``data`` or ``bundled`` (they import it).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator
from os import PathLike, fspath
from pathlib import Path
from typing import IO

import numpy as np

from sgd_viewer.core.csv_bulk import _bulk_parse
from sgd_viewer.core.csv_layout import _SNIFF_LINES, _choose_columns, _Layout, _layout
from sgd_viewer.core.csv_lines import _LineReader
from sgd_viewer.core.csv_rows import _parse_batch
from sgd_viewer.core.csv_source import _open_file
from sgd_viewer.core.dataset import (
    DEFAULT_MAX_ROWS,
    DataError,
    Dataset,
    _fail,
    validate_xy,
)

__all__ = ["csv_columns", "load_csv"]

# Files with no more data lines than this are parsed by the careful reader: for them
# importing and starting pandas costs more than it saves.
_CAREFUL_MAX_ROWS = 10_000
# The sniff reads this much at a time: enough for _CAREFUL_MAX_ROWS short lines in a
# few reads, without decoding megabytes that pandas will read anyway.
_SNIFF_CHUNK_BYTES = 1 << 16

_Batches = Iterator[tuple[list[str], np.ndarray]]
_Opener = Callable[[], IO[bytes]]


def _label_of(path: str | PathLike[str]) -> str:
    return fspath(path)


def _read_sample(
    reader: _LineReader, batches: _Batches, wanted: int = _SNIFF_LINES
) -> tuple[list[str], np.ndarray, bool]:
    """At least ``wanted`` data lines (fewer only at the end of the file), their
    line numbers, and whether they are all the file holds."""
    lines: list[str] = []
    numbers: list[np.ndarray] = []
    complete = True
    for batch, nums in batches:
        lines.extend(batch)
        numbers.append(nums)
        if len(lines) >= wanted:
            complete = False
            break
    if not lines:
        raise reader.no_data_error()
    return lines, np.concatenate(numbers), complete


def _sniff(
    label: str,
    lines: list[str],
    numbers: np.ndarray,
    x: str | int | None,
    y: str | int | None,
) -> tuple[_Layout, tuple[int, int], list[str], np.ndarray]:
    """The layout, the chosen columns, and the sample's data lines (no header)."""
    layout = _layout(label, lines, int(numbers[0]))
    if layout.has_header:
        lines, numbers = lines[1:], numbers[1:]
    if layout.ncols < 2:
        raise _fail(label, "has only one column; need two (x and y)")
    if not lines:
        # The sample holds everything there is, so this is the whole file.
        raise _fail(label, f"has a header (line {layout.first_line}) but no data rows")
    cols = _choose_columns(label, layout, lines, x, y)
    return layout, cols, lines, numbers


def _careful_parse(
    label: str,
    layout: _Layout,
    cols: tuple[int, int],
    batches: Iterable[tuple[list[str], np.ndarray]],
    max_rows: int,
) -> tuple[np.ndarray, np.ndarray]:
    pieces: list[np.ndarray] = []
    rows = 0
    for batch, nums in batches:
        rows += len(batch)
        if rows > max_rows:
            # Stop here: the rest of the file is never read.
            raise _fail(label, f"has more than {max_rows:,} data rows (the limit)")
        pieces.append(_parse_batch(label, layout, batch, nums, cols))
    arr = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    return np.ascontiguousarray(arr[:, 0]), np.ascontiguousarray(arr[:, 1])


def _careful_load(
    open_data: _Opener,
    label: str,
    x: str | int | None,
    y: str | int | None,
    max_rows: int,
) -> tuple[np.ndarray, np.ndarray, _Layout, tuple[int, int]]:
    """The whole file through the careful reader, from the start."""
    with open_data() as fh:
        reader = _LineReader(fh, label)
        batches = reader.batches()
        lines, numbers, _ = _read_sample(reader, batches)
        layout, cols, lines, numbers = _sniff(label, lines, numbers, x, y)
        first = [(lines, numbers)]
        xs, ys = _careful_parse(
            label, layout, cols, itertools.chain(first, batches), max_rows
        )
    return _finish(label, xs, ys, layout, cols)


def _load_stream(
    open_data: _Opener,
    label: str,
    x: str | int | None,
    y: str | int | None,
    max_rows: int,
    path: str | PathLike[str] | None,
) -> tuple[np.ndarray, np.ndarray, _Layout, tuple[int, int]]:
    with open_data() as fh:
        reader = _LineReader(fh, label, _SNIFF_CHUNK_BYTES)
        wanted = max(_SNIFF_LINES, _CAREFUL_MAX_ROWS + 1)
        lines, numbers, complete = _read_sample(reader, reader.batches(), wanted)
        layout, cols, lines, numbers = _sniff(label, lines, numbers, x, y)
        if complete:
            xs, ys = _careful_parse(label, layout, cols, [(lines, numbers)], max_rows)
            return _finish(label, xs, ys, layout, cols)
    with open_data() as fh:
        bulk = _bulk_parse(
            fh,
            label,
            layout,
            cols,
            max_rows,
            newline=reader.newline,
            bom=reader.bom,
            path=path,
        )
    if bulk is None:
        return _careful_load(open_data, label, x, y, max_rows)
    return _finish(label, *bulk, layout, cols)


def _finish(
    label: str, xs: np.ndarray, ys: np.ndarray, layout: _Layout, cols: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, _Layout, tuple[int, int]]:
    if xs.shape[0] < 2:
        raise _fail(label, "has only 1 data row; need at least 2 points to fit a line")
    xs.flags.writeable = False
    ys.flags.writeable = False
    return xs, ys, layout, cols


def _check_max_rows(label: str, max_rows: int) -> None:
    if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)):
        raise _fail(label, f"max_rows must be an integer, got {max_rows!r}")
    if max_rows < 2:
        raise _fail(label, f"max_rows must be at least 2, got {max_rows}")


def _load(
    open_data: _Opener,
    label: str,
    x: str | int | None,
    y: str | int | None,
    max_rows: int,
    path: str | PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, _Layout, tuple[int, int]]:
    """x, y, layout and columns of the data ``open_data()`` opens (each time it is
    called: the file may be read more than once), from the file at ``path`` if
    they are one on disk."""
    _check_max_rows(label, max_rows)
    try:
        xs, ys, layout, cols = _load_stream(open_data, label, x, y, max_rows, path)
        xv, yv = validate_xy(xs, ys, name=label)
    except DataError:
        raise
    except MemoryError:
        raise _fail(label, "not enough memory to load the file") from None
    except PermissionError:
        raise _fail(label, "permission denied (cannot read the file)") from None
    except OSError as exc:
        raise _fail(label, f"cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeError, csv.Error) as exc:  # defensive: never escape
        raise _fail(label, f"cannot be parsed as CSV ({exc})") from None
    return xv, yv, layout, cols


def load_csv(
    path: str | PathLike[str],
    x: str | int | None = None,
    y: str | int | None = None,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Dataset:
    """Load two columns of a CSV-like text file as a :class:`Dataset`.

    The format is sniffed: an optional header (the first data line is a header
    when it has a non-numeric field in a column that is numeric below it, or no
    numeric field at all); a delimiter among comma, semicolon, tab and runs of
    whitespace; decimal commas in a semicolon-separated file whose first lines
    use them (``1,5;2,5``, see :mod:`~sgd_viewer.core.csv_layout`); UTF-8 with or
    without BOM (else Latin-1, see :mod:`~sgd_viewer.core.csv_lines`); LF, CRLF or
    CR line endings; gzip compression (recognised by its magic bytes). Blank lines
    and lines starting with ``#`` are skipped. Fields may be quoted with ``"``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read: a regular file. A named pipe, a device or a socket is
        refused at once (reading one could wait forever).
    x, y : str or int, optional
        Columns by header name (exact, else case-insensitive), by ``"column N"``
        as :func:`csv_columns` names them, or by 0-based index. By default the
        first two numeric columns (not counting one chosen explicitly).
    max_rows : int
        Most data rows accepted; reading stops as soon as the file has more.

    Returns
    -------
    Dataset
        Named after the file, ``source`` the path, labels from the header.

    Raises
    ------
    DataError
        For every problem (missing, unreadable, binary or not a regular file,
        damaged gzip data, no data, bad or missing values, ragged rows, mixed
        delimiters, too many rows, no unique line...), with a one-line message
        that starts with the path and gives the 1-based line number where there
        is one. No other exception escapes.
    """
    label = _label_of(path)
    xv, yv, layout, (ix, iy) = _load(
        lambda: _open_file(path, label), label, x, y, max_rows, path
    )
    labels = (layout.names[ix], layout.names[iy]) if layout.has_header else ("x", "y")
    return Dataset(
        x=xv,
        y=yv,
        name=Path(label).name or label,
        source=label,
        x_label=labels[0],
        y_label=labels[1],
    )


def csv_columns(path: str | PathLike[str]) -> list[str]:
    """Column names of a CSV file, for a column chooser.

    Parameters
    ----------
    path : str or os.PathLike
        The file to inspect; only its first lines are read.

    Returns
    -------
    list of str
        The header names, or ``"column 0"``, ``"column 1"``... when the file has
        no header. Each name is accepted by :func:`load_csv` as ``x`` or ``y``.

    Raises
    ------
    DataError
        As :func:`load_csv` for files that cannot be read (missing, a directory,
        unreadable, binary, empty, only comments, duplicate header names).
    """
    label = _label_of(path)
    try:
        with _open_file(path, label) as fh:
            reader = _LineReader(fh, label, _SNIFF_CHUNK_BYTES)
            lines, numbers, _ = _read_sample(reader, reader.batches())
            return list(_layout(label, lines, int(numbers[0])).names)
    except DataError:
        raise
    except MemoryError:
        raise _fail(label, "not enough memory to read the file") from None
    except OSError as exc:
        raise _fail(label, f"cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeError, csv.Error) as exc:
        raise _fail(label, f"cannot be parsed as CSV ({exc})") from None
