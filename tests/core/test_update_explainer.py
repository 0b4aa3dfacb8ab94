"""The update behind any step of a run: replayed on a twin, it matches the
recorded run exactly and leaves the run untouched."""

from __future__ import annotations

import pytest

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.optimizers import OPTIMIZERS
from sgd_viewer.core.trainer import Trainer
from sgd_viewer.core.update_explainer import explain_step

DATA = generate(50, seed=3)


def _config(name: str, **extra) -> TrainingConfig:
    return TrainingConfig(
        optimizer=name, lr=OPTIMIZERS[name].suggested_lr, dtype="float64", **extra
    )


def _recorded(trainer: Trainer, steps: int):
    batch = trainer.step(steps)
    assert len(batch) == steps
    return batch


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_update_of_any_step_is_the_recorded_step(name):
    trainer = Trainer(DATA, _config(name))
    batch = _recorded(trainer, 40)
    for step in (1, 17, 40):
        update = explain_step(trainer, step)
        assert update is not None
        assert update.step == step
        assert update.optimizer == name
        row = step - 1
        assert update.a_after == batch.a[row]
        assert update.b_after == batch.b[row]
        before = (-1.0, 1.0) if step == 1 else (batch.a[row - 1], batch.b[row - 1])
        assert (update.a_before, update.b_before) == before
        assert update.terms["grad_a"] == batch.grad_a[row]
        assert update.terms["lr"] == batch.lr[row]


@pytest.mark.parametrize("name", ["momentum", "adam", "rmsprop", "lbfgs"])
def test_explaining_leaves_the_run_as_it_was(name):
    explained = Trainer(DATA, _config(name))
    plain = Trainer(DATA, _config(name))
    explained.step(25)
    plain.step(25)
    explain_step(explained, 10)
    explain_step(explained, 25)
    assert explained.step_count == 25
    after_explained = explained.step(15)
    after_plain = plain.step(15)
    assert (after_explained.a == after_plain.a).all()
    assert (after_explained.b == after_plain.b).all()


def test_mini_batches_schedules_and_mid_run_changes_are_replayed():
    config = _config(
        "momentum", batch_size=8, schedule="cosine", schedule_options={"t_max": 50}
    )
    trainer = Trainer(DATA, config)
    first = trainer.step(20)
    trainer.configure(config.with_changes(lr=0.02))
    second = trainer.step(20)
    for step, batch, row in ((12, first, 11), (33, second, 12)):
        update = explain_step(trainer, step)
        assert update.a_after == batch.a[row]
        assert update.terms["grad_b"] == batch.grad_b[row]
        assert update.terms["lr"] == batch.lr[row]


def test_step_zero_and_steps_not_reached_have_no_update():
    trainer = Trainer(DATA, _config("sgd"))
    trainer.step(3)
    assert explain_step(trainer, 0) is None
    assert explain_step(trainer, 4) is None
