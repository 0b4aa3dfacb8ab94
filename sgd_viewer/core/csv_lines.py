"""Reading a CSV file's bytes as numbered text lines, in bounded chunks.

This module owns :class:`_LineReader`: it reads a binary stream 4 MiB at a time
(``_CHUNK_BYTES``, or less to sniff just the head of a file), refuses binary,
UTF-16/32 and absurdly long-lined files, drops blank and ``#`` comment lines,
decodes the rest and yields them in batches with their 1-based line numbers. It
records what it decided about the bytes (line ending, byte order mark) so that the
bulk parse (:mod:`csv_bulk`) can read the same lines. Sniffing the table's shape is
:mod:`csv_layout`'s job, turning lines into numbers :mod:`csv_rows`'s.

Encoding decision: files are read as UTF-8 (a BOM is allowed). A file that is not
valid UTF-8 but looks like text is decoded as Latin-1 instead, because every byte is
valid Latin-1 and the only non-ASCII text a table of numbers normally holds is in
its header or comments (``température``). Numbers must be ASCII either way, so a
wrongly guessed encoding can only change how a header name is spelled.

It imports numpy, the standard library and :mod:`sgd_viewer.core.dataset` only. It
must never import PySide6, pyqtgraph, torch or anything from ``sgd_viewer.gui``, nor
any other module of the data layer but ``dataset``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import numpy as np

from sgd_viewer.core.dataset import DataError, _fail

_CHUNK_BYTES = 1 << 22  # read 4 MiB at a time: bounded memory, early stop at the limit
_MAX_LINE_BYTES = 1 << 20  # a table of numbers never needs a 1 MB line
# Bytes that may appear in text: printable ASCII, \t \n \v \f \r, and all of 0x80-0xFF
# (UTF-8 or Latin-1). Anything else (other control bytes) suggests a binary file.
_TEXT_BYTES = bytes([9, 10, 11, 12, 13, *range(32, 127), *range(128, 256)])


class _LineReader:
    """Reads a binary stream in chunks and yields batches of data lines.

    A data line is a non-blank line that does not start with ``#``; it is yielded
    stripped of surrounding whitespace together with its 1-based line number.
    """

    def __init__(
        self, fh: IO[bytes], label: str, chunk_bytes: int | None = None
    ) -> None:
        self.fh = fh
        self.label = label
        # None: the module's _CHUNK_BYTES, read when reading starts (tests shrink it).
        self.chunk_bytes = chunk_bytes
        self.total_bytes = 0
        self.saw_comment = False
        self.latin1 = False
        self.bom = False  # the stream starts with a UTF-8 byte order mark
        self.newline = b"\n"  # b"\r" for classic Mac line endings

    def _check_head(self, head: bytes) -> bytes:
        label = self.label
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _fail(label, "is UTF-16 or UTF-32 text, not UTF-8; save it as UTF-8")
        if b"\x00" in head:
            raise _fail(label, "looks like a binary file, not CSV text")
        sample = head[:65536]
        controls = len(sample.translate(None, _TEXT_BYTES))
        if controls > max(2, len(sample) // 100):
            raise _fail(label, "looks like a binary file, not CSV text")
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the chunk boundary is not an error.
            if exc.start < len(sample) - 4:
                bad = sample.decode("utf-8", errors="replace").count("\ufffd")
                if bad > max(8, len(sample) // 10):
                    raise _fail(
                        label, "looks like a binary file, not CSV text"
                    ) from None
        self.bom = head.startswith(b"\xef\xbb\xbf")
        return head[3:] if self.bom else head

    def _decode(self, lines: list[bytes]) -> list[str]:
        blob = b"\n".join(lines)
        if not self.latin1:
            try:
                return blob.decode("utf-8").split("\n")
            except UnicodeDecodeError:
                self.latin1 = True
        return blob.decode("latin-1").split("\n")

    def batches(self) -> Iterator[tuple[list[str], np.ndarray]]:
        label = self.label
        chunk_bytes = self.chunk_bytes or _CHUNK_BYTES
        newline = b"\n"
        carry = b""
        lineno = 0  # number of complete lines consumed so far
        first = True
        while True:
            chunk = self.fh.read(chunk_bytes)
            if first:
                first = False
                if not chunk:
                    return
                self.total_bytes += len(chunk)
                chunk = self._check_head(chunk)
                if b"\n" not in chunk and b"\r" in chunk:
                    newline = b"\r"  # classic Mac line endings
                    self.newline = newline
            elif chunk:
                self.total_bytes += len(chunk)
                if b"\x00" in chunk:
                    raise _fail(label, "looks like a binary file, not CSV text")
            at_end = not chunk
            if at_end:
                if not carry:
                    return
                parts = [carry]
                carry = b""
            else:
                parts = (carry + chunk).split(newline)
                carry = parts.pop()
            if parts and max(map(len, parts)) > _MAX_LINE_BYTES:
                where = (
                    lineno
                    + 1
                    + next(i for i, p in enumerate(parts) if len(p) > _MAX_LINE_BYTES)
                )
                raise self._long_line(where)
            if len(carry) > _MAX_LINE_BYTES:
                raise self._long_line(lineno + len(parts) + 1)
            stripped = [p.strip() for p in parts]
            keep = [i for i, s in enumerate(stripped) if s and s[0] != 35]  # '#'
            if len(keep) != len(stripped):
                self.saw_comment = self.saw_comment or any(
                    s[:1] == b"#" for s in stripped
                )
            if keep:
                if len(keep) == len(stripped):
                    kept = stripped
                    numbers = np.arange(lineno + 1, lineno + 1 + len(parts))
                else:
                    kept = [stripped[i] for i in keep]
                    numbers = np.asarray(keep, dtype=np.int64) + (lineno + 1)
                yield self._decode(kept), numbers
            lineno += len(parts)
            if at_end:
                return

    def _long_line(self, where: int) -> DataError:
        return _fail(
            self.label, f"line {where} is longer than 1 MB; this is not a CSV table"
        )

    def no_data_error(self) -> DataError:
        if self.total_bytes == 0:
            return _fail(self.label, "file is empty")
        if self.saw_comment:
            return _fail(self.label, "has no data (only comments and blank lines)")
        return _fail(self.label, "file is empty (only blank lines)")
