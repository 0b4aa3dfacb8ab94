"""The optimizer registry: every entry builds its torch optimizer, and every knob
is described, validated and passed to torch under the right name."""

from __future__ import annotations

import inspect
import math

import pytest
import torch

from sgd_viewer.core.optimizers import (
    OPTIMIZERS,
    HyperParameter,
    OptimizerSpec,
    get_optimizer,
)

EXPECTED = {
    "sgd": "SGD",
    "momentum": "SGD",
    "nesterov": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adadelta": "Adadelta",
    "adam": "Adam",
    "adamw": "AdamW",
    "adamax": "Adamax",
    "nadam": "NAdam",
    "radam": "RAdam",
    "lbfgs": "LBFGS",
}
NAMES = list(EXPECTED)


def _params() -> list[torch.Tensor]:
    return [
        torch.tensor(-1.0, dtype=torch.float64, requires_grad=True),
        torch.tensor(1.0, dtype=torch.float64, requires_grad=True),
    ]


def test_registry_holds_exactly_the_twelve_optimizers() -> None:
    assert set(OPTIMIZERS) == set(EXPECTED)
    for name, spec in OPTIMIZERS.items():
        assert spec.name == name
        assert spec.torch_class == EXPECTED[name]
        assert spec.label
        assert spec.description


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_builds_its_torch_optimizer(name) -> None:
    spec = get_optimizer(name)
    params = _params()
    optimizer = spec.build(params, lr=0.01)
    assert type(optimizer) is getattr(torch.optim, EXPECTED[name])
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.01
    assert group["params"] == params
    for key, value in spec.torch_kwargs(spec.defaults()).items():
        assert group[key] == value, key

    # and it can take a step on a real loss
    def closure():
        optimizer.zero_grad()
        loss = (params[0] * 2.0 + params[1] - 3.0) ** 2
        loss.backward()
        return loss

    before = [p.item() for p in params]
    if spec.needs_closure:
        optimizer.step(closure)
    else:
        closure()
        optimizer.step()
    assert [p.item() for p in params] != before


def test_momentum_variants_are_configured_as_torch_expects() -> None:
    assert get_optimizer("momentum").build(_params(), 0.1).param_groups[0][
        "momentum"
    ] == pytest.approx(0.9)
    group = get_optimizer("nesterov").build(_params(), 0.1).param_groups[0]
    assert group["nesterov"] is True
    assert group["momentum"] == pytest.approx(0.9)
    group = get_optimizer("sgd").build(_params(), 0.1).param_groups[0]
    assert group["momentum"] == 0
    assert group["nesterov"] is False


@pytest.mark.parametrize("name", NAMES)
def test_defaults_lie_within_their_ranges(name) -> None:
    spec = get_optimizer(name)
    assert spec.defaults() == {h.name: h.default for h in spec.hyperparameters}
    assert 1e-9 <= spec.suggested_lr <= 1e3
    for hyper in spec.hyperparameters:
        assert hyper.minimum <= hyper.default <= hyper.maximum, hyper.name
        assert hyper.minimum < hyper.maximum
        assert hyper.label
        assert hyper.validate(hyper.default) == hyper.default
        if hyper.log_scale:
            assert hyper.minimum > 0
        if hyper.integer:
            assert float(hyper.default).is_integer()


@pytest.mark.parametrize("name", NAMES)
def test_every_knob_is_a_keyword_of_the_torch_class(name) -> None:
    spec = get_optimizer(name)
    accepted = inspect.signature(getattr(torch.optim, spec.torch_class)).parameters
    for key in spec.torch_kwargs(spec.defaults()):
        assert key in accepted, key


@pytest.mark.parametrize(
    ("name", "knob"),
    [
        pytest.param(
            name,
            hyper.name,
            id=f"{name}-{hyper.name}",
        )
        for name in NAMES
        for hyper in OPTIMIZERS[name].hyperparameters
    ],
)
def test_every_value_in_range_builds(name, knob) -> None:
    # A slider at either end of its range must give a working optimizer.
    spec = get_optimizer(name)
    hyper = spec.hyperparameter(knob)
    for value in (hyper.minimum, hyper.maximum):
        optimizer = spec.build(_params(), 0.01, {knob: value})
        assert isinstance(optimizer, torch.optim.Optimizer)


