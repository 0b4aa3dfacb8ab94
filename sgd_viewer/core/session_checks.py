"""Field-by-field checks of a session file, with messages that name the field.

:class:`Check` walks a parsed JSON document and turns any wrong value into
one :class:`SessionFileError` line such as ``lesson.json: runs[1].lr: must be a
number, got 'fast'``. :func:`check_recipe` checks a run's recipe against the
optimizer and schedule registries (unknown names and knobs, values out of
range) before anything is built from it.

stdlib only (plus the registries): no numpy, torch or Qt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, NoReturn

from sgd_viewer.core.config import (
    DTYPES,
    LOSS_FORMS,
    LR_RANGE,
    TrainingConfig,
    needs_reset,
)
from sgd_viewer.core.optimizers import OPTIMIZERS, get_optimizer
from sgd_viewer.core.problem import REDUCTIONS
from sgd_viewer.core.recipe import RunRecipe, SettingChange
from sgd_viewer.core.schedules import SCHEDULES, get_schedule

#: Largest batch size a session may ask for (above any row limit).
MAX_BATCH = 10**8
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class SessionFileError(ValueError):
    """A session file that cannot be opened: one line naming it and why."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


class Check:
    """Where in the document a value sits, and checks of that value."""

    def __init__(self, label: str, path: str = "") -> None:
        self.label = label
        self.path = path

    def at(self, key: str | int) -> Check:
        if isinstance(key, int):
            return Check(self.label, f"{self.path}[{key}]")
        return Check(self.label, f"{self.path}.{key}" if self.path else key)

    def fail(self, problem: str) -> SessionFileError:
        where = f"{self.path}: " if self.path else ""
        return SessionFileError(f"{self.label}: {where}{problem}")

    @staticmethod
    def kind(value: Any) -> str:
        return {
            dict: "object",
            list: "array",
            str: "string",
            bool: "true/false",
            int: "number",
            float: "number",
            type(None): "null",
        }.get(type(value), type(value).__name__)

    def _wrong(self, wanted: str, value: Any) -> NoReturn:
        raise self.fail(f"must be {wanted}, got {self.kind(value)} {_shown(value)}")

    # ---------------------------------------------------------------- shapes
    def object(self, value: Any) -> dict:
        if not isinstance(value, dict):
            self._wrong("an object", value)
        return value

    def array(self, value: Any) -> list:
        if not isinstance(value, list):
            self._wrong("an array", value)
        return value

    def required(self, mapping: dict, key: str) -> Any:
        if key not in mapping:
            raise self.at(key).fail("is missing")
        return mapping[key]

    def known_keys(self, mapping: dict, known: Iterable[str]) -> None:
        known = set(known)
        unknown = sorted(str(k) for k in mapping if k not in known)
        if unknown:
            raise self.fail(
                f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )

    # ---------------------------------------------------------------- values
    def number(
        self, value: Any, low: float = -math.inf, high: float = math.inf
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong("a number", value)
        number = float(value)
        if not math.isfinite(number):
            raise self.fail(f"must be finite, got {value!r}")
        if not low <= number <= high:
            raise self.fail(f"must be between {low:g} and {high:g}, got {value!r}")
        return number

    def integer(self, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                self._wrong("a whole number", value)
        if not low <= value <= high:
            raise self.fail(f"must be between {low:,} and {high:,}, got {value:,}")
        return value

    def boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            self._wrong("true or false", value)
        return value

    def text(self, value: Any, longest: int) -> str:
        if not isinstance(value, str):
            self._wrong("a string", value)
        if len(value) > longest:
            raise self.fail(f"is {len(value):,} characters long; at most {longest}")
        return value

    def choice(self, value: Any, allowed: Iterable[str]) -> str:
        allowed = tuple(allowed)
        if not isinstance(value, str) or value not in allowed:
            raise self.fail(f"must be one of {', '.join(allowed)}, got {_shown(value)}")
        return value

    def point(self, value: Any) -> tuple[float, float]:
        pair = self.numbers(value, 2)
        if len(pair) != 2:
            raise self.fail(f"must be two numbers [a, b], got {len(pair)}")
        if max(abs(pair[0]), abs(pair[1])) > 1e12:
            raise self.fail(
                f"is too far out ({pair[0]:g}, {pair[1]:g}); |a|, |b| ≤ 1e12"
            )
        return pair[0], pair[1]

    def numbers(self, value: Any, most: int) -> list[float]:
        """A list of at most ``most`` finite numbers."""
        self.array(value)
        if len(value) > most:
            raise self.fail(f"holds {len(value):,} values; at most {most:,}")
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int | float):
                self.at(index)._wrong("a number", item)
        numbers = [float(v) for v in value]
        if not all(map(math.isfinite, numbers)):
            raise self.fail("holds a number too large for a float")
        return numbers


# ------------------------------------------------------------------ recipes
_RECIPE_KEYS = {
    "label",
    "colour",
    "optimizer",
    "lr",
    "hyperparameters",
    "batch_size",
    "reduction",
    "dtype",
    "loss_form",
    "seed",
    "schedule",
    "schedule_options",
    "changes",
}


def _knobs(check: Check, raw: Any, defaults: dict, owner: str) -> dict[str, float]:
    check.object(raw)
    for key in raw:
        if key not in defaults:
            known = ", ".join(defaults) or "none"
            raise check.fail(f"{owner} has no knob {key!r} (knobs: {known})")
    return {key: check.at(key).number(value) for key, value in raw.items()}


def _batch(check: Check, raw: Any) -> int | None:
    return None if raw is None else check.integer(raw, 1, MAX_BATCH)


def check_recipe(check: Check, raw: dict, extra_keys: Iterable[str] = ()) -> RunRecipe:
    """The run recipe in ``raw``, every field checked (``SessionFileError``)."""
    check.known_keys(raw, _RECIPE_KEYS | set(extra_keys))
    name = check.at("optimizer").text(check.required(raw, "optimizer"), 40)
    if name.lower() not in OPTIMIZERS:
        raise check.at("optimizer").fail(
            f"unknown optimizer {name!r} (choose one of: {', '.join(OPTIMIZERS)})"
        )
    optimizer = get_optimizer(name.lower())
    schedule_name = check.at("schedule").text(raw.get("schedule", "constant"), 40)
    if schedule_name.lower() not in SCHEDULES:
        raise check.at("schedule").fail(
            f"unknown schedule {schedule_name!r} (choose one of: "
            f"{', '.join(SCHEDULES)})"
        )
    schedule = get_schedule(schedule_name.lower())
    lr = check.at("lr").number(check.required(raw, "lr"), *LR_RANGE)
    knobs = _knobs(
        check.at("hyperparameters"),
        raw.get("hyperparameters", {}),
        optimizer.defaults(),
        optimizer.name,
    )
    settings = {
        "batch_size": _batch(check.at("batch_size"), raw.get("batch_size")),
        "reduction": check.at("reduction").choice(
            raw.get("reduction", "mean"), REDUCTIONS
        ),
        "dtype": check.at("dtype").choice(raw.get("dtype", "float64"), DTYPES),
        "loss_form": check.at("loss_form").choice(
            raw.get("loss_form", "closed"), LOSS_FORMS
        ),
        "seed": check.at("seed").integer(raw.get("seed", 0), 0, 2**63 - 1),
        "schedule_options": _knobs(
            check.at("schedule_options"),
            raw.get("schedule_options", {}),
            schedule.defaults(),
            f"schedule {schedule.name}",
        ),
    }
    try:
        config = TrainingConfig(
            optimizer=optimizer.name,
            lr=lr,
            hyperparameters=knobs,
            schedule=schedule.name,
            **settings,
        )
    except (ValueError, KeyError) as error:  # a knob out of its range
        raise check.fail(str(error).strip("'\"")) from None
    label = check.at("label").text(check.required(raw, "label"), 200)
    colour = check.at("colour").text(check.required(raw, "colour"), 20)
    if not _COLOUR.match(colour):
        raise check.at("colour").fail(
            f"must be a colour like '#0072b2', got {colour!r}"
        )
    changes = []
    raw_changes = check.at("changes").array(raw.get("changes", []))
    last = 0
    for index, change in enumerate(raw_changes):
        where = check.at("changes").at(index)
        where.object(change)
        where.known_keys(change, {"step", "lr", "hyperparameters", "batch_size"})
        step = where.at("step").integer(where.required(change, "step"), 0, 10**9)
        if step < last:
            raise where.at("step").fail(
                f"is {step:,}, before the change above ({last:,})"
            )
        last = step
        setting = SettingChange(
            step,
            where.at("lr").number(where.required(change, "lr"), *LR_RANGE),
            _knobs(
                where.at("hyperparameters"),
                change.get("hyperparameters", {}),
                optimizer.defaults(),
                optimizer.name,
            ),
            _batch(where.at("batch_size"), change.get("batch_size")),
        )
        try:
            changed = setting.apply(config)
        except (ValueError, KeyError) as error:
            raise where.fail(str(error).strip("'\"")) from None
        if needs_reset(config, changed):  # the app starts such a run again
            raise where.fail(
                "changes a knob that restarts a run (a run's recipe holds only "
                "changes it made mid-run)"
            )
        changes.append(setting)
    return RunRecipe(config, label, colour, tuple(changes))
