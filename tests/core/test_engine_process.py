"""The training engine in a process of its own: the same numbers as in this
one (bit for bit), errors that come back as themselves, a pool that reuses
children, and a child's death reported instead of a hang."""

from __future__ import annotations

import os

import numpy as np
import pytest

from sgd_viewer.core import engine_process
from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.engine import Engine
from sgd_viewer.core.engine_process import (
    ENGINE_VARIABLE,
    EngineLost,
    EngineProcess,
    open_engine,
    start_engine,
)
from sgd_viewer.core.history import COLUMNS
from sgd_viewer.core.recipe import RunRecipe, SettingChange

DATA = generate(60)
START = (-1.0, 1.0)
RUNS = [
    (1, TrainingConfig(optimizer="sgd", lr=0.1)),
    (
        2,
        TrainingConfig(
            optimizer="momentum", lr=0.05, hyperparameters={"momentum": 0.8}
        ),
    ),
    (3, TrainingConfig(optimizer="adam", lr=0.1, schedule="cosine")),
    (4, TrainingConfig(optimizer="rmsprop", lr=0.01, batch_size=8, seed=2)),
]


@pytest.fixture
def remote():
    engine = open_engine(DATA, RUNS, START)
    yield engine
    engine.close()


def _chunks(engine, counts):
    """Every run's rows over chunks of ``counts`` steps, pipelined the way the
    worker does (each chunk requested before the last is looked at)."""
    rows = {run_id: {name: [] for name in COLUMNS} for run_id, _ in RUNS}
    for count in counts:
        engine.request_step(count)
        chunk = engine.collect()
        assert chunk.count == count
        for run_id, batch in chunk.batches.items():
            for name in COLUMNS:
                rows[run_id][name].extend(getattr(batch, name).tolist())
    return rows


def test_a_race_in_the_process_equals_one_in_this_one_bit_for_bit(remote):
    assert remote.overlaps
    assert not Engine.overlaps
    assert remote.torch_version
    local = Engine(DATA, RUNS, START)
    counts = [1, 7, 30, 12]
    assert _chunks(remote, counts) == _chunks(local, counts)
    assert remote.going() is True


def test_commands_change_the_runs_as_they_do_here(remote):
    local = Engine(DATA, RUNS, START)
    for engine in (remote, local):
        engine.step(20)
        assert engine.configure(2, RUNS[1][1].with_changes(lr=0.02)) == 20
        engine.remove(1)
        engine.add(5, TrainingConfig(optimizer="nadam", lr=0.05))
        engine.step(10)
        engine.rewind(25)
        engine.reset((2.0, 3.0))
    far = remote.step(15).batches
    near = local.step(15).batches
    assert sorted(far) == sorted(near) == [2, 3, 4, 5]
    for run_id in far:
        np.testing.assert_array_equal(far[run_id].a, near[run_id].a)
        np.testing.assert_array_equal(far[run_id].loss, near[run_id].loss)
    assert remote.trainer_state(5)["start"] == (2.0, 3.0)
    assert remote.trainer_state(5)["config"].hyperparameters == (
        local.trainer_state(5)["config"].hyperparameters
    )


def test_a_saved_session_replays_in_the_process(remote):
    recipe = RunRecipe(
        RUNS[1][1],
        "momentum",
        "#0072B2",
        (SettingChange(10, 0.01, {"momentum": 0.5}, None),),
    )
    batches, error = remote.load(DATA, START, [(7, recipe, 30)])
    assert error is None
    assert batches[7].step[-1] == 30
    mine, _ = Engine(DATA, [], START).load(DATA, START, [(7, recipe, 30)])
    np.testing.assert_array_equal(batches[7].b, mine[7].b)


def test_previews_and_explanations_come_back_as_plain_values(remote):
    remote.step(5)
    preview = remote.preview(0.0, 0.0, RUNS[0][1], 40)
    assert len(preview) == 40
    update = remote.explain(3, 5)
    assert isinstance(update, dict)
    assert update
    assert remote.explain(3, 0) is None


def test_errors_come_back_as_themselves(remote):
    with pytest.raises(ValueError, match="CUDA"):
        remote.add(9, TrainingConfig(device="cuda"))
    with pytest.raises(KeyError):
        remote.explain(42, 1)
    remote.step(3)  # the child still answers
    remote.request_step(1)
    with pytest.raises(RuntimeError, match="already in flight"):
        remote.request_step(1)
    remote.collect()
    with pytest.raises(RuntimeError, match="no chunk"):
        remote.collect()


def test_a_closed_engine_goes_back_to_the_pool_and_starts_fresh():
    first = open_engine(DATA, RUNS, START)
    first.step(12)
    pid = first._process.pid
    first.close()
    second = open_engine(DATA, RUNS[:1], START)
    try:
        assert second._process.pid == pid  # no new process, no new torch import
        assert second.trainer_state(1)["step"] == 0
        with pytest.raises(KeyError):
            second.trainer_state(2)
    finally:
        second.close()


def test_a_dead_engine_is_reported_not_waited_for():
    engine = open_engine(DATA, RUNS, START)
    engine._process.kill()
    engine._process.join(timeout=10)
    with pytest.raises(EngineLost, match="training engine has stopped"):
        engine.step(1)
    engine.close()  # not given back: the pool never hands out a dead child
    fresh = open_engine(DATA, RUNS, START)
    try:
        assert fresh.alive
        assert fresh._process.pid != engine._process.pid
    finally:
        fresh.close()


def test_the_engine_can_stay_in_this_process(monkeypatch):
    monkeypatch.setenv(ENGINE_VARIABLE, "thread")
    assert type(start_engine(DATA, RUNS, START)) is Engine


def test_a_process_that_cannot_start_leaves_the_engine_here(monkeypatch, capsys):
    def no_process(*args):
        raise OSError("no more processes")

    monkeypatch.delenv(ENGINE_VARIABLE, raising=False)
    monkeypatch.setattr(engine_process, "open_engine", no_process)
    engine = start_engine(DATA, RUNS, START)
    assert type(engine) is Engine
    assert "no more processes" in capsys.readouterr().err


def test_the_child_is_another_process():
    engine = EngineProcess()
    try:
        assert engine.alive
        assert engine._process.pid != os.getpid()
    finally:
        engine.terminate()
    assert not engine.alive