def test_validate_rejects_out_of_range_and_non_finite() -> None:
    hyper = HyperParameter("momentum", "momentum", 0.9, 0.0, 0.999)
    assert hyper.validate(0) == 0.0
    assert hyper.validate("0.5") == 0.5
    assert hyper.validate(0.999) == 0.999
    for bad in (-0.001, 1.0, 0.9991, math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match=r"momentum must be between 0 and 0\.999"):
            hyper.validate(bad)
    with pytest.raises(ValueError, match="lots"):
        hyper.validate("lots")


def test_validate_integer_knobs() -> None:
    hyper = get_optimizer("lbfgs").hyperparameter("history_size")
    assert hyper.integer
    value = hyper.validate(7.0)
    assert value == 7
    assert isinstance(value, int)
    assert isinstance(hyper.validate("12"), int)
    for bad in (2.5, 1.0001, "3.5"):
        with pytest.raises(ValueError, match="whole number"):
            hyper.validate(bad)
    for bad in (0, 101, -1):
        with pytest.raises(ValueError, match="between 1 and 100"):
            hyper.validate(bad)
    spec = get_optimizer("lbfgs")
    optimizer = spec.build(_params(), 0.5, {"history_size": 3.0, "max_iter": 2.0})
    group = optimizer.param_groups[0]
    assert group["history_size"] == 3
    assert isinstance(group["history_size"], int)
    assert group["max_iter"] == 2
    assert isinstance(group["max_iter"], int)


@pytest.mark.parametrize("name", ["adam", "adamw", "adamax", "nadam", "radam"])
def test_torch_kwargs_groups_betas(name) -> None:
    spec = get_optimizer(name)
    values = spec.resolve({"beta1": 0.8, "beta2": 0.95})
    kwargs = spec.torch_kwargs(values)
    assert kwargs["betas"] == (0.8, 0.95)
    assert "beta1" not in kwargs
    assert "beta2" not in kwargs
    assert kwargs["eps"] == 1e-8
    assert values == spec.resolve({"beta1": 0.8, "beta2": 0.95})  # input untouched
    group = spec.build(_params(), 0.01, {"beta1": 0.8, "beta2": 0.95}).param_groups[0]
    assert tuple(group["betas"]) == (0.8, 0.95)


def test_torch_kwargs_keeps_fixed_settings_and_plain_knobs() -> None:
    spec = get_optimizer("nesterov")
    kwargs = spec.torch_kwargs({"momentum": 0.5, "weight_decay": 0.1})
    assert kwargs == {"nesterov": True, "momentum": 0.5, "weight_decay": 0.1}
    # a lone beta is passed through untouched (no half tuple)
    partial = OptimizerSpec("x", "X", "Adam", 0.1).torch_kwargs({"beta1": 0.5})
    assert partial == {"beta1": 0.5}


def test_resolve_overlays_defaults_and_validates() -> None:
    spec = get_optimizer("rmsprop")
    assert spec.resolve() == spec.defaults()
    resolved = spec.resolve({"alpha": 0.5})
    assert resolved == {**spec.defaults(), "alpha": 0.5}
    with pytest.raises(ValueError, match="alpha"):
        spec.resolve({"alpha": 2.0})


def test_unknown_hyperparameter_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        get_optimizer("adam").resolve({"momentum": 0.9})
    message = str(info.value)
    assert "momentum" in message
    for known in ("beta1", "beta2", "eps"):
        assert known in message
    with pytest.raises(KeyError, match="weight_decay"):
        get_optimizer("sgd").hyperparameter("beta1")


def test_unknown_optimizer_lists_the_choices() -> None:
    with pytest.raises(KeyError) as info:
        get_optimizer("adamm")
    message = str(info.value)
    assert "adamm" in message
    for name in NAMES:
        assert name in message


def test_names_are_case_insensitive() -> None:
    assert get_optimizer("Adam") is OPTIMIZERS["adam"]
    assert get_optimizer("LBFGS") is OPTIMIZERS["lbfgs"]


def test_only_gradient_scaled_optimizers_are_flagged() -> None:
    flagged = {n for n, s in OPTIMIZERS.items() if s.scales_with_gradient}
    # RAdam too: its warm-up steps are un-normalised momentum steps.
    assert flagged == {"sgd", "momentum", "nesterov", "radam"}
    assert {n for n, s in OPTIMIZERS.items() if s.needs_closure} == {"lbfgs"}
