"""Full-batch runs of a race step in lockstep: one autograd graph and one
``backward`` for all of them. Each run must still be bit for bit a trainer of
its own: every optimizer, both dtypes and reductions, schedules, changes of
settings mid-run, a run that diverges, and continuing from the past."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sgd_viewer.core import race as race_module
from sgd_viewer.core import trainer as trainer_module
from sgd_viewer.core.closed_form import (
    ClosedFormTerms,
    lockstep_backward,
    lockstep_is_exact,
    matrix_form_loss,
)
from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.history import COLUMNS, StepBatch
from sgd_viewer.core.optimizers import OPTIMIZERS
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.race import Race
from sgd_viewer.core.trainer import Trainer

DATA = generate(200, seed=4)
START = (-1.0, 1.0)
PROBLEM = Problem.from_data(DATA.x, DATA.y)
LOCKSTEP_OPTIMIZERS = [name for name in OPTIMIZERS if name != "lbfgs"]


def _lr(name: str, reduction: str) -> float:
    # Plain descent near its limit (zig-zags: last bits matter); the adaptive
    # methods at a step that moves them visibly.
    if name == "sgd":
        return 0.9 * PROBLEM.lr_max(reduction)
    if name in ("momentum", "nesterov"):  # stable over a narrower range
        return 0.5 * PROBLEM.lr_max(reduction)
    return 0.1


def _configs() -> dict[int, TrainingConfig]:
    configs = {}
    for run_id, name in enumerate(LOCKSTEP_OPTIMIZERS):
        reduction = "sum" if run_id % 4 == 1 else "mean"
        configs[run_id] = TrainingConfig(
            optimizer=name,
            lr=_lr(name, reduction),
            dtype="float32" if run_id % 3 == 2 else "float64",
            reduction=reduction,
        )
    return configs


def _alone(config, chunks, changes=()) -> StepBatch:
    """A trainer of its own: ``chunks`` steps, with ``changes`` (step, config)
    applied after that many steps."""
    trainer = Trainer(DATA, config, START)
    pending = sorted(changes, key=lambda change: change[0])
    batches = []
    for count in chunks:
        target = trainer.step_count + count
        while pending and pending[0][0] <= target:
            at, new = pending.pop(0)
            if at > trainer.step_count:
                batches.append(trainer.step(at - trainer.step_count))
            trainer.configure(new)
        if target > trainer.step_count and trainer.status != "diverged":
            batches.append(trainer.step(target - trainer.step_count))
    return StepBatch.concatenate(batches)


def _assert_same(got: StepBatch, want: StepBatch, what) -> None:
    assert len(got) == len(want), what
    for name in COLUMNS:
        assert np.array_equal(getattr(got, name), getattr(want, name)), (what, name)
    assert got.status == want.status, what


def _record(race: Race, chunks) -> dict[int, StepBatch]:
    got: dict[int, list[StepBatch]] = {run_id: [] for run_id in race.trainers}
    for count in chunks:
        for run_id, batch in race.step(count).items():
            got[run_id].append(batch)
    return {run_id: StepBatch.concatenate(b) for run_id, b in got.items()}


@pytest.fixture
def lockstep_calls(monkeypatch):
    """How many runs each lockstep call stepped (proves the path was taken)."""
    calls: list[int] = []
    real = race_module.step_in_lockstep

    def counting(trainers, count):
        calls.append(len(trainers))
        return real(trainers, count)

    monkeypatch.setattr(race_module, "step_in_lockstep", counting)
    return calls


def test_one_graph_for_many_runs_gives_each_its_own_bits() -> None:
    rng = np.random.default_rng(0)
    for dtype in (torch.float32, torch.float64):
        for reduction in ("mean", "sum"):
            one = ClosedFormTerms.of(PROBLEM, reduction, dtype, "cpu")
            points = rng.uniform(-50, 50, (64, 2))
            together = [
                torch.tensor(p, dtype=dtype, requires_grad=True) for p in points
            ]
            losses, grads = lockstep_backward(
                together, ClosedFormTerms.stacked([one] * 64)
            )
            for i, point in enumerate(points):
                alone = torch.tensor(point, dtype=dtype, requires_grad=True)
                loss = matrix_form_loss(alone, one)
                loss.backward()
                assert loss.item() == losses[i]
                assert alone.grad.tolist() == grads[i] == together[i].grad.tolist()


def test_the_closed_form_is_the_loss_less_its_minimum() -> None:
    terms = ClosedFormTerms.of(PROBLEM, "mean", torch.float64, "cpu")
    for a, b in [(-1.0, 1.0), (3.0, 8.0), (10.0, -4.0)]:
        params = torch.tensor([a, b], dtype=torch.float64)
        want = PROBLEM.loss(a, b) - PROBLEM.loss_opt()
        value = matrix_form_loss(params, terms).item()
        assert value == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_this_machine_s_blas_lets_runs_step_in_lockstep() -> None:
    # The batched product is the one-run product's arithmetic unless the
    # BLAS kernels fuse multiply-adds differently; on the project's machines
    # they do not, so races step in lockstep (the tests below check the
    # numbers themselves).
    assert lockstep_is_exact(torch.float64, "cpu")
    assert lockstep_is_exact(torch.float32, "cpu")


def test_where_lockstep_is_not_exact_runs_step_one_by_one(monkeypatch) -> None:
    monkeypatch.setattr(trainer_module, "lockstep_is_exact", lambda *_: False)
    calls = []
    monkeypatch.setattr(
        race_module, "step_in_lockstep", lambda *args: calls.append(args) or []
    )
    configs = _configs()
    race = Race(DATA, START)
    for run_id, config in configs.items():
        race.add(run_id, config)
    got = _record(race, [30, 20])
    assert calls == []
    for run_id, config in configs.items():
        _assert_same(got[run_id], _alone(config, [30, 20]), config.optimizer)


def test_every_optimizer_in_lockstep_equals_a_trainer_of_its_own(
    lockstep_calls,
) -> None:
    configs = _configs()
    race = Race(DATA, START)
    for run_id, config in configs.items():
        race.add(run_id, config)
    chunks = [1, 7, 50, 142]
    got = _record(race, chunks)
    # Both dtypes went in lockstep, each as one group.
    assert sorted(lockstep_calls[:2]) == [3, len(configs) - 3]
    for run_id, config in configs.items():
        _assert_same(got[run_id], _alone(config, chunks), config.optimizer)
        assert len(got[run_id]) == sum(chunks)


def test_schedules_and_changes_mid_run_in_lockstep(lockstep_calls) -> None:
    base = {
        0: TrainingConfig(optimizer="sgd", lr=0.5, schedule="cosine"),
        1: TrainingConfig(optimizer="momentum", lr=0.3, schedule="onecycle"),
        2: TrainingConfig(optimizer="adam", lr=0.2, schedule="step"),
        3: TrainingConfig(optimizer="rmsprop", lr=0.05, schedule="warmup"),
    }
    changes = {
        0: [(40, TrainingConfig(optimizer="sgd", lr=0.2, schedule="cosine"))],
        2: [
            (
                40,
                TrainingConfig(
                    optimizer="adam",
                    lr=0.05,
                    schedule="step",
                    hyperparameters={"beta1": 0.5},
                ),
            )
        ],
        3: [(40, TrainingConfig(optimizer="rmsprop", lr=0.01, schedule="warmup"))],
    }
    race = Race(DATA, START)
    for run_id, config in base.items():
        race.add(run_id, config)
    got: dict[int, list[StepBatch]] = {run_id: [] for run_id in base}
    for count in (25, 15):
        for run_id, batch in race.step(count).items():
            got[run_id].append(batch)
    for run_id, run_changes in changes.items():
        for _, config in run_changes:
            race.configure(run_id, config)
    for run_id, batch in race.step(60).items():
        got[run_id].append(batch)
    assert lockstep_calls == [4, 4, 4]
    for run_id, config in base.items():
        want = _alone(config, [25, 15, 60], changes.get(run_id, ()))
        _assert_same(StepBatch.concatenate(got[run_id]), want, run_id)


def test_a_run_diverging_in_lockstep_stops_alone() -> None:
    lr_max = PROBLEM.lr_max()
    configs = {
        0: TrainingConfig(optimizer="sgd", lr=0.5 * lr_max),
        1: TrainingConfig(optimizer="sgd", lr=3 * lr_max),
        2: TrainingConfig(optimizer="adam", lr=0.1),
    }
    race = Race(DATA, START)
    for run_id, config in configs.items():
        race.add(run_id, config)
    batches = race.step(400)
    assert batches[1].diverged
    assert "Diverged at step" in batches[1].message
    assert len(batches[1]) < 400
    assert [len(batches[0]), len(batches[2])] == [400, 400]
    for run_id, config in configs.items():
        _assert_same(batches[run_id], _alone(config, [400]), run_id)
    # The diverged run takes no more steps; the others go on together.
    more = race.step(10)
    assert set(more) == {0, 2}
    assert race.trainers[0].step_count == 410


def test_continuing_from_the_past_after_lockstep_is_exact() -> None:
    configs = {i: c for i, c in _configs().items() if i < 6}
    race = Race(DATA, START)
    for run_id, config in configs.items():
        race.add(run_id, config)
        race.trainers[run_id].checkpoints.interval = 16
    race.step(300)
    race.rewind(123)
    after = race.step(77)
    for run_id, config in configs.items():
        want = _alone(config, [200])
        rows = slice(123, 200)
        for name in COLUMNS:
            assert np.array_equal(
                getattr(after[run_id], name), getattr(want, name)[rows]
            ), (run_id, name)
