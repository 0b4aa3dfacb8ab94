"""What the trainer is asked to do: optimizer, learning rate, batches, precision.

A frozen value object shared by the CLI, the worker and the GUI controls. Changing
some fields calls for a fresh start (:func:`needs_reset`); the rest (learning
rate, hyperparameters, batch size) apply between two steps of a running fit.

numpy/stdlib only: no torch (the GUI builds configs before torch loads), no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType

from sgd_viewer.core.optimizers import get_optimizer
from sgd_viewer.core.problem import REDUCTIONS
from sgd_viewer.core.schedules import get_schedule

DTYPES = ("float32", "float64")
LOSS_FORMS = ("closed", "per_point")
LR_RANGE = (1e-9, 1e3)


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of one fit.

    Parameters
    ----------
    optimizer
        Registry name (``sgd``, ``adam`` … see ``core.optimizers.OPTIMIZERS``).
    lr
        Learning rate.
    hyperparameters
        Optimizer knobs by registry name; missing ones take their defaults.
    batch_size
        Points per step; ``None`` (or ≥ n) means the full batch.
    reduction
        ``mean`` or ``sum`` of squared errors.
    dtype
        ``float32`` or ``float64`` for the torch parameters and data.
    device
        ``cpu`` or ``cuda``.
    loss_form
        How a full-batch loss is computed: ``closed`` (from the sufficient
        statistics; the same cost at any n) or ``per_point`` (the lesson's
        ``((x·a + b − y)²).sum()``). Mini-batches always use the per-point form.
    seed
        Seed of the per-epoch shuffling of mini-batches.
    schedule
        Learning-rate schedule (``constant``, ``step``, ``cosine`` … see
        ``core.schedules.SCHEDULES``), stepped once after every optimizer step.
    schedule_options
        The schedule's knobs by name; missing ones take their defaults.
    """

    optimizer: str = "sgd"
    lr: float = 0.01
    hyperparameters: Mapping[str, float] = field(default_factory=dict)
    batch_size: int | None = None
    reduction: str = "mean"
    dtype: str = "float64"
    device: str = "cpu"
    loss_form: str = "closed"
    seed: int = 0
    schedule: str = "constant"
    schedule_options: Mapping[str, float] = field(default_factory=dict)

    def __reduce__(self) -> tuple:
        # The knobs are read-only mappings, which pickle does not take: a
        # config crosses to another process (the engine's, a helper's) as its
        # settings with plain dicts, and is built again there.
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        values["hyperparameters"] = dict(self.hyperparameters)
        values["schedule_options"] = dict(self.schedule_options)
        return _config_from, (values,)

    def __post_init__(self) -> None:
        spec = get_optimizer(self.optimizer)
        object.__setattr__(self, "optimizer", spec.name)
        schedule = get_schedule(self.schedule)
        object.__setattr__(self, "schedule", schedule.name)
        object.__setattr__(
            self,
            "schedule_options",
            MappingProxyType(schedule.resolve(self.schedule_options)),
        )
        if not (math.isfinite(self.lr) and LR_RANGE[0] <= self.lr <= LR_RANGE[1]):
            raise ValueError(
                f"learning rate must be between {LR_RANGE[0]:g} and {LR_RANGE[1]:g}, "
                f"got {self.lr!r}"
            )
        resolved = spec.resolve(self.hyperparameters)
        object.__setattr__(self, "hyperparameters", MappingProxyType(resolved))
        if self.batch_size is not None and not (
            isinstance(self.batch_size, int | float)
            and not isinstance(self.batch_size, bool)
            and math.isfinite(self.batch_size)
            and int(self.batch_size) == self.batch_size
            and self.batch_size >= 1
        ):
            raise ValueError(
                "batch size must be a whole number ≥ 1 or 'full', "
                f"got {self.batch_size!r}"
            )
        for value, allowed, what in (
            (self.reduction, REDUCTIONS, "loss reduction"),
            (self.dtype, DTYPES, "dtype"),
            (self.loss_form, LOSS_FORMS, "loss form"),
        ):
            if value not in allowed:
                raise ValueError(
                    f"{what} must be one of {', '.join(allowed)}, got {value!r}"
                )
        if self.device != "cpu" and not self.device.startswith("cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")

    def with_changes(self, **changes) -> TrainingConfig:
        """A copy with ``changes``; switching optimizer drops the old knobs."""
        if (
            "optimizer" in changes
            and get_optimizer(changes["optimizer"]).name != self.optimizer
        ):
            changes.setdefault("hyperparameters", {})
        if (
            "schedule" in changes
            and get_schedule(changes["schedule"]).name != self.schedule
        ):
            changes.setdefault("schedule_options", {})
        return replace(self, **changes)

    def effective_batch_size(self, n: int) -> int | None:
        """The mini-batch size for ``n`` points, ``None`` for the full batch."""
        if self.batch_size is None or self.batch_size >= n:
            return None
        return int(self.batch_size)


def _config_from(values: dict) -> TrainingConfig:
    """A config from its settings (how a pickled one is built again)."""
    return TrainingConfig(**values)


def needs_reset(old: TrainingConfig, new: TrainingConfig) -> bool:
    """Whether going from ``old`` to ``new`` invalidates the run so far.

    A different optimizer, reduction, precision, device, loss form or schedule
    changes what the steps mean; learning rate, hyperparameters and batch size
    may change mid-run, as in TensorFlow Playground, except the few knobs
    torch sizes its state by (``HyperParameter.restarts``).
    """
    if any(getattr(old, name) != getattr(new, name) for name in RESET_FIELDS):
        return True
    return any(
        old.hyperparameters[h.name] != new.hyperparameters[h.name]
        for h in get_optimizer(old.optimizer).hyperparameters
        if h.restarts
    )


#: The settings whose change starts a run again (see :func:`needs_reset`).
RESET_FIELDS = (
    "optimizer",
    "reduction",
    "dtype",
    "device",
    "loss_form",
    "seed",
    "schedule",
    "schedule_options",
)
