"""Every bad input, at every entry: the headless CLI and the window.

For each file of the bad-input corpus (tests/data/bad, expectations in its
expected.json) and for the cases built at run time (a directory, a missing
path, a file over the row limit):

* ``sgd-viewer fit --data FILE`` exits 2 with exactly one stderr line that
  names the file and holds every expected fragment (the corpus files and a
  missing path are checked by tests/cli/test_fit.py; the cases made at run
  time are checked here);
* the window's ``open_csv(FILE)`` shows the error dialog with the same
  message and keeps everything it had: the snapshot, the history, the data,
  and Step still works.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from sgd_viewer import cli
from sgd_viewer.core import data as core_data
from sgd_viewer.core.history import COLUMNS

from .helpers import BAD_DIR, CORPUS, EXPECTED, check_message

SMALL_LIMIT = 1000


def _generated_case(kind: str, tmp_path: Path, monkeypatch) -> tuple[Path, list[str]]:
    """A bad input that cannot be committed: made here, with its fragments."""
    if kind == "directory":
        path = tmp_path / "folder.csv"
        path.mkdir()
        return path, ["is a directory"]
    if kind == "missing":
        return tmp_path / "nowhere.csv", ["file not found"]
    if kind == "too-many-rows":
        # The limit is load_csv's keyword default: lower it for this test only,
        # for every caller (CLI and window) alike.
        monkeypatch.setitem(core_data.load_csv.__kwdefaults__, "max_rows", SMALL_LIMIT)
        path = tmp_path / "rows-over-limit.csv"
        rows = np.arange(SMALL_LIMIT + 1)
        path.write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in rows))
        return path, [f"more than {SMALL_LIMIT:,} data rows", "the limit"]
    raise AssertionError(kind)


GENERATED = ["directory", "missing", "too-many-rows"]


def _cases():
    return [pytest.param(name, id=name) for name in CORPUS] + [
        pytest.param(f"<{kind}>", id=kind) for kind in GENERATED
    ]


def _resolve(case: str, tmp_path: Path, monkeypatch) -> tuple[Path, list[str]]:
    if case.startswith("<"):
        return _generated_case(case.strip("<>"), tmp_path, monkeypatch)
    return BAD_DIR / case, EXPECTED[case]


def test_every_corpus_file_is_covered():
    assert sorted(EXPECTED) == CORPUS
    assert len(CORPUS) >= 40


# ----------------------------------------------------------------------- CLI
@pytest.mark.parametrize("kind", ["directory", "too-many-rows"])
def test_fit_refuses_with_one_line_and_exit_2(kind, tmp_path, monkeypatch, capsys):
    path, fragments = _generated_case(kind, tmp_path, monkeypatch)
    code = cli.main(["fit", "--data", str(path)])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_BAD_INPUT == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sgd-viewer fit: error: ")
    check_message(lines[0], path.name, fragments)


# -------------------------------------------------------------------- window
def _history_copy(window) -> dict[str, np.ndarray]:
    return {name: window.history.column(name).copy() for name in COLUMNS}


@pytest.mark.parametrize("case", _cases())
def test_window_shows_the_error_and_keeps_its_run(
    case, make_window, qtbot, tmp_path, monkeypatch, settle
):
    path, fragments = _resolve(case, tmp_path, monkeypatch)
    window = make_window()
    window.step(7)
    settle(window, 7)
    before = window.snapshot()
    history = _history_copy(window)
    data, problem = window.session.data, window.problem

    assert window.open_csv(str(path)) is False

    dialog = window.findChild(QMessageBox, "errorDialog")
    assert dialog is not None
    assert dialog.isVisible()
    check_message(dialog.text(), path.name, fragments)
    assert window.snapshot() == before
    after = _history_copy(window)
    for name in COLUMNS:
        np.testing.assert_array_equal(after[name], history[name], err_msg=name)
    assert window.session.data is data
    assert window.problem is problem
    assert window.fit_view.line_parameters == (before["a"], before["b"])
    # The run goes on from where it was.
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 8)
    assert window.history.column("step")[0] == 1
    dialog.close()


# ---------------------------------------------------------------- real limit
@pytest.fixture(scope="module")
def real_over_limit_file(tmp_path_factory) -> Path:
    """10,000,001 data rows (40 MB): one more than the real default limit."""
    path = tmp_path_factory.mktemp("rows") / "ten-million-and-one.csv"
    block = "".join(f"{i},{3 * i + 1}\n" for i in range(10)).encode()
    rows = core_data.DEFAULT_MAX_ROWS + 1
    assert rows % 10 == 1
    with path.open("wb") as fh:
        fh.write(b"x,y\n")
        fh.write(block * (rows // 10))
        fh.write(b"5,16\n")
    return path


REAL_LIMIT_FRAGMENTS = [f"more than {core_data.DEFAULT_MAX_ROWS:,} data rows"]


@pytest.mark.soak
def test_fit_refuses_a_real_file_over_the_row_limit(real_over_limit_file, capsys):
    code = cli.main(["fit", "--data", str(real_over_limit_file)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    check_message(err.strip(), real_over_limit_file.name, REAL_LIMIT_FRAGMENTS)


@pytest.mark.soak
def test_window_refuses_a_real_file_over_the_row_limit(
    real_over_limit_file, make_window, qtbot, settle
):
    window = make_window()
    window.step(3)
    settle(window, 3)
    before = window.snapshot()
    assert window.open_csv(str(real_over_limit_file)) is False
    dialog = window.findChild(QMessageBox, "errorDialog")
    assert dialog is not None
    check_message(dialog.text(), real_over_limit_file.name, REAL_LIMIT_FRAGMENTS)
    assert window.snapshot() == before
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 4)
    dialog.close()
