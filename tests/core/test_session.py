"""The session model: runs (1 to 8) with colours and labels, mid-run changes
recorded in each run's recipe, steps recorded from the worker, the viewed
step, continuing from the past, and the events its listeners get.

No torch: the steps are StepBatch objects made here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.history import COLUMNS, StepBatch
from sgd_viewer.core.recipe import MAX_RUNS, PALETTE, SettingChange, default_label
from sgd_viewer.core.session import Session

DATA = generate(50)
START = (-1.0, 1.0)
SGD = TrainingConfig(optimizer="sgd", lr=0.1)
ADAM = TrainingConfig(optimizer="adam", lr=0.05)
MOMENTUM = TrainingConfig(optimizer="momentum", lr=0.02)


def _batch(first: int, last: int, *, offset: float = 0.0, diverged: bool = False):
    """Steps ``first`` … ``last`` with values that tell steps (and runs) apart."""
    steps = np.arange(first, last + 1)
    rows = {name: [] for name in COLUMNS}
    rows["step"] = steps.tolist()
    rows["epoch"] = steps.tolist()
    rows["a"] = (3.0 - 1.0 / steps + offset).tolist()
    rows["b"] = (8.0 - 2.0 / steps + offset).tolist()
    rows["loss"] = (1.0 / steps).tolist()
    rows["batch_loss"] = (1.5 / steps).tolist()
    rows["grad_a"] = (-0.5 / steps).tolist()
    rows["grad_b"] = (-0.25 / steps).tolist()
    rows["lr"] = [0.1] * len(steps)
    if not diverged:
        return StepBatch.from_rows(rows)
    message = f"Diverged at step {last + 1}"
    return StepBatch.from_rows(
        rows, status="diverged", message=message, diverged_step=last + 1
    )


class Events:
    def __init__(self, session: Session) -> None:
        self.names: list[str] = []
        session.subscribe(self.names.append)

    def take(self) -> list[str]:
        names = list(self.names)
        self.names.clear()
        return names


def _session(*configs: TrainingConfig) -> Session:
    return Session(DATA, START, list(configs) or [SGD])


def _record(session: Session, index: int, first: int, last: int, **kwargs):
    run = session.runs[index]
    return session.record(
        session.generation, {run.id: _batch(first, last, offset=index, **kwargs)}
    )


# ------------------------------------------------------------------- runs
def test_a_new_session_holds_its_runs() -> None:
    session = _session(SGD, ADAM)
    assert [run.config for run in session.runs] == [SGD, ADAM]
    assert [run.label for run in session.runs] == [
        default_label(SGD),
        default_label(ADAM),
    ]
    assert len({run.id for run in session.runs}) == 2
    assert session.selected == 0
    assert session.run is session.runs[0]
    assert session.latest_step == 0
    assert session.shown_step == 0
    assert session.problem.n == DATA.n


def test_no_configs_means_one_default_run() -> None:
    session = Session(DATA, START, [])
    assert [run.config for run in session.runs] == [TrainingConfig()]


def test_up_to_eight_runs_with_distinct_colours() -> None:
    session = _session()
    for lr in (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07):
        index = session.add_run(SGD.with_changes(lr=lr))
        assert index == len(session.runs) - 1
    assert len(session.runs) == MAX_RUNS
    colours = [run.colour for run in session.runs]
    assert len(set(colours)) == MAX_RUNS
    assert set(colours) == set(PALETTE)
    assert len({run.id for run in session.runs}) == MAX_RUNS
    with pytest.raises(ValueError, match=str(MAX_RUNS)):
        session.add_run(ADAM)
    assert len(session.runs) == MAX_RUNS


def test_add_run_with_a_label_of_its_own() -> None:
    session = _session()
    index = session.add_run(ADAM, label="mine")
    assert session.runs[index].label == "mine"
    assert session.runs[index].custom_label


def test_remove_frees_the_colour_and_the_last_run_stays() -> None:
    session = _session(SGD, ADAM, MOMENTUM)
    removed = session.remove_run(1)
    assert removed.config == ADAM
    assert [run.config for run in session.runs] == [SGD, MOMENTUM]
    index = session.add_run(ADAM)
    assert session.runs[index].colour == removed.colour
    session.remove_run(0)
    session.remove_run(0)
    with pytest.raises(ValueError, match="last run"):
        session.remove_run(0)
    assert len(session.runs) == 1
    with pytest.raises(IndexError):
        _session(SGD, ADAM).remove_run(2)


def test_removing_the_selected_last_run_selects_the_one_before() -> None:
    session = _session(SGD, ADAM, MOMENTUM)
    session.select(2)
    session.remove_run(2)
    assert session.selected == 1
    assert session.run.config == ADAM


def test_removing_an_earlier_run_keeps_the_selected_run() -> None:
    session = _session(SGD, ADAM, MOMENTUM)
    session.select(1)
    selected = session.run
    session.remove_run(0)
    assert session.run is selected


def test_select_and_set_visible() -> None:
    session = _session(SGD, ADAM)
    session.select(1)
    assert session.run.config == ADAM
    with pytest.raises(IndexError):
        session.select(2)
    with pytest.raises(IndexError):
        session.select(-1)
    assert session.selected == 1
    session.set_visible(0, False)
    assert session.runs[0].visible is False
    assert session.runs[1].visible is True
    session.set_visible(0, True)
    assert session.runs[0].visible is True


def test_rename_and_an_empty_name_restores_the_generated_label() -> None:
    session = _session(SGD)
    session.rename(0, "  fast one ")
    assert session.run.label == "fast one"
    assert session.run.custom_label
    # A custom label survives new settings.
    session.configure(0, SGD.with_changes(lr=0.3))
    assert session.run.label == "fast one"
    session.rename(0, "   ")
    assert session.run.label == default_label(SGD.with_changes(lr=0.3))
    assert not session.run.custom_label
    session.configure(0, SGD.with_changes(lr=0.2))
    assert session.run.label == default_label(SGD.with_changes(lr=0.2))


# -------------------------------------------------------------- configure
def test_a_mid_run_lr_change_is_recorded_at_the_latest_step() -> None:
    session = _session(SGD, ADAM)
    _record(session, 0, 1, 20)
    run = session.runs[0]
    run_id = run.id
    faster = SGD.with_changes(lr=0.3)
    assert session.configure(0, faster) is None
    assert run.id == run_id
    assert run.config == faster
    assert run.initial_config == SGD
    assert run.changes == [SettingChange(20, 0.3, dict(SGD.hyperparameters), None)]
    assert run.unsettled == 1
    assert run.label == default_label(faster)
    assert run.history.last()["step"] == 20  # the steps so far stay
    recipe = run.recipe()
    assert recipe.config_at(19) == SGD
    assert recipe.config_at(20) == faster
    assert session.runs[1].changes == []


def test_settle_change_moves_the_change_to_where_the_worker_made_it() -> None:
    session = _session(SGD)
    _record(session, 0, 1, 20)
    session.configure(0, SGD.with_changes(lr=0.3))
    session.configure(0, SGD.with_changes(lr=0.2, batch_size=8))
    run = session.run
    assert [c.step for c in run.changes] == [20, 20]
    session.settle_change(run.id + 100, 99)  # another run: ignored
    session.settle_change(run.id, 23)
    assert [c.step for c in run.changes] == [23, 20]
    session.settle_change(run.id, 25)
    assert [c.step for c in run.changes] == [23, 25]
    assert run.unsettled == 0
    session.settle_change(run.id, 40)  # nothing left to settle
    assert [c.step for c in run.changes] == [23, 25]
    assert run.changes[1].batch_size == 8
    assert run.recipe().config_at(24) == SGD.with_changes(lr=0.3)


def test_settings_changed_before_any_step_are_not_a_change() -> None:
    session = _session(SGD)
    faster = SGD.with_changes(lr=0.3)
    session.configure(0, faster)
    # Provisional until the engine says when it applied it: at step 0 ...
    session.settle_change(session.run.id, 0)
    assert session.run.changes == []
    assert session.run.initial_config == faster
    assert session.run.unsettled == 0


def test_a_change_before_the_first_recorded_step_may_come_after_steps() -> None:
    """While running, the engine may be steps ahead of what the window has
    recorded: a change made at the window's step 0 is where the engine made it."""
    session = _session(SGD)
    faster = SGD.with_changes(lr=0.3)
    session.configure(0, faster)
    session.settle_change(session.run.id, 7)
    assert session.run.initial_config == SGD
    assert session.run.changes == [
        SettingChange(7, 0.3, dict(SGD.hyperparameters), None)
    ]


