"""A run as a recipe: the spec syntax, generated labels, colours and JSON.

A *spec* is the one-line form of a run's settings that the CLI (``fit
--compare``), the window (:meth:`MainWindow.add_run`) and lessons share::

    NAME[:key=value[,key=value…]]
    momentum:lr=0.05,momentum=0.9
    adam:lr=0.1,betas=0.9/0.99
    sgd:lr=0.02,batch=8,schedule=cosine,t_max=500

Keys: ``lr``, ``batch`` (a whole number or ``full``), ``schedule``, ``label``,
any hyperparameter of the optimizer (``betas=B1/B2`` for both betas) and any
knob of the schedule.

A :class:`RunRecipe` is a run's settings at step 0 plus the changes made as it
went (``(step, setting)``), its label and colour: plain JSON data that replays
to the same trajectory bit for bit (DESIGN.md §10).

numpy-free, torch-free, Qt-free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.optimizers import OPTIMIZERS, get_optimizer
from sgd_viewer.core.schedules import get_schedule

#: Most runs in one session (and in one ``fit --compare``).
MAX_RUNS = 8

#: Okabe & Ito's colour-blind-safe palette, in the order runs take it (the
#: yellow last: it is the hardest to see on a light background).
PALETTE = (
    "#d55e00",  # vermillion
    "#0072b2",  # blue
    "#009e73",  # bluish green
    "#cc79a7",  # reddish purple
    "#e69f00",  # orange
    "#56b4e9",  # sky blue
    "#000000",  # black
    "#f0e442",  # yellow
)

_RESERVED = ("lr", "batch", "schedule", "label")
#: Keys that set the same knob: each counts as the others given too.
_ALIASES = {"betas": ("beta1", "beta2"), "beta1": ("betas",), "beta2": ("betas",)}


class SpecError(ValueError):
    """A run spec that cannot be used; the message names the spec and why."""


def _number(spec: str, key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SpecError(f"run spec {spec!r}: {key}={text!r} is not a number") from None
    if not math.isfinite(value):
        raise SpecError(f"run spec {spec!r}: {key} must be finite, got {text!r}")
    return value


def _batch(spec: str, text: str) -> int | None:
    if text.lower() == "full":
        return None
    try:
        value = int(text)
    except ValueError:
        raise SpecError(
            f"run spec {spec!r}: batch expects a whole number or 'full', got {text!r}"
        ) from None
    if value < 1:
        raise SpecError(f"run spec {spec!r}: batch must be 1 or more, got {value}")
    return value


def parse_spec(
    spec: str, base: TrainingConfig | None = None
) -> tuple[TrainingConfig, str | None]:
    """The settings and the label (``None``: generate one) that ``spec`` names.

    Settings the spec leaves out come from ``base`` (reduction, dtype, seed …;
    lr from the optimizer's suggestion when the optimizer differs from base's).
    Raises :class:`SpecError` naming the spec and what is wrong with it.
    """
    base = base or TrainingConfig()
    text = spec.strip()
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if not name:
        raise SpecError(f"run spec {spec!r}: no optimizer name before ':'")
    try:
        optimizer = get_optimizer(name)
    except KeyError:
        raise SpecError(
            f"run spec {spec!r}: unknown optimizer {name!r} "
            f"(choose one of: {', '.join(OPTIMIZERS)})"
        ) from None
    lr = base.lr if optimizer.name == base.optimizer else optimizer.suggested_lr
    batch = base.batch_size
    schedule = base.schedule
    label: str | None = None
    knobs: dict[str, float] = {}
    schedule_knobs: dict[str, str] = {}
    seen: set[str] = set()
    # A label takes the rest of the spec, commas and all.
    head, found, label_text = rest.partition("label=")
    if found and (not head.strip() or head.rstrip().endswith(",")):
        rest = head.rstrip().rstrip(",")
        label = label_text.strip() or None
    for item in (part.strip() for part in rest.split(",")) if rest.strip() else ():
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise SpecError(f"run spec {spec!r}: expected key=value, got {item!r}")
        if key in seen:
            raise SpecError(f"run spec {spec!r}: {key} given twice")
        seen.add(key)
        seen.update(_ALIASES.get(key, ()))
        if key == "lr":
            lr = _number(spec, key, value)
        elif key == "batch":
            batch = _batch(spec, value)
        elif key == "schedule":
            schedule = value.lower()
        elif key == "betas":
            parts = value.split("/")
            if len(parts) != 2:
                raise SpecError(
                    f"run spec {spec!r}: betas expects B1/B2, got {value!r}"
                )
            knobs["beta1"] = _number(spec, "beta1", parts[0])
            knobs["beta2"] = _number(spec, "beta2", parts[1])
        elif key in optimizer.defaults():
            knobs[key] = _number(spec, key, value)
        else:
            schedule_knobs[key] = value
    try:
        schedule_spec = get_schedule(schedule)
    except KeyError as error:
        raise SpecError(f"run spec {spec!r}: {str(error).strip(chr(34))}") from None
    schedule_options: dict[str, float] = {}
    for key, value in schedule_knobs.items():
        if key not in schedule_spec.defaults():
            known = [*_RESERVED, *optimizer.defaults(), *schedule_spec.defaults()]
            if "beta1" in optimizer.defaults():
                known.append("betas")
            raise SpecError(
                f"run spec {spec!r}: unknown key {key!r} for {optimizer.name} with "
                f"schedule {schedule_spec.name} (keys: {', '.join(known)})"
            )
        schedule_options[key] = _number(spec, key, value)
    try:
        config = base.with_changes(
            optimizer=optimizer.name,
            lr=lr,
            hyperparameters=knobs,
            batch_size=batch,
            schedule=schedule_spec.name,
            schedule_options=schedule_options,
        )
    except (ValueError, KeyError) as error:
        raise SpecError(f"run spec {spec!r}: {str(error).strip(chr(34))}") from None
    return config, label


def spec_of(config: TrainingConfig, label: str | None = None) -> str:
    """The spec that :func:`parse_spec` reads back as ``config`` (the settings
    a spec can say; reduction, dtype and seed come from the session)."""
    optimizer = get_optimizer(config.optimizer)
    parts = [f"lr={config.lr!r}"]
    defaults = optimizer.defaults()
    parts += [
        f"{k}={v!r}" for k, v in config.hyperparameters.items() if v != defaults[k]
    ]
    # Batch and schedule always: a base with others must not fill them in.
    parts.append(f"batch={config.batch_size or 'full'}")
    parts.append(f"schedule={config.schedule}")
    schedule_defaults = get_schedule(config.schedule).defaults()
    parts += [
        f"{k}={v!r}"
        for k, v in config.schedule_options.items()
        if v != schedule_defaults[k]
    ]
    if label:
        parts.append(f"label={label}")
    return f"{config.optimizer}:{','.join(parts)}"


def default_label(config: TrainingConfig) -> str:
    """A short name such as ``momentum lr=0.05 momentum=0.9``: the optimizer,
    the learning rate and whatever else differs from the defaults."""
    optimizer = get_optimizer(config.optimizer)
    words = [optimizer.name, f"lr={config.lr:g}"]
    for hyper in optimizer.hyperparameters:
        value = config.hyperparameters[hyper.name]
        if value != hyper.default or hyper.name in ("momentum",):
            words.append(f"{hyper.label}={value:g}")
    if config.batch_size is not None:
        words.append(f"batch={config.batch_size}")
    if config.schedule != "constant":
        words.append(config.schedule)
    return " ".join(words)


def next_colour(taken: list[str]) -> str:
    """The first palette colour no run has yet (cycling once all are taken)."""
    for colour in PALETTE:
        if colour not in taken:
            return colour
    return PALETTE[len(taken) % len(PALETTE)]


@dataclass(frozen=True)
class SettingChange:
    """Settings that took effect after ``step`` steps of a run."""

    step: int
    lr: float
    hyperparameters: Mapping[str, float]
    batch_size: int | None

    def apply(self, config: TrainingConfig) -> TrainingConfig:
        """``config`` with this change's settings."""
        return config.with_changes(
            lr=self.lr,
            hyperparameters=self.hyperparameters,
            batch_size=self.batch_size,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "lr": self.lr,
            "hyperparameters": dict(self.hyperparameters),
            "batch_size": self.batch_size,
        }


