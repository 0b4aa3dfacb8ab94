"""Data for the line fit: the :class:`Dataset` value, synthetic data and CSV loading.

This module owns everything about getting ``(x, y)`` points into the program:

* :class:`Dataset`, a frozen value holding read-only float64 arrays that are
  guaranteed valid (finite, at least two points, x not constant, no overflow);
* :func:`generate`, seeded synthetic data ``y = a·x + b + noise·N(0, 1)``;
* :func:`load_csv` / :func:`csv_columns`, a forgiving but strict CSV reader;
* :func:`bundled_dataset_names` / :func:`load_bundled`, the real datasets shipped in
  ``resources/datasets`` (package ``sgd_viewer.resources``);
* :class:`DataError`, the one exception every bad input turns into. Its message is
  one line that starts with the file name (or ``name``) and says what is wrong.

It imports numpy and the standard library only. It must never import PySide6,
pyqtgraph, torch or anything from ``sgd_viewer.gui``.

Encoding decision: files are read as UTF-8 (a BOM is allowed). A file that is not
valid UTF-8 but looks like text is decoded as Latin-1 instead, because every byte is
valid Latin-1 and the only non-ASCII text a table of numbers normally holds is in
its header or comments (``température``). Numbers must be ASCII either way, so a
wrongly guessed encoding can only change how a header name is spelled.

Delimiter decision: the delimiter (comma, semicolon, tab, or runs of whitespace) is
sniffed from the first non-comment line (and the lines after it when that line holds
several candidates). Every later line must split into the same number of fields; a
line that instead uses another delimiter is reported as "mixed delimiters" with its
line number, never silently re-split.
"""

from __future__ import annotations

import csv
import itertools
import math
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from os import PathLike, fspath
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "DEFAULT_MAX_ROWS",
    "MAX_ABS_VALUE",
    "DataError",
    "Dataset",
    "bundled_dataset_names",
    "csv_columns",
    "generate",
    "load_bundled",
    "load_csv",
    "validate_xy",
]

DEFAULT_MAX_ROWS = 10_000_000
"""Most data rows :func:`load_csv` accepts (and most points :func:`generate` makes)."""

MAX_ABS_VALUE = 1e150
"""Largest accepted ``|value|``: sums of squares of 1e7 such values stay finite."""

_MAX_ABS_TEXT = "1e150"
_CHUNK_BYTES = 1 << 22  # read 4 MiB at a time: bounded memory, early stop at the limit
_MAX_LINE_BYTES = 1 << 20  # a table of numbers never needs a 1 MB line
_SNIFF_LINES = 100
_SHOW_CHARS = 20
_CANDIDATES = (",", "\t", ";")
_DELIM_NAMES = {",": "commas", "\t": "tabs", ";": "semicolons", None: "whitespace"}
# Bytes that may appear in text: printable ASCII, \t \n \v \f \r, and all of 0x80-0xFF
# (UTF-8 or Latin-1). Anything else (other control bytes) suggests a binary file.
_TEXT_BYTES = bytes([9, 10, 11, 12, 13, *range(32, 127), *range(128, 256)])


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
        """True for data made by :func:`generate`."""
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


def _xy_problem(x: np.ndarray, name: str) -> None:
    spread = float(np.ptp(x))
    scale = float(np.max(np.abs(x)))
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
    for what, arr in (("x", xa), ("y", ya)):
        finite = np.isfinite(arr)
        if not finite.all():
            i = int(np.argmin(finite))
            kind = "NaN" if np.isnan(arr[i]) else "infinite"
            raise _fail(name, f"{what}[{i}] is {kind}; all values must be finite")
    for what, arr in (("x", xa), ("y", ya)):
        big = np.abs(arr) > MAX_ABS_VALUE
        if big.any():
            i = int(np.argmax(big))
            raise _fail(
                name,
                f"values too large (|v| > {_MAX_ABS_TEXT}): their squares overflow "
                f"float64 ({what}[{i}] = {arr[i]:g})",
            )
    _xy_problem(xa, name)
    return xa, ya


# ------------------------------------------------------------------------ generate


