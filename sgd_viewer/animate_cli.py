"""``sgd-viewer animate``: a GIF or MP4 of one or more runs, drawn offscreen
from their recipes, with no window.

Owns the subcommand's options and turning them into an
:class:`~sgd_viewer.core.animation.AnimationJob`: the data and training
options of ``fit`` (and ``--compare``), or a saved ``--session``. Imports
neither Qt nor torch at module level: the rendering (``gui.animation_export``,
on Qt's offscreen platform) is imported once the options are good.

Exit codes: 0 written, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sgd_viewer.core import animation
from sgd_viewer.core.animation import (
    AnimatedRun,
    AnimationError,
    AnimationJob,
    AnimationSettings,
)
from sgd_viewer.core.data import DataError
from sgd_viewer.core.recipe import PALETTE, RunRecipe, default_label
from sgd_viewer.options import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    Parser,
    UsageError,
    add_data_options,
    add_training_options,
    parse_size,
    resolve_compare,
    resolve_request,
)

PROG = "sgd-viewer animate"


def build_animate_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Write a GIF or MP4 of the run(s): frame i shows step "
        "i·K, replayed from the recipes and drawn offscreen.",
    )
    add_data_options(parser)
    add_training_options(parser)
    runs = parser.add_argument_group("runs (default: the one the options above set)")
    runs.add_argument(
        "--compare",
        nargs="+",
        metavar="SPEC",
        help="race several runs, e.g. --compare sgd:lr=0.1 adam:lr=0.1",
    )
    runs.add_argument(
        "--session",
        metavar="FILE",
        help="animate a saved session: its data, start and visible runs",
    )
    out = parser.add_argument_group("animation")
    out.add_argument(
        "--out", required=True, metavar="FILE.gif|FILE.mp4", help="write it here"
    )
    out.add_argument(
        "--frames",
        type=int,
        default=animation.DEFAULT_FRAMES,
        metavar="N",
        help=f"frames (default {animation.DEFAULT_FRAMES}); the first shows step 0",
    )
    out.add_argument(
        "--steps-per-frame",
        type=int,
        metavar="K",
        help=f"steps between frames (default {animation.DEFAULT_STEPS_PER_FRAME}; "
        "with --session, enough for the furthest run to reach its saved step)",
    )
    out.add_argument(
        "--fps",
        type=int,
        default=animation.DEFAULT_FPS,
        metavar="F",
        help=f"frames a second (default {animation.DEFAULT_FPS})",
    )
    width, height = animation.DEFAULT_SIZE
    out.add_argument(
        "--size",
        default=f"{width}x{height}",
        metavar="WxH",
        help=f"frame size in pixels (default {width}x{height}; MP4 rounds odd "
        "numbers down)",
    )
    out.add_argument(
        "--what",
        choices=animation.PARTS,
        default="plots",
        help="the whole plot area (default) or one plot",
    )
    return parser


def _settings(args: argparse.Namespace, steps_per_frame: int) -> AnimationSettings:
    return AnimationSettings(
        frames=args.frames,
        steps_per_frame=steps_per_frame,
        fps=args.fps,
        size=parse_size(args.size),
        what=args.what,
    )


def _job_from_options(args: argparse.Namespace) -> AnimationJob:
    request = resolve_request(args)
    specs = resolve_compare(args.compare, request.config) if args.compare else []
    configs = specs or [(request.config, None)]
    runs = tuple(
        AnimatedRun(RunRecipe(config, label or default_label(config), PALETTE[index]))
        for index, (config, label) in enumerate(configs)
    )
    per_frame = args.steps_per_frame
    if per_frame is None:
        per_frame = animation.DEFAULT_STEPS_PER_FRAME
    settings = _settings(args, per_frame)
    return AnimationJob(request.data, request.start, runs, args.out, settings)


def _job_from_session(args: argparse.Namespace) -> AnimationJob:
    from sgd_viewer.core.session_file import SessionFileError, read_session
    from sgd_viewer.fit_sessions import refuse_what_a_session_gives

    refuse_what_a_session_gives(args)
    try:
        saved = read_session(args.session)
    except SessionFileError as error:
        raise UsageError(str(error)) from None
    per_frame = args.steps_per_frame
    if per_frame is None:
        furthest = max(entry.steps for entry in saved.runs)
        per_frame = max(1, math.ceil(furthest / max(args.frames - 1, 1)))
    runs = tuple(AnimatedRun(entry.recipe, entry.visible) for entry in saved.runs)
    return AnimationJob(
        saved.data,
        saved.start,
        runs,
        args.out,
        _settings(args, per_frame),
        saved.selected,
        saved.display,
    )


def animate_main(argv: Sequence[str]) -> int:
    """Entry point of ``sgd-viewer animate``; returns the exit code."""
    args = build_animate_parser().parse_args(list(argv))
    try:
        animation.format_of(args.out)  # the name first: it costs nothing
        job = _job_from_session(args) if args.session else _job_from_options(args)
        job.check()
    except (DataError, UsageError, AnimationError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # Drawn offscreen whatever the display: nothing is ever shown.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from sgd_viewer.gui.animation_export import render_animation
    from sgd_viewer.gui.app import ensure_application

    ensure_application()
    try:
        with _quiet_offscreen():
            render_animation(job)
    except AnimationError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    settings = job.settings
    width, height = settings.frame_size(job.format)
    kilobytes = Path(job.path).stat().st_size / 1024
    print(
        f"wrote {job.path}: {settings.frames} frames (steps 0 to "
        f"{settings.total_steps:,}, {settings.steps_per_frame:,} a frame), "
        f"{width}x{height}, {settings.fps} fps, {kilobytes:,.0f} kB"
    )
    return EXIT_OK


#: What Qt's offscreen platform says of every shown widget: noise here.
_OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"


@contextmanager
def _quiet_offscreen() -> Iterator[None]:
    """Qt's messages, less the offscreen platform's noise, while rendering;
    any other handler (pytest-qt's) still gets every other message."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(mode, context, message: str) -> None:
        if message == _OFFSCREEN_NOISE:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)
