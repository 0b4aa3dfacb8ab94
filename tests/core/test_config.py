"""TrainingConfig: validation, what forces a reset, and switching optimizers."""

from __future__ import annotations

import dataclasses
import math

import pytest

from sgd_viewer.core.config import LR_RANGE, TrainingConfig, needs_reset
from sgd_viewer.core.optimizers import OPTIMIZERS


def test_defaults() -> None:
    config = TrainingConfig()
    assert config.optimizer == "sgd"
    assert config.lr == 0.01
    assert dict(config.hyperparameters) == OPTIMIZERS["sgd"].defaults()
    assert config.batch_size is None
    assert (config.reduction, config.dtype, config.device) == ("mean", "float64", "cpu")
    assert config.loss_form == "closed"


def test_frozen_and_hyperparameters_read_only() -> None:
    config = TrainingConfig("adam", hyperparameters={"beta1": 0.5})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 0.1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.hyperparameters["beta1"] = 0.1  # type: ignore[index]


def test_caller_dict_is_copied() -> None:
    knobs = {"beta1": 0.5}
    config = TrainingConfig("adam", hyperparameters=knobs)
    knobs["beta1"] = 0.1
    assert config.hyperparameters["beta1"] == 0.5


def test_optimizer_name_normalised_and_hyperparameters_resolved() -> None:
    config = TrainingConfig("AdamW", hyperparameters={"eps": 1e-6})
    assert config.optimizer == "adamw"
    assert dict(config.hyperparameters) == {
        **OPTIMIZERS["adamw"].defaults(),
        "eps": 1e-6,
    }


@pytest.mark.parametrize("lr", [LR_RANGE[0], 1e-4, 1.0, LR_RANGE[1]])
def test_lr_in_range(lr) -> None:
    assert TrainingConfig(lr=lr).lr == lr


@pytest.mark.parametrize(
    "lr", [0.0, -0.01, LR_RANGE[0] / 2, LR_RANGE[1] * 1.001, math.nan, math.inf]
)
def test_lr_out_of_range(lr) -> None:
    with pytest.raises(
        ValueError, match="learning rate must be between 1e-09 and 1000"
    ):
        TrainingConfig(lr=lr)


@pytest.mark.parametrize("size", [None, 1, 8, 10**7])
def test_batch_size_valid(size) -> None:
    assert TrainingConfig(batch_size=size).batch_size == size


@pytest.mark.parametrize("size", [0, -3, 2.5])
def test_batch_size_invalid(size) -> None:
    with pytest.raises(ValueError, match="batch size must be a whole number"):
        TrainingConfig(batch_size=size)


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("eight", "eight"),
    ],
)
def test_batch_size_non_numbers_raise_value_error(size, shown) -> None:
    # The message names the bad value (the CLI shows it as is).
    with pytest.raises(ValueError, match=f"(?i){shown}"):
        TrainingConfig(batch_size=size)


def test_effective_batch_size() -> None:
    assert TrainingConfig().effective_batch_size(50) is None
    assert TrainingConfig(batch_size=8).effective_batch_size(50) == 8
    assert TrainingConfig(batch_size=49).effective_batch_size(50) == 49
    assert TrainingConfig(batch_size=50).effective_batch_size(50) is None
    assert TrainingConfig(batch_size=500).effective_batch_size(50) is None


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("reduction", "median", "loss reduction must be one of mean, sum"),
        ("dtype", "float16", "dtype must be one of float32, float64"),
        ("loss_form", "exact", "loss form must be one of closed, per_point"),
        ("device", "tpu", "device must be 'cpu' or 'cuda'"),
        ("device", "", "device must be 'cpu' or 'cuda'"),
    ],
)
def test_enumerated_fields_reject_unknown_values(field, bad, message) -> None:
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**{field: bad})


@pytest.mark.parametrize(
    ("field", "good"),
    [
        ("reduction", "sum"),
        ("dtype", "float32"),
        ("loss_form", "per_point"),
        ("device", "cuda"),
        ("device", "cuda:0"),
    ],
)
def test_enumerated_fields_accept_known_values(field, good) -> None:
    # The config only describes; whether CUDA exists is the trainer's question.
    assert getattr(TrainingConfig(**{field: good}), field) == good


