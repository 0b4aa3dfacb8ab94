"""Big session files are read and written in a helper process while the
window goes on (``gui.session_io``, ``core.helper_process``): the window
answers at once, keeps its data until the file is read, and ends as a
small file would, or with the error said."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.dataset import Dataset
from sgd_viewer.core.recipe import RunRecipe
from sgd_viewer.core.session_file import RunEntry, read_session, session_document
from sgd_viewer.core.session_io import BACKGROUND_FILE_BYTES, BACKGROUND_POINTS, save

POINTS = BACKGROUND_POINTS + 20_000
SAVED_STEP = 12


def _big_data() -> Dataset:
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, POINTS)
    y = 3 * x + 8 + rng.normal(0, 0.3, POINTS)
    return Dataset(x=x, y=y, name="big", source="big.csv")


@pytest.fixture
def big_file(tmp_path) -> str:
    path = str(tmp_path / "big.json")
    recipe = RunRecipe(TrainingConfig(optimizer="momentum", lr=0.05), "", "#0072b2", ())
    save(
        path, session_document(_big_data(), (-1.0, 1.0), [RunEntry(recipe, SAVED_STEP)])
    )
    return path


def test_saving_big_data_goes_on_while_the_window_answers(make_window, qtbot, tmp_path):
    window = make_window(data=_big_data())
    path = str(tmp_path / "saved.json")
    with qtbot.waitSignal(window.session_job.finished, timeout=60_000) as done:
        assert window.save_session(path) is True
        assert window.session_job.busy  # back at once, the file still to come
    assert done.args == ["loaded"]
    assert window.session_path == path
    assert window.statusBar().currentMessage() == f"Saved the session to {path}"
    saved = read_session(path)
    assert np.array_equal(saved.data.x, window.session.data.x)
    assert np.array_equal(saved.data.y, window.session.data.y)


def test_a_big_session_opens_while_the_window_keeps_its_data(window, qtbot, big_file):
    with open(big_file, encoding="utf-8") as text:
        assert json.load(text)["data"]["kind"] == "points"  # embedded, not a recipe
    assert os.path.getsize(big_file) >= BACKGROUND_FILE_BYTES
    old = window.session.data
    with qtbot.waitSignal(window.session_opened, timeout=60_000):
        assert window.open_session(big_file) is True
        assert window.session_job.busy
        assert window.session.data is old  # not read yet: the window goes on
    snap = window.snapshot()
    assert snap["n"] == POINTS
    assert snap["step"] == SAVED_STEP
    assert window.session_path == big_file
    assert np.array_equal(window.session.data.x, _big_data().x)


def test_a_bad_big_session_is_refused_and_changes_nothing(window, qtbot, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[" + "1.5, " * (BACKGROUND_FILE_BYTES // 5) + "oops]")
    before = window.snapshot()
    with qtbot.waitSignal(window.session_job.finished, timeout=60_000) as done:
        assert window.open_session(str(path)) is True
    assert done.args == ["failed"]
    assert window.last_error.startswith(f"{path}: ")
    assert "JSON" in window.last_error
    assert window.snapshot() == before


def test_a_big_save_that_cannot_be_written_says_why(make_window, qtbot, tmp_path):
    window = make_window(data=_big_data())
    path = str(tmp_path / "missing" / "saved.json")
    with qtbot.waitSignal(window.session_job.finished, timeout=60_000) as done:
        assert window.save_session(path) is True
    assert done.args == ["failed"]
    assert window.last_error.startswith(f"{path}: cannot be written")
    assert window.session_path is None


def test_a_screenshot_waits_for_a_big_file(big_file, tmp_path, capsys):
    from sgd_viewer.cli import main

    picture = tmp_path / "big.png"
    assert main([big_file, "--screenshot", str(picture), "--steps", "3"]) == 0
    assert picture.stat().st_size > 10_000
    bad = tmp_path / "bad.json"
    with open(big_file, encoding="utf-8") as text:
        document = json.load(text)
    document["data"]["x"][5] = "oops"
    bad.write_text(json.dumps(document), encoding="utf-8")
    assert main([str(bad), "--screenshot", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: data.x[5]: must be a number, got string 'oops'" in err
    assert not (tmp_path / "x.png").exists()
