"""The bulk parse: a sniffed file's data rows read by pandas' C engine.

This module owns :func:`_bulk_parse`. Given a fresh byte stream of a file whose
layout :mod:`csv_layout` has sniffed, it hands the data rows (what follows the
header line, or the first data line) to ``pandas.read_csv(engine="c")`` with the
sniffed delimiter, decimal mark and line ending. It returns the x and y columns only
when they are exactly what the careful reader (:mod:`csv_rows`) would return, and
``None`` at the first doubt: pandas refused a row, a row has the wrong number of
fields, a value is not finite or too large, a comment line or a NUL byte turned up,
a line is longer than the careful reader accepts. The careful reader then reads the
file again and either loads it (comment lines within the data are fine) or names
the line and column of the first problem. So pandas decides nothing alone, and none
of its messages ever reaches a user.

Two routes. A plain file of two numeric columns with LF or CRLF line endings, which
cannot hold more rows than the limit, is given to pandas by its path, skipping the
lines before the data: pandas 3 then parses large files on several threads, as
``pandas.read_csv(path)`` does. Every field is a number there, so a NUL byte, a
quote left open or an endless line cannot pass unseen: each fails to parse as a
number. Anything else (gzip, CR line endings, text columns, a file that may be over
the limit) streams through :class:`_DataRows`, which watches for NUL bytes and long
lines, on one thread, and pandas stops one row past the limit: when it has read that
row without a doubt, the file is refused for its size, the one verdict given here,
and the rest of it is never read.

pandas is imported when first needed, not with this module: it takes a good part of
a second to import, which the window's start-up and small files do not need.

It imports numpy, pandas, the standard library and the lower data modules
(``dataset``, ``csv_source``, ``csv_layout``) only. It must never import PySide6,
pyqtgraph, torch or anything from ``sgd_viewer.gui``, nor ``data``, ``csv_reader``
or ``bundled``.
"""

from __future__ import annotations

import csv
import io
import mmap
import os
from os import PathLike
from typing import IO

import numpy as np

from sgd_viewer.core.csv_layout import _Layout
from sgd_viewer.core.csv_source import _GzipSource
from sgd_viewer.core.dataset import MAX_ABS_VALUE, DataError, _fail

_READ_BYTES = 1 << 16  # reading the lines before the data
_UTF8_BOM = b"\xef\xbb\xbf"
# As csv_lines._MAX_LINE_BYTES: pandas would hold an endless line in memory.
_MAX_LINE_BYTES = 1 << 20
# The shortest data row: two one-digit numbers, a delimiter, a line break ("1,2\n").
_MIN_ROW_BYTES = 4
_COUNT_BYTES = 1 << 22  # counting line breaks, a slice at a time


class _Doubt(Exception):
    """The bulk parse cannot vouch for these data: let the careful reader judge."""


class _DataRows(io.RawIOBase):
    """The bytes of a stream from its first data row on, watched on the way.

    pandas reads through this; a NUL byte (the careful reader calls the file
    binary) or a line longer than the careful reader accepts stops it with
    :class:`_Doubt`.
    """

    def __init__(self, first: bytes, fh: IO[bytes], newline: bytes) -> None:
        super().__init__()
        self._pending = first
        self._fh = fh
        self._newline = newline
        self._since_newline = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._pending:
            if size is None or size < 0 or size >= len(self._pending):
                data, self._pending = self._pending, b""
            else:
                data, self._pending = self._pending[:size], self._pending[size:]
        else:
            data = self._fh.read(-1 if size is None else size)
        if b"\x00" in data:
            raise _Doubt("NUL byte")
        last = data.rfind(self._newline)
        if last < 0:
            self._since_newline += len(data)
        else:
            self._since_newline = len(data) - last - 1
        if self._since_newline > _MAX_LINE_BYTES:
            raise _Doubt("a line longer than 1 MB")
        return data

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _skip_lines(
    fh: IO[bytes], count: int, newline: bytes, bom: bool
) -> tuple[bytes, bytes]:
    """Read past ``count`` lines (and a leading BOM): those lines' bytes, and the
    bytes read beyond them."""
    data = fh.read(_READ_BYTES)
    if bom and data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    skipped: list[bytes] = []
    while count:
        found = data.count(newline)
        if found >= count:
            at = -1
            for _ in range(count):
                at = data.index(newline, at + 1)
            skipped.append(data[: at + 1])
            return b"".join(skipped), data[at + 1 :]
        count -= found
        skipped.append(data)
        data = fh.read(_READ_BYTES)
        if not data:
            raise _Doubt("fewer lines than the sniff saw")
    return b"", data


def _more_line_breaks_than(fh: IO[bytes], limit: int) -> bool:
    """Whether the file holds more than ``limit`` LF bytes (counting stops there)."""
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = np.frombuffer(mapped, dtype=np.uint8)
        try:
            seen = 0
            for start in range(0, len(view), _COUNT_BYTES):
                seen += int(np.count_nonzero(view[start : start + _COUNT_BYTES] == 10))
                if seen > limit:
                    return True
            return False
        finally:
            del view  # the map cannot close while numpy holds it


