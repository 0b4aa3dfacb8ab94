"""Opening a data file as a byte stream: what may be read, and un-gzipping it.

This module owns :func:`_open_file`, which refuses what is not a regular file (a
directory, a named pipe, a device, a socket) *before* opening it, and maps the
operating system's refusals to :class:`DataError`; and :func:`_decompressed`, which
makes a gzip-compressed stream read as the text it holds.

Why check before opening: opening a named pipe (FIFO) blocks until some other
process opens it for writing, and a device such as ``/dev/zero`` never ends, so
either would hang the caller; a regular file always ends.

Compression decision: a stream is un-gzipped when it starts with gzip's magic bytes
(``1f 8b``), whatever the file is called, so ``data.csv.gz`` and a compressed file
saved as ``data.csv`` both load. Damaged or truncated gzip data are reported as a
one-line :class:`DataError` when the bytes are read.

It imports the standard library and :mod:`sgd_viewer.core.dataset` only. It must
never import PySide6, pyqtgraph, torch or anything from ``sgd_viewer.gui``, nor any
other module of the data layer (they import it).
"""

from __future__ import annotations

import gzip
import stat
import zlib
from os import PathLike
from pathlib import Path
from typing import IO

from sgd_viewer.core.dataset import _fail

_GZIP_MAGIC = b"\x1f\x8b"

_NOT_REGULAR = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class _GzipSource(gzip.GzipFile):
    """The text inside a gzip stream; closes the stream under it when closed.

    Reading damaged data raises :class:`DataError` naming the file, so that neither
    the careful reader nor pandas has to know that the bytes were compressed.
    """

    def __init__(self, raw: IO[bytes], label: str) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw
        self._label = label

    def read(self, size: int | None = -1) -> bytes:
        try:
            return super().read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise _fail(
                self._label, f"is gzip-compressed but its data are damaged ({exc})"
            ) from None

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def _starts_with_gzip_magic(raw: IO[bytes]) -> bool:
    peek = getattr(raw, "peek", None)
    if peek is not None:
        head = peek(len(_GZIP_MAGIC))[: len(_GZIP_MAGIC)]
        if len(head) == len(_GZIP_MAGIC):
            return head == _GZIP_MAGIC
    if not raw.seekable():
        return False  # cannot look without consuming: read it as it is
    start = raw.tell()
    head = raw.read(len(_GZIP_MAGIC))
    raw.seek(start)
    return head == _GZIP_MAGIC


def _decompressed(raw: IO[bytes], label: str) -> IO[bytes]:
    """``raw`` itself, or the text inside it when it is gzip-compressed."""
    try:
        compressed = _starts_with_gzip_magic(raw)
    except BaseException:
        raw.close()
        raise
    return _GzipSource(raw, label) if compressed else raw


def _kind_of_special_file(mode: int) -> str:
    for test, kind in _NOT_REGULAR:
        if test(mode):
            return kind
    return "a special file"


def _open_file(path: str | PathLike[str], label: str) -> IO[bytes]:
    """Open ``path`` for reading its (decompressed) bytes, or raise DataError."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise _fail(label, "file not found") from None
    except PermissionError:
        raise _fail(label, "permission denied (cannot read the file)") from None
    except OSError as exc:
        raise _fail(label, f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise _fail(label, "is a directory, not a CSV file")
    if not stat.S_ISREG(mode):
        kind = _kind_of_special_file(mode)
        raise _fail(
            label,
            f"is not a regular file but {kind}; save the data to a file and open that",
        )
    try:
        raw = p.open("rb")
    except FileNotFoundError:
        raise _fail(label, "file not found") from None
    except IsADirectoryError:
        raise _fail(label, "is a directory, not a CSV file") from None
    except PermissionError:
        raise _fail(label, "permission denied (cannot read the file)") from None
    except OSError as exc:
        raise _fail(label, f"cannot be read ({exc.strerror or exc})") from None
    return _decompressed(raw, label)
