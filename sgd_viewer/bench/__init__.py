"""``sgd-viewer bench``: speed and memory of the app against baselines measured
in the same run.

Owns the command (argument parsing, running the measurements in order, the
machine description) and its two outputs: a readable table and one JSON object.
The measurements themselves live in :mod:`sgd_viewer.bench.engine` (headless,
no Qt) and :mod:`sgd_viewer.bench.gui` (the window, in fresh processes).

Every measurement is a row with ``value``, ``baseline``, ``ratio`` (always
``value / baseline``), ``target`` (text) and ``met`` (true, false, or null where
no target applies or it could not be measured). Targets are reported, never
enforced: the command exits 0 whatever the numbers.

Imports neither torch nor Qt at module level; each measurement imports what it
needs when it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

from sgd_viewer.bench.engine import Settings, row

#: Every key the command reports, in the order it measures them.
KEYS = (
    "engine_full_batch",
    "engine_minibatch",
    "surface",
    "engine_race",
    "gui_run",
    "gui_race",
    "seek",
    "resume",
    "startup",
    "memory",
    "csv_load",
    "animate",
    "stability_map",
)

WHAT = {
    "engine_full_batch": "app trainer vs the lesson's per-point loop, full batch",
    "engine_minibatch": "app trainer vs a per-point loop on an index-gather",
    "surface": "statistics + loss grid + ellipses vs a naive per-point grid",
    "engine_race": "a Race of 8 runs (steps/s × 8) vs one sgd trainer, full batch",
    "gui_run": "offscreen window running flat out vs the headless trainer",
    "gui_race": "offscreen window with 8 runs flat out vs the headless 8-run Race",
    "seek": "view_step(random k) with 8 runs × 1e6 steps in history (p99)",
    "resume": "continue from step 5e5 of 1e6 until the first new step is shown",
    "startup": "fresh process to first paint vs a bare two-plot pyqtgraph window",
    "memory": "RSS growth over 1e6 steps with full history vs RSS before",
    "csv_load": "a 1e6-row CSV through the app's loader vs pandas.read_csv alone",
    "animate": "seconds per exported GIF frame at 1200x800 vs QWidget.grab()",
    "stability_map": "analytic 200×200 rate map (≤ 20 ms) and empirical "
    "64×64×500 Adam map (≤ 2 s)",
}


def _measure(key: str, settings: Settings) -> list[dict[str, Any]]:
    from sgd_viewer.bench import engine

    function: Callable[[Settings], list[dict[str, Any]]]
    if key in ("gui_run", "startup"):
        from sgd_viewer.bench import gui

        function = getattr(gui, key)
    elif key in ("engine_race", "gui_race", "seek", "resume"):
        from sgd_viewer.bench import race

        function = getattr(race, key)
    elif key == "csv_load":
        from sgd_viewer.bench.files import csv_load

        function = csv_load
    elif key == "stability_map":
        from sgd_viewer.bench.stability import stability_map

        function = stability_map
    elif key == "animate":
        from sgd_viewer.bench.animate import animate

        function = animate
    elif key == "surface":
        from sgd_viewer.bench.surface import surface

        function = surface
    else:
        function = getattr(engine, key)
    return function(settings)


def _version(*names: str) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def machine() -> dict[str, Any]:
    """Where the numbers come from."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    try:
        from PySide6 import QtCore  # only QtCore: no application, no window

        qt = QtCore.qVersion()
    except ImportError:
        qt = None
    return {
        "cores": usable,
        "cpu_count": os.cpu_count(),
        "torch": _version("torch"),
        "qt": qt,
        "pyside6": _version("PySide6-Essentials", "PySide6"),
        "pyqtgraph": _version("pyqtgraph"),
        "numpy": _version("numpy"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
    }


def run(keys: Sequence[str], settings: Settings, progress=None) -> dict[str, Any]:
    """Measure ``keys``; the report as one JSON-ready dict."""
    results: dict[str, Any] = {}
    started = time.perf_counter()
    for key in keys:
        if progress is not None:
            print(f"measuring {key} …", file=progress, flush=True)
        t0 = time.perf_counter()
        try:
            rows = _measure(key, settings)
            note = None
        except Exception as error:  # one broken measurement must not hide the rest
            rows = [row("not measured", "", None, None, None, None)]
            note = f"{type(error).__name__}: {error}"
        notes = [r["detail"]["note"] for r in rows if r["detail"].get("note")]
        if note is None and notes:
            note = "; ".join(dict.fromkeys(notes))
        verdicts = [r["met"] for r in rows if r["met"] is not None]
        if any(r["met"] is None and r["target"] for r in rows):
            verdicts.append(None)
        results[key] = {
            "what": WHAT[key],
            "met": None if not verdicts or None in verdicts else all(verdicts),
            "note": note,
            "seconds": round(time.perf_counter() - t0, 2),
            "measurements": rows,
        }
    return {
        "machine": machine(),
        "quick": settings.quick,
        "repeats": settings.repeats,
        "seconds": round(time.perf_counter() - started, 2),
        "results": results,
    }


# --------------------------------------------------------------------- table
def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "—"}[met]