def _whole_file_by_path(
    fh: IO[bytes],
    layout: _Layout,
    max_rows: int,
    skipped: int,
    preamble: bytes,
    newline: bytes,
    bom: bool,
) -> bool:
    """Whether pandas may parse the data rows by the file's path, all of them."""
    if isinstance(fh, _GzipSource) or not isinstance(fh, io.BufferedReader):
        return False
    if newline != b"\n" or layout.ncols != 2:
        return False
    if (bom and not skipped) or b'"' in preamble:
        return False  # pandas would see the BOM, or might quote across lines
    size = os.fstat(fh.fileno()).st_size
    if (size + 1) // _MIN_ROW_BYTES <= max_rows:
        return True  # too short for more rows than the limit
    # Each data row but the last ends with a line break.
    return not _more_line_breaks_than(fh, max_rows + skipped)


def _read_options(layout: _Layout, cols: tuple[int, int], newline: bytes) -> dict:
    import pandas as pd

    whitespace = layout.delimiter is None
    options = {
        "sep": r"\s+" if whitespace else layout.delimiter,
        "header": None,
        "engine": "c",
        "lineterminator": newline.decode("ascii"),
        "decimal": layout.decimal,
        # Every other column as text, so that no type is guessed (or warned about)
        # and a missing field shows up as an empty string.
        "dtype": {i: np.float64 if i in cols else object for i in range(layout.ncols)},
        "na_filter": False,  # "nan", "NA", "" are not numbers: let them fail
        "skip_blank_lines": True,
        "encoding": "utf-8",
        "encoding_errors": "replace",  # only text columns, which are not used
        "comment": None,  # '#' within a line is an error; the careful reader says so
        # The careful reader does not unquote whitespace-separated fields.
        "quoting": csv.QUOTE_NONE if whitespace else csv.QUOTE_MINIMAL,
        "quotechar": '"',
    }
    if int(pd.__version__.split(".")[0]) < 3:
        # Before pandas 3 the default float parser can be off by an ulp.
        options["float_precision"] = "round_trip"
    return options


def _column(frame, i: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    values = frame[i].to_numpy(dtype=np.float64)
    if not values.flags.c_contiguous or not values.flags.owndata:
        values = np.array(values, dtype=np.float64, copy=True)
    # Two passes, no temporaries; a NaN fails both comparisons.
    if not (values.min() >= -MAX_ABS_VALUE and values.max() <= MAX_ABS_VALUE):
        raise _Doubt("a value that is not finite or too large")
    return values


def _text_columns_plain(frame, cols: tuple[int, int], newline: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the unused columns hold nothing the careful reader might refuse."""
    for i in frame.columns:
        if i in cols:
            continue
        column = frame[i]
        # A short row leaves its missing fields empty, and the careful reader tells
        # a short row from an empty field; a quote left open runs on over the next
        # lines, which the careful reader reads one by one.
        if column.isna().any() or (column == "").any():
            return False
        if column.str.contains(newline, regex=False).any():
            return False
    return True


def _bulk_parse(
    fh: IO[bytes],
    label: str,
    layout: _Layout,
    cols: tuple[int, int],
    max_rows: int,
    *,
    newline: bytes,
    bom: bool,
    path: str | PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """x and y of every data row of ``fh`` (read from its start), or ``None``.

    ``newline`` and ``bom`` are the line reader's decisions about the file's bytes;
    the data rows start after the header line, or at the first data line. ``path``
    is where ``fh`` was opened, when it is a file on disk. Raises
    :class:`DataError` for more than ``max_rows`` rows, and lets the stream's own
    DataError (damaged gzip data) and MemoryError through.
    """
    import pandas as pd

    first_row = layout.first_line + 1 if layout.has_header else layout.first_line
    skipped = first_row - 1
    try:
        preamble, rest = _skip_lines(fh, skipped, newline, bom)
        options = _read_options(layout, cols, newline)
        if path is not None and _whole_file_by_path(
            fh, layout, max_rows, skipped, preamble, newline, bom
        ):
            frame = pd.read_csv(os.fspath(path), skiprows=skipped, **options)
        else:
            frame = pd.read_csv(
                _DataRows(rest, fh, newline), nrows=max_rows + 1, **options
            )
        if frame.shape[1] != layout.ncols or not _text_columns_plain(
            frame, cols, newline.decode("ascii")
        ):
            return None
        x, y = _column(frame, cols[0]), _column(frame, cols[1])
    except (DataError, MemoryError):
        raise
    except Exception:  # _Doubt, or anything pandas refused: the careful reader says
        return None
    if len(x) > max_rows:
        raise _fail(label, f"has more than {max_rows:,} data rows (the limit)")
    return x, y
