"""Command line: ``sgd-viewer`` (the window), ``sgd-viewer fit`` (headless) and
``sgd-viewer bench`` (speed and memory).

Owns argument parsing, presets and the headless run. Imports neither Qt nor torch
at module level: the GUI path hands over to ``sgd_viewer.gui.app`` and the
headless path imports the trainer when it runs.

Exit codes: 0 success, 2 bad input (one line on stderr), 3 divergence.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import DataError, Dataset, generate, load_bundled, load_csv
from sgd_viewer.core.optimizers import OPTIMIZERS

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


class _Parser(argparse.ArgumentParser):
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sgd-viewer",
        description="Watch gradient descent fit a line y = a·x + b.",
        epilog="Subcommands: 'sgd-viewer fit --help', 'sgd-viewer bench --help'.",
    )
    add_data_options(parser)
    add_training_options(parser)
    shot = parser.add_argument_group("screenshot (render offscreen and exit)")
    shot.add_argument("--screenshot", metavar="FILE.png", help="write the window here")
    shot.add_argument("--steps", type=int, help="steps to run before the screenshot")
    shot.add_argument("--size", default="1400x900", metavar="WxH", help="window size")
    return parser


def build_fit_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sgd-viewer fit", description="Fit headless and report, like the lesson."
    )
    add_data_options(parser)
    add_training_options(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--steps", type=int, help="steps to run (default 1200)")
    out.add_argument("--log-every", type=int, metavar="K", help="print every K steps")
    out.add_argument("--trajectory", metavar="FILE.csv", help="write every step")
    out.add_argument("--json", action="store_true", help="print a JSON summary")
    return parser


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


def _hyperparameters(args: argparse.Namespace) -> dict[str, float]:
    values: dict[str, float] = {}
    if args.momentum is not None:
        values["momentum"] = args.momentum
    if args.betas is not None:
        values["beta1"], values["beta2"] = args.betas
    for item in args.opt:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--opt expects KEY=VALUE, got {item!r}")
        try:
            values[key.strip()] = float(text)
        except ValueError:
            raise UsageError(f"--opt {key.strip()}: {text!r} is not a number") from None
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
        )
    except (ValueError, KeyError) as error:
        raise UsageError(str(error).strip("'\"")) from None


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


# ------------------------------------------------------------------- fit run
_CHUNK = 10_000


def run_fit(request: RunRequest, out: TextIO, trajectory: TextIO | None = None):
    """Run the request headless; returns the trainer and its last row.

    Logging and the trajectory stream as the run goes, so a run of 10 million
    steps needs no more memory than one chunk.
    """
    import numpy as np

    from sgd_viewer.core.trainer import Trainer

    trainer = Trainer(request.data, request.config, request.start)
    problem, reduction = trainer.problem, request.config.reduction
    a0, b0 = request.start
    grad0 = problem.gradient(a0, b0, reduction)
    loss0 = float(problem.loss(a0, b0, reduction))
    if request.log_every:
        _log_line(out, 0, loss0, problem.n, reduction, a0, b0)
    if trajectory is not None:
        trajectory.write("step,epoch,a,b,loss,grad_a,grad_b\n")
        trajectory.write(
            f"0,0,{a0!r},{b0!r},{loss0!r},{float(grad0[0])!r},{float(grad0[1])!r}\n"
        )
    remaining = request.steps
    while remaining > 0:
        batch = trainer.step(min(_CHUNK, remaining))
        remaining -= _CHUNK
        if request.log_every:
            for i in np.flatnonzero(batch.step % request.log_every == 0):
                _log_line(
                    out,
                    batch.step[i],
                    batch.loss[i],
                    problem.n,
                    reduction,
                    batch.a[i],
                    batch.b[i],
                )
        if trajectory is not None and len(batch):
            table = np.column_stack(
                [
                    batch.step,
                    batch.epoch,
                    batch.a,
                    batch.b,
                    batch.loss,
                    batch.grad_a,
                    batch.grad_b,
                ]
            )
            np.savetxt(
                trajectory, table, delimiter=",", fmt=["%d", "%d"] + ["%.17g"] * 5
            )
        if batch.diverged:
            break
    return trainer


def _log_line(out, step, loss, n, reduction, a, b) -> None:
    mse = loss / n if reduction == "sum" else loss
    out.write(
        f"step {int(step):>7d}  loss {float(loss):<12.6g} mse {float(mse):<10.6g} "
        f"a {float(a):< 10.6f} b {float(b):< 10.6f}\n"
    )


def summary(trainer) -> dict[str, Any]:
    """The JSON summary of a finished (or diverged) run."""
    problem, config = trainer.problem, trainer.config
    a, b = trainer.parameters
    return {
        "status": "diverged" if trainer.status == "diverged" else "ok",
        "message": trainer.message,
        "steps": trainer.step_count,
        "epoch": trainer.epoch,
        "a": a,
        "b": b,
        "loss": float(problem.loss(a, b, config.reduction)),
        "mse": float(problem.loss(a, b)),
        "n": problem.n,
        "data": trainer.data.name,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "hyperparameters": dict(config.hyperparameters),
        "batch_size": config.batch_size or "full",
        "reduction": config.reduction,
        "dtype": config.dtype,
        "start": list(trainer.start),
        "optimum": {
            "a": problem.a_opt,
            "b": problem.b_opt,
            "loss": problem.loss_opt(config.reduction),
        },
        "lr_max": problem.lr_max(config.reduction),
        "condition_number": problem.condition_number(),
    }


def fit_main(argv: Sequence[str]) -> int:
    args = build_fit_parser().parse_args(argv)
    try:
        request = resolve_request(args)
    except (DataError, UsageError) as error:
        print(f"sgd-viewer fit: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    trajectory = None
    try:
        if args.trajectory:
            try:
                trajectory = Path(args.trajectory).open("w", encoding="utf-8")  # noqa: SIM115 (closed below)
            except OSError as error:
                print(
                    f"sgd-viewer fit: error: cannot write {args.trajectory}: "
                    f"{error.strerror or error}",
                    file=sys.stderr,
                )
                return EXIT_BAD_INPUT
        trainer = run_fit(request, sys.stdout, trajectory)
    except ValueError as error:  # e.g. cuda asked for where there is none
        print(f"sgd-viewer fit: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if trajectory is not None:
            trajectory.close()
    result = summary(trainer)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        opt = result["optimum"]
        print(
            f"{result['status']}: {result['steps']} steps, a = {result['a']:.6g}, "
            f"b = {result['b']:.6g}, loss = {result['loss']:.6g}  "
            f"(optimum a = {opt['a']:.6g}, b = {opt['b']:.6g}, "
            f"loss = {opt['loss']:.6g}; lr_max = {result['lr_max']:.4g})"
        )
    if result["status"] == "diverged":
        print(f"sgd-viewer fit: {trainer.message}", file=sys.stderr)
        return EXIT_DIVERGED
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sgd-viewer`` and ``python -m sgd_viewer``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "fit":
        return fit_main(argv[1:])
    if argv and argv[0] == "bench":
        from sgd_viewer.bench import bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    from sgd_viewer.gui.app import gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
