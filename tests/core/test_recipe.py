"""Runs as recipes: the spec syntax (good and bad), spec_of round trips,
generated labels, colours and the JSON form of a recipe."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_viewer.core.config import LR_RANGE, TrainingConfig
from sgd_viewer.core.optimizers import OPTIMIZERS, get_optimizer
from sgd_viewer.core.recipe import (
    MAX_RUNS,
    PALETTE,
    RunRecipe,
    SettingChange,
    SpecError,
    change_between,
    default_label,
    next_colour,
    parse_spec,
    spec_of,
)
from sgd_viewer.core.schedules import SCHEDULES, get_schedule


# ------------------------------------------------------------ good specs
def test_issue_example_momentum() -> None:
    config, label = parse_spec("momentum:lr=0.05,momentum=0.9")
    assert label is None
    assert config == TrainingConfig(
        optimizer="momentum", lr=0.05, hyperparameters={"momentum": 0.9}
    )


def test_issue_example_adam_betas_sets_both_betas() -> None:
    config, _ = parse_spec("adam:lr=0.1,betas=0.9/0.99")
    assert config == TrainingConfig(
        optimizer="adam", lr=0.1, hyperparameters={"beta1": 0.9, "beta2": 0.99}
    )
    assert config.hyperparameters["beta2"] != get_optimizer("adam").defaults()["beta2"]


def test_issue_example_sgd_batch_and_schedule() -> None:
    config, _ = parse_spec("sgd:lr=0.02,batch=8,schedule=cosine")
    assert config == TrainingConfig(
        optimizer="sgd", lr=0.02, batch_size=8, schedule="cosine"
    )
    assert dict(config.schedule_options) == get_schedule("cosine").defaults()


def test_schedule_knobs_are_keys_in_any_order() -> None:
    expected = TrainingConfig(
        lr=0.02, schedule="cosine", schedule_options={"t_max": 500, "eta_min": 0.001}
    )
    first, _ = parse_spec("sgd:lr=0.02,schedule=cosine,t_max=500,eta_min=0.001")
    knobs_first, _ = parse_spec("sgd:t_max=500,eta_min=0.001,lr=0.02,schedule=cosine")
    assert first == expected
    assert knobs_first == expected
    assert first.schedule_options["t_max"] == 500


def test_label_is_returned_and_may_hold_equals_signs_and_spaces() -> None:
    config, label = parse_spec("sgd:lr=0.1,label=fast one")
    assert label == "fast one"
    assert config == TrainingConfig(lr=0.1)
    _, label = parse_spec("sgd:label=lr=0.1 run")
    assert label == "lr=0.1 run"


@pytest.mark.parametrize("full", ["full", "FULL", "Full"])
def test_batch_full_means_the_whole_data(full) -> None:
    base = TrainingConfig(batch_size=8)
    config, _ = parse_spec(f"sgd:batch={full}", base)
    assert config.batch_size is None


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_name_only_takes_the_optimizer_s_suggested_lr_and_defaults(name) -> None:
    spec = get_optimizer(name)
    config, label = parse_spec(name)
    assert label is None
    assert config.optimizer == name
    assert config.lr == spec.suggested_lr
    assert dict(config.hyperparameters) == spec.defaults()
    assert config.batch_size is None
    assert config.schedule == "constant"


def test_adam_alone_takes_adam_s_suggested_lr() -> None:
    config, _ = parse_spec("adam")
    assert config.lr == get_optimizer("adam").suggested_lr
    assert config.lr != TrainingConfig().lr  # not the session's sgd lr


def test_the_base_fills_in_what_the_spec_leaves_out() -> None:
    base = TrainingConfig(
        optimizer="sgd",
        lr=0.3,
        batch_size=8,
        reduction="sum",
        dtype="float32",
        seed=4,
        loss_form="per_point",
    )
    same, _ = parse_spec("sgd", base)
    assert same == base  # same optimizer: base's lr too
    other, _ = parse_spec("adam", base)
    assert other.lr == get_optimizer("adam").suggested_lr
    assert (other.batch_size, other.reduction, other.dtype, other.seed) == (
        8,
        "sum",
        "float32",
        4,
    )
    assert other.loss_form == "per_point"


@pytest.mark.parametrize(
    "spec",
    [
        "  momentum:lr=0.05,momentum=0.9  ",
        "MOMENTUM:lr=0.05,momentum=0.9",
        "Momentum : lr = 0.05 , momentum = 0.9",
        "momentum:momentum=0.9, lr=0.05",
    ],
)
def test_whitespace_and_name_case_do_not_matter(spec) -> None:
    assert parse_spec(spec) == parse_spec("momentum:lr=0.05,momentum=0.9")


def test_schedule_name_case_does_not_matter() -> None:
    assert parse_spec("sgd:schedule=COSINE") == parse_spec("sgd:schedule=cosine")


# ------------------------------------------------------------- bad specs
@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("bogus:lr=0.1", "unknown optimizer 'bogus'"),
        ("sgd:foo=1", "unknown key 'foo'"),
        ("sgd:momentum=0.5", "unknown key 'momentum'"),  # not sgd's knob
        ("sgd:t_max=5", "unknown key 't_max'"),  # no schedule has it here
        ("sgd:lr=0", "learning rate"),
        ("sgd:lr=-1", "learning rate"),
        ("momentum:momentum=2", "momentum must be between"),
        ("adam:betas=0.9/1.5", "beta2 must be between"),
        ("sgd:schedule=cosine,t_max=0", "t_max must be between"),
        ("sgd:schedule=cosine,t_max=2.5", "t_max must be a whole number"),
        ("sgd:lr", "expected key=value"),
        ("sgd:lr=", "expected key=value"),
        ("sgd:=1", "expected key=value"),
        ("sgd:lr=abc", "'abc' is not a number"),
        ("sgd:lr=nan", "lr must be finite"),
        (":lr=1", "no optimizer name"),
        ("adam:betas=0.9", "betas expects B1/B2"),
        ("adam:betas=0.9/0.99/0.999", "betas expects B1/B2"),
        ("sgd:lr=0.1,lr=0.2", "lr given twice"),
        ("sgd:batch=8,batch=4", "batch given twice"),
        ("sgd:batch=0", "batch must be 1 or more"),
        ("sgd:batch=2.5", "whole number or 'full'"),
        ("sgd:schedule=nope", "unknown schedule 'nope'"),
    ],
)
def test_bad_spec_names_itself_and_the_problem(spec, problem) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)
    message = str(caught.value)
    assert repr(spec) in message
    assert problem in message
    assert "\n" not in message


def test_spec_error_is_a_value_error() -> None:
    # Callers that catch ValueError for settings (the window) catch it too.
    assert issubclass(SpecError, ValueError)


def test_unknown_optimizer_lists_the_choices() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec("bogus")
    assert all(name in str(caught.value) for name in OPTIMIZERS)


def test_unknown_key_lists_the_keys_that_would_do() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec("adam:schedule=step,foo=1")
    message = str(caught.value)
    for key in ("lr", "batch", "schedule", "label", "betas", "beta1", "eps"):
        assert key in message
    for knob in get_schedule("step").defaults():
        assert knob in message


def test_beta1_given_twice_through_betas_is_refused() -> None:
    with pytest.raises(SpecError, match="twice"):
        parse_spec("adam:beta1=0.5,betas=0.9/0.99")


# ---------------------------------------------------------------- spec_of
ROUND_TRIP = [
    TrainingConfig(),
    TrainingConfig(lr=1 / 3),
    TrainingConfig(optimizer="momentum", lr=0.05, hyperparameters={"momentum": 0.9}),
    TrainingConfig(
        optimizer="momentum",
        lr=0.05,
        hyperparameters={"momentum": 0.5, "weight_decay": 0.01},
    ),
    TrainingConfig(
        optimizer="adam",
        lr=0.123456789012345,
        hyperparameters={"beta1": 0.8, "beta2": 0.95, "eps": 1e-6},
    ),
    TrainingConfig(
        optimizer="lbfgs", lr=0.5, hyperparameters={"history_size": 5, "max_iter": 3}
    ),
    TrainingConfig(
        optimizer="sgd",
        lr=0.02,
        batch_size=8,
        schedule="cosine",
        schedule_options={"t_max": 500, "eta_min": 0.001},
    ),
    TrainingConfig(optimizer="nesterov", lr=0.01, batch_size=1, schedule="step"),
    TrainingConfig(
        optimizer="radam",
        lr=0.05,
        schedule="onecycle",
        schedule_options={
            "total_steps": 40,
            "pct_start": 0.25,
            "div_factor": 10.0,
            "final_div_factor": 100.0,
        },
    ),
    TrainingConfig(
        optimizer="rmsprop",
        lr=LR_RANGE[0],
        hyperparameters={"alpha": 0.9, "momentum": 0.5},
        schedule="warmup",
        schedule_options={"warmup_steps": 7},
    ),
    TrainingConfig(optimizer="adagrad", lr=LR_RANGE[1], schedule="exponential"),
]


@pytest.mark.parametrize("config", ROUND_TRIP, ids=lambda c: spec_of(c))
def test_spec_of_round_trips(config) -> None:
    assert parse_spec(spec_of(config)) == (config, None)


@pytest.mark.parametrize("config", ROUND_TRIP[:5], ids=lambda c: spec_of(c))
def test_spec_of_round_trips_with_the_generated_label(config) -> None:
    label = default_label(config)
    assert parse_spec(spec_of(config, label)) == (config, label)


_OPTIMIZER_CONFIGS = st.sampled_from(list(OPTIMIZERS)).flatmap(
    lambda name: st.builds(
        lambda lr, knobs, batch, schedule: TrainingConfig(
            optimizer=name,
            lr=lr,
            hyperparameters=knobs,
            batch_size=batch,
            schedule=schedule,
        ),
        st.floats(LR_RANGE[0], LR_RANGE[1]),
        st.fixed_dictionaries(
            {},
            optional={
                h.name: (
                    st.integers(int(h.minimum), int(h.maximum))
                    if h.integer
                    else st.floats(h.minimum, h.maximum)
                )
                for h in OPTIMIZERS[name].hyperparameters
            },
        ),
        st.none() | st.integers(1, 10_000),
        st.sampled_from(list(SCHEDULES)),
    )
)


@settings(max_examples=60, deadline=None, database=None)
@given(_OPTIMIZER_CONFIGS)
def test_spec_of_round_trips_any_config(config) -> None:
    assert parse_spec(spec_of(config)) == (config, None)


def test_spec_of_says_only_knobs_that_differ_from_the_defaults() -> None:
    spec = spec_of(TrainingConfig(optimizer="adam", lr=0.1))
    assert spec == "adam:lr=0.1,batch=full,schedule=constant"


def test_spec_of_round_trips_against_any_session_base() -> None:
    base = TrainingConfig(batch_size=8, schedule="cosine")
    config = TrainingConfig(optimizer="adam", lr=0.1)
    assert parse_spec(spec_of(config), base) == (config, None)


def test_spec_of_round_trips_a_label_with_a_comma() -> None:
    config = TrainingConfig(lr=0.1)
    assert parse_spec(spec_of(config, "fast, noisy")) == (config, "fast, noisy")


# ---------------------------------------------------------------- labels
@pytest.mark.parametrize(
    "spec",
    [
        "sgd:lr=0.1",
        "momentum:lr=0.05,momentum=0.9",
        "adam:lr=0.1,betas=0.9/0.99",
        "lbfgs",
        "rmsprop:lr=0.003",
    ],
)
def test_default_label_names_optimizer_and_lr(spec) -> None:
    config, _ = parse_spec(spec)
    label = default_label(config)
    words = label.split()
    assert words[0] == config.optimizer
    assert f"lr={config.lr:g}" in words


def test_default_label_names_what_differs() -> None:
    config, _ = parse_spec("adam:lr=0.1,betas=0.8/0.99,batch=8,schedule=cosine")
    label = default_label(config)
    assert "β1=0.8" in label
    assert "β2=0.99" in label
    assert "eps" not in label  # at its default
    assert "ε" not in label
    assert "batch=8" in label
    assert "cosine" in label


def test_labels_differ_for_different_lr() -> None:
    lrs = [0.001, 0.003, 0.01, 0.05, 0.1, 0.5]
    for name in ("sgd", "adam"):
        labels = {default_label(TrainingConfig(optimizer=name, lr=lr)) for lr in lrs}
        assert len(labels) == len(lrs)


def test_labels_differ_for_different_optimizers() -> None:
    labels = {default_label(TrainingConfig(optimizer=name)) for name in OPTIMIZERS}
    assert len(labels) == len(OPTIMIZERS)


# --------------------------------------------------------------- colours
def test_next_colour_gives_distinct_palette_colours_for_eight_runs() -> None:
    taken: list[str] = []
    for _ in range(MAX_RUNS):
        taken.append(next_colour(taken))
    assert len(set(taken)) == MAX_RUNS
    assert set(taken) <= set(PALETTE)
    assert taken[0] == PALETTE[0]


def test_next_colour_reuses_the_first_freed_colour() -> None:
    taken = list(PALETTE[:5])
    freed = taken.pop(2)
    assert next_colour(taken) == freed


def test_next_colour_still_answers_when_all_are_taken() -> None:
    assert next_colour(list(PALETTE)) in PALETTE


# ------------------------------------------------------------------ JSON
def _recipe() -> RunRecipe:
    config = TrainingConfig(
        optimizer="adam",
        lr=0.1,
        hyperparameters={"beta1": 0.8},
        batch_size=8,
        reduction="sum",
        dtype="float32",
        loss_form="per_point",
        seed=3,
        schedule="cosine",
        schedule_options={"t_max": 500, "eta_min": 0.001},
    )
    first = change_between(20, config, config.with_changes(lr=0.05, batch_size=None))
    assert first is not None
    second = change_between(
        45,
        first.apply(config),
        first.apply(config).with_changes(hyperparameters={"beta1": 0.5, "eps": 1e-6}),
    )
    assert second is not None
    return RunRecipe(config, "my run", PALETTE[3], (first, second))


def test_recipe_survives_json_text() -> None:
    recipe = _recipe()
    text = json.dumps(recipe.to_json())
    back = RunRecipe.from_json(json.loads(text))
    assert back == recipe
    assert back.to_json() == recipe.to_json()


def test_recipe_without_changes_survives_json_text() -> None:
    recipe = RunRecipe(TrainingConfig(), default_label(TrainingConfig()), PALETTE[0])
    assert RunRecipe.from_json(json.loads(json.dumps(recipe.to_json()))) == recipe


def test_recipe_from_json_rejects_bad_settings() -> None:
    data = _recipe().to_json()
    data["lr"] = 0.0
    with pytest.raises(ValueError, match="learning rate"):
        RunRecipe.from_json(data)
    data = _recipe().to_json()
    data["optimizer"] = "bogus"
    with pytest.raises(KeyError):
        RunRecipe.from_json(data)


def test_config_at_applies_the_changes_made_by_then() -> None:
    recipe = _recipe()
    first, second = recipe.changes
    assert recipe.config_at(0) == recipe.config
    assert recipe.config_at(first.step - 1) == recipe.config
    assert recipe.config_at(first.step) == first.apply(recipe.config)
    assert recipe.config_at(second.step) == second.apply(first.apply(recipe.config))
    assert recipe.config_at(10**9) == recipe.config_at(second.step)
    assert recipe.config_at(first.step).batch_size is None
    # What a change may not touch stays the recipe's.
    assert recipe.config_at(second.step).schedule == "cosine"
    assert recipe.config_at(second.step).dtype == "float32"


def test_change_between_only_for_what_may_change_mid_run() -> None:
    config = TrainingConfig(optimizer="momentum", lr=0.05)
    assert change_between(5, config, config) is None
    assert change_between(5, config, config.with_changes(schedule="cosine")) is None
    change = change_between(5, config, config.with_changes(lr=0.02))
    assert change == SettingChange(5, 0.02, dict(config.hyperparameters), None)
    knob = config.with_changes(hyperparameters={"momentum": 0.5})
    assert change_between(7, config, knob).apply(config) == knob
    batch = config.with_changes(batch_size=4)
    assert change_between(7, config, batch).apply(config) == batch
