"""Every bad input makes load_csv raise DataError with one clear line.

The committed corpus lives in tests/data/bad/ with its expectations in
tests/data/bad/expected.json (file name -> lower-case message fragments); the CLI and
GUI tests reuse that table. Inputs that cannot be committed as files (a missing path,
a directory, an unreadable file, a 1 MB line, too many rows) are built here.
"""

from __future__ import annotations

import pathlib
from pathlib import Path

import pytest
from bad_corpus import BAD_DIR, CORPUS, EXPECTED

from sgd_viewer.core.data import DEFAULT_MAX_ROWS, DataError, csv_columns, load_csv


def check_message(err: DataError, path: Path, fragments: list[str]) -> None:
    message = str(err)
    assert message.splitlines() == [message], f"not one line: {message!r}"
    assert message.startswith(str(path)), message
    assert path.name in message
    lowered = message.lower()
    missing = [f for f in fragments if f not in lowered]
    assert not missing, f"{message!r} lacks {missing}"


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 30


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(EXPECTED) == CORPUS
    for name, fragments in EXPECTED.items():
        assert fragments, name
        assert all(f == f.lower() for f in fragments), name


def test_readme_lists_every_file() -> None:
    readme = (BAD_DIR / "README.md").read_text(encoding="utf-8")
    missing = [name for name in CORPUS if f"`{name}`" not in readme]
    assert not missing


@pytest.mark.parametrize("name", CORPUS)
def test_bad_file_raises_one_clear_line(name: str) -> None:
    path = BAD_DIR / name
    with pytest.raises(DataError) as info:
        load_csv(path)
    check_message(info.value, path, EXPECTED[name])


# -------------------------------------------------------- cases built at run time


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    for call in (load_csv, csv_columns):
        with pytest.raises(DataError) as info:
            call(path)
        check_message(info.value, path, ["file not found"])


def test_directory(tmp_path: Path) -> None:
    path = tmp_path / "folder.csv"
    path.mkdir()
    for call in (load_csv, csv_columns):
        with pytest.raises(DataError) as info:
            call(path)
        check_message(info.value, path, ["is a directory"])


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 000 does not stop root, so simulate the refusal the OS would give.
    path = tmp_path / "secret.csv"
    path.write_text("x,y\n1,2\n2,3\n")
    real_open = pathlib.Path.open

    def refuse(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pathlib.Path, "open", refuse)
    for call in (load_csv, csv_columns):
        with pytest.raises(DataError) as info:
            call(path)
        check_message(info.value, path, ["permission denied"])


def test_other_os_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "flaky.csv"
    path.write_text("x,y\n1,2\n2,3\n")

    def broken(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(pathlib.Path, "open", broken)
    with pytest.raises(DataError) as info:
        load_csv(path)
    check_message(info.value, path, ["cannot be read", "input/output error"])


def test_single_line_longer_than_1_mb(tmp_path: Path) -> None:
    path = tmp_path / "oneline.csv"
    path.write_bytes(b"x,y\n1,2\n" + b"7" * (1 << 20) + b"q,5")  # no newline at all
    with pytest.raises(DataError) as info:
        load_csv(path)
    check_message(info.value, path, ["line 3", "longer than 1 mb"])


def test_huge_single_line_stops_early(tmp_path: Path) -> None:
    # 20 MB of garbage on one line: rejected after the first chunk, not after all.
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"abc;" * (5 << 20))
    with pytest.raises(DataError) as info:
        load_csv(path)
    check_message(info.value, path, ["line 1", "longer than 1 mb"])


def test_over_the_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i}\n" for i in range(1001)))
    with pytest.raises(DataError) as info:
        load_csv(path, max_rows=1000)
    check_message(info.value, path, ["more than 1,000 data rows (the limit)"])
    assert load_csv(path, max_rows=1001).n == 1001


def test_row_limit_stops_reading_early(tmp_path: Path) -> None:
    # The bad value sits far beyond the limit: it must never be parsed.
    path = tmp_path / "toolong.csv"
    rows = "".join(f"{i},{i}\n" for i in range(600_000))
    path.write_text("x,y\n" + rows + "1,oops\n")
    with pytest.raises(DataError) as info:
        load_csv(path, max_rows=1000)
    check_message(info.value, path, ["more than 1,000 data rows"])


def test_default_row_limit_is_ten_million() -> None:
    assert DEFAULT_MAX_ROWS == 10_000_000
    assert load_csv.__kwdefaults__ == {"max_rows": 10_000_000}
    assert f"{DEFAULT_MAX_ROWS:,}" == "10,000,000"


@pytest.mark.parametrize("bad", [0, 1, 2.5, True])
def test_bad_max_rows(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("1,2\n2,3\n")
    with pytest.raises(DataError, match="max_rows"):
        load_csv(path, max_rows=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["empty.csv", "binary.png", "utf16.csv", "only-comments.csv"]
)
def test_csv_columns_rejects_unreadable_corpus_files(name: str) -> None:
    path = BAD_DIR / name
    with pytest.raises(DataError) as info:
        csv_columns(path)
    check_message(info.value, path, EXPECTED[name])
