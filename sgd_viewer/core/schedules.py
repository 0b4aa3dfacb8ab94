"""Registry of the learning-rate schedules the app offers, over
``torch.optim.lr_scheduler``, with their knobs.

Owns the schedule entries (:data:`SCHEDULES`: name, label, knobs with default,
range and log scale) and :class:`LearningRateSchedule`, the one wrapper the
trainer steps after every optimizer step, saves, restores and rescales when the
user changes the learning rate mid-run. The knobs reuse
:class:`~sgd_viewer.core.optimizers.HyperParameter`, so the GUI builds their
controls and the CLI validates them exactly as it does an optimizer's.

No Qt here, and torch only lazily: the window reads this registry before torch
has loaded, so importing the module never imports torch;
:meth:`ScheduleSpec.build` imports it on first use.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sgd_viewer.core.optimizers import HyperParameter

if TYPE_CHECKING:  # annotations only: never imported at run time
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler

#: The learning-rate entries of a param group that a schedule owns: ``lr`` itself,
#: ``initial_lr`` (every torch scheduler) and OneCycleLR's ``max_lr``/``min_lr``.
_GROUP_KEYS = ("lr", "initial_lr", "max_lr", "min_lr")

_STATE_KEYS = ("schedule", "steps", "base_lr", "scheduler", "param_groups")


class LearningRateSchedule:
    """Wraps one torch scheduler; stepped once after every optimizer step.

    Made by :meth:`ScheduleSpec.build`. ``base_lr`` is the learning rate the
    schedule's curve is drawn from (the optimizer's lr when it was built, then
    whatever :meth:`set_base_lr` set); :attr:`lr` is the one the next optimizer
    step uses.
    """

    def __init__(
        self,
        name: str,
        scheduler: LRScheduler,
        base_lr: float,
        *,
        holds_at_end: bool = False,
    ) -> None:
        self.name = name
        self._scheduler = scheduler
        self._optimizer = scheduler.optimizer
        self._base_lr = float(base_lr)
        # OneCycleLR: a cycle of ``total_steps`` optimizer steps, then its last lr.
        self._holds_at_end = holds_at_end
        self._steps = 0

    # ----------------------------------------------------------- read-outs
    @property
    def scheduler(self) -> LRScheduler:
        """The wrapped torch scheduler (read it; step it only through :meth:`step`)."""
        return self._scheduler

    @property
    def steps(self) -> int:
        """How many times :meth:`step` has been called (held steps included)."""
        return self._steps

    @property
    def base_lr(self) -> float:
        return self._base_lr

    @property
    def lr(self) -> float:
        """The learning rate of the first param group: what the next step uses."""
        return float(self._optimizer.param_groups[0]["lr"])

    # ---------------------------------------------------------------- steps
    def step(self) -> None:
        """Advance the schedule by one optimizer step; never raises.

        Call it after ``optimizer.step()`` (torch warns otherwise). OneCycleLR
        is not stepped once it has reached the last step of its cycle
        (``last_epoch == total_steps − 1``, where the lr is ``min_lr``): torch's
        next step would already leave the curve (the cosine runs past its end and
        the lr climbs back, ~100× ``min_lr`` at the default knobs) and the one
        after raises ``ValueError``. So the lr holds at its final value.
        """
        self._steps += 1
        scheduler = self._scheduler
        if self._holds_at_end and scheduler.last_epoch >= scheduler.total_steps - 1:
            return
        scheduler.step()

    # ------------------------------------------------------- save / restore
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly, as an independent deep copy.

        The torch scheduler's own state, this wrapper's counters and the param
        groups' learning-rate entries (so the lr is right even when the
        optimizer's state is loaded before, after, or not at all).
        """
        return copy.deepcopy(
            {
                "schedule": self.name,
                "steps": self._steps,
                "base_lr": self._base_lr,
                "scheduler": self._scheduler.state_dict(),
                "param_groups": [
                    {key: group[key] for key in _GROUP_KEYS if key in group}
                    for group in self._optimizer.param_groups
                ],
            }
        )

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state_dict` (of the same kind of schedule).

        Checks everything before changing anything: a ``ValueError`` leaves the
        schedule as it was.
        """
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise ValueError(
                f"not a learning-rate schedule state (missing: {', '.join(missing)})"
            )
        if state["schedule"] != self.name:
            raise ValueError(
                f"state is for schedule {state['schedule']!r}, not {self.name!r}"
            )
        groups = self._optimizer.param_groups
        if len(state["param_groups"]) != len(groups):
            raise ValueError(
                f"state has {len(state['param_groups'])} param groups, "
                f"the optimizer has {len(groups)}"
            )
        state = copy.deepcopy(dict(state))  # nothing shared with the caller's dict
        self._scheduler.load_state_dict(state["scheduler"])
        for group, saved in zip(groups, state["param_groups"], strict=True):
            group.update(saved)
        self._steps = int(state["steps"])
        self._base_lr = float(state["base_lr"])

    # ------------------------------------------------------------- rescale
    def set_base_lr(self, new_lr: float) -> None:
        """The user changed the learning rate mid-run: scale the whole curve.

        Multiplies every param group's current ``lr`` (and its ``initial_lr``,
        and OneCycleLR's ``max_lr``/``min_lr``) and the scheduler's ``base_lrs``
        by ``new_lr / base_lr``, so from here on the lr is what it would have
        been had the run started at ``new_lr``. The cosine's ``eta_min`` is an
        absolute floor and stays put. Deterministic: the same calls give the
        same floats.
        """
        new = float(new_lr)
        if not (math.isfinite(new) and new > 0.0):
            raise ValueError(
                f"the learning rate must be a positive number, got {new_lr!r}"
            )
        old = self._base_lr
        if new == old:
            return
        if old == 0.0:
            raise ValueError("a schedule built at lr 0 cannot be rescaled")
        ratio = new / old
        scheduler = self._scheduler
        for group in self._optimizer.param_groups:
            for key in _GROUP_KEYS:
                if key in group:
                    group[key] = group[key] * ratio
        scheduler.base_lrs = [base * ratio for base in scheduler.base_lrs]
        # What get_last_lr() reports; torch only refreshes it inside step().
        scheduler._last_lr = [group["lr"] for group in self._optimizer.param_groups]
        self._base_lr = new


def _dodge_zero_width_warmup(kwargs: dict[str, Any]) -> None:
    """OneCycleLR's rising phase ends at step ``pct_start·total_steps − 1``; when
    that is exactly 0 (total_steps 100 with pct_start 0.01, 10 with 0.1 …) torch
    divides 0 by 0 and raises ``ZeroDivisionError`` while it is being built (see
    pytorch/pytorch#180187). Nudge ``pct_start`` up one ulp at a time until it is
    not: the phase ends a hair after step 0 and the curve is unchanged.
    """
    pct_start, total_steps = kwargs["pct_start"], kwargs["total_steps"]
    while float(pct_start * total_steps) - 1 == 0:
        pct_start = math.nextafter(pct_start, math.inf)
    kwargs["pct_start"] = pct_start


#: Fix-ups of the keyword arguments, by torch class, applied just before building.
_KWARG_FIXES: dict[str, Callable[[dict[str, Any]], None]] = {
    "OneCycleLR": _dodge_zero_width_warmup,
}


@dataclass(frozen=True)
class ScheduleSpec:
    """How to build one ``torch.optim.lr_scheduler`` schedule and what its knobs are.

    ``torch_class`` is None for the constant schedule (nothing to build).
    ``rename`` maps a knob to torch's keyword where they differ, ``fixed`` adds
    keywords the user does not set, and ``current_lr_as`` names the keyword that
    receives the optimizer's current learning rates (OneCycleLR's ``max_lr``).
    ``holds_at_end`` marks a schedule of ``total_steps`` steps that must not be
    stepped past its last one (see :meth:`LearningRateSchedule.step`).
    """

    name: str
    label: str
    knobs: tuple[HyperParameter, ...]
    description: str
    torch_class: str | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    current_lr_as: str | None = None
    holds_at_end: bool = False

    def defaults(self) -> dict[str, float]:
        """The default value of every knob, by name."""
        return {k.name: k.default for k in self.knobs}

    def knob(self, name: str) -> HyperParameter:
        for knob in self.knobs:
            if knob.name == name:
                return knob
        known = ", ".join(k.name for k in self.knobs) or "none"
        raise KeyError(f"{self.label} has no knob {name!r} (it has: {known})")

    def resolve(self, values: Mapping[str, float] | None = None) -> dict[str, float]:
        """Defaults overlaid with validated ``values``; unknown names raise
        ``KeyError``, bad values ``ValueError`` naming the knob."""
        resolved = self.defaults()
        for name, value in (values or {}).items():
            knob = self.knob(name)
            try:
                float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{knob.name} must be a number, got {value!r}"
                ) from None
            resolved[name] = knob.validate(value)
        return resolved

    def torch_kwargs(
        self, values: Mapping[str, float], optimizer: Optimizer
    ) -> dict[str, Any]:
        """Keyword arguments for the torch class (knob names mapped to torch's)."""
        kwargs: dict[str, Any] = dict(self.fixed)
        for name, value in values.items():
            kwargs[self.rename.get(name, name)] = value
        if self.current_lr_as is not None:
            kwargs[self.current_lr_as] = [
                float(group["lr"]) for group in optimizer.param_groups
            ]
        fix = _KWARG_FIXES.get(self.torch_class or "")
        if fix is not None:
            fix(kwargs)
        return kwargs

    def build(
        self, optimizer: Optimizer, values: Mapping[str, float] | None = None
    ) -> LearningRateSchedule | None:
        """A new schedule over ``optimizer``, starting from its current lr.

        None for the constant schedule. Forgets any earlier schedule's
        bookkeeping on the param groups (``initial_lr`` …), so the curve starts
        at the lr the optimizer has now, even mid-run.
        """
        resolved = self.resolve(values)  # validate even when nothing is built
        if self.torch_class is None:
            return None
        from torch.optim import lr_scheduler  # deferred: see the module docstring

        for group in optimizer.param_groups:
            for key in _GROUP_KEYS[1:]:
                group.pop(key, None)
        kwargs = self.torch_kwargs(resolved, optimizer)
        base_lr = float(optimizer.param_groups[0]["lr"])
        scheduler = getattr(lr_scheduler, self.torch_class)(optimizer, **kwargs)
        return LearningRateSchedule(
            self.name, scheduler, base_lr, holds_at_end=self.holds_at_end
        )


SCHEDULES: dict[str, ScheduleSpec] = {
    s.name: s
    for s in (
        ScheduleSpec(
            "constant",
            "Constant",
            (),
            "the learning rate never changes",
        ),
        ScheduleSpec(
            "step",
            "Step decay",
            (
                HyperParameter(
                    "step_size",
                    "every",
                    100,
                    1,
                    10_000_000,
                    integer=True,
                    help="how many steps between two cuts of the lr",
                ),
                HyperParameter(
                    "gamma",
                    "γ",
                    0.5,
                    0.0,
                    1.0,
                    help="what each cut multiplies the lr by",
                ),
            ),
            "multiplies the lr by γ every step_size steps",
            torch_class="StepLR",
        ),
        ScheduleSpec(
            "exponential",
            "Exponential decay",
            (
                HyperParameter(
                    "gamma",
                    "γ",
                    0.999,
                    0.5,
                    1.0,
                    help="what every step multiplies the lr by",
                ),
            ),
            "multiplies the lr by γ after every step",
            torch_class="ExponentialLR",
        ),
        ScheduleSpec(
            "cosine",
            "Cosine annealing",
            (
                HyperParameter(
                    "t_max",
                    "period",
                    1000,
                    1,
                    100_000_000,
                    integer=True,
                    help="steps from the full lr down to the minimum",
                ),
                HyperParameter(
                    "eta_min",
                    "η min",
                    0.0,
                    0.0,
                    1000.0,
                    help="the lowest lr reached (absolute, not a fraction of lr)",
                ),
            ),
            "half a cosine from the lr down to η min over t_max steps; "
            "after that it climbs back, as torch's does",
            torch_class="CosineAnnealingLR",
            rename={"t_max": "T_max"},
        ),
        ScheduleSpec(
            "warmup",
            "Linear warm-up",
            (
                HyperParameter(
                    "warmup_steps",
                    "warm-up steps",
                    100,
                    1,
                    10_000_000,
                    integer=True,
                    help="steps to ramp up to the full lr",
                ),
                HyperParameter(
                    "start_factor",
                    "start factor",
                    0.1,
                    1e-4,
                    1.0,
                    log_scale=True,
                    help="the first step's lr as a fraction of the full lr",
                ),
            ),
            "ramps the lr linearly from start_factor·lr up to lr, then holds it",
            torch_class="LinearLR",
            rename={"warmup_steps": "total_iters"},
            fixed={"end_factor": 1.0},
        ),
        ScheduleSpec(
            "onecycle",
            "One cycle",
            (
                HyperParameter(
                    "total_steps",
                    "cycle length",
                    1000,
                    2,
                    100_000_000,
                    integer=True,
                    help="steps in the whole cycle; the lr holds after it",
                ),
                HyperParameter(
                    "pct_start",
                    "rising part",
                    0.3,
                    0.01,
                    0.99,
                    help="fraction of the cycle spent climbing to the full lr",
                ),
                HyperParameter(
                    "div_factor",
                    "start divisor",
                    25.0,
                    1.0,
                    1e4,
                    log_scale=True,
                    help="the cycle starts at lr / div_factor",
                ),
                HyperParameter(
                    "final_div_factor",
                    "end divisor",
                    1e4,
                    1.0,
                    1e8,
                    log_scale=True,
                    help="the cycle ends at the start lr / final_div_factor",
                ),
            ),
            "climbs from lr/div_factor to lr, then anneals far below the start; "
            "holds the last lr after total_steps",
            torch_class="OneCycleLR",
            fixed={"anneal_strategy": "cos", "cycle_momentum": False},
            current_lr_as="max_lr",
            holds_at_end=True,
        ),
    )
}


def get_schedule(name: str) -> ScheduleSpec:
    """The registry entry for ``name`` (case-insensitive), else ``KeyError``."""
    spec = SCHEDULES.get(name.lower())
    if spec is None:
        raise KeyError(
            f"unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}"
        )
    return spec
