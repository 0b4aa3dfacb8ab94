"""What the command line and the window both need: options and presets, and
turning them into data, training settings and runs.

Below both ``cli`` and ``gui.app`` (each imports this, neither imports the
other). Imports neither Qt nor torch at module level (``--init randn`` imports
torch when it is resolved).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset, generate, load_bundled, load_csv
from sgd_viewer.core.optimizers import OPTIMIZERS
from sgd_viewer.core.recipe import MAX_RUNS, SpecError, parse_spec
from sgd_viewer.core.schedules import SCHEDULES

EXIT_OK, EXIT_BAD_INPUT, EXIT_DIVERGED = 0, 2, 3

#: The lesson's two experiments. Values here fill in whatever the command line
#: leaves unset; an explicit option always wins.
PRESETS: dict[str, dict[str, Any]] = {
    # The torch autograd loop: 1000 points, summed squared error, lr 1e-4,
    # 500 iterations, loss printed every 100, float32, a and b from randn.
    "lesson-autograd": {
        "n": 1000,
        "loss": "sum",
        "optimizer": "sgd",
        "lr": 1e-4,
        "steps": 500,
        "dtype": "float32",
        "loss_form": "per_point",
        "init": "randn",
        "log_every": 100,
    },
    # The animation: 50 points, the line moving from (-1, 1) by lr 0.01 on the
    # mean gradient, 40 frames of 30 updates.
    "lesson-animation": {
        "n": 50,
        "loss": "mean",
        "optimizer": "sgd",
        "lr": 0.01,
        "steps": 1200,
        "dtype": "float64",
        "loss_form": "per_point",
        "init": (-1.0, 1.0),
    },
}

DEFAULTS: dict[str, Any] = {
    "n": 50,
    "true_a": 3.0,
    "true_b": 8.0,
    "noise": 0.3,
    "seed": 0,
    "optimizer": "sgd",
    "lr": 0.01,
    "batch_size": "full",
    "loss": "mean",
    "dtype": "float64",
    "device": "cpu",
    "loss_form": "closed",
    "init": (-1.0, 1.0),
    "steps": 1200,
    "log_every": 0,
}


class UsageError(Exception):
    """A command-line value that makes no sense; reported in one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line (and exits 2) instead of usage."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _column(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data (default: the lesson's generated points)")
    source = group.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="PATH", help="CSV file to fit")
    source.add_argument("--dataset", metavar="NAME", help="a bundled dataset")
    group.add_argument(
        "--x", type=_column, metavar="COL", help="x column: name or index"
    )
    group.add_argument(
        "--y", type=_column, metavar="COL", help="y column: name or index"
    )
    group.add_argument("--n", type=int, help="generated points (default 50)")
    group.add_argument("--true-a", type=float, help="generated slope (default 3)")
    group.add_argument("--true-b", type=float, help="generated intercept (default 8)")
    group.add_argument("--noise", type=float, help="generated noise σ (default 0.3)")
    group.add_argument("--seed", type=int, help="seed of data and batches (default 0)")


def add_training_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training")
    group.add_argument("--preset", choices=sorted(PRESETS), help="the lesson's runs")
    group.add_argument("--optimizer", choices=sorted(OPTIMIZERS), help="default sgd")
    group.add_argument("--lr", type=float, help="learning rate (default 0.01)")
    group.add_argument("--momentum", type=float, help="momentum hyperparameter")
    group.add_argument("--betas", type=float, nargs=2, metavar=("B1", "B2"))
    group.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any optimizer hyperparameter, e.g. --opt eps=1e-6 (repeatable)",
    )
    group.add_argument("--batch-size", metavar="N|full", help="default full")
    group.add_argument(
        "--schedule",
        choices=sorted(SCHEDULES),
        help="learning-rate schedule (default constant)",
    )
    group.add_argument(
        "--sched-opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a knob of the schedule, e.g. --sched-opt t_max=500 (repeatable)",
    )
    group.add_argument("--loss", choices=("mean", "sum"), help="reduction (mean)")
    group.add_argument(
        "--init", type=float, nargs=2, metavar=("A", "B"), help="start (-1 1)"
    )
    group.add_argument("--dtype", choices=("float32", "float64"))
    group.add_argument("--device", help="cpu (default) or cuda")
    group.add_argument(
        "--loss-form",
        choices=("closed", "per_point"),
        help="full-batch loss from sufficient statistics (closed, default) or "
        "summed over every point like the lesson (per_point)",
    )


