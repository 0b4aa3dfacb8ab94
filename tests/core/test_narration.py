"""A narrated step: four stages with the update's own numbers, for every
optimizer family."""

from __future__ import annotations

import pytest

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.narration import narrate
from sgd_viewer.core.optimizers import OPTIMIZERS
from sgd_viewer.core.trainer import Trainer
from sgd_viewer.core.update_explainer import explain_step

DATA = generate(50, seed=4)
WORDS = {
    "sgd": "Plain gradient descent",
    "momentum": "Momentum keeps a velocity",
    "nesterov": "look ahead",
    "adagrad": "Adagrad divides",
    "rmsprop": "RMSprop divides",
    "adadelta": "Adadelta scales",
    "adam": "m̂/(√v̂ + ε)",
    "adamw": "AdamW keeps",
    "adamax": "largest recent |g|",
    "nadam": "NAdam keeps",
    "radam": "RAdam keeps",
    "lbfgs": "L-BFGS turns the gradient",
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_four_stages_with_the_updates_numbers(name):
    config = TrainingConfig(optimizer=name, lr=OPTIMIZERS[name].suggested_lr)
    trainer = Trainer(DATA, config)
    trainer.step(6)
    update = explain_step(trainer, 6).as_dict()
    problem = trainer.problem
    before = problem.loss(update["a_before"], update["b_before"])
    after = problem.loss(update["a_after"], update["b_after"])
    stages = narrate(update, name, before, after)
    assert [s.title[:2] for s in stages] == ["1.", "2.", "3.", "4."]
    terms = update["terms"]
    assert stages[0].vector == (
        -terms["lr"] * terms["grad_a"],
        -terms["lr"] * terms["grad_b"],
    )
    taken = (
        update["a_after"] - update["a_before"],
        update["b_after"] - update["b_before"],
    )
    for stage in stages:
        assert stage.origin == (update["a_before"], update["b_before"])
    assert stages[2].vector == taken
    assert f"{terms['grad_a']:.4g}" in stages[0].text
    assert WORDS[name] in stages[1].text
    assert f"{taken[0]:.4g}" in stages[2].text
    assert f"{after:.5g}" in stages[3].text
    assert all(isinstance(s.as_dict()["text"], str) for s in stages)


def test_weight_decay_is_told():
    config = TrainingConfig(
        optimizer="sgd", lr=0.01, hyperparameters={"weight_decay": 0.1}
    )
    trainer = Trainer(DATA, config)
    trainer.step(2)
    update = explain_step(trainer, 2).as_dict()
    stages = narrate(update, "sgd", 1.0, 0.5)
    assert "Weight decay λ = 0.1" in stages[1].text
    assert "(down)" in stages[3].text
