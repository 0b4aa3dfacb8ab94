"""The race: several runs on one dataset from one start. A fair race (the same
batch size and seed draw the same mini-batches), runs that step independently
and each equal to a trainer of its own, a divergence that stops one run
alone, rewinding, configuring, resetting and new data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.history import COLUMNS, StepBatch
from sgd_viewer.core.race import Race
from sgd_viewer.core.trainer import Trainer

DATA = generate(50)
START = (-1.0, 1.0)

CONFIGS = {
    1: TrainingConfig(optimizer="sgd", lr=0.1, batch_size=8),
    2: TrainingConfig(optimizer="momentum", lr=0.05, batch_size=8),
    3: TrainingConfig(optimizer="adam", lr=0.1),
    4: TrainingConfig(optimizer="lbfgs", lr=0.5, batch_size=5, seed=3),
}


def _race(configs: dict[int, TrainingConfig] = CONFIGS) -> Race:
    race = Race(DATA, START)
    for run_id, config in configs.items():
        race.add(run_id, config)
    return race


def _alone(config: TrainingConfig, steps: int, start=START, data=DATA) -> StepBatch:
    return Trainer(data, config, start).step(steps)


def _assert_same_rows(got: StepBatch, want: StepBatch) -> None:
    assert len(got) == len(want)
    for name in COLUMNS:
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    assert got.status == want.status


def _diverging_lr(race: Race) -> float:
    return 5 * race.problem.lr_max()


# ------------------------------------------------------------ a fair race
def test_same_batch_size_and_seed_draw_the_same_batches() -> None:
    race = _race(
        {
            1: TrainingConfig(optimizer="sgd", lr=0.1, batch_size=8),
            2: TrainingConfig(optimizer="adam", lr=0.05, batch_size=8),
            3: TrainingConfig(optimizer="lbfgs", lr=0.5, batch_size=8),
        }
    )
    first, *others = race.trainers.values()
    orders = set()
    for _ in range(30):  # 7 steps an epoch: four epochs
        race.step(1)
        orders.add(tuple(first._order.tolist()))
        for other in others:
            assert torch.equal(other._order, first._order)
            assert other._batch_position == first._batch_position
            assert other.epoch == first.epoch
    assert len(orders) == 5  # a new permutation every epoch, all shared
    assert first.epoch == 4


def test_first_batch_loss_is_the_same_for_every_lr() -> None:
    # Same start, same first batch: the loss of that batch agrees exactly.
    race = _race(
        {i: TrainingConfig(lr=lr, batch_size=8) for i, lr in enumerate((0.01, 0.3))}
    )
    batches = race.step(1)
    assert batches[0].batch_loss[0] == batches[1].batch_loss[0]
    assert batches[0].a[0] != batches[1].a[0]


def test_another_seed_draws_other_batches() -> None:
    # The check above can fail: a different seed gives a different stream.
    race = _race({1: CONFIGS[1], 2: CONFIGS[1].with_changes(seed=1)})
    batches = race.step(1)
    assert batches[1].batch_loss[0] != batches[2].batch_loss[0]
    assert not torch.equal(race.trainers[1]._order, race.trainers[2]._order)


def test_identical_runs_have_identical_trajectories() -> None:
    race = _race({1: CONFIGS[1], 2: CONFIGS[1]})
    batches = race.step(60)
    _assert_same_rows(batches[1], batches[2])


# ----------------------------------------------------- independent runs
def test_each_run_equals_a_trainer_of_its_own() -> None:
    race = _race()
    parts = [race.step(25), race.step(1), race.step(34)]
    for run_id, config in CONFIGS.items():
        together = StepBatch.concatenate([part[run_id] for part in parts])
        _assert_same_rows(together, _alone(config, 60))
        assert race.trainers[run_id].step_count == 60


def test_step_answers_by_run_id_in_the_order_added() -> None:
    race = _race()
    batches = race.step(3)
    assert list(batches) == list(CONFIGS)
    assert all(len(batch) == 3 for batch in batches.values())
    assert race.step_count == 3


def test_runs_share_the_data_s_statistics() -> None:
    race = _race()
    assert all(t.problem is race.problem for t in race.trainers.values())


def test_a_diverging_run_stops_alone() -> None:
    race = Race(DATA, START)
    race.add(1, TrainingConfig(optimizer="sgd", lr=_diverging_lr(race)))
    race.add(2, CONFIGS[3])
    first = race.step(20)
    assert first[1].diverged
    assert not first[2].diverged
    assert race.going
    stopped_at = race.trainers[1].step_count
    assert stopped_at < 20
    later = race.step(20)
    assert list(later) == [2]  # the diverged run is left out
    assert race.trainers[1].step_count == stopped_at
    assert race.step_count == 40
    together = StepBatch.concatenate([first[2], later[2]])
    _assert_same_rows(together, _alone(CONFIGS[3], 40))


def test_race_stops_when_every_run_has_diverged() -> None:
    race = Race(DATA, START)
    lr = _diverging_lr(race)
    race.add(1, TrainingConfig(optimizer="sgd", lr=lr))
    race.add(2, TrainingConfig(optimizer="momentum", lr=lr))
    assert race.going
    race.step(50)
    assert not race.going
    assert race.step(10) == {}


def test_empty_race() -> None:
    race = Race(DATA, START)
    assert race.step_count == 0
    assert not race.going
    assert race.step(5) == {}


# --------------------------------------------------------------- commands
def test_rewind_puts_every_run_back_exactly() -> None:
    race = _race()
    want = {run_id: _alone(config, 70) for run_id, config in CONFIGS.items()}
    race.step(70)
    race.rewind(23)
    assert all(t.step_count == 23 for t in race.trainers.values())
    again = race.step(47)
    for run_id, batch in again.items():
        assert batch.step[0] == 24
        _assert_same_rows(batch, _slice(want[run_id], 23))


def _slice(batch: StepBatch, start: int) -> StepBatch:
    return StepBatch(
        **{name: getattr(batch, name)[start:] for name in COLUMNS},
        status=batch.status,
        message=batch.message,
        diverged_step=batch.diverged_step,
    )


def test_rewind_leaves_runs_that_stopped_earlier_where_they_are() -> None:
    race = Race(DATA, START)
    race.add(1, TrainingConfig(optimizer="sgd", lr=_diverging_lr(race)))
    race.add(2, CONFIGS[3])
    race.step(40)
    stopped_at = race.trainers[1].step_count
    race.rewind(30)
    assert race.trainers[1].step_count == stopped_at
    assert race.trainers[1].status == "diverged"
    assert race.trainers[2].step_count == 30
    race.rewind(0)
    assert race.trainers[1].status != "diverged"
    assert race.going


def test_configure_changes_one_run_mid_run() -> None:
    race = _race()
    race.step(20)
    slower = CONFIGS[2].with_changes(lr=0.01)
    assert race.configure(2, slower) is False
    batches = race.step(20)
    trainer = Trainer(DATA, CONFIGS[2], START)
    trainer.step(20)
    trainer.configure(slower)
    _assert_same_rows(batches[2], trainer.step(20))
    _assert_same_rows(batches[1], _slice(_alone(CONFIGS[1], 40), 20))


def test_configure_a_new_optimizer_starts_that_run_again() -> None:
    race = _race()
    race.step(20)
    assert race.configure(1, CONFIGS[3]) is True
    assert race.trainers[1].step_count == 0
    assert race.trainers[2].step_count == 20
    _assert_same_rows(race.step(10)[1], _alone(CONFIGS[3], 10))


def test_remove_drops_a_run() -> None:
    race = _race()
    race.remove(2)
    race.remove(99)  # unknown ids are ignored
    assert list(race.step(2)) == [1, 3, 4]


def test_reset_at_a_new_start() -> None:
    race = _race()
    race.step(30)
    race.reset((2.0, -3.0))
    assert race.step_count == 0
    assert race.start == (2.0, -3.0)
    batches = race.step(15)
    for run_id, config in CONFIGS.items():
        _assert_same_rows(batches[run_id], _alone(config, 15, start=(2.0, -3.0)))


def test_set_data_starts_every_run_again_on_the_new_data() -> None:
    race = _race()
    race.step(30)
    other = generate(80, a=-2.0, b=1.0, seed=5)
    race.set_data(other)
    assert race.step_count == 0
    slope, intercept = np.polyfit(other.x, other.y, 1)
    assert race.problem.a_opt == pytest.approx(slope)
    assert race.problem.b_opt == pytest.approx(intercept)
    assert all(t.problem is race.problem for t in race.trainers.values())
    batches = race.step(15)
    for run_id, config in CONFIGS.items():
        _assert_same_rows(batches[run_id], _alone(config, 15, data=other))


def test_add_refuses_settings_that_cannot_run() -> None:
    race = Race(DATA, START)
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA"):
        race.add(1, TrainingConfig(device="cuda"))
    assert race.trainers == {}