# ---------------------------------------------------------------- resolution
@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs, resolved from options, preset and defaults."""

    data: Dataset
    config: TrainingConfig
    start: tuple[float, float]
    steps: int
    log_every: int


def _setting(args: argparse.Namespace, name: str) -> Any:
    value = getattr(args, name, None)
    if value is not None:
        return value
    preset = PRESETS.get(getattr(args, "preset", None) or "", {})
    return preset.get(name, DEFAULTS.get(name))


def resolve_data(args: argparse.Namespace) -> Dataset:
    """The dataset the options name (raises ``DataError`` for bad input)."""
    if args.data:
        return load_csv(args.data, x=args.x, y=args.y)
    if args.dataset:
        return load_bundled(args.dataset, x=args.x, y=args.y)
    return generate(
        n=_setting(args, "n"),
        a=_setting(args, "true_a"),
        b=_setting(args, "true_b"),
        noise=_setting(args, "noise"),
        seed=_setting(args, "seed"),
    )


def _key_values(items: Sequence[str], flag: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            values[key.strip()] = float(text)
        except ValueError:
            raise UsageError(
                f"{flag} {key.strip()}: {text!r} is not a number"
            ) from None
    return values


def _hyperparameters(args: argparse.Namespace) -> dict[str, float]:
    values: dict[str, float] = {}
    if args.momentum is not None:
        values["momentum"] = args.momentum
    if args.betas is not None:
        values["beta1"], values["beta2"] = args.betas
    values.update(_key_values(args.opt, "--opt"))
    return values


def _batch_size(text: str | int) -> int | None:
    if isinstance(text, int):
        return text
    if str(text).lower() == "full":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(
            f"--batch-size expects a whole number or 'full', got {text!r}"
        ) from None


def resolve_config(args: argparse.Namespace) -> TrainingConfig:
    """The training settings the options name (raises ``UsageError``)."""
    try:
        return TrainingConfig(
            optimizer=_setting(args, "optimizer"),
            lr=_setting(args, "lr"),
            hyperparameters=_hyperparameters(args),
            batch_size=_batch_size(_setting(args, "batch_size")),
            reduction=_setting(args, "loss"),
            dtype=_setting(args, "dtype"),
            device=_setting(args, "device"),
            loss_form=_setting(args, "loss_form"),
            seed=_setting(args, "seed"),
            schedule=getattr(args, "schedule", None) or "constant",
            schedule_options=_key_values(getattr(args, "sched_opt", []), "--sched-opt"),
        )
    except (ValueError, KeyError) as error:
        raise UsageError(str(error).strip("'\"")) from None


def resolve_compare(
    specs: Sequence[str], base: TrainingConfig
) -> list[tuple[TrainingConfig, str | None]]:
    """The runs that ``fit --compare SPEC …`` names: settings and label each.
    Settings no spec gives come from ``base`` (the other options)."""
    if len(specs) > MAX_RUNS:
        raise UsageError(f"--compare takes at most {MAX_RUNS} specs, got {len(specs)}")
    try:
        return [parse_spec(spec, base) for spec in specs]
    except SpecError as error:
        raise UsageError(str(error)) from None


def resolve_display(items: Sequence[str]) -> dict:
    """``--display KEY=VALUE`` options as display-option changes
    (``UsageError`` naming a bad one)."""
    from sgd_viewer.core.display import DisplayOptions

    changes: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip().lower()
        if not sep:
            raise UsageError(f"--display expects KEY=VALUE, got {item!r}")
        if key == "residuals":
            changes[key] = value
        elif value in ("true", "yes", "on", "1"):
            changes[key] = True
        elif value in ("false", "no", "off", "0"):
            changes[key] = False
        else:
            raise UsageError(f"--display {key} takes true or false, got {value!r}")
    try:
        DisplayOptions().with_changes(**changes)
    except ValueError as error:
        raise UsageError(f"--display: {error}") from None
    return changes


def parse_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` as two integers (``UsageError`` when out of range)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size expects WIDTHxHEIGHT, got {text!r}") from None
    if not (320 <= width <= 8000 and 240 <= height <= 8000):
        raise UsageError(f"--size {text} is outside 320x240 … 8000x8000")
    return width, height


def resolve_start(args: argparse.Namespace) -> tuple[float, float]:
    """The initial guess; the lesson-autograd preset draws it like the lesson."""
    init = _setting(args, "init")
    if init == "randn":
        import torch

        torch.manual_seed(_setting(args, "seed"))
        return float(torch.randn(1)), float(torch.randn(1))
    a0, b0 = (float(v) for v in init)
    if not (math.isfinite(a0) and math.isfinite(b0)):
        raise UsageError(f"--init needs two finite numbers, got {a0} {b0}")
    return a0, b0


def resolve_request(args: argparse.Namespace) -> RunRequest:
    steps = _setting(args, "steps")
    log_every = _setting(args, "log_every") or 0
    if steps is None or steps < 0:
        raise UsageError(f"--steps must be 0 or more, got {steps}")
    if log_every < 0:
        raise UsageError(f"--log-every must be 0 or more, got {log_every}")
    return RunRequest(
        data=resolve_data(args),
        config=resolve_config(args),
        start=resolve_start(args),
        steps=int(steps),
        log_every=int(log_every),
    )
