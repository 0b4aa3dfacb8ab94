"""CSV files at library speed: pandas' C engine parses, the careful reader judges.

Files of more than ``csv_reader._CAREFUL_MAX_ROWS`` data lines are parsed by
pandas (``csv_bulk``); smaller ones, and every file pandas cannot vouch for, by the
careful per-row reader. These tests pin down that both give the same values and
the same messages, and what spreadsheets export: decimal commas, gzip. Files that
are not regular files (a FIFO, a device) are refused at once.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sgd_viewer.core import csv_reader
from sgd_viewer.core.data import DataError, csv_columns, generate, load_csv

# More data lines than the careful reader takes on its own: pandas parses these.
BIG = csv_reader._CAREFUL_MAX_ROWS + 2_345


@pytest.fixture
def pandas_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the bulk parses (calls of pandas.read_csv)."""
    calls: list[int] = []
    real = pd.read_csv

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", counting)
    return calls


def careful_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file through the careful reader, whatever its size."""
    monkeypatch.setattr(csv_reader, "_CAREFUL_MAX_ROWS", 10**9)


def outcome(path: Path) -> tuple[str, ...]:
    try:
        data = load_csv(path)
    except DataError as error:
        return ("error", str(error))
    return ("data", data.x.tobytes(), data.y.tobytes(), data.x_label, data.y_label)


def points(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    data = generate(n, a=-2.5, b=40.0, noise=5.0, seed=seed)
    # Spread the magnitudes so the text holds exponents, subnormals and signs.
    scale = 10.0 ** np.linspace(-320, 140, n)
    return data.x * scale, data.y * np.where(np.arange(n) % 2, -1.0, 1.0)


def repr_rows(x: np.ndarray, y: np.ndarray, delimiter: str) -> list[str]:
    return [
        f"{a!r}{delimiter}{b!r}" for a, b in zip(x.tolist(), y.tolist(), strict=True)
    ]


# ------------------------------------------------------ good files, both parsers
GOOD_FILES = {
    "comma-header-lf": ("x,y", ",", "\n", b""),
    "semicolon-crlf": ("x;y", ";", "\r\n", b""),
    "tab-no-header": (None, "\t", "\n", b""),
    "whitespace-cr": ("x y", "   ", "\r", b""),
    "comma-bom": ("x,y", ",", "\n", b"\xef\xbb\xbf"),
    "comma-space": ("x, y", ", ", "\n", b""),
}


@pytest.mark.parametrize("name", sorted(GOOD_FILES))
@pytest.mark.parametrize("n", [50, BIG])
def test_good_files_give_the_values_numpy_reads(
    tmp_path: Path, name: str, n: int, pandas_calls: list[int]
) -> None:
    header, delimiter, newline, prefix = GOOD_FILES[name]
    x, y = points(n)
    lines = ["# exported by a test", ""] + ([header] if header else [])
    lines += repr_rows(x, y, delimiter)
    path = tmp_path / f"{name}.csv"
    path.write_bytes(prefix + (newline.join(lines) + newline).encode("ascii"))

    data = load_csv(path)

    # numpy's own reading of the same text, independent of the app's reader.
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    body = text.replace("\r", "\n").splitlines()[2 + (header is not None) :]
    expected = np.loadtxt(
        body, delimiter=delimiter.strip() or None, ndmin=2, dtype=np.float64
    )
    np.testing.assert_array_equal(data.x, expected[:, 0])
    np.testing.assert_array_equal(data.y, expected[:, 1])
    np.testing.assert_array_equal(data.x, x)
    assert (data.x_label, data.y_label) == ("x", "y")
    assert bool(pandas_calls) == (n == BIG)  # the big file went through pandas


def test_both_parsers_agree_on_a_file_with_text_and_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pandas_calls: list[int]
) -> None:
    x, y = points(BIG, seed=8)
    names = [f'"item {i}, lot {i % 7}"' for i in range(BIG)]
    triples = zip(names, x.tolist(), y.tolist(), strict=True)
    rows = [f'{name},"{a!r}",{b!r}' for name, a, b in triples]
    path = tmp_path / "quoted.csv"
    path.write_text('"name","speed, mph","dist"\n' + "\n".join(rows) + "\n")

    bulk = outcome(path)
    assert pandas_calls
    careful_only(monkeypatch)
    assert outcome(path) == bulk
    assert bulk[0] == "data"
    assert bulk[3:] == ("speed, mph", "dist")
    np.testing.assert_array_equal(np.frombuffer(bulk[1]), x)


def test_a_million_rows_go_through_pandas(
    tmp_path: Path, pandas_calls: list[int]
) -> None:
    x, y = points(1_000_000, seed=4)
    path = tmp_path / "million.csv"
    path.write_text("t,v\n" + "\n".join(repr_rows(x, y, ",")) + "\n")
    data = load_csv(path)
    assert pandas_calls == [1]
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y, y)
    assert not data.x.flags.writeable


# --------------------------------------------- bad big files: the same messages
def _big_rows(n: int = BIG) -> list[str]:
    return [f"{i},{2 * i + 1}" for i in range(n)]


def _with(rows: list[str], index: int, line: str) -> list[str]:
    rows = list(rows)
    rows[index] = line
    return rows


BAD_LATE = 9_876  # 0-based data row; line BAD_LATE + 2 with the header
BAD_BIG_FILES = {
    "text": (_with(_big_rows(), BAD_LATE, "5,abc"), ["non-numeric value 'abc'"]),
    "nan": (_with(_big_rows(), BAD_LATE, "5,nan"), ["is NaN (not a number)"]),
    "inf": (_with(_big_rows(), BAD_LATE, "-inf,5"), ["'-inf' is infinite"]),
    "overflow": (_with(_big_rows(), BAD_LATE, "5,1e999"), ["overflows float64"]),
    "too-large": (_with(_big_rows(), BAD_LATE, "5,1e200"), ["too large"]),
    "missing": (_with(_big_rows(), BAD_LATE, "5,"), ["missing value"]),
    "short-row": (_with(_big_rows(), BAD_LATE, "5"), ["has 1 field"]),
    "long-row": (_with(_big_rows(), BAD_LATE, "5,6,7"), ["has 3 fields"]),
    "mixed": (_with(_big_rows(), BAD_LATE, "5;6"), ["mixed delimiters"]),
    "hash-in-line": (_with(_big_rows(), BAD_LATE, "5,6 # note"), ["'6 # note'"]),
    "point-in-comma-file": (None, ["non-numeric value '6.5'"]),
}


def _bad_big_text(name: str) -> str:
    if name == "point-in-comma-file":
        rows = [f"{i},5;{i},25" for i in range(BIG)]
        rows[BAD_LATE] = "5,5;6.5"
        return "x;y\n" + "\n".join(rows) + "\n"
    rows, _ = BAD_BIG_FILES[name]
    return "x,y\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("name", sorted(BAD_BIG_FILES))
def test_a_big_bad_file_gets_the_careful_readers_message(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, pandas_calls: list[int]
) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(_bad_big_text(name))
    bulk = outcome(path)
    assert pandas_calls  # pandas tried first...
    careful_only(monkeypatch)
    assert outcome(path) == bulk  # ...and the message is the careful reader's
    kind, message = bulk
    assert kind == "error"
    assert message.startswith(str(path))
    assert f"line {BAD_LATE + 2}" in message
    for fragment in BAD_BIG_FILES[name][1]:
        assert fragment in message


def test_a_quote_left_open_is_read_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pandas_calls: list[int]
) -> None:
    # pandas would read on to the next quote, swallowing rows; lines are lines.
    path = tmp_path / "open-quote.csv"
    path.write_text("x,y\n" + "\n".join(_with(_big_rows(), BAD_LATE, '5,"6')) + "\n")
    bulk = outcome(path)
    assert pandas_calls
    careful_only(monkeypatch)
    assert outcome(path) == bulk
    y = np.frombuffer(bulk[2])
    assert len(y) == BIG
    assert y[BAD_LATE] == 6.0


def test_comment_lines_among_big_data_still_load(
    tmp_path: Path, pandas_calls: list[int]
) -> None:
    rows = _big_rows()
    rows.insert(5_000, "# a comment in the middle")
    rows.insert(7_000, "   # an indented one")
    path = tmp_path / "commented.csv"
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    data = load_csv(path)
    assert pandas_calls  # pandas gave up on the comment; the careful reader did not
    np.testing.assert_array_equal(data.x, np.arange(BIG))
    np.testing.assert_array_equal(data.y, 2 * np.arange(BIG) + 1)


def test_a_nul_byte_late_in_a_big_file_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "late-nul.csv"
    rows = _with(_big_rows(), BAD_LATE, "5,\x006")
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="looks like a binary file"):
        load_csv(path)


# ---------------------------------------------------------------- row limit
def test_row_limit_through_pandas(tmp_path: Path, pandas_calls: list[int]) -> None:
    path = tmp_path / "over.csv"
    # The bad value lies beyond the limit: it must never be reached.
    path.write_text("x,y\n" + "\n".join([*_big_rows(), "1,oops"]) + "\n")
    with pytest.raises(DataError) as info:
        load_csv(path, max_rows=BIG - 1)
    assert pandas_calls
    message = str(info.value)
    assert message == f"{path}: has more than {BIG - 1:,} data rows (the limit)"
    with pytest.raises(DataError, match=r"line .*'oops'"):
        load_csv(path, max_rows=BIG + 1)
    good = tmp_path / "exactly.csv"
    good.write_text("x,y\n" + "\n".join(_big_rows()) + "\n")
    assert load_csv(good, max_rows=BIG).n == BIG


@pytest.mark.parametrize("final_newline", [True, False])
def test_limits_near_the_row_count_change_nothing_but_the_verdict(
    tmp_path: Path, final_newline: bool
) -> None:
    # Whether pandas may read the whole file is decided by counting its lines;
    # the data must not depend on it, and one row too many is always refused.
    path = tmp_path / "near.csv"
    path.write_text("x,y\n" + "\n".join(_big_rows()) + ("\n" if final_newline else ""))
    expected = np.arange(BIG, dtype=np.float64)
    for max_rows in (BIG, BIG + 1, 3 * BIG, 10**7):
        np.testing.assert_array_equal(load_csv(path, max_rows=max_rows).x, expected)
    with pytest.raises(DataError, match=rf"more than {BIG - 1:,} data rows"):
        load_csv(path, max_rows=BIG - 1)


def test_a_bom_on_the_first_data_row_of_a_big_file(tmp_path: Path) -> None:
    path = tmp_path / "bom-first.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(_big_rows()).encode() + b"\n")
    data = load_csv(path)
    assert (data.x_label, data.y_label) == ("x", "y")  # no header: the BOM is no name
    np.testing.assert_array_equal(data.x, np.arange(BIG))


# ------------------------------------------------------------ decimal commas
def test_semicolons_with_decimal_commas_load(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("temps;pression\n0,5;1,25\n1;2,5\n2,75;-3,5e2\n")
    assert csv_columns(path) == ["temps", "pression"]
    data = load_csv(path)
    np.testing.assert_array_equal(data.x, [0.5, 1.0, 2.75])
    np.testing.assert_array_equal(data.y, [1.25, 2.5, -350.0])
    assert (data.x_label, data.y_label) == ("temps", "pression")
    bare = tmp_path / "bare.csv"
    bare.write_text("1,5;2,5\n3,5;4\n")
    np.testing.assert_array_equal(load_csv(bare).y, [2.5, 4.0])


def test_big_file_with_decimal_commas_loads_through_pandas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pandas_calls: list[int]
) -> None:
    x, y = points(BIG, seed=11)
    rows = [r.replace(",", "_").replace(".", ",") for r in repr_rows(x, y, ",")]
    path = tmp_path / "excel-big.csv"
    path.write_text("x;y\n" + "\n".join(r.replace("_", ";") for r in rows) + "\n")
    bulk = outcome(path)
    assert pandas_calls
    np.testing.assert_array_equal(np.frombuffer(bulk[1]), x)
    np.testing.assert_array_equal(np.frombuffer(bulk[2]), y)
    careful_only(monkeypatch)
    assert outcome(path) == bulk


def test_a_decimal_point_in_a_decimal_comma_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "mixed-marks.csv"
    path.write_text("x;y\n1,5;2,5\n2;3.5\n")
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value) == (
        f"{path}: line 3, column 'y' (field 2): non-numeric value '3.5'"
    )


def test_decimal_commas_must_show_in_the_first_lines(tmp_path: Path) -> None:
    # As the corpus's semicolon-bad-value.csv: the first rows decide the format.
    path = tmp_path / "late-comma.csv"
    path.write_text("x;y\n1;2\n2;3,5\n")
    with pytest.raises(DataError, match=r"line 3, .*non-numeric value '3,5'"):
        load_csv(path)


def test_a_short_row_in_a_decimal_comma_file_is_not_mixed_delimiters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "short.csv"
    path.write_text("x;y\n1,5;2,5\n2,5\n")
    with pytest.raises(DataError) as info:
        load_csv(path)
    message = str(info.value)
    assert "line 3 has 1 field but the header (line 1) has 2" in message
    assert "mixed" not in message


# ----------------------------------------------------------------------- gzip
def test_gzip_files_load(tmp_path: Path) -> None:
    text = "x,y\n1,2\n3,4.5\n"
    named = tmp_path / "points.csv.gz"
    named.write_bytes(gzip.compress(text.encode()))
    hidden = tmp_path / "compressed-but-called.csv"  # found by its magic bytes
    hidden.write_bytes(gzip.compress(text.encode()))
    for path in (named, hidden):
        assert csv_columns(path) == ["x", "y"]
        data = load_csv(path)
        np.testing.assert_array_equal(data.y, [2.0, 4.5])
        assert data.name == path.name


def test_big_gzip_file_matches_the_plain_one(
    tmp_path: Path, pandas_calls: list[int]
) -> None:
    x, y = points(BIG, seed=5)
    text = "x\ty\n" + "\n".join(repr_rows(x, y, "\t")) + "\n"
    path = tmp_path / "big.tsv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    data = load_csv(path)
    assert pandas_calls
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y, y)


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_damaged_gzip_is_one_clear_line(tmp_path: Path, damage: str) -> None:
    packed = gzip.compress(("x,y\n" + "\n".join(_big_rows())).encode())
    if damage == "truncated":
        packed = packed[: len(packed) // 2]
    else:
        packed = packed[:30] + bytes(40) + packed[70:]
    path = tmp_path / f"{damage}.csv.gz"
    path.write_bytes(packed)
    with pytest.raises(DataError) as info:
        load_csv(path)
    message = str(info.value)
    assert message.startswith(f"{path}: is gzip-compressed but its data are damaged")
    assert message.splitlines() == [message]


def test_gzip_over_the_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.csv.gz"
    path.write_bytes(gzip.compress(("x,y\n" + "\n".join(_big_rows())).encode()))
    with pytest.raises(DataError, match=r"more than 1,000 data rows \(the limit\)"):
        load_csv(path, max_rows=1000)


# ------------------------------------------------ FIFOs and devices: at once
def _refusal_within(seconds: float, call, path) -> DataError:  # type: ignore[no-untyped-def]
    """The DataError ``call(path)`` raises, on a thread that may not hang the run."""
    result: list[BaseException | None] = []

    def attempt() -> None:
        try:
            call(path)
        except BaseException as error:  # handed to the test
            result.append(error)
        else:
            result.append(None)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        # Free a reader stuck in open(): a writer that comes and goes gives EOF.
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"{call.__name__}({path}) still runs after {seconds} s")
    (error,) = result
    assert isinstance(error, DataError), error
    return error


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("call", [load_csv, csv_columns])
def test_a_fifo_is_refused_at_once(tmp_path: Path, call) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    message = str(_refusal_within(10, call, path))
    assert message == (
        f"{path}: is not a regular file but a named pipe (FIFO); "
        "save the data to a file and open that"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_at_once(device: str) -> None:
    message = str(_refusal_within(10, load_csv, device))
    assert message.startswith(f"{device}: is not a regular file but a character")
    assert message.splitlines() == [message]
