"""``fit`` and session files: ``--save-session FILE`` after a run,
``--session FILE [--steps N]`` to replay and report one, and ``--script
FILE.py`` to write the run as a standalone torch script.

Imports neither Qt nor torch at module level (torch comes with the trainer
when a run is replayed).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sgd_viewer.core.recipe import PALETTE, RunRecipe, default_label
from sgd_viewer.core.session_file import (
    MAX_STEPS,
    RunEntry,
    SessionFileError,
    read_session,
    session_document,
    write_session,
)
from sgd_viewer.options import EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OK, UsageError

#: Options that say what to fit; a session file says that itself.
_REPLACED_BY_SESSION = (
    "data",
    "dataset",
    "compare",
    "preset",
    "optimizer",
    "lr",
    "batch_size",
    "schedule",
    "init",
)


def add_session_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--session",
        metavar="FILE",
        help="replay a saved session and report it (its runs' saved steps, "
        "or --steps N for each)",
    )
    group.add_argument(
        "--save-session", metavar="FILE", help="write the run(s) as a session file"
    )
    group.add_argument(
        "--script",
        metavar="FILE.py",
        help="write the run as a standalone numpy + torch script",
    )


def refuse_what_a_session_gives(args: argparse.Namespace) -> None:
    """``UsageError`` naming the options that ``--session`` replaces."""
    given = [
        f"--{name.replace('_', '-')}"
        for name in _REPLACED_BY_SESSION
        if getattr(args, name, None)
    ]
    if given:
        raise UsageError(
            f"--session gives the data and the runs; drop {', '.join(given)}"
        )


def check_session_options(args: argparse.Namespace) -> None:
    """``UsageError`` for option combinations that mean nothing."""
    if args.session:
        refuse_what_a_session_gives(args)
    if args.script and args.compare:
        raise UsageError("--script writes one run; drop --compare (or use --session)")


def entries_of(trainers: list[tuple[Any, str | None]]) -> list[RunEntry]:
    """Session entries of finished trainers (each with its label or None)."""
    return [
        RunEntry(
            RunRecipe(
                trainer.config,
                label or default_label(trainer.config),
                PALETTE[index % len(PALETTE)],
            ),
            trainer.step_count,
            custom_label=bool(label),
            diverged=trainer.status == "diverged",
        )
        for index, (trainer, label) in enumerate(trainers)
    ]


def save_session(path: str, data, start, entries: list[RunEntry]) -> None:
    """Write the session (``UsageError`` with the reason when it cannot)."""
    try:
        write_session(path, session_document(data, start, entries))
    except ValueError as error:
        raise UsageError(f"cannot save the session to {path}: {error}") from None
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def write_script_file(path: str, data, start, entry: RunEntry) -> None:
    from sgd_viewer.core.script_export import write_script

    try:
        write_script(path, data, start, entry.recipe, entry.steps)
    except ValueError as error:
        raise UsageError(f"cannot write {path}: {error}") from None
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def session_main(args: argparse.Namespace) -> int:
    """``fit --session FILE [--steps N] [--json]``: replay and report."""
    from sgd_viewer.core.race import Race
    from sgd_viewer.core.recipe import replay
    from sgd_viewer.fit_summary import summary

    try:
        saved = read_session(args.session)
        if args.steps is not None and not 0 <= args.steps <= MAX_STEPS:
            raise UsageError(f"--steps must be between 0 and {MAX_STEPS:,}")
    except (SessionFileError, UsageError) as error:
        print(f"sgd-viewer fit: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    race = Race(saved.data, saved.start)
    results = []
    for index, entry in enumerate(saved.runs):
        steps = entry.replay_steps if args.steps is None else args.steps
        trainer = race.add(index, entry.recipe.config)
        replay(trainer, entry.recipe, steps)
        results.append((entry, summary(trainer)))
    try:
        if args.save_session:
            save_session(args.save_session, saved.data, saved.start, list(saved.runs))
        if args.script:
            write_script_file(
                args.script, saved.data, saved.start, saved.runs[saved.selected]
            )
    except UsageError as error:
        print(f"sgd-viewer fit: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if len(results) == 1:
        result = results[0][1] | {"label": results[0][0].recipe.label}
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(
                f"{result['status']}: {result['steps']} steps, a = {result['a']:.6g}, "
                f"b = {result['b']:.6g}, loss = {result['loss']:.6g}"
            )
        return EXIT_DIVERGED if result["status"] == "diverged" else EXIT_OK
    report = {
        "session": args.session,
        "runs": [result | {"label": entry.recipe.label} for entry, result in results],
        "n": race.problem.n,
        "data": saved.data.name,
        "start": list(saved.start),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        width = max(len(r["label"]) for r in report["runs"])
        for r in report["runs"]:
            print(
                f"{r['label']:<{width}}  {r['status']:<8} {r['steps']:>8} steps  "
                f"a = {r['a']:<10.6g} b = {r['b']:<10.6g} loss = {r['loss']:.6g}"
            )
    return EXIT_OK