def table(report: dict[str, Any]) -> str:
    """The report as a plain-text table, one line per measurement."""
    m = report["machine"]
    header = (
        f"sgd-viewer bench{' --quick' if report['quick'] else ''}: "
        f"{m['cores']} cores, torch {m['torch']}, Qt {m['qt']}, "
        f"PySide6 {m['pyside6']}, pyqtgraph {m['pyqtgraph']}, Python {m['python']}; "
        f"medians of {report['repeats']} runs; ratio = value / baseline"
    )
    lines = [header]
    columns = ("key", "measurement", "value", "baseline", "ratio", "target", "met")
    body: list[tuple[str, ...]] = []
    for key, result in report["results"].items():
        for i, r in enumerate(result["measurements"]):
            ratio = "—" if r["ratio"] is None else f"{r['ratio']:.3g}×"
            body.append(
                (
                    key if i == 0 else "",
                    r["label"],
                    _number(r["value"], r["unit"]),
                    _number(r["baseline"], r.get("baseline_unit") or r["unit"]),
                    ratio,
                    r["target"] or "—",
                    _verdict(r["met"]),
                )
            )
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(columns)]
    right = {2, 3, 4}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines += [line(columns), line(["-" * w for w in widths])]
    lines += [line(b) for b in body]
    extras = []
    for key, result in report["results"].items():
        for r in result["measurements"]:
            shown = {
                k: v
                for k, v in r["detail"].items()
                if k in _SHOWN_DETAIL and v is not None
            }
            if shown:
                extras.append(
                    f"  {key} {r['label']}: "
                    + ", ".join(f"{k} {_short(v)}" for k, v in shown.items())
                )
        if result["note"]:
            extras.append(f"  {key}: {result['note']}")
    if extras:
        lines += ["", "details:", *extras]
    verdict = ", ".join(
        f"{k} {_verdict(r['met'])}" for k, r in report["results"].items()
    )
    lines += ["", f"targets met: {verdict}  ({report['seconds']:.0f} s)"]
    return "\n".join(lines)


_SHOWN_DETAIL = (
    "statistics_ms",
    "grid_ms",
    "ellipses_ms",
    "frames_per_s",
    "lateness_p50_ms",
    "lateness_p99_ms",
    "headless_ratio",
    "projected",
    "history_mb",
    "rss_after_steps_mb",
    "first_paint_s",
    "p50_ms",
    "with_paint_p99_ms",
    "median_ms",
    "checkpoint_interval",
)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


# ----------------------------------------------------------------------- cli
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sgd-viewer bench",
        description=(
            "Measure the app's speed and memory against baselines run in the same "
            "process: medians over repeated, interleaved runs, with their ratio "
            "and the target each should meet."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats, shorter runs, no n = 1e7, memory projected from 1e5 "
        "steps (about a minute in all)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a table"
    )
    parser.add_argument("--only", metavar="KEY[,KEY]", help=argparse.SUPPRESS)
    return parser


def bench_main(argv: Sequence[str]) -> int:
    """Entry point of ``sgd-viewer bench``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as stop:  # argparse's own exit: keep its code (2 for errors)
        return int(stop.code or 0)
    keys: Sequence[str] = KEYS
    if args.only:
        asked = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = [k for k in asked if k not in KEYS]
        keys = [k for k in KEYS if k in asked]
        if unknown or not keys:
            print(
                f"sgd-viewer bench: error: unknown key {', '.join(unknown) or '(none)'}"
                f"; choose from {', '.join(KEYS)}",
                file=sys.stderr,
            )
            return 2
    report = run(keys, Settings.for_mode(args.quick), progress=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table(report))
    return 0
