"""Session files: what they hold, that they read back exactly, and that every
hostile file is refused with one line naming it and the problem."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from bad_sessions import (
    BAD_SESSIONS,
    EXPECTED_SESSIONS,
    SESSION_CORPUS,
    check_refusal,
)

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset, generate, load_bundled
from sgd_viewer.core.display import DisplayOptions
from sgd_viewer.core.recipe import RunRecipe, SettingChange, play_recipe
from sgd_viewer.core.session_file import (
    FORMAT,
    MAX_FILE_BYTES,
    MAX_POINTS,
    VERSION,
    RunEntry,
    SessionFileError,
    parse_session,
    read_session,
    session_document,
    write_session,
)

START = (-1.0, 1.0)


def _recipe(**changes) -> RunRecipe:
    config = TrainingConfig(optimizer="momentum", lr=0.05).with_changes(**changes)
    return RunRecipe(
        config,
        "mine",
        "#0072b2",
        (SettingChange(40, 0.02, dict(config.hyperparameters), 8),),
    )


def _saved(tmp_path: Path, data: Dataset, **options) -> Path:
    path = tmp_path / "s.json"
    entries = [RunEntry(_recipe(), 120, visible=False, custom_label=True)]
    write_session(path, session_document(data, START, entries, **options))
    return path


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize(
    "data",
    [
        generate(n=40, a=2.0, b=-1.0, noise=0.5, seed=7),
        load_bundled("anscombe-3"),
        Dataset(
            x=np.array([0.1, 0.25, 1 / 3, 0.9]),
            y=np.array([1.0, 2.0, 2.5, 7.25]),
            name="my points",
            source="/somewhere/my-points.csv",
            x_label="hours",
            y_label="score",
        ),
    ],
    ids=["generated", "bundled", "points"],
)
def test_a_session_reads_back_exactly(tmp_path: Path, data: Dataset) -> None:
    path = _saved(
        tmp_path,
        data,
        selected=0,
        viewed_step=60,
        display=DisplayOptions(residuals="squares", momentum=True),
        pinned=(2.5, 7.0),
        views={"fit": {"range": [0, 1, 2, 3], "auto": False}},
    )
    saved = read_session(path)
    assert np.array_equal(saved.data.x, data.x)
    assert np.array_equal(saved.data.y, data.y)
    assert saved.data.x_label == data.x_label
    assert saved.start == START
    (entry,) = saved.runs
    assert entry.recipe == _recipe()
    assert (entry.steps, entry.visible, entry.custom_label) == (120, False, True)
    assert saved.viewed_step == 60
    assert saved.display == DisplayOptions(residuals="squares", momentum=True)
    assert saved.pinned == (2.5, 7.0)
    assert saved.views["fit"] == {"range": [0.0, 1.0, 2.0, 3.0], "auto": False}


def test_points_keep_the_original_file_name_only(tmp_path: Path) -> None:
    data = Dataset(
        x=np.array([0.0, 1.0, 2.0]),
        y=np.array([1.0, 3.0, 2.0]),
        name="pts",
        source="/home/someone/private/pts.csv",
    )
    document = json.loads(_saved(tmp_path, data).read_text(encoding="utf-8"))
    assert document["data"]["name"] == "pts.csv"
    assert "private" not in json.dumps(document)


def test_the_document_says_what_it_is(tmp_path: Path) -> None:
    document = json.loads(_saved(tmp_path, generate()).read_text(encoding="utf-8"))
    assert document["format"] == FORMAT
    assert document["version"] == VERSION
    assert document["data"] == {
        "kind": "generated",
        "n": 50,
        "a": 3.0,
        "b": 8.0,
        "noise": 0.3,
        "seed": 0,
    }
    assert document["runs"][0]["changes"][0]["step"] == 40


def test_a_replayed_session_run_equals_the_run_it_saved(tmp_path: Path) -> None:
    data = generate(n=30, seed=3)
    recipe = _recipe(batch_size=4, seed=5)
    original, _ = play_recipe(recipe, data, START, 150)
    path = tmp_path / "s.json"
    entries = [RunEntry(recipe, 150)]
    write_session(path, session_document(data, START, entries))
    saved = read_session(path)
    replayed, _ = play_recipe(saved.runs[0].recipe, saved.data, saved.start, 150)
    assert replayed.parameters == original.parameters  # bit for bit


def test_data_too_big_to_embed_are_refused_when_saving() -> None:
    data = Dataset(
        x=np.linspace(0, 1, MAX_POINTS + 1),
        y=np.zeros(MAX_POINTS + 1),
        name="big",
        source="big.csv",
    )
    with pytest.raises(ValueError, match=r"at most 1,000,000"):
        session_document(data, START, [RunEntry(_recipe(), 0)])


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = _saved(tmp_path, generate())
    before = path.read_bytes()
    document = session_document(generate(), START, [RunEntry(_recipe(), 5)])
    document["start"] = [float("nan"), 0.0]  # json refuses it before writing
    with pytest.raises(ValueError, match="Out of range float"):
        write_session(path, document)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


# ---------------------------------------------------------------- the corpus
def test_the_corpus_is_big_enough_and_documented() -> None:
    assert len(SESSION_CORPUS) >= 25
    assert sorted(EXPECTED_SESSIONS) == SESSION_CORPUS
    readme = (BAD_SESSIONS / "README.md").read_text(encoding="utf-8")
    assert [name for name in SESSION_CORPUS if f"`{name}`" not in readme] == []


@pytest.mark.parametrize("name", SESSION_CORPUS)
def test_every_hostile_session_is_refused_in_one_line(name: str) -> None:
    path = BAD_SESSIONS / name
    with pytest.raises(SessionFileError) as refused:
        read_session(path)
    check_refusal(str(refused.value), path, EXPECTED_SESSIONS[name])


def test_nothing_in_a_session_is_unpickled_evaluated_or_imported(
    monkeypatch,
) -> None:
    import builtins
    import pickle

    def forbidden(*_args, **_kwargs):
        raise AssertionError("a session file must never run code")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    for name in SESSION_CORPUS:
        with pytest.raises(SessionFileError):
            read_session(BAD_SESSIONS / name)


def test_a_100_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(100 * 2**20)  # sparse: costs no disk
    with pytest.raises(SessionFileError) as refused:
        read_session(path)
    check_refusal(str(refused.value), path, ["100 mb", f"{MAX_FILE_BYTES // 2**20} mb"])


def test_more_points_than_the_limit_are_refused(tmp_path: Path) -> None:
    document = json.loads((BAD_SESSIONS / "xy-lengths-differ.json").read_text())
    zeros = [0] * (MAX_POINTS + 1)
    document["data"] = {"kind": "points", "name": "p.csv", "x": zeros, "y": zeros}
    path = tmp_path / "many.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(SessionFileError) as refused:
        read_session(path)
    check_refusal(str(refused.value), path, ["data.x", "at most 1,000,000"])


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "pipe.json"
    os.mkfifo(path)  # reading it would wait for a writer forever
    with pytest.raises(SessionFileError) as refused:
        read_session(path)
    check_refusal(str(refused.value), path, ["not a regular file"])


@pytest.mark.parametrize(
    ("make", "fragments"),
    [
        (lambda p: p.mkdir(), ["is a directory"]),
        (lambda p: None, ["file not found"]),
    ],
    ids=["directory", "missing"],
)
def test_no_file_to_read_is_refused(tmp_path: Path, make, fragments) -> None:
    path = tmp_path / "s.json"
    make(path)
    with pytest.raises(SessionFileError) as refused:
        read_session(path)
    check_refusal(str(refused.value), path, fragments)


def test_parse_names_the_source_given() -> None:
    with pytest.raises(SessionFileError, match=r"^pasted: is not valid JSON"):
        parse_session("{", "pasted")