def test_settings_that_change_nothing_mid_run_are_not_recorded() -> None:
    session = _session(SGD)
    _record(session, 0, 1, 5)
    session.configure(0, SGD)
    session.configure(0, SGD.with_changes(schedule="cosine"))  # a restart instead
    assert session.run.changes == []


def test_a_new_optimizer_starts_the_run_again_under_a_new_id() -> None:
    session = _session(SGD, ADAM)
    _record(session, 0, 1, 30, diverged=True)
    run = session.runs[0]
    old_id = run.id
    assert run.diverged
    new_id = session.configure(0, MOMENTUM)
    assert new_id is not None
    assert new_id == run.id
    assert new_id not in (old_id, session.runs[1].id)
    assert run.latest_step == 0
    assert len(run.history) == 0
    assert run.changes == []
    assert not run.diverged
    assert run.initial_config == MOMENTUM
    assert run.colour == PALETTE[0]  # the same row of the panel
    # Steps still in flight for the old id are dropped.
    session.record(session.generation, {old_id: _batch(31, 40)})
    assert run.latest_step == 0


def test_a_restart_forgets_changes_not_yet_settled() -> None:
    session = _session(SGD)
    _record(session, 0, 1, 10)
    session.configure(0, SGD.with_changes(lr=0.3))  # not yet settled ...
    new_id = session.configure(0, MOMENTUM)  # ... when the run restarts
    run = session.run
    session.record(session.generation, {new_id: _batch(1, 10)})
    session.configure(0, MOMENTUM.with_changes(lr=0.03))
    session.settle_change(new_id, 12)
    session.record(session.generation, {new_id: _batch(11, 20)})
    session.configure(0, MOMENTUM.with_changes(lr=0.04))
    session.settle_change(new_id, 22)
    assert [c.step for c in run.changes] == [12, 22]


