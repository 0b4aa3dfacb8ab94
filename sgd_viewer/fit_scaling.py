"""``fit --center | --standardize [--standardize-y]``: train on scaled data and
report the line in the original units, with the scaled numbers beside.

The start (``--init``) is in the scaled units the runs train in. Imports
neither Qt nor torch.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from sgd_viewer.core.problem import Problem
from sgd_viewer.core.scaling import Scaling, scale
from sgd_viewer.options import RunRequest, UsageError


def add_scaling_options(group: argparse._ArgumentGroup) -> None:
    x = group.add_mutually_exclusive_group()
    x.add_argument(
        "--center", action="store_true", help="train on x − mean(x) (report in x)"
    )
    x.add_argument(
        "--standardize",
        action="store_true",
        help="train on (x − mean)/std; a, b and the optimum are reported in the "
        "original units, the scaled ones under 'scaled'",
    )
    group.add_argument(
        "--standardize-y", action="store_true", help="standardize y as well"
    )


def scaled_request(args: argparse.Namespace, request: RunRequest):
    """The request on scaled data, and ``(scaling, raw problem)``; ``None``
    for the second when nothing is scaled."""
    x_mode = "standardize" if args.standardize else "center" if args.center else "none"
    y_mode = "standardize" if args.standardize_y else "none"
    if (x_mode, y_mode) == ("none", "none"):
        return request, None
    if getattr(args, "save_session", None):
        raise UsageError("--save-session keeps the data as they are; drop the scaling")
    try:
        data, scaling = scale(request.data, x_mode, y_mode)
    except ValueError as error:
        raise UsageError(f"{request.data.name}: {error}") from None
    raw = Problem.from_data(request.data.x, request.data.y)
    return dataclasses.replace(request, data=data), (scaling, raw)


def in_original_units(
    result: dict[str, Any], scaling: Scaling, raw: Problem
) -> dict[str, Any]:
    """A run's summary with a, b, loss and the optimum in the original units,
    and the scaled ones (and the scaled condition number) under ``scaled``."""
    reduction = result["reduction"]
    a, b = scaling.to_original(result["a"], result["b"])
    a_opt, b_opt = scaling.to_original(result["optimum"]["a"], result["optimum"]["b"])
    scaled = {
        "a": result["a"],
        "b": result["b"],
        "loss": result["loss"],
        "optimum": result["optimum"],
        "condition_number": result["condition_number"],
        "lr_max": result["lr_max"],
        "x_shift": scaling.x_shift,
        "x_scale": scaling.x_scale,
        "y_shift": scaling.y_shift,
        "y_scale": scaling.y_scale,
    }
    return result | {
        "a": a,
        "b": b,
        "loss": float(raw.loss(a, b, reduction)),
        "mse": float(raw.loss(a, b)),
        "optimum": {"a": a_opt, "b": b_opt, "loss": raw.loss_opt(reduction)},
        "condition_number": raw.condition_number(),
        "lr_max": raw.lr_max(reduction),
        "scaled": scaled,
    }


def race_in_original_units(
    report: dict[str, Any], scaling: Scaling, raw: Problem, reduction: str
) -> dict[str, Any]:
    """``fit --compare``'s report with every run and the optimum in the
    original units, the scaled optimum under ``scaled``."""
    runs = []
    for entry in report["runs"]:
        a, b = scaling.to_original(entry["a"], entry["b"])
        loss = float(raw.loss(a, b, reduction))
        runs.append(entry | {"a": a, "b": b, "loss": loss})
    a_opt, b_opt = scaling.to_original(report["optimum"]["a"], report["optimum"]["b"])
    return report | {
        "runs": runs,
        "optimum": {"a": a_opt, "b": b_opt, "loss": raw.loss_opt(reduction)},
        "condition_number": raw.condition_number(),
        "lr_max": raw.lr_max(reduction),
        "scaled": {
            "optimum": report["optimum"],
            "condition_number": report["condition_number"],
            "lr_max": report["lr_max"],
        },
    }
