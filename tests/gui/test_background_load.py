"""Big data load off the GUI thread: the window keeps working, and keeps its data
until the new ones are valid; Cancel and errors leave it as it was."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QPushButton

from sgd_viewer.core.data import DEFAULT_MAX_ROWS, generate, load_csv
from sgd_viewer.gui import data_loader, window_actions

# Rows enough for a file over data_loader.BACKGROUND_FILE_BYTES.
BIG_ROWS = 250_000
BAD_LINE = BIG_ROWS - 5  # 1-based, the header is line 1


def write_big(path: Path, bad_line: int | None = None) -> Path:
    data = generate(BIG_ROWS, a=-4.0, b=2.0, seed=9)
    rows = list(map("{!r},{!r}".format, data.x.tolist(), data.y.tolist()))
    if bad_line is not None:
        rows[bad_line - 2] = "0.5,n/a"
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    assert path.stat().st_size > data_loader.BACKGROUND_FILE_BYTES
    return path


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    return write_big(tmp_path / "big.csv")


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch):
    """Holds the window's CSV loads until ``gate.set()`` (set again at teardown,
    so that no load thread outlives the test)."""
    release = threading.Event()

    def held_load_csv(path, x=None, y=None, *, max_rows=DEFAULT_MAX_ROWS):  # type: ignore[no-untyped-def]
        if not release.wait(60):
            raise AssertionError("the test never released the load")
        return load_csv(path, x=x, y=y, max_rows=max_rows)

    monkeypatch.setattr(window_actions, "load_csv", held_load_csv)
    yield release
    release.set()


def error_dialog(window) -> QMessageBox | None:  # type: ignore[no-untyped-def]
    return window.findChild(QMessageBox, "errorDialog")


def loading_dialog(window) -> QProgressDialog | None:  # type: ignore[no-untyped-def]
    """The busy dialog while it shows (a closed one may await deletion)."""
    shown = [
        dialog
        for dialog in window.findChildren(QProgressDialog, "loadingDialog")
        if dialog.isVisible()
    ]
    assert len(shown) <= 1
    return shown[0] if shown else None


def test_a_big_file_loads_in_the_background(window, qtbot, big_file):
    old = window.session.data
    before = window.snapshot()
    with qtbot.waitSignal(window.data_loader.finished, timeout=60_000) as done:
        assert window.open_csv(str(big_file)) is True
        # Back at once, before any of the file's data could be used.
        assert window.data_loader.busy
        assert window.session.data is old
        assert window.snapshot() == before
    assert done.args == ["loaded"]
    assert not window.data_loader.busy
    assert window.snapshot()["n"] == BIG_ROWS
    assert window.snapshot()["data"] == "big.csv"
    np.testing.assert_array_equal(window.session.data.x, load_csv(big_file).x)
    assert error_dialog(window) is None
    assert loading_dialog(window) is None
    assert window.data_loader.dialog is None


def test_the_window_keeps_working_on_the_old_data_meanwhile(
    window, qtbot, big_file, gate
):
    old = window.session.data
    assert window.open_csv(str(big_file)) is True
    # The busy dialog comes after a moment, not modal, with a Cancel button.
    qtbot.waitUntil(lambda: loading_dialog(window) is not None, timeout=10_000)
    dialog = loading_dialog(window)
    assert dialog is window.data_loader.dialog
    assert dialog.windowModality() == Qt.WindowModality.NonModal
    assert (dialog.minimum(), dialog.maximum()) == (0, 0)  # busy: no percentage
    # Step still works, on the old data.
    window.step(4)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 4)
    assert window.session.data is old
    assert window.snapshot()["n"] == 50
    with qtbot.waitSignal(window.data_loader.finished, timeout=60_000) as done:
        gate.set()
    assert done.args == ["loaded"]
    assert window.snapshot()["n"] == BIG_ROWS
    assert window.snapshot()["step"] == 0  # new data: the runs start again
    assert loading_dialog(window) is None
    assert window.data_loader.dialog is None
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 1)


def test_cancel_keeps_the_old_data(window, qtbot, big_file, gate, settle):
    window.step(3)
    settle(window, 3)
    before = window.snapshot()
    old = window.session.data
    assert window.open_csv(str(big_file)) is True
    qtbot.waitUntil(lambda: loading_dialog(window) is not None, timeout=10_000)
    dialog = loading_dialog(window)
    assert dialog is window.data_loader.dialog
    cancel = dialog.findChild(QPushButton)
    assert cancel.text() == "Cancel"
    with qtbot.waitSignal(window.data_loader.finished) as done:
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert done.args == ["cancelled"]
    assert not window.data_loader.busy
    # The load finishes on its thread anyway; what it read is dropped.
    gate.set()
    assert window.data_loader.wait(60)
    QApplication.processEvents()  # deliver the late result, if it were wanted
    assert window.session.data is old
    assert window.snapshot() == before
    assert loading_dialog(window) is None
    assert window.data_loader.dialog is None
    assert error_dialog(window) is None
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 4)


def test_a_bad_big_file_shows_the_error_and_keeps_the_old_data(
    window, qtbot, tmp_path, settle
):
    bad = write_big(tmp_path / "bad-big.csv", bad_line=BAD_LINE)
    window.step(7)
    settle(window, 7)
    before = window.snapshot()
    old = window.session.data
    with qtbot.waitSignal(window.data_loader.finished, timeout=60_000) as done:
        assert window.open_csv(str(bad)) is True
    assert done.args == ["failed"]
    dialog = error_dialog(window)
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.windowTitle() == "Cannot use these data"
    assert dialog.text() == (
        f"{bad}: line {BAD_LINE}, column 'y' (field 2): non-numeric value 'n/a'"
    )
    assert window.last_error == dialog.text()
    assert window.session.data is old
    assert window.snapshot() == before
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 8)
    dialog.close()


def test_newer_data_win_over_a_load_under_way(window, qtbot, big_file, gate):
    assert window.open_csv(str(big_file)) is True
    with qtbot.waitSignal(window.data_loader.finished) as done:
        window.load_dataset("anscombe-1")  # small: at once
    assert done.args == ["cancelled"]
    assert window.snapshot()["n"] == 11
    gate.set()
    assert window.data_loader.wait(60)
    QApplication.processEvents()
    assert window.snapshot()["n"] == 11
    assert window.session.data.name == "anscombe-1"


def test_many_generated_points_come_from_the_background(window, qtbot):
    old = window.session.data
    n = data_loader.BACKGROUND_POINTS + 1
    params = {"n": n, "a": 1.5, "b": -2.0, "noise": 0.1, "seed": 4}
    with qtbot.waitSignal(window.data_loader.finished, timeout=60_000) as done:
        window.regenerate(params)
        assert window.data_loader.busy
        assert window.session.data is old
    assert done.args == ["loaded"]
    assert window.snapshot()["n"] == n
    np.testing.assert_array_equal(window.session.data.y, generate(**params).y)


def test_small_loads_stay_at_once(window, tmp_path):
    small = tmp_path / "small.csv"
    small.write_text("x,y\n0,1\n1,3\n2,5\n")
    assert window.open_csv(str(small)) is True
    assert window.snapshot()["n"] == 3  # no waiting: already there
    assert not window.data_loader.busy
    window.regenerate({"n": 1_000, "a": 1.0, "b": 0.0, "noise": 0.0, "seed": 1})
    assert window.snapshot()["n"] == 1_000
    assert not window.data_loader.busy


def test_which_files_load_in_the_background(tmp_path, big_file):
    small = tmp_path / "small.csv"
    small.write_text("x,y\n0,1\n1,3\n")
    assert not data_loader.file_loads_in_background(small, DEFAULT_MAX_ROWS)
    assert data_loader.file_loads_in_background(big_file, DEFAULT_MAX_ROWS)
    # More lines than the limit: refused where asked, not later.
    assert not data_loader.file_loads_in_background(big_file, BIG_ROWS - 1)
    assert data_loader.file_loads_in_background(big_file, BIG_ROWS)
    assert data_loader.file_loads_in_background(big_file, 3 * BIG_ROWS)
    assert not data_loader.file_loads_in_background(tmp_path / "gone.csv", 10)
    assert not data_loader.file_loads_in_background(tmp_path, 10)