# ----------------------------------------------------------------- record
def test_record_appends_steps_by_run_id() -> None:
    session = _session(SGD, ADAM)
    first, second = session.runs
    batch = _batch(1, 12)
    assert session.record(session.generation, {first.id: batch}) == []
    assert first.latest_step == 12
    assert second.latest_step == 0
    assert session.latest_step == 12
    assert first.row_at(5)["a"] == batch.a[4]
    assert np.array_equal(first.history.column("b"), batch.b)


def test_record_drops_stale_generations_and_unknown_runs() -> None:
    session = _session(SGD)
    old = session.generation
    session.restart()
    assert session.generation != old
    assert session.record(old, {session.run.id: _batch(1, 5)}) == []
    assert session.run.latest_step == 0
    session.record(session.generation, {999: _batch(1, 5)})
    assert session.run.latest_step == 0


def test_record_marks_a_divergence_once() -> None:
    session = _session(SGD, ADAM)
    first, second = session.runs
    diverged = session.record(
        session.generation,
        {first.id: _batch(1, 7, diverged=True), second.id: _batch(1, 7)},
    )
    assert diverged == [first]
    assert first.diverged
    assert first.message == "Diverged at step 8"
    assert not second.diverged
    assert session.going()
    again = session.record(
        session.generation,
        {first.id: StepBatch.empty(status="diverged", message=first.message)},
    )
    assert again == []
    session.record(session.generation, {second.id: _batch(8, 9, diverged=True)})
    assert not session.going()


