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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from sgd_viewer.core.data import DataError
from sgd_viewer.fit_scaling import (
    add_scaling_options,
    in_original_units,
    race_in_original_units,
    scaled_request,
)
from sgd_viewer.fit_sessions import (
    add_session_options,
    check_session_options,
    entries_of,
    save_session,
    session_main,
    write_script_file,
)
from sgd_viewer.fit_summary import summary
from sgd_viewer.options import (  # noqa: F401 (re-exported for scripts)
    DEFAULTS,
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    EXIT_OK,
    PRESETS,
    Parser,
    RunRequest,
    UsageError,
    add_data_options,
    add_training_options,
    resolve_compare,
    resolve_config,
    resolve_data,
    resolve_request,
    resolve_start,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sgd-viewer",
        description="Watch gradient descent fit a line y = a·x + b.",
        epilog="Subcommands: 'sgd-viewer fit --help', 'sgd-viewer animate --help', "
        "'sgd-viewer bench --help', 'sgd-viewer map --help', 'sgd-viewer lessons'.",
    )
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="a session (.json) or CSV file to open",
    )
    add_data_options(parser)
    add_training_options(parser)
    window = parser.add_argument_group("window")
    window.add_argument(
        "--lesson",
        metavar="NAME",
        help="open a lesson (see 'sgd-viewer lessons')",
    )
    window.add_argument(
        "--fresh",
        action="store_true",
        help="start without the last launch's window size, data and runs",
    )
    window.add_argument(
        "--compare",
        nargs="+",
        metavar="SPEC",
        help="open with these runs racing, e.g. --compare sgd:lr=0.1 adam:lr=0.1",
    )
    window.add_argument(
        "--tab",
        choices=("loss", "slices", "update", "stability"),
        default="loss",
        help="what shows under the plots: the loss curve, the slices, the "
        "update, the stability map",
    )
    window.add_argument(
        "--display",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a display option: residuals=off|segments|squares, or one of "
        "equal_aspect, loss_equation, gradient_field, step_taken, momentum, "
        "explain =true|false",
    )
    window.add_argument(
        "--presentation",
        action="store_true",
        help="start in presentation mode: full screen, larger type and lines, "
        "a compact toolbar for the side panel (F11 or Escape leaves it)",
    )
    shot = parser.add_argument_group("screenshot (render offscreen and exit)")
    shot.add_argument(
        "--screenshot",
        metavar="FILE.png|FILE.svg",
        help="write the window here: PNG pixels, or an SVG drawing",
    )
    shot.add_argument("--steps", type=int, help="steps to run before the screenshot")
    shot.add_argument("--size", default="1400x900", metavar="WxH", help="window size")
    return parser


