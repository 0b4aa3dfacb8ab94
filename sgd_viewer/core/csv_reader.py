"""Loading a CSV-like text file: :func:`load_csv` and :func:`csv_columns`.

This module owns the entry points that open a file, stream its lines through
:mod:`csv_lines`, sniff its layout with :mod:`csv_layout`, parse it with
:mod:`csv_rows` within the row limit, validate the result and turn every failure
(missing, unreadable, binary, empty, out of memory...) into one :class:`DataError`.
``_load`` is shared with :mod:`sgd_viewer.core.bundled`. Import the public names
from :mod:`sgd_viewer.core.data`, which re-exports them.

It imports numpy, the standard library and the lower data modules (``dataset``,
``csv_lines``, ``csv_layout``, ``csv_rows``) only. It must never import PySide6,
pyqtgraph, torch or anything from ``sgd_viewer.gui``, nor ``data`` or ``bundled``
(they import it).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from os import PathLike, fspath
from pathlib import Path
from typing import IO, Any

import numpy as np

from sgd_viewer.core.csv_layout import _SNIFF_LINES, _choose_columns, _Layout, _layout
from sgd_viewer.core.csv_lines import _LineReader
from sgd_viewer.core.csv_rows import _parse_batch
from sgd_viewer.core.dataset import (
    DEFAULT_MAX_ROWS,
    DataError,
    Dataset,
    _fail,
    validate_xy,
)

__all__ = ["csv_columns", "load_csv"]


def _label_of(path: str | PathLike[str]) -> str:
    return fspath(path)


def _open(path: str | PathLike[str], label: str) -> IO[bytes]:
    p = Path(path)
    try:
        if p.is_dir():
            raise _fail(label, "is a directory, not a CSV file")
        return p.open("rb")
    except FileNotFoundError:
        raise _fail(label, "file not found") from None
    except IsADirectoryError:
        raise _fail(label, "is a directory, not a CSV file") from None
    except PermissionError:
        raise _fail(label, "permission denied (cannot read the file)") from None
    except OSError as exc:
        raise _fail(label, f"cannot be read ({exc.strerror or exc})") from None


def _read_sample(
    reader: _LineReader, batches: Iterator[tuple[list[str], np.ndarray]]
) -> tuple[list[str], np.ndarray]:
    lines: list[str] = []
    numbers: list[np.ndarray] = []
    for batch, nums in batches:
        lines.extend(batch)
        numbers.append(nums)
        if len(lines) >= _SNIFF_LINES:
            break
    if not lines:
        raise reader.no_data_error()
    return lines, np.concatenate(numbers)


def _load_stream(
    fh: IO[bytes],
    label: str,
    x: str | int | None,
    y: str | int | None,
    max_rows: int,
) -> tuple[np.ndarray, np.ndarray, _Layout, tuple[int, int]]:
    reader = _LineReader(fh, label)
    batches = reader.batches()
    lines, numbers = _read_sample(reader, batches)
    layout = _layout(label, lines, int(numbers[0]))
    if layout.has_header:
        lines, numbers = lines[1:], numbers[1:]
    if layout.ncols < 2:
        raise _fail(label, "has only one column; need two (x and y)")
    if not lines:
        # The sample holds everything there is, so this is the whole file.
        raise _fail(label, f"has a header (line {layout.first_line}) but no data rows")
    cols = _choose_columns(label, layout, lines, x, y)

    pieces: list[np.ndarray] = []
    rows = 0
    for batch, nums in itertools.chain([(lines, numbers)], batches):
        rows += len(batch)
        if rows > max_rows:
            # Stop here: the rest of the file is never read.
            raise _fail(label, f"has more than {max_rows:,} data rows (the limit)")
        pieces.append(_parse_batch(label, layout, batch, nums, cols))
    arr = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    if arr.shape[0] < 2:
        raise _fail(label, "has only 1 data row; need at least 2 points to fit a line")
    xs = np.ascontiguousarray(arr[:, 0])
    ys = np.ascontiguousarray(arr[:, 1])
    xs.flags.writeable = False
    ys.flags.writeable = False
    return xs, ys, layout, cols


def _check_max_rows(label: str, max_rows: int) -> None:
    if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)):
        raise _fail(label, f"max_rows must be an integer, got {max_rows!r}")
    if max_rows < 2:
        raise _fail(label, f"max_rows must be at least 2, got {max_rows}")


def _load(
    fh_factory: Any,
    label: str,
    x: str | int | None,
    y: str | int | None,
    max_rows: int,
) -> tuple[np.ndarray, np.ndarray, _Layout, tuple[int, int]]:
    _check_max_rows(label, max_rows)
    try:
        with fh_factory() as fh:
            xs, ys, layout, cols = _load_stream(fh, label, x, y, max_rows)
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
    whitespace; UTF-8 with or without BOM (else Latin-1, see the module notes);
    LF, CRLF or CR line endings. Blank lines and lines starting with ``#`` are
    skipped. Fields may be quoted with ``"``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
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
        For every problem (missing, unreadable or binary file, no data, bad or
        missing values, ragged rows, mixed delimiters, too many rows, no unique
        line...), with a one-line message that starts with the path and gives the
        1-based line number where there is one. No other exception escapes.
    """
    label = _label_of(path)

    def factory() -> IO[bytes]:
        return _open(path, label)

    xv, yv, layout, (ix, iy) = _load(factory, label, x, y, max_rows)
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
        with _open(path, label) as fh:
            reader = _LineReader(fh, label)
            lines, numbers = _read_sample(reader, reader.batches())
            return list(_layout(label, lines, int(numbers[0])).names)
    except DataError:
        raise
    except MemoryError:
        raise _fail(label, "not enough memory to read the file") from None
    except OSError as exc:
        raise _fail(label, f"cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeError, csv.Error) as exc:
        raise _fail(label, f"cannot be parsed as CSV ({exc})") from None