def _finite_float(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise _fail("generate", f"{what} must be a number, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise _fail("generate", f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(f):
        raise _fail("generate", f"{what} must be finite, got {f}")
    return f


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _fail("generate", f"{what} must be an integer, got {value!r}")
    return int(value)


def generate(
    n: int = 50, a: float = 3.0, b: float = 8.0, noise: float = 0.3, seed: int = 0
) -> Dataset:
    """Make ``n`` noisy points on the line ``y = a·x + b``.

    ``x ~ U(0, 1)`` and ``y = a·x + b + noise·N(0, 1)``, drawn from
    ``numpy.random.default_rng(seed)``: first ``rng.uniform(0, 1, n)`` for x, then
    ``rng.normal(0, 1, n)`` for the noise. The same arguments give the same data on
    every machine.

    Parameters
    ----------
    n : int
        Number of points, ``2 <= n <= DEFAULT_MAX_ROWS``.
    a, b : float
        True slope and intercept (finite).
    noise : float
        Standard deviation of the Gaussian noise (finite, ``>= 0``).
    seed : int
        Seed for ``numpy.random.default_rng`` (``>= 0``).

    Returns
    -------
    Dataset
        With ``true_a``, ``true_b``, ``noise`` and ``seed`` set and
        ``source == "generated"``.

    Raises
    ------
    DataError
        For an invalid argument.
    """
    n = _integer(n, "n")
    if not 2 <= n <= DEFAULT_MAX_ROWS:
        raise _fail(
            "generate", f"n must be between 2 and {DEFAULT_MAX_ROWS:,}, got {n:,}"
        )
    a = _finite_float(a, "a")
    b = _finite_float(b, "b")
    noise = _finite_float(noise, "noise")
    if noise < 0:
        raise _fail("generate", f"noise must be >= 0, got {noise:g}")
    seed = _integer(seed, "seed")
    if seed < 0:
        raise _fail("generate", f"seed must be >= 0, got {seed}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, n)
    y = a * x + b + noise * rng.normal(0.0, 1.0, n)
    name = f"generated (n={n}, a={a:g}, b={b:g}, σ={noise:g}, seed {seed})"
    return Dataset(
        x=x,
        y=y,
        name=name,
        true_a=a,
        true_b=b,
        noise=noise,
        seed=seed,
        source="generated",
    )


# ------------------------------------------------------------------- reading lines


def _show(text: str) -> str:
    short = text if len(text) <= _SHOW_CHARS else text[:_SHOW_CHARS] + "..."
    return repr(short)


class _LineReader:
    """Reads a binary stream in chunks and yields batches of data lines.

    A data line is a non-blank line that does not start with ``#``; it is yielded
    stripped of surrounding whitespace together with its 1-based line number.
    """

    def __init__(self, fh: IO[bytes], label: str) -> None:
        self.fh = fh
        self.label = label
        self.total_bytes = 0
        self.saw_comment = False
        self.latin1 = False

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
        return head[3:] if head.startswith(b"\xef\xbb\xbf") else head

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
        newline = b"\n"
        carry = b""
        lineno = 0  # number of complete lines consumed so far
        first = True
        while True:
            chunk = self.fh.read(_CHUNK_BYTES)
            if first:
                first = False
                if not chunk:
                    return
                self.total_bytes += len(chunk)
                chunk = self._check_head(chunk)
                if b"\n" not in chunk and b"\r" in chunk:
                    newline = b"\r"  # classic Mac line endings
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


# ------------------------------------------------------------------ table layout


def _is_number(text: str) -> bool:
    t = text.strip().strip('"').strip()
    if not t or "_" in t or not t.isascii():
        return False
    try:
        float(t)
    except ValueError:
        return False
    return True


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    if '"' in line:
        try:
            return [f.strip() for f in next(csv.reader([line], delimiter=delimiter))]
        except (csv.Error, StopIteration):
            pass
    return [f.strip() for f in line.split(delimiter)]


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

    def column(self, i: int) -> str:
        if self.has_header:
            return f"column {self.names[i]!r} (field {i + 1})"
        return f"field {i + 1}"


def _layout(label: str, sample: list[str], first_line: int) -> _Layout:
    delimiter = _sniff_delimiter(sample)
    row0 = _split(sample[0], delimiter)
    row1 = _split(sample[1], delimiter) if len(sample) > 1 else None
    numeric0 = [_is_number(f) for f in row0]
    if row1 is None:
        has_header = not any(numeric0)
    else:
        below = [_is_number(f) for f in row1]
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
    return _Layout(delimiter, ncols, names, has_header, first_line)


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
                votes[i] += _is_number(f)
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


# ------------------------------------------------------------------ parsing rows


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


# ------------------------------------------------------------------- entry points


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


def _datasets_dir() -> Any:
    return resources.files("sgd_viewer.resources") / "datasets"


def bundled_dataset_names() -> list[str]:
    """Sorted names of the datasets shipped in ``resources/datasets/*.csv``."""
    return sorted(
        entry.name[: -len(".csv")]
        for entry in _datasets_dir().iterdir()
        if entry.name.endswith(".csv") and entry.is_file()
    )


def load_bundled(
    name: str, x: str | int | None = None, y: str | int | None = None
) -> Dataset:
    """Load a bundled dataset by name (see :func:`bundled_dataset_names`).

    Parameters
    ----------
    name : str
        For example ``"anscombe-1"`` or ``"cars"``.
    x, y : str or int, optional
        Columns, as for :func:`load_csv`.

    Returns
    -------
    Dataset
        ``name`` the dataset name, ``source`` ``"bundled:<name>"``.

    Raises
    ------
    DataError
        For an unknown name (the message lists the available ones) or bad columns.
    """
    names = bundled_dataset_names()
    if name not in names:
        raise _fail(
            str(name), f"no bundled dataset of that name; available: {', '.join(names)}"
        )
    resource = _datasets_dir() / f"{name}.csv"
    label = f"{name}.csv"
    xv, yv, layout, (ix, iy) = _load(
        lambda: resource.open("rb"), label, x, y, DEFAULT_MAX_ROWS
    )
    labels = (layout.names[ix], layout.names[iy]) if layout.has_header else ("x", "y")
    return Dataset(
        x=xv,
        y=yv,
        name=name,
        source=f"bundled:{name}",
        x_label=labels[0],
        y_label=labels[1],
    )