def build_fit_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sgd-viewer fit", description="Fit headless and report, like the lesson."
    )
    add_data_options(parser)
    add_training_options(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--steps", type=int, help="steps to run (default 1200)")
    out.add_argument("--log-every", type=int, metavar="K", help="print every K steps")
    out.add_argument("--trajectory", metavar="FILE.csv", help="write every step")
    out.add_argument("--json", action="store_true", help="print a JSON summary")
    out.add_argument(
        "--compare",
        nargs="+",
        metavar="SPEC",
        help="race several runs, e.g. --compare sgd:lr=0.1 "
        "momentum:lr=0.05,momentum=0.9 adam:lr=0.1,betas=0.9/0.99 "
        "(keys: lr, batch, schedule, label, the optimizer's and the "
        "schedule's knobs)",
    )
    add_session_options(out)
    add_scaling_options(parser.add_argument_group("feature scaling"))
    return parser


# ------------------------------------------------------------------- fit run
_CHUNK = 10_000


def run_fit(
    request: RunRequest,
    out: TextIO,
    trajectory: TextIO | None = None,
    *,
    trainer=None,
    run: int | None = None,
):
    """Run the request headless (on ``trainer``, if given); returns the trainer.

    Logging and the trajectory stream as the run goes, so a run of 10 million
    steps needs no more memory than one chunk. With ``run`` set (``fit
    --compare``) each trajectory row starts with that run's number and the
    header is the caller's.
    """
    import numpy as np

    if trainer is None:
        from sgd_viewer.core.trainer import Trainer

        trainer = Trainer(request.data, request.config, request.start)
    problem, reduction = trainer.problem, trainer.config.reduction
    a0, b0 = request.start
    grad0 = problem.gradient(a0, b0, reduction)
    loss0 = float(problem.loss(a0, b0, reduction))
    prefix = "" if run is None else f"{run},"
    if request.log_every:
        _log_line(out, 0, loss0, problem.n, reduction, a0, b0)
    if trajectory is not None:
        if run is None:
            trajectory.write(f"{TRAJECTORY_HEADER}\n")
        trajectory.write(
            f"{prefix}0,0,{a0!r},{b0!r},{loss0!r},"
            f"{float(grad0[0])!r},{float(grad0[1])!r}\n"
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
            columns = [
                batch.step,
                batch.epoch,
                batch.a,
                batch.b,
                batch.loss,
                batch.grad_a,
                batch.grad_b,
            ]
            formats = ["%d", "%d"] + ["%.17g"] * 5
            if run is not None:
                columns.insert(0, np.full(len(batch), run))
                formats.insert(0, "%d")
            np.savetxt(trajectory, np.column_stack(columns), delimiter=",", fmt=formats)
        if batch.diverged:
            break
    return trainer


TRAJECTORY_HEADER = "step,epoch,a,b,loss,grad_a,grad_b"


def run_compare(
    request: RunRequest,
    runs: list[tuple[Any, str | None]],
    out: TextIO,
    trajectory: TextIO | None = None,
    finished: list | None = None,
) -> dict[str, Any]:
    """``fit --compare``: each run on the same data, start and steps, one
    after the other (so each equals a separate ``fit`` exactly); the JSON
    summary of all. Each ``(trainer, label)`` goes into ``finished``."""
    from sgd_viewer.core.race import Race
    from sgd_viewer.core.recipe import default_label

    race = Race(request.data, request.start)
    if trajectory is not None:
        trajectory.write(f"run,{TRAJECTORY_HEADER}\n")
    entries = []
    for index, (config, label) in enumerate(runs):
        trainer = race.add(index, config)
        run_fit(request, out, trajectory, trainer=trainer, run=index)
        if finished is not None:
            finished.append((trainer, label))
        result = summary(trainer)
        entries.append(
            {
                "label": label or default_label(config),
                "optimizer": config.optimizer,
                "lr": config.lr,
                "hyperparameters": result["hyperparameters"],
                "batch_size": result["batch_size"],
                "schedule": config.schedule,
                "schedule_options": dict(config.schedule_options),
                "a": result["a"],
                "b": result["b"],
                "loss": result["loss"],
                "steps": result["steps"],
                "status": result["status"],
                "message": result["message"],
            }
        )
    problem = race.problem
    reduction = request.config.reduction
    return {
        "runs": entries,
        "n": problem.n,
        "data": request.data.name,
        "start": list(request.start),
        "optimum": {
            "a": problem.a_opt,
            "b": problem.b_opt,
            "loss": problem.loss_opt(reduction),
        },
        "lr_max": problem.lr_max(reduction),
        "condition_number": problem.condition_number(),
    }


def _log_line(out, step, loss, n, reduction, a, b) -> None:
    mse = loss / n if reduction == "sum" else loss
    out.write(
        f"step {int(step):>7d}  loss {float(loss):<12.6g} mse {float(mse):<10.6g} "
        f"a {float(a):< 10.6f} b {float(b):< 10.6f}\n"
    )


def fit_main(argv: Sequence[str]) -> int:
    args = build_fit_parser().parse_args(argv)
    try:
        check_session_options(args)
    except UsageError as error:
        print(f"sgd-viewer fit: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.session:
        return session_main(args)
    try:
        request, scaled = scaled_request(args, resolve_request(args))
        runs = resolve_compare(args.compare, request.config) if args.compare else None
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
        finished: list = []
        if runs is not None:
            report = run_compare(request, runs, sys.stdout, trajectory, finished)
        else:
            trainer = run_fit(request, sys.stdout, trajectory)
            finished.append((trainer, None))
        _keep(args, request, finished)
    except (ValueError, UsageError) as error:  # e.g. cuda where there is none
        print(f"sgd-viewer fit: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if trajectory is not None:
            trajectory.close()
    if runs is not None:
        if scaled:
            report = race_in_original_units(report, *scaled, request.config.reduction)
        _print_compare(report, args.json)
        return EXIT_OK  # a diverged run is a result of the race, not a failure
    result = summary(trainer)
    if scaled:
        result = in_original_units(result, *scaled)
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


def _keep(args, request: RunRequest, finished: list) -> None:
    """``--save-session`` and ``--script``: the finished run(s) as files
    (``UsageError``, a ValueError, when one cannot be written)."""
    if not (args.save_session or args.script):
        return
    entries = entries_of(finished)
    if args.save_session:
        save_session(args.save_session, request.data, request.start, entries)
    if args.script:
        write_script_file(args.script, request.data, request.start, entries[0])


def _print_compare(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2))
        return
    width = max(len(entry["label"]) for entry in report["runs"])
    for entry in report["runs"]:
        print(
            f"{entry['label']:<{width}}  {entry['status']:<8} {entry['steps']:>8} "
            f"steps  a = {entry['a']:<10.6g} b = {entry['b']:<10.6g} "
            f"loss = {entry['loss']:.6g}"
        )
    opt = report["optimum"]
    print(
        f"optimum a = {opt['a']:.6g}, b = {opt['b']:.6g}, loss = {opt['loss']:.6g}; "
        f"lr_max = {report['lr_max']:.4g}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sgd-viewer`` and ``python -m sgd_viewer``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "fit":
        return fit_main(argv[1:])
    if argv and argv[0] == "lessons":
        from sgd_viewer.lessons_cli import lessons_main

        return lessons_main(argv[1:])
    if argv and argv[0] == "animate":
        from sgd_viewer.animate_cli import animate_main

        return animate_main(argv[1:])
    if argv and argv[0] == "bench":
        from sgd_viewer.bench import bench_main

        return bench_main(argv[1:])
    if argv and argv[0] == "map":
        from sgd_viewer.map_cli import map_main

        return map_main(argv[1:])
    args = build_parser().parse_args(argv)
    from sgd_viewer.gui.app import gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