@dataclass(frozen=True)
class RunRecipe:
    """What a run is: its settings at step 0, the changes made as it went,
    its label and colour. Data and start belong to the session."""

    config: TrainingConfig
    label: str
    colour: str
    changes: tuple[SettingChange, ...] = field(default=())

    def config_at(self, step: int) -> TrainingConfig:
        """The settings in effect for the step after ``step``."""
        config = self.config
        for change in self.changes:
            if change.step <= step:
                config = change.apply(config)
        return config

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (the next issues save it and print it as a script)."""
        c = self.config
        return {
            "label": self.label,
            "colour": self.colour,
            "optimizer": c.optimizer,
            "lr": c.lr,
            "hyperparameters": dict(c.hyperparameters),
            "batch_size": c.batch_size,
            "reduction": c.reduction,
            "dtype": c.dtype,
            "loss_form": c.loss_form,
            "seed": c.seed,
            "schedule": c.schedule,
            "schedule_options": dict(c.schedule_options),
            "changes": [change.to_json() for change in self.changes],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecipe:
        """The recipe of :meth:`to_json` (raises ``ValueError`` or ``KeyError``
        for settings that are not valid)."""
        config = TrainingConfig(
            optimizer=data["optimizer"],
            lr=float(data["lr"]),
            hyperparameters=dict(data.get("hyperparameters", {})),
            batch_size=data.get("batch_size"),
            reduction=data.get("reduction", "mean"),
            dtype=data.get("dtype", "float64"),
            loss_form=data.get("loss_form", "closed"),
            seed=int(data.get("seed", 0)),
            schedule=data.get("schedule", "constant"),
            schedule_options=dict(data.get("schedule_options", {})),
        )
        changes = tuple(
            SettingChange(
                int(c["step"]),
                float(c["lr"]),
                dict(c["hyperparameters"]),
                c.get("batch_size"),
            )
            for c in data.get("changes", ())
        )
        return cls(config, str(data["label"]), str(data["colour"]), changes)


def change_between(
    step: int, old: TrainingConfig, new: TrainingConfig
) -> SettingChange | None:
    """The mid-run change from ``old`` to ``new`` after ``step`` steps (``None``
    when nothing a change may touch differs)."""
    if (old.lr, dict(old.hyperparameters), old.batch_size) == (
        new.lr,
        dict(new.hyperparameters),
        new.batch_size,
    ):
        return None
    return SettingChange(step, new.lr, dict(new.hyperparameters), new.batch_size)


def play_recipe(recipe: RunRecipe, data, start: tuple[float, float], steps: int):
    """A fresh trainer that ran ``recipe`` for ``steps`` steps, its changes
    applied where they were made; returns ``(trainer, batches)``.

    Imports torch (through the trainer) when called.
    """
    from sgd_viewer.core.trainer import Trainer

    trainer = Trainer(data, recipe.config, start)
    return trainer, replay(trainer, recipe, steps)


def replay(trainer, recipe: RunRecipe, steps: int) -> list:
    """Run ``recipe`` on ``trainer`` (fresh, at step 0, built with
    ``recipe.config``) up to ``steps`` steps, its changes applied where they
    were made; returns the step batches. A run that diverges stops there."""
    batches = []
    config = recipe.config
    for change in recipe.changes:  # in the order they were made
        if change.step > steps:
            break
        if change.step > trainer.step_count:
            batches.append(trainer.step(change.step - trainer.step_count))
            if trainer.status == "diverged":
                return batches
        config = change.apply(config)
        trainer.configure(config)
    if steps > trainer.step_count:
        batches.append(trainer.step(steps - trainer.step_count))
    return batches