# ------------------------------------------------------------------- view
def test_view_clamps_and_none_follows_the_latest_step() -> None:
    session = _session(SGD, ADAM)
    _record(session, 0, 1, 40)
    _record(session, 1, 1, 25)
    session.view(10)
    assert session.viewed_step == 10
    assert session.shown_step == 10
    assert session.in_past
    session.view(-3)
    assert session.shown_step == 0
    session.view(1000)  # past the latest: follow it
    assert session.viewed_step is None
    assert session.shown_step == 40
    assert not session.in_past
    session.view(40)
    assert session.viewed_step is None
    session.view(None)
    _record(session, 0, 41, 50)
    assert session.shown_step == 50


def test_shown_parameters_of_each_run_at_the_shown_step() -> None:
    session = _session(SGD, ADAM)
    assert session.shown_parameters(session.runs[0]) == START  # nothing yet
    first = _batch(1, 40)
    second = _batch(1, 25, offset=1.0)
    session.record(
        session.generation, {session.runs[0].id: first, session.runs[1].id: second}
    )
    session.view(10)
    assert session.shown_parameters(session.runs[0]) == (first.a[9], first.b[9])
    assert session.shown_parameters(session.runs[1]) == (second.a[9], second.b[9])
    session.view(30)  # the second run stopped at 25: its latest
    assert session.shown_parameters(session.runs[1]) == (second.a[-1], second.b[-1])
    session.view(0)
    assert session.shown_parameters(session.runs[0]) == START


# ---------------------------------------------------------- cut at view
def _three_runs() -> Session:
    """Run 0 changed lr at 10 and 30; run 1 diverges at 41; run 2 at 6."""
    session = _session(SGD, ADAM, MOMENTUM)
    session.rename(2, "mine")
    _record(session, 0, 1, 10)
    session.configure(0, SGD.with_changes(lr=0.2))
    session.settle_change(session.runs[0].id, 10)
    _record(session, 0, 11, 30)
    session.configure(0, SGD.with_changes(lr=0.3, batch_size=8))
    _record(session, 0, 31, 50)
    _record(session, 1, 1, 40, diverged=True)
    _record(session, 2, 1, 5, diverged=True)
    return session


def test_cut_at_view_forgets_everything_after_the_viewed_step() -> None:
    session = _three_runs()
    first, second, third = session.runs
    ids = [run.id for run in session.runs]
    generation = session.generation
    a_at_20 = first.row_at(20)["a"]
    events = Events(session)
    session.view(20)
    assert session.cut_at_view() == 20
    assert events.take() == ["view", "steps"]
    assert session.generation != generation
    assert session.viewed_step is None
    assert [run.id for run in session.runs] == ids
    assert [run.latest_step for run in session.runs] == [20, 20, 5]
    assert first.history.last()["a"] == a_at_20
    assert first.history.steps_seen == 20
    # Changes after the cut never happened; the settings are those at 20.
    assert [c.step for c in first.changes] == [10]
    assert first.unsettled == 0
    assert first.config == SGD.with_changes(lr=0.2)
    assert first.config == first.recipe().config_at(20)
    assert first.label == default_label(first.config)
    assert third.label == "mine"
    # The divergence at 41 was after the cut; the one at 6 before it.
    assert not second.diverged
    assert third.diverged
    # Steps in flight from before the cut are dropped.
    session.record(generation, {first.id: _batch(51, 60)})
    assert first.latest_step == 20
    _record(session, 0, 21, 22)
    assert first.latest_step == 22


def test_cut_at_a_change_keeps_it() -> None:
    session = _three_runs()
    session.view(30)
    session.cut_at_view()
    first = session.runs[0]
    assert [c.step for c in first.changes] == [10, 30]
    assert first.config == SGD.with_changes(lr=0.3, batch_size=8)