def test_unknown_optimizer_and_hyperparameter() -> None:
    with pytest.raises(KeyError, match="choose one of: sgd, momentum"):
        TrainingConfig(optimizer="adamm")
    with pytest.raises(KeyError, match="has no hyperparameter 'beta1'"):
        TrainingConfig(optimizer="sgd", hyperparameters={"beta1": 0.9})
    with pytest.raises(ValueError, match="beta1 must be between"):
        TrainingConfig(optimizer="adam", hyperparameters={"beta1": 1.5})
    with pytest.raises(ValueError, match="whole number"):
        TrainingConfig(optimizer="lbfgs", hyperparameters={"max_iter": 2.5})


RESETTING = {
    "optimizer": "adam",
    "reduction": "sum",
    "dtype": "float32",
    "device": "cuda",
    "loss_form": "per_point",
    "seed": 1,
}
LIVE = {
    "lr": 0.5,
    "hyperparameters": {"weight_decay": 0.1},
    "batch_size": 8,
}


@pytest.mark.parametrize(("field", "value"), RESETTING.items())
def test_needs_reset_for_changes_of_meaning(field, value) -> None:
    old = TrainingConfig()
    new = old.with_changes(**{field: value})
    assert needs_reset(old, new)
    assert needs_reset(new, old)


@pytest.mark.parametrize(("field", "value"), LIVE.items())
def test_no_reset_for_live_knobs(field, value) -> None:
    old = TrainingConfig()
    new = old.with_changes(**{field: value})
    assert new != old
    assert not needs_reset(old, new)


def test_no_reset_for_identical_configs() -> None:
    assert not needs_reset(TrainingConfig(), TrainingConfig())


def test_with_changes_drops_old_knobs_when_optimizer_changes() -> None:
    momentum = TrainingConfig("momentum", hyperparameters={"momentum": 0.5})
    adam = momentum.with_changes(optimizer="adam")
    assert adam.optimizer == "adam"
    assert dict(adam.hyperparameters) == OPTIMIZERS["adam"].defaults()
    # explicit new knobs are kept
    adam2 = momentum.with_changes(optimizer="adam", hyperparameters={"beta1": 0.7})
    assert adam2.hyperparameters["beta1"] == 0.7
    # same optimizer: knobs kept, other fields change
    faster = momentum.with_changes(lr=0.2)
    assert faster.hyperparameters["momentum"] == 0.5
    assert faster.lr == 0.2
    # back to an optimizer with the same knob name: default again, not the old value
    nesterov = momentum.with_changes(optimizer="nesterov")
    assert nesterov.hyperparameters["momentum"] == 0.9


def test_with_changes_validates() -> None:
    with pytest.raises(ValueError, match="learning rate"):
        TrainingConfig().with_changes(lr=-1.0)
    with pytest.raises(KeyError):
        TrainingConfig("adam").with_changes(hyperparameters={"momentum": 0.1})


def test_with_changes_same_optimizer_other_case_keeps_knobs() -> None:
    config = TrainingConfig("adam", hyperparameters={"beta1": 0.5})
    assert config.with_changes(optimizer="ADAM").hyperparameters["beta1"] == 0.5


def test_a_pickled_config_is_equal_and_its_knobs_stay_read_only() -> None:
    import pickle

    config = TrainingConfig(
        optimizer="adam", lr=0.1, batch_size=8, schedule="cosine", seed=3
    ).with_changes(hyperparameters={"beta1": 0.8})
    copy = pickle.loads(pickle.dumps(config))
    assert copy == config
    assert dict(copy.hyperparameters) == dict(config.hyperparameters)
    assert dict(copy.schedule_options) == dict(config.schedule_options)
    with pytest.raises(TypeError):
        copy.hyperparameters["beta1"] = 0.5  # type: ignore[index]
