"""``sgd-viewer map``: the stability map of an optimizer on the data, headless.

Owns the subcommand's options and its two outputs: one JSON object
(``--json``) or a short readable summary. The analytic map (the default:
heavy-ball momentum's per-step rate over lr × momentum, from the Hessian) is
numpy only; ``--empirical`` runs every cell of lr × knob (or lr alone) as a
batched full-batch fit and imports torch only then.

Imports neither Qt nor torch at module level. Exit codes: 0 printed, 2 bad
input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from sgd_viewer.core.data import DataError
from sgd_viewer.core.optimizers import get_optimizer
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.stability import (
    ANALYTIC_OPTIMIZERS,
    DEFAULT_BUDGET,
    DEFAULT_KNOBS,
    DEFAULT_START,
    REGIMES,
    analytic_map,
    check_empirical,
    default_knob_range,
    default_lr_range,
    default_momentum_range,
    optimizer_lr_range,
)
from sgd_viewer.core.stability import knob_range as knob_values
from sgd_viewer.options import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    Parser,
    UsageError,
    add_data_options,
    resolve_data,
)

PROG = "sgd-viewer map"
#: Cells a side: the analytic map costs ~1 ms at 200, the empirical ~0.1 s at
#: 64 (× steps/500); the limits keep a typo from asking for hours.
DEFAULT_SIZE = {"analytic": 200, "empirical": 64}
MAX_SIZE = {"analytic": 2000, "empirical": 256}
MAX_STEPS = 100_000


def build_map_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Print the stability map: how fast full-batch descent "
        "converges for each learning rate and momentum (or another knob), "
        "from the loss's Hessian or, with --empirical, by running every cell.",
    )
    add_data_options(parser)
    group = parser.add_argument_group("map")
    group.add_argument(
        "--optimizer",
        default="momentum",
        metavar="NAME",
        help="momentum (default) or nesterov; with --empirical also sgd, adam, "
        "rmsprop, adagrad",
    )
    group.add_argument(
        "--knob",
        metavar="NAME|none",
        help="the hyperparameter on the second axis (default: momentum, β1 "
        "for adam, α for rmsprop; none: a sweep over lr alone, the default "
        "for sgd and adagrad)",
    )
    group.add_argument(
        "--lr-range",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        help="learning rates, log-spaced (default lr_max/100 … 3·lr_max; for "
        "adam, rmsprop, adagrad the suggested lr /100 … ×100)",
    )
    group.add_argument(
        "--knob-range",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        help="knob values, evenly spaced, log-spaced for eps (default the "
        "knob's range, decays up to 0.99)",
    )
    group.add_argument(
        "--size",
        type=int,
        metavar="N",
        help=f"N×N cells (default {DEFAULT_SIZE['analytic']}; "
        f"{DEFAULT_SIZE['empirical']} with --empirical)",
    )
    group.add_argument(
        "--empirical",
        action="store_true",
        help="run every cell (batched torch.optim rules) and count the steps "
        "to L* + 1e-6·(L0 − L*)",
    )
    group.add_argument(
        "--steps", type=int, metavar="N", help="step budget of a cell (default 500)"
    )
    group.add_argument("--loss", choices=("mean", "sum"), help="reduction (mean)")
    group.add_argument(
        "--init",
        type=float,
        nargs=2,
        metavar=("A", "B"),
        help="start of every empirical cell (-1 1)",
    )
    group.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a fixed hyperparameter, e.g. --opt eps=1e-6 (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


# ---------------------------------------------------------------- checking
def _range(values: Sequence[float] | None, flag: str, log: bool):
    if values is None:
        return None
    low, high = values
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise UsageError(f"{flag} needs two finite numbers LO < HI, got {low} {high}")
    if log and low <= 0:
        raise UsageError(f"{flag} needs LO > 0 (a log scale), got {low}")
    return low, high


def _fixed_values(items: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        key, sep, text = item.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            values[key.strip()] = float(text)
        except ValueError:
            raise UsageError(f"--opt expects KEY=NUMBER, got {item!r}") from None
    return values


def _size(args: argparse.Namespace, mode: str) -> int:
    size = DEFAULT_SIZE[mode] if args.size is None else args.size
    if not 2 <= size <= MAX_SIZE[mode]:
        raise UsageError(f"--size must be 2 … {MAX_SIZE[mode]} here, got {size}")
    return size


def _knob(args: argparse.Namespace, optimizer: str) -> str | None:
    if args.knob is None:
        return DEFAULT_KNOBS[optimizer]
    if args.knob.lower() == "none":
        return None
    spec = get_optimizer(optimizer)
    spec.hyperparameter(args.knob)  # KeyError naming the known ones
    return args.knob


# ------------------------------------------------------------------- maps
def _analytic(args: argparse.Namespace, problem: Problem, reduction: str):
    optimizer = get_optimizer(args.optimizer).name
    if optimizer not in ANALYTIC_OPTIMIZERS:
        raise UsageError(
            f"the analytic map covers {' and '.join(ANALYTIC_OPTIMIZERS)}, not "
            f"{optimizer}; add --empirical to run it"
        )
    if args.knob not in (None, "momentum"):
        raise UsageError(
            "the analytic map's second axis is momentum; for "
            "another knob add --empirical"
        )
    if args.steps is not None or args.init is not None:
        raise UsageError("--steps and --init apply to --empirical maps only")
    fixed = _fixed_values(args.opt)
    spec = get_optimizer(optimizer)
    unknown = sorted(set(fixed) - {"weight_decay"})
    if unknown:
        raise UsageError(
            f"--opt {unknown[0]}: the analytic map takes only weight_decay"
        )
    weight_decay = spec.resolve(fixed)["weight_decay"]
    size = _size(args, "analytic")
    lr_range = _range(args.lr_range, "--lr-range", log=True)
    lrs = (
        default_lr_range(problem, reduction, size)
        if lr_range is None
        else np.geomspace(*lr_range, size)
    )
    spread = _range(args.knob_range, "--knob-range", log=False)
    momenta = (
        default_momentum_range(optimizer, size)
        if spread is None
        else knob_values(optimizer, "momentum", *spread, size)  # Nesterov: μ ≥ 0.01
    )
    return analytic_map(
        problem, reduction, lrs, momenta, optimizer=optimizer, weight_decay=weight_decay
    )


def _empirical(args: argparse.Namespace, problem: Problem, reduction: str):
    from sgd_viewer.core.stability_empirical import empirical_map  # imports torch

    optimizer = check_empirical(get_optimizer(args.optimizer).name)
    knob = _knob(args, optimizer)
    size = _size(args, "empirical")
    steps = DEFAULT_BUDGET if args.steps is None else args.steps
    if not 1 <= steps <= MAX_STEPS:
        raise UsageError(f"--steps must be 1 … {MAX_STEPS}, got {steps}")
    start = DEFAULT_START if args.init is None else tuple(args.init)
    if not all(math.isfinite(v) for v in start):
        raise UsageError(f"--init needs two finite numbers, got {start}")
    lr_range = _range(args.lr_range, "--lr-range", log=True)
    lrs = (
        optimizer_lr_range(problem, optimizer, reduction, size)
        if lr_range is None
        else np.geomspace(*lr_range, size)
    )
    spread = _range(args.knob_range, "--knob-range", log=False)
    values = None
    if knob is None and spread is not None:
        raise UsageError("--knob-range needs a knob; this map sweeps lr alone")
    if knob is not None:
        values = (
            default_knob_range(optimizer, knob, size)
            if spread is None
            else knob_values(optimizer, knob, *spread, size)
        )
    return empirical_map(
        problem,
        optimizer,
        lrs,
        values,
        knob=knob,
        hyperparameters=_fixed_values(args.opt),
        reduction=reduction,
        start=start,
        budget=steps,
    )


# ------------------------------------------------------------------ output
def _summary(result: Any) -> str:
    lr = result.lr
    lines = []
    lr_text = (
        f"lr {lr[0]:.3g} … {lr[-1]:.3g} (log-spaced, lr_max = {result.lr_max:.4g})"
    )
    if hasattr(result, "rate"):  # the analytic map
        label = get_optimizer(result.optimizer).label
        rows, columns = result.rate.shape
        lines.append(
            f"analytic stability map of {label} ({result.reduction} loss): "
            f"{rows} momenta × {columns} learning rates"
        )
        lines.append(
            f"{lr_text}; momentum {result.momentum[0]:.3g} … {result.momentum[-1]:.3g}"
        )
        lines.append(
            ", ".join(f"{name} {result.share(name):.0%}" for name in REGIMES)
            + " of cells"
        )
        i, j = result.best()
        lines.append(
            f"fastest: rate {result.rate[i, j]:.4g} per step at lr = "
            f"{lr[j]:.4g}, momentum = {result.momentum[i]:.3g}"
        )
        return "\n".join(lines)
    label = get_optimizer(result.optimizer).label
    shape = " × ".join(str(n) for n in result.steps.shape)
    axis = "learning rates" if result.is_sweep else f"{result.knob_name} × lr"
    lines.append(
        f"empirical map of {label} ({result.reduction} loss): {shape} "
        f"{axis}, steps to L* + {result.tolerance:g}·(L0 − L*) within "
        f"{result.budget}"
    )
    if result.is_sweep:
        lines.append(lr_text)
    else:
        lines.append(
            f"{lr_text}; {result.knob_name} {result.knob[0]:.3g} … "
            f"{result.knob[-1]:.3g}"
        )
    lines.append(
        ", ".join(f"{name} {result.share(name):.0%}" for name in result.regime_names)
        + " of cells"
    )
    if math.isfinite(float(result.steps.min())):
        best = result.best()
        where = f"lr = {lr[best[-1]]:.4g}"
        if not result.is_sweep:
            where += f", {result.knob_name} = {result.knob[best[0]]:.3g}"
        lines.append(f"fewest: {int(result.steps[best])} steps at {where}")
    else:
        lines.append("no cell converged within the budget")
    return "\n".join(lines)


def map_main(argv: Sequence[str]) -> int:
    """Entry point of ``sgd-viewer map``; returns the exit code."""
    try:
        args = build_map_parser().parse_args(list(argv))
    except SystemExit as stop:  # argparse's own exit: --help 0, errors 2
        return int(stop.code or 0)
    try:
        data = resolve_data(args)
        problem = Problem.from_data(data.x, data.y)
        reduction = args.loss or "mean"
        if args.empirical:
            result = _empirical(args, problem, reduction)
        else:
            result = _analytic(args, problem, reduction)
    except (DataError, UsageError, ValueError, KeyError) as error:
        # str() of a KeyError quotes its message; its first argument does not.
        message = error.args[0] if isinstance(error, KeyError) else str(error)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(_summary(result))
    return EXIT_OK
