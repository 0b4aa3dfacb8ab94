"""The learning-rate schedule registry: every entry follows torch's own curve,
resumes exactly from its saved state, rescales with the base lr, validates its
knobs, and the registry loads without torch."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch.optim import lr_scheduler

from sgd_viewer.core.optimizers import HyperParameter
from sgd_viewer.core.schedules import (
    SCHEDULES,
    LearningRateSchedule,
    ScheduleSpec,
    get_schedule,
)

LR = 0.1
ORDER = ["constant", "step", "exponential", "cosine", "warmup", "onecycle"]
TORCH_CLASS = {
    "step": "StepLR",
    "exponential": "ExponentialLR",
    "cosine": "CosineAnnealingLR",
    "warmup": "LinearLR",
    "onecycle": "OneCycleLR",
}
BUILT = list(TORCH_CLASS)

# Knobs small enough that 50 steps cross every interesting point: several cuts,
# the end of the cosine's half period (and its climb back), the end of the
# warm-up, and the end of the one cycle.
KNOBS = {
    "step": {"step_size": 7, "gamma": 0.5},
    "exponential": {"gamma": 0.9},
    "cosine": {"t_max": 20, "eta_min": 0.001},
    "warmup": {"warmup_steps": 40, "start_factor": 0.05},
    "onecycle": {
        "total_steps": 40,
        "pct_start": 0.25,
        "div_factor": 10.0,
        "final_div_factor": 100.0,
    },
}


def _torch_reference(name: str, optimizer: torch.optim.Optimizer):
    """The plain torch scheduler for ``KNOBS[name]``, spelled out by hand."""
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.5)
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=20, eta_min=0.001)
    if name == "warmup":
        return lr_scheduler.LinearLR(
            optimizer, start_factor=0.05, end_factor=1.0, total_iters=40
        )
    assert name == "onecycle"
    return lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=LR,
        total_steps=40,
        pct_start=0.25,
        anneal_strategy="cos",
        cycle_momentum=False,
        div_factor=10.0,
        final_div_factor=100.0,
    )


def _optimizer(start: float = 1.0, momentum: float = 0.0) -> torch.optim.SGD:
    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    return torch.optim.SGD([param], lr=LR, momentum=momentum)


def _optimizer_step(optimizer: torch.optim.Optimizer) -> None:
    """One real step on L(p) = p²."""
    (param,) = optimizer.param_groups[0]["params"]
    optimizer.zero_grad()
    (param * param).backward()
    optimizer.step()


def _lr(optimizer: torch.optim.Optimizer) -> float:
    return optimizer.param_groups[0]["lr"]


def _run(optimizer, schedule, steps: int) -> list[float]:
    """The lr used by each of ``steps`` optimizer steps (then stepping the schedule)."""
    lrs = []
    for _ in range(steps):
        lrs.append(_lr(optimizer))
        _optimizer_step(optimizer)
        schedule.step()
    return lrs


def _build(name: str, optimizer) -> LearningRateSchedule:
    schedule = get_schedule(name).build(optimizer, KNOBS[name])
    assert isinstance(schedule, LearningRateSchedule)
    return schedule


# ------------------------------------------------------------------ registry
def test_registry_holds_the_six_schedules_in_order() -> None:
    assert list(SCHEDULES) == ORDER
    for name, spec in SCHEDULES.items():
        assert isinstance(spec, ScheduleSpec)
        assert spec.name == name
        assert spec.label
        assert spec.description
        assert spec.torch_class == TORCH_CLASS.get(name)


@pytest.mark.parametrize("name", ORDER)
def test_every_knob_is_described_and_its_default_is_valid(name) -> None:
    spec = SCHEDULES[name]
    assert len({k.name for k in spec.knobs}) == len(spec.knobs)
    for knob in spec.knobs:
        assert isinstance(knob, HyperParameter)
        assert knob.label
        assert knob.help
        assert knob.minimum <= knob.default <= knob.maximum
        assert knob.validate(knob.default) == knob.default
        if knob.log_scale:
            assert knob.minimum > 0
    assert spec.defaults() == {k.name: k.default for k in spec.knobs}
    assert spec.resolve(None) == spec.defaults()


def test_knobs_have_the_documented_defaults_and_ranges() -> None:
    table = {
        (name, k.name): (k.default, k.minimum, k.maximum, k.integer, k.log_scale)
        for name, spec in SCHEDULES.items()
        for k in spec.knobs
    }
    assert table == {
        ("step", "step_size"): (100, 1, 10_000_000, True, False),
        ("step", "gamma"): (0.5, 0.0, 1.0, False, False),
        ("exponential", "gamma"): (0.999, 0.5, 1.0, False, False),
        ("cosine", "t_max"): (1000, 1, 100_000_000, True, False),
        ("cosine", "eta_min"): (0.0, 0.0, 1000.0, False, False),
        ("warmup", "warmup_steps"): (100, 1, 10_000_000, True, False),
        ("warmup", "start_factor"): (0.1, 1e-4, 1.0, False, True),
        ("onecycle", "total_steps"): (1000, 2, 100_000_000, True, False),
        ("onecycle", "pct_start"): (0.3, 0.01, 0.99, False, False),
        ("onecycle", "div_factor"): (25, 1, 1e4, False, True),
        ("onecycle", "final_div_factor"): (1e4, 1, 1e8, False, True),
    }


def test_get_schedule_is_case_insensitive() -> None:
    assert get_schedule("OneCycle") is SCHEDULES["onecycle"]
    assert get_schedule("COSINE") is SCHEDULES["cosine"]


def test_get_schedule_names_the_choices_for_an_unknown_name() -> None:
    with pytest.raises(KeyError) as caught:
        get_schedule("triangle")
    assert caught.value.args[0] == (
        "unknown schedule 'triangle'; choose one of: "
        "constant, step, exponential, cosine, warmup, onecycle"
    )


def test_knob_names_the_known_knobs() -> None:
    with pytest.raises(KeyError) as caught:
        get_schedule("step").knob("lr")
    assert caught.value.args[0] == (
        "Step decay has no knob 'lr' (it has: step_size, gamma)"
    )
    with pytest.raises(KeyError, match=r"has no knob 'gamma' \(it has: none\)"):
        get_schedule("constant").knob("gamma")


def test_resolve_overlays_validated_values() -> None:
    spec = get_schedule("onecycle")
    resolved = spec.resolve({"total_steps": 500.0, "pct_start": 0.5})
    assert resolved == {
        "total_steps": 500,
        "pct_start": 0.5,
        "div_factor": 25,
        "final_div_factor": 1e4,
    }
    assert type(resolved["total_steps"]) is int


def test_resolve_rejects_an_unknown_knob_by_name() -> None:
    with pytest.raises(KeyError, match="no knob 'step_size'"):
        get_schedule("exponential").resolve({"step_size": 3})


@pytest.mark.parametrize(
    ("name", "knob", "value"),
    [
        ("step", "gamma", 1.5),
        ("step", "step_size", 0),
        ("step", "step_size", 2.5),
        ("exponential", "gamma", 0.4),
        ("cosine", "t_max", 0),
        ("cosine", "eta_min", -1.0),
        ("cosine", "eta_min", math.nan),
        ("warmup", "start_factor", 0.0),
        ("warmup", "warmup_steps", 10_000_001),
        ("onecycle", "total_steps", 1),
        ("onecycle", "pct_start", 1.0),
        ("onecycle", "div_factor", 0.5),
        ("onecycle", "final_div_factor", math.inf),
        ("onecycle", "pct_start", "half"),
        ("onecycle", "pct_start", None),
    ],
)
def test_resolve_rejects_a_bad_value_naming_the_knob(name, knob, value) -> None:
    with pytest.raises(ValueError, match=knob):
        get_schedule(name).resolve({knob: value})


def test_build_validates_too() -> None:
    with pytest.raises(ValueError, match="gamma"):
        get_schedule("step").build(_optimizer(), {"gamma": 2.0})
    with pytest.raises(KeyError, match="no knob 'gamma'"):
        get_schedule("constant").build(_optimizer(), {"gamma": 0.5})


def test_constant_builds_nothing_and_leaves_the_lr_alone() -> None:
    optimizer = _optimizer()
    assert get_schedule("constant").build(optimizer) is None
    assert get_schedule("constant").build(optimizer, {}) is None
    assert optimizer.param_groups[0]["lr"] == LR
    assert "initial_lr" not in optimizer.param_groups[0]


# --------------------------------------------------------------------- build
@pytest.mark.parametrize("name", BUILT)
def test_every_schedule_builds_its_torch_scheduler_with_the_defaults(name) -> None:
    optimizer = _optimizer()
    schedule = get_schedule(name).build(optimizer)
    assert isinstance(schedule, LearningRateSchedule)
    assert schedule.name == name
    assert type(schedule.scheduler) is getattr(lr_scheduler, TORCH_CLASS[name])
    assert schedule.scheduler.optimizer is optimizer
    assert schedule.base_lr == LR
    assert schedule.steps == 0


def test_knobs_reach_torch_under_torch_names() -> None:
    step = _build("step", _optimizer()).scheduler
    assert (step.step_size, step.gamma) == (7, 0.5)
    exponential = _build("exponential", _optimizer()).scheduler
    assert exponential.gamma == 0.9
    cosine = _build("cosine", _optimizer()).scheduler
    assert (cosine.T_max, cosine.eta_min) == (20, 0.001)
    warmup = _build("warmup", _optimizer()).scheduler
    assert (warmup.start_factor, warmup.end_factor, warmup.total_iters) == (
        0.05,
        1.0,
        40,
    )
    optimizer = _optimizer()
    onecycle = _build("onecycle", optimizer).scheduler
    group = optimizer.param_groups[0]
    assert onecycle.total_steps == 40
    assert onecycle.cycle_momentum is False
    assert onecycle._anneal_func_type == "cos"
    assert group["max_lr"] == LR
    assert group["initial_lr"] == LR / 10.0
    assert group["min_lr"] == LR / 10.0 / 100.0
    assert onecycle._schedule_phases[0]["end_step"] == 0.25 * 40 - 1


@pytest.mark.parametrize("name", BUILT)
def test_each_schedule_follows_torch_s_own_curve(name) -> None:
    ours_optimizer, torch_optimizer = _optimizer(), _optimizer()
    schedule = _build(name, ours_optimizer)
    reference = _torch_reference(name, torch_optimizer)
    steps = 39 if name == "onecycle" else 50  # torch's last in-cycle step: 39
    ours = _run(ours_optimizer, schedule, steps)
    theirs = _run(torch_optimizer, reference, steps)
    assert ours == theirs
    assert _lr(ours_optimizer) == _lr(torch_optimizer)
    assert ours_optimizer.param_groups[0]["params"][0].item() == (
        torch_optimizer.param_groups[0]["params"][0].item()
    )
    assert len(set(ours)) > 3  # the curve moves: the test compares something
    assert schedule.steps == steps


def test_onecycle_holds_its_final_lr_past_total_steps() -> None:
    optimizer = _optimizer()
    schedule = _build("onecycle", optimizer)
    lrs = _run(optimizer, schedule, 3 * 40)  # torch itself raises at step 41
    final = LR / 10.0 / 100.0
    assert lrs[0] == pytest.approx(LR / 10.0, rel=1e-12)
    assert max(lrs) == LR
    assert lrs[39] == pytest.approx(final, rel=1e-12)  # the 40th step: min_lr
    assert lrs[39:] == [lrs[39]] * (3 * 40 - 39)
    assert schedule.lr == lrs[39]
    assert schedule.steps == 3 * 40
    assert schedule.scheduler.last_epoch == 39


def test_onecycle_whose_rising_phase_ends_at_step_zero_still_builds() -> None:
    # pct_start·total_steps == 1: torch alone divides 0 by 0 while building.
    with pytest.raises(ZeroDivisionError):
        lr_scheduler.OneCycleLR(_optimizer(), max_lr=LR, total_steps=10, pct_start=0.1)
    optimizer = _optimizer()
    schedule = get_schedule("onecycle").build(
        optimizer, {"total_steps": 10, "pct_start": 0.1}
    )
    assert schedule is not None
    lrs = _run(optimizer, schedule, 15)
    assert lrs[0] == pytest.approx(LR / 25, rel=1e-12)
    # Then the anneal from the peak (reached "just after" step 0) to min_lr.
    low = LR / 25 / 1e4
    annealed = [
        low + (LR - low) / 2 * (1 + math.cos(math.pi * k / 9)) for k in range(10)
    ]
    assert lrs[1:10] == pytest.approx(annealed[1:], rel=1e-9)
    assert lrs[9:] == [pytest.approx(low, rel=1e-12)] * 6


@pytest.mark.parametrize("name", BUILT)
def test_step_never_raises_far_past_any_horizon(name) -> None:
    values = {
        "step": {"step_size": 1, "gamma": 0.0},
        "exponential": {"gamma": 0.5},
        "cosine": {"t_max": 1},
        "warmup": {"warmup_steps": 1},
        "onecycle": {"total_steps": 2},
    }[name]
    optimizer = _optimizer()
    schedule = get_schedule(name).build(optimizer, values)
    assert schedule is not None
    lrs = _run(optimizer, schedule, 2000)
    assert all(math.isfinite(lr) and lr >= 0.0 for lr in lrs)
    assert schedule.steps == 2000


def test_a_new_schedule_starts_from_the_lr_the_optimizer_has_now() -> None:
    optimizer = _optimizer()
    _run(optimizer, _build("warmup", optimizer), 5)
    current = _lr(optimizer)
    assert current < LR
    schedule = get_schedule("cosine").build(optimizer, {"t_max": 4})
    assert schedule is not None
    assert schedule.base_lr == current
    assert schedule.scheduler.base_lrs == [current]
    lrs = _run(optimizer, schedule, 9)
    assert lrs[0] == current
    assert lrs[4] == 0.0  # the bottom of the half period
    assert lrs[8] == pytest.approx(current, rel=1e-12)  # back at its own start


# ------------------------------------------------------------- save / restore
@pytest.mark.parametrize("name", BUILT)
def test_state_round_trip_repeats_the_next_steps_exactly(name) -> None:
    optimizer = _optimizer(momentum=0.9)
    schedule = _build(name, optimizer)
    _run(optimizer, schedule, 30)
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    saved_schedule = copy.deepcopy(schedule.state_dict())
    saved_param = optimizer.param_groups[0]["params"][0].item()
    first = _run(optimizer, schedule, 20)
    first_param = optimizer.param_groups[0]["params"][0].item()

    fresh = _optimizer(start=saved_param, momentum=0.9)
    restored = _build(name, fresh)
    fresh.load_state_dict(saved_optimizer)
    restored.load_state_dict(saved_schedule)
    assert restored.steps == 30
    again = _run(fresh, restored, 20)
    assert again == first
    assert fresh.param_groups[0]["params"][0].item() == first_param
    assert len(set(first)) > 1 or name == "onecycle"


@pytest.mark.parametrize("name", BUILT)
def test_restoring_the_schedule_alone_restores_the_lr(name) -> None:
    # No optimizer state loaded, or loaded first: the schedule's state has the lr.
    optimizer = _optimizer()
    schedule = _build(name, optimizer)
    _run(optimizer, schedule, 13)
    saved = schedule.state_dict()
    first = _run(optimizer, schedule, 20)
    fresh = _optimizer()
    restored = _build(name, fresh)
    restored.load_state_dict(saved)
    assert _run(fresh, restored, 20) == first


def test_state_is_an_independent_copy() -> None:
    optimizer = _optimizer()
    schedule = _build("onecycle", optimizer)
    _run(optimizer, schedule, 5)
    state = schedule.state_dict()
    assert copy.deepcopy(state) == state
    assert state["schedule"] == "onecycle"
    assert state["steps"] == 5
    state["scheduler"]["base_lrs"][0] = 123.0
    state["param_groups"][0]["max_lr"] = 123.0
    assert schedule.scheduler.base_lrs[0] != 123.0
    assert optimizer.param_groups[0]["max_lr"] == LR
    loaded = schedule.state_dict()
    schedule.load_state_dict(loaded)
    loaded["param_groups"][0]["max_lr"] = 7.0
    loaded["scheduler"]["base_lrs"][0] = 7.0
    loaded["scheduler"]["_schedule_phases"][0]["end_lr"] = "lr"
    assert optimizer.param_groups[0]["max_lr"] == LR
    assert schedule.scheduler.base_lrs == [LR / 10.0]
    assert schedule.scheduler._schedule_phases[0]["end_lr"] == "max_lr"


def test_loading_another_schedule_s_state_is_refused_unchanged() -> None:
    optimizer = _optimizer()
    schedule = _build("step", optimizer)
    other = _build("exponential", _optimizer())
    before = schedule.state_dict()
    with pytest.raises(ValueError, match="'exponential', not 'step'"):
        schedule.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="missing: steps"):
        schedule.load_state_dict({k: v for k, v in before.items() if k != "steps"})
    assert schedule.state_dict() == before


# ----------------------------------------------------------------- rescaling
@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("step", KNOBS["step"]),
        ("exponential", KNOBS["exponential"]),
        ("onecycle", KNOBS["onecycle"]),
        ("warmup", KNOBS["warmup"]),
        # Past t_max torch's cosine climbs back using base_lrs: they scale too.
        ("cosine", {"t_max": 20, "eta_min": 0.0}),
    ],
)
def test_set_base_lr_halves_the_rest_of_the_curve(name, values) -> None:
    ref_optimizer, half_optimizer = _optimizer(), _optimizer()
    reference = get_schedule(name).build(ref_optimizer, values)
    halved = get_schedule(name).build(half_optimizer, values)
    assert reference is not None
    assert halved is not None
    _run(ref_optimizer, reference, 10)
    _run(half_optimizer, halved, 10)
    halved.set_base_lr(LR / 2)
    assert halved.base_lr == LR / 2
    assert halved.scheduler.base_lrs == [b / 2 for b in reference.scheduler.base_lrs]
    assert halved.lr == _lr(ref_optimizer) / 2
    assert halved.scheduler.get_last_lr() == [halved.lr]
    expected = _run(ref_optimizer, reference, 45)
    got = _run(half_optimizer, halved, 45)
    assert got == pytest.approx([lr / 2 for lr in expected], rel=1e-12, abs=0.0)
    assert len(set(expected)) > 1


def test_set_base_lr_scales_from_the_latest_base_even_after_a_restore() -> None:
    ref_optimizer, optimizer = _optimizer(), _optimizer()
    reference = _build("exponential", ref_optimizer)
    schedule = _build("exponential", optimizer)
    schedule.set_base_lr(0.05)
    saved = schedule.state_dict()
    fresh = _optimizer()
    restored = _build("exponential", fresh)
    restored.load_state_dict(saved)
    assert restored.base_lr == 0.05
    restored.set_base_lr(0.3)  # × 6 from 0.05, × 3 from the build's 0.1
    expected = _run(ref_optimizer, reference, 10)
    got = _run(fresh, restored, 10)
    assert got == pytest.approx([3 * lr for lr in expected], rel=1e-12, abs=0.0)


def test_set_base_lr_is_deterministic_and_keeps_the_cosine_floor() -> None:
    def curve() -> list[float]:
        optimizer = _optimizer()
        schedule = _build("cosine", optimizer)
        _run(optimizer, schedule, 5)
        schedule.set_base_lr(0.037)
        return _run(optimizer, schedule, 20)

    first = curve()
    assert curve() == first
    assert first[15] == pytest.approx(0.001, abs=1e-15)  # η min, unscaled


@pytest.mark.parametrize("bad", [0.0, -0.1, math.nan, math.inf])
def test_set_base_lr_rejects_a_non_positive_lr(bad) -> None:
    optimizer = _optimizer()
    schedule = _build("step", optimizer)
    with pytest.raises(ValueError, match="positive"):
        schedule.set_base_lr(bad)
    assert schedule.base_lr == LR
    assert _lr(optimizer) == LR


# --------------------------------------------------------------- no torch yet