def test_cut_before_every_change_restores_the_initial_settings() -> None:
    session = _three_runs()
    session.view(3)
    session.cut_at_view()
    first = session.runs[0]
    assert first.changes == []
    assert first.config == SGD
    assert first.latest_step == 3
    # Its divergence at 6 comes after the cut now.
    assert not session.runs[2].diverged
    assert session.runs[2].latest_step == 3
    assert session.going()


def test_cut_at_view_while_following_does_nothing() -> None:
    session = _three_runs()
    before = [(run.latest_step, list(run.changes)) for run in session.runs]
    generation = session.generation
    events = Events(session)
    assert session.cut_at_view() is None
    assert events.take() == []
    assert session.generation == generation
    assert [(run.latest_step, list(run.changes)) for run in session.runs] == before


# ------------------------------------------------------------ restarting
def test_restart_keeps_the_settings_as_they_are_now() -> None:
    session = _three_runs()
    configs = [run.config for run in session.runs]
    generation = session.generation
    session.view(10)
    session.restart()
    assert session.generation != generation
    assert session.viewed_step is None
    for run, config in zip(session.runs, configs, strict=True):
        assert run.latest_step == 0
        assert run.changes == []
        assert run.unsettled == 0
        assert not run.diverged
        assert run.initial_config == config


def test_set_start_and_set_data() -> None:
    session = _three_runs()
    events = Events(session)
    session.set_start(2, -3)
    assert session.start == (2.0, -3.0)
    assert session.latest_step == 0
    assert events.take() == ["steps"]
    _record(session, 0, 1, 5)
    other = generate(80, a=-2.0, b=1.0, seed=5)
    session.set_data(other)
    assert events.take() == ["steps", "steps", "data"]
    assert session.data is other
    slope, intercept = np.polyfit(other.x, other.y, 1)
    assert session.problem.n == 80
    assert session.problem.a_opt == pytest.approx(slope)
    assert session.problem.b_opt == pytest.approx(intercept)
    assert session.latest_step == 0


# ---------------------------------------------------------------- events
def test_listeners_hear_what_changed() -> None:
    session = _session(SGD)
    events = Events(session)
    heard: list[str] = []
    session.subscribe(heard.append)
    session.add_run(ADAM)
    assert events.take() == ["runs"]
    session.select(1)
    assert events.take() == ["selection"]
    session.set_visible(1, False)
    session.rename(1, "x")
    session.configure(1, ADAM.with_changes(lr=0.2))
    assert events.take() == ["runs", "runs", "runs"]
    _record(session, 0, 1, 10)
    assert events.take() == ["steps"]
    session.view(4)
    session.view(4)  # no change, no event
    assert events.take() == ["view"]
    session.view(None)
    assert events.take() == ["view"]
    session.settle_change(session.runs[1].id, 3)
    assert events.take() == []
    session.remove_run(1)
    assert events.take() == ["runs"]
    session.restart()
    assert events.take() == ["steps"]
    assert heard == [
        "runs",
        "selection",
        "runs",
        "runs",
        "runs",
        "steps",
        "view",
        "view",
        "runs",
        "steps",
    ]


# ------------------------------------------------------------------ recipe
def test_a_run_s_recipe_is_plain_data() -> None:
    session = _three_runs()
    run = session.runs[0]
    recipe = run.recipe()
    assert recipe.config == SGD
    assert recipe.label == run.label
    assert recipe.colour == run.colour
    assert list(recipe.changes) == run.changes
    assert json.loads(json.dumps(recipe.to_json()))["changes"][0]["step"] == 10


# -------------------------------------------------------------- no torch


def test_a_viewed_step_no_run_reaches_any_more_follows_the_latest() -> None:
    session = _session(SGD)
    _record(session, 0, 1, 2)
    session.view(1)
    session.configure(0, SGD.with_changes(optimizer="momentum"))  # restarts
    assert session.viewed_step is None
    assert session.shown_step == session.latest_step == 0
    other = _session(SGD, SGD)
    _record(other, 1, 1, 30)
    _record(other, 0, 1, 10)
    other.view(20)
    other.remove_run(1)  # the run that had got that far
    assert other.shown_step == other.latest_step == 10
