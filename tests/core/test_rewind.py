"""A run is a recipe that replays bit for bit, and rewinding a trainer to any
step continues exactly as a fresh run that stopped there (DESIGN.md §10).

For every optimizer: a run with mid-run changes (learning rate, a knob, the
batch size) replayed from its recipe gives the same a, b, loss and lr columns;
rewound to k it holds the optimizer state a fresh run has after k steps and
then takes the same steps. With schedules, mini-batches across epochs,
float32, a thinned checkpoint store and past a divergence.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sgd_viewer.core.checkpoints import CheckpointStore
from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.history import COLUMNS, StepBatch
from sgd_viewer.core.optimizers import OPTIMIZERS, get_optimizer
from sgd_viewer.core.recipe import RunRecipe, change_between, play_recipe
from sgd_viewer.core.schedules import SCHEDULES
from sgd_viewer.core.trainer import Trainer

DATA = generate(50)


@pytest.fixture(autouse=True)
def _checkpoints_every_16_steps(monkeypatch):
    """The store adapts its interval to the measured cost of a step: on a fast
    machine 80 steps would hold no checkpoint but the start. These tests place
    changes on and around checkpoints, so they pin the interval to its
    smallest (16)."""
    from sgd_viewer.core import checkpoints

    monkeypatch.setattr(checkpoints, "REPLAY_SECONDS", 1e-12)


START = (-1.0, 1.0)
STEPS = 80
#: Where the plan changes settings: 16 is the first checkpoint (the store
#: starts at an interval of 16), so one change falls exactly on a checkpoint.
LR_AT, KNOB_AT, BATCH_AT = 16, 37, 50

#: One mid-run knob change per optimizer (a value other than the default).
KNOB_CHANGE: dict[str, dict[str, float]] = {
    "sgd": {"weight_decay": 0.01},
    "momentum": {"momentum": 0.5},
    "nesterov": {"momentum": 0.5},
    "adagrad": {"lr_decay": 0.01},
    "rmsprop": {"alpha": 0.9},
    "adadelta": {"rho": 0.5},
    "adam": {"beta1": 0.5},
    "adamw": {"weight_decay": 0.1},
    "adamax": {"beta2": 0.9},
    "nadam": {"beta1": 0.8},
    "radam": {"beta1": 0.8},
    "lbfgs": {"max_iter": 3},
}

#: Short horizons, so that 80 steps cross every schedule's turning points.
SCHEDULE_KNOBS: dict[str, dict[str, float]] = {
    "constant": {},
    "step": {"step_size": 7, "gamma": 0.5},
    "exponential": {"gamma": 0.97},
    "cosine": {"t_max": 20, "eta_min": 0.001},
    "warmup": {"warmup_steps": 40, "start_factor": 0.05},
    "onecycle": {"total_steps": 60, "pct_start": 0.25, "div_factor": 10.0},
}

Plan = list[tuple[int, TrainingConfig]]


# ----------------------------------------------------------------- helpers
def _plan(
    name: str,
    batch: int | None,
    *,
    dtype: str = "float64",
    schedule: str = "constant",
) -> tuple[TrainingConfig, Plan]:
    """Settings at step 0 and three mid-run changes: lr, a knob, the batch."""
    config = TrainingConfig(
        optimizer=name,
        lr=get_optimizer(name).suggested_lr / 2,
        batch_size=batch,
        dtype=dtype,
        schedule=schedule,
        schedule_options=SCHEDULE_KNOBS[schedule],
    )
    slower = config.with_changes(lr=config.lr * 0.6)
    knobbed = slower.with_changes(
        hyperparameters={**slower.hyperparameters, **KNOB_CHANGE[name]}
    )
    rebatched = knobbed.with_changes(batch_size=5 if batch else 10)
    return config, [(LR_AT, slower), (KNOB_AT, knobbed), (BATCH_AT, rebatched)]


def _advance(trainer: Trainer, plan: Plan, until: int) -> StepBatch:
    """Step ``trainer`` on to ``until``, making the plan's changes on the way
    (one already in effect is a no-op: configure ignores equal settings)."""
    batches = []
    for at, config in plan:
        if at > until:
            break
        if at >= trainer.step_count:
            batches.append(trainer.step(at - trainer.step_count))
            trainer.configure(config)
    batches.append(trainer.step(until - trainer.step_count))
    return StepBatch.concatenate(batches)


def _run(config: TrainingConfig, plan: Plan, steps: int) -> tuple[Trainer, StepBatch]:
    trainer = Trainer(DATA, config, START)
    return trainer, _advance(trainer, plan, steps)


def _state_copy(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, dict):
        return {key: _state_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_state_copy(item) for item in value)
    return value


def _snapshot(trainer: Trainer) -> dict:
    return {
        "step": trainer.step_count,
        "epoch": trainer.epoch,
        "parameters": trainer.parameters,
        "config": trainer.config,
        "changes": list(trainer.changes),
        "optimizer": _state_copy(trainer.optimizer.state_dict()),
    }


def _reference(config: TrainingConfig, plan: Plan, steps: int):
    """A fresh run taken one step at a time: its rows and its exact state
    after every step (the plan's change at that step made)."""
    trainer = Trainer(DATA, config, START)
    changes = dict(plan)
    snapshots = {0: _snapshot(trainer)}
    batches = []
    for k in range(1, steps + 1):
        batches.append(trainer.step(1))
        if k in changes:
            trainer.configure(changes[k])
        snapshots[k] = _snapshot(trainer)
    return StepBatch.concatenate(batches), snapshots


def _assert_same_state(got, want, where: str = "state") -> None:
    if isinstance(want, torch.Tensor):
        assert isinstance(got, torch.Tensor), where
        assert got.dtype == want.dtype, f"{where}: {got.dtype} != {want.dtype}"
        assert torch.equal(got, want), f"{where}: {got!r} != {want!r}"
    elif isinstance(want, dict):
        assert got.keys() == want.keys(), where
        for key in want:
            _assert_same_state(got[key], want[key], f"{where}[{key!r}]")
    elif isinstance(want, list | tuple):
        assert len(got) == len(want), where
        for index, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_same_state(g, w, f"{where}[{index}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def _assert_at(trainer: Trainer, snapshot: dict) -> None:
    """``trainer`` is exactly where the fresh run was after those steps."""
    assert trainer.step_count == snapshot["step"]
    assert trainer.epoch == snapshot["epoch"]
    assert trainer.parameters == snapshot["parameters"]
    assert trainer.config == snapshot["config"]
    assert trainer.changes == snapshot["changes"]
    assert trainer.status != "diverged"
    _assert_same_state(trainer.optimizer.state_dict(), snapshot["optimizer"])


def _rows(batch: StepBatch, start: int = 0, stop: int | None = None) -> dict:
    return {name: getattr(batch, name)[start:stop] for name in COLUMNS}


def _assert_same_rows(got: dict, want: dict) -> None:
    for name in COLUMNS:
        assert got[name].dtype == want[name].dtype, name
        assert np.array_equal(got[name], want[name]), name


def _replay_from_changes(trainer: Trainer, config: TrainingConfig, steps: int):
    """Play the recipe made of ``config`` and ``trainer.changes`` (through JSON
    text, as a saved session would)."""
    changes = []
    previous = config
    for at, new in trainer.changes:
        change = change_between(at, previous, new)
        assert change is not None
        changes.append(change)
        previous = new
    recipe = RunRecipe(config, "run", "#000000", tuple(changes))
    recipe = RunRecipe.from_json(json.loads(json.dumps(recipe.to_json())))
    replayed, batches = play_recipe(recipe, DATA, START, steps)
    return replayed, StepBatch.concatenate(batches)


def _rewind_steps(trainer: Trainer, batch: int | None, *, every: bool) -> list[int]:
    """Steps to rewind to, latest first: the start, inside a checkpoint
    interval, on the held checkpoints, at and around every change, an epoch
    boundary of the mini-batches, the step before the last (``every``: all of
    them; else a few)."""
    held = [s for s in trainer.checkpoints.steps if 0 < s < STEPS]
    if not every:
        return sorted({0, 9, LR_AT, KNOB_AT, KNOB_AT + 1, BATCH_AT - 1, held[-1]})[::-1]
    steps = {0, 9, STEPS - 1, *held}
    for at in (LR_AT, KNOB_AT, BATCH_AT):
        steps |= {at - 1, at, at + 1}
    if batch is not None:
        per_epoch = -(-DATA.n // batch)
        steps |= {per_epoch, 2 * per_epoch}
    return sorted(steps, reverse=True)


#: Steps taken after each rewind before the next (the state is compared too,
#: so a few steps show that the stream and schedule positions are right).
AFTER_REWIND = 20


def _check_rewinds(config: TrainingConfig, plan: Plan, *, every: bool = True) -> None:
    """Rewind one trainer again and again (latest step first; then, after the
    rewind to 0 has run the whole way again, forward onto a checkpoint made
    since) and compare each time with a fresh run that stopped there."""
    trainer, rows = _run(config, plan, STEPS)
    held = trainer.checkpoints.steps
    assert held[0] == 0
    assert LR_AT in held
    ks = _rewind_steps(trainer, config.batch_size, every=every)
    want, snapshots = _reference(config, plan, STEPS)
    # Many steps a call or one at a time: the same run.
    _assert_same_rows(_rows(rows), _rows(want))
    for k in ks:
        trainer.rewind(k)
        _assert_at(trainer, snapshots[k])
        until = STEPS if k == 0 else min(STEPS, k + AFTER_REWIND)
        rest = _advance(trainer, plan, until)
        _assert_same_rows(_rows(rest), _rows(want, k, until))
    assert trainer.step_count == STEPS
    # Onto a checkpoint made since the rewind to 0 (all later ones were dropped).
    k = max(s for s in trainer.checkpoints.steps if s < STEPS - 1) + 1
    assert k > 1
    trainer.rewind(k)
    _assert_at(trainer, snapshots[k])
    _assert_same_rows(_rows(_advance(trainer, plan, STEPS)), _rows(want, k))


def _optimizer_params(marks_for_nadam=()):
    return [
        pytest.param(name, marks=marks_for_nadam if name == "nadam" else ())
        for name in OPTIMIZERS
    ]


def test_every_optimizer_has_a_knob_change() -> None:
    assert set(KNOB_CHANGE) == set(OPTIMIZERS)
    for name, knobs in KNOB_CHANGE.items():
        defaults = get_optimizer(name).defaults()
        assert all(defaults[key] != value for key, value in knobs.items()), name


def test_every_schedule_has_short_knobs() -> None:
    assert set(SCHEDULE_KNOBS) == set(SCHEDULES)


# ------------------------------------------------------------------ replay
@pytest.mark.parametrize("batch", [None, 8], ids=["full", "batch8"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_recipe_replays_the_run_bit_for_bit(name, batch) -> None:
    config, plan = _plan(name, batch)
    trainer, rows = _run(config, plan, STEPS)
    assert trainer.status != "diverged"
    assert trainer.changes == plan
    replayed, again = _replay_from_changes(trainer, config, STEPS)
    _assert_same_rows(_rows(again), _rows(rows))
    assert replayed.config == trainer.config
    assert replayed.parameters == trainer.parameters
    # The lr column shows the mid-run change where it was made.
    assert np.all(rows.lr[:LR_AT] == config.lr)
    assert np.all(rows.lr[LR_AT:] == plan[0][1].lr)


@pytest.mark.parametrize("name", ["sgd", "adam", "lbfgs"])
def test_replay_stops_short_of_later_changes(name) -> None:
    config, plan = _plan(name, 8)
    trainer, rows = _run(config, plan, STEPS)
    replayed, again = _replay_from_changes(trainer, config, KNOB_AT + 3)
    _assert_same_rows(_rows(again), _rows(rows, 0, KNOB_AT + 3))
    assert replayed.config == plan[1][1]
    assert replayed.changes == plan[:2]


# ------------------------------------------------------------------ rewind
@pytest.mark.parametrize("batch", [None, 8], ids=["full", "batch8"])
@pytest.mark.parametrize("name", _optimizer_params())
def test_rewind_continues_as_a_fresh_run_float64(name, batch) -> None:
    config, plan = _plan(name, batch)
    _check_rewinds(config, plan)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_rewind_continues_as_a_fresh_run_float32(name) -> None:
    config, plan = _plan(name, 8, dtype="float32")
    _check_rewinds(config, plan, every=False)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_replay_and_rewind_with_a_schedule(schedule, name) -> None:
    config, plan = _plan(name, 8, schedule=schedule)
    trainer, rows = _run(config, plan, STEPS)
    if schedule != "constant":
        assert len(set(rows.lr[:LR_AT].tolist())) > 1  # the schedule is at work
    _, again = _replay_from_changes(trainer, config, STEPS)
    _assert_same_rows(_rows(again), _rows(rows))
    _check_rewinds(config, plan, every=False)


def test_nadam_float64_rewind_to_before_the_first_checkpoint_is_exact() -> None:
    # What does hold for NAdam in float64: step 0's checkpoint has no state
    # to cast, so a rewind into the first interval replays from scratch.
    config, plan = _plan("nadam", None)
    want, snapshots = _reference(config, plan, STEPS)
    trainer, _ = _run(config, plan, STEPS)
    for k in (0, 9, LR_AT - 1):
        trainer.rewind(k)
        _assert_at(trainer, snapshots[k])
        _assert_same_rows(_rows(_advance(trainer, plan, STEPS)), _rows(want, k))


@pytest.mark.parametrize("name", ["sgd", "adam", "lbfgs"])
def test_rewind_forgets_later_changes(name) -> None:
    config, plan = _plan(name, 8)
    trainer, _ = _run(config, plan, STEPS)
    k = KNOB_AT + 3
    trainer.rewind(k)
    assert trainer.changes == plan[:2]
    assert trainer.config == plan[1][1]
    rest = trainer.step(STEPS - k)  # no batch change this time
    _, want = _run(config, plan[:2], STEPS)
    _assert_same_rows(_rows(rest), _rows(want, k))


@pytest.mark.parametrize("name", ["momentum", "adam", "lbfgs"])
def test_rewind_then_new_settings_equals_a_run_planned_that_way(name) -> None:
    config, plan = _plan(name, 8)
    trainer, _ = _run(config, plan, STEPS)
    k = 25
    trainer.rewind(k)
    other = trainer.config.with_changes(lr=trainer.config.lr * 2, batch_size=3)
    trainer.configure(other)
    rest = trainer.step(STEPS - k)
    new_plan = [plan[0], (k, other)]
    assert trainer.changes == new_plan
    _, want = _run(config, new_plan, STEPS)
    _assert_same_rows(_rows(rest), _rows(want, k))


def test_rewind_at_or_past_the_latest_step_changes_nothing() -> None:
    config, plan = _plan("adam", 8)
    trainer, _ = _run(config, plan, 40)
    twin, _ = _run(config, plan, 40)
    trainer.rewind(40)
    trainer.rewind(1000)
    _assert_at(trainer, _snapshot(twin))
    _assert_same_rows(_rows(trainer.step(20)), _rows(twin.step(20)))


def test_rewind_to_a_negative_step_goes_to_the_start() -> None:
    config, plan = _plan("momentum", None)
    trainer, _ = _run(config, plan, 30)
    trainer.rewind(-5)
    _assert_at(trainer, _snapshot(Trainer(DATA, config, START)))


def test_rewind_through_a_thinned_checkpoint_store() -> None:
    config, plan = _plan("adam", 8)
    steps = 200
    want, snapshots = _reference(config, plan, steps)
    trainer = Trainer(DATA, config, START)
    trainer.checkpoints = CheckpointStore(capacity=4)
    trainer.reset()  # holds step 0 in the small store
    # Calls of fewer than 16 steps never adapt the interval: only thinning does.
    for _ in range(steps // 8):
        _advance(trainer, plan, trainer.step_count + 8)
    assert trainer.checkpoints.interval > 16
    assert len(trainer.checkpoints) <= 4
    for k in (150, 64, 5, 199, 100):
        trainer.rewind(k)
        _assert_at(trainer, snapshots[k])
        rest = _advance(trainer, plan, steps)
        _assert_same_rows(_rows(rest), _rows(want, k))


def test_rewind_onto_a_checkpoint_restores_the_status_of_that_step() -> None:
    config = TrainingConfig(optimizer="adam", lr=0.05)
    trainer = Trainer(DATA, config, START)
    trainer.step(40)
    assert 16 in trainer.checkpoints.steps
    fresh = Trainer(DATA, config, START)
    fresh.step(16)
    trainer.rewind(16)
    assert trainer.status == fresh.status


# -------------------------------------------------------------- divergence
def _diverging() -> tuple[TrainingConfig, Trainer, StepBatch]:
    lr_max = Trainer(DATA, TrainingConfig(), START).problem.lr_max()
    config = TrainingConfig(optimizer="sgd", lr=1.1 * lr_max)
    trainer = Trainer(DATA, config, START)
    rows = trainer.step(500)
    return config, trainer, rows


def test_the_diverging_run_is_above_lr_max_and_blows_up_late() -> None:
    config, trainer, rows = _diverging()
    assert config.lr > trainer.problem.lr_max()
    assert trainer.status == "diverged"
    assert rows.diverged
    # Late enough that checkpoints lie before it.
    assert rows.diverged_step > 2 * LR_AT
    assert rows.diverged_step == trainer.step_count + 1
    assert np.all(np.isfinite(rows.loss))


@pytest.mark.parametrize("k", [0, 9, LR_AT, LR_AT + 1, -2])
def test_rewind_before_a_divergence_replays_the_same_divergence(k) -> None:
    _, trainer, rows = _diverging()
    k = k % trainer.step_count
    message = trainer.message
    trainer.rewind(k)
    assert trainer.status != "diverged"
    assert trainer.message == ""
    assert trainer.step_count == k
    again = trainer.step(500)
    assert again.diverged
    assert again.diverged_step == rows.diverged_step
    assert again.message == message
    assert trainer.message == message
    _assert_same_rows(_rows(again), _rows(rows, k))


def test_rewind_before_a_divergence_and_a_lower_lr_goes_on() -> None:
    config, trainer, _ = _diverging()
    k = LR_AT + 3
    trainer.rewind(k)
    safe = config.with_changes(lr=0.5 * trainer.problem.lr_max())
    trainer.configure(safe)
    rest = trainer.step(100)
    assert not rest.diverged
    assert trainer.status == "running"
    _, want = _run(config, [(k, safe)], k + 100)
    _assert_same_rows(_rows(rest), _rows(want, k))


# ----------------------------------------------------- knobs changed mid-run
def test_rmsprop_momentum_switched_on_mid_run() -> None:
    config = TrainingConfig(optimizer="rmsprop", lr=0.01)
    trainer = Trainer(DATA, config, START)
    trainer.step(10)
    trainer.configure(config.with_changes(hyperparameters={"momentum": 0.5}))
    rows = trainer.step(10)
    assert len(rows) == 10


@pytest.mark.parametrize("history_size", [3, 11])
def test_lbfgs_history_size_changed_mid_run(history_size) -> None:
    config = TrainingConfig(optimizer="lbfgs", lr=0.5)
    trainer = Trainer(DATA, config, START)
    trainer.step(15)
    trainer.configure(
        config.with_changes(hyperparameters={"history_size": history_size})
    )
    rows = trainer.step(30)
    assert len(rows) == 30
