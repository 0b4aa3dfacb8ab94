"""Session files: a session as versioned JSON, written and read back strictly.

A session file holds what the window showed: the data (a bundled name, the
generator's parameters, or the points themselves with the original file's
name), the start, every run's recipe and how far it ran, the selected run, the
viewed step, the display options, the pinned guess and the view ranges.
Opening one replays the recipes (DESIGN.md §10), so a file is small and exact.

A session file is data only: it is parsed with :mod:`json` (NaN and Infinity
literals refused), never imported, evaluated or unpickled, and every field is
checked for its type and range. Anything wrong is one
:class:`SessionFileError` line that starts with the file's name and says which
field is wrong and why (as the CSV loader's messages do).

numpy and stdlib only: no torch, no Qt.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sgd_viewer.core.data import (
    DataError,
    Dataset,
    bundled_dataset_names,
    generate,
    load_bundled,
)
from sgd_viewer.core.display import DisplayOptions
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.recipe import MAX_RUNS, RunRecipe
from sgd_viewer.core.scaling import X_MODES, Y_MODES, scale
from sgd_viewer.core.session_checks import (
    Check,
    SessionFileError,
    check_recipe,
)

__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "MAX_POINTS",
    "MAX_STEPS",
    "VERSION",
    "RunEntry",
    "SessionFile",
    "SessionFileError",
    "parse_session",
    "read_session",
    "session_document",
    "write_session",
]

FORMAT = "sgd-viewer-session"
VERSION = 1
#: Most steps a run in a session file may ask for: opening replays them all
#: (about ten seconds at the engine's speed here).
MAX_STEPS = 1_000_000
#: Most points a session embeds (about 40 MB of JSON); larger data are saved
#: by reference only when bundled or generated.
MAX_POINTS = 1_000_000
#: Larger files are refused before they are read.
MAX_FILE_BYTES = 64 * 1024 * 1024

_TOP_KEYS = {
    "format",
    "version",
    "app",
    "data",
    "start",
    "runs",
    "selected",
    "step",
    "display",
    "pinned",
    "views",
    "scaling",
}
_VIEW_NAMES = ("fit", "surface")


@dataclass(frozen=True)
class RunEntry:
    """One run of a session file: its recipe and how far it had run."""

    recipe: RunRecipe
    steps: int
    visible: bool = True
    custom_label: bool = False
    #: The step after ``steps`` diverged (and was refused).
    diverged: bool = False

    @property
    def replay_steps(self) -> int:
        """Steps to ask a replay for: one more for a run that diverged, so
        that the replay diverges where the run did."""
        return self.steps + 1 if self.diverged else self.steps


@dataclass(frozen=True)
class SessionFile:
    """A session file's contents, checked."""

    data: Dataset
    start: tuple[float, float]
    runs: tuple[RunEntry, ...]
    selected: int = 0
    #: The step the views showed; ``None``: the latest.
    viewed_step: int | None = None
    display: DisplayOptions = field(default_factory=DisplayOptions)
    pinned: tuple[float, float] | None = None
    #: ``{"fit" | "surface": {"range": [x0, x1, y0, y1], "auto": bool}}``.
    views: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Feature scaling of x and y (``core.scaling``): the runs fit the data
    #: scaled so; ``data`` holds them as loaded.
    scale_modes: tuple[str, str] = ("none", "none")


# ------------------------------------------------------------------ writing
def recipe_of_data(data: Dataset) -> dict[str, Any] | None:
    """How to make ``data`` again without their points: the generator's
    parameters or the bundled dataset's name and columns (``None`` for
    points from elsewhere)."""
    if data.is_generated:
        return {
            "kind": "generated",
            "n": data.n,
            "a": data.true_a,
            "b": data.true_b,
            "noise": data.noise,
            "seed": data.seed,
        }
    if data.source.startswith("bundled:"):
        return {
            "kind": "bundled",
            "name": data.source.partition(":")[2],
            "x": data.x_label,
            "y": data.y_label,
        }
    return None


def _data_document(data: Dataset) -> dict[str, Any]:
    recipe = recipe_of_data(data)
    if recipe is not None:
        return recipe
    if data.n > MAX_POINTS:
        raise ValueError(
            f"the data have {data.n:,} points; a session file holds at most "
            f"{MAX_POINTS:,} (save a smaller sample, or use generated data)"
        )
    return {
        "kind": "points",
        # A file's name (never its folder); edited points keep their own.
        "name": os.path.basename(data.source)
        if data.source not in ("", "edited")
        else data.name,
        "x_label": data.x_label,
        "y_label": data.y_label,
        "x": data.x.tolist(),
        "y": data.y.tolist(),
    }


def session_document(
    data: Dataset,
    start: tuple[float, float],
    runs: list[RunEntry],
    *,
    selected: int = 0,
    viewed_step: int | None = None,
    display: DisplayOptions | None = None,
    pinned: tuple[float, float] | None = None,
    views: Mapping[str, Mapping[str, Any]] | None = None,
    scale_modes: tuple[str, str] = ("none", "none"),
) -> dict[str, Any]:
    """The JSON document of a session (``ValueError`` when the data are too
    big to embed)."""
    from sgd_viewer import __version__

    return {
        "format": FORMAT,
        "version": VERSION,
        "app": f"sgd-viewer {__version__}",
        "data": _data_document(data),
        "start": [float(start[0]), float(start[1])],
        "runs": [
            entry.recipe.to_json()
            | {
                "steps": int(entry.steps),
                "visible": bool(entry.visible),
                "custom_label": bool(entry.custom_label),
                "diverged": bool(entry.diverged),
            }
            for entry in runs
        ],
        "selected": int(selected),
        "step": None if viewed_step is None else int(viewed_step),
        "display": dict(vars(display or DisplayOptions())),
        "pinned": None if pinned is None else [float(pinned[0]), float(pinned[1])],
        "scaling": {"x": scale_modes[0], "y": scale_modes[1]},
        "views": {
            name: {
                "range": [float(v) for v in view["range"]],
                "auto": bool(view["auto"]),
            }
            for name, view in (views or {}).items()
        },
    }


def write_session(path: str | os.PathLike[str], document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` atomically (a partial file never
    replaces a good one); ``OSError`` as usual."""
    text = json.dumps(document, indent=1, allow_nan=False, ensure_ascii=False)
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(text + "\n", encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


# ------------------------------------------------------------------ reading
def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def read_session(path: str | os.PathLike[str]) -> SessionFile:
    """Read and check a session file (``SessionFileError``: one line naming
    the file and the problem)."""
    label = os.fspath(path)
    try:
        info = os.stat(label)
    except FileNotFoundError:
        raise SessionFileError(f"{label}: file not found") from None
    except OSError as error:
        raise SessionFileError(
            f"{label}: cannot be read ({error.strerror or error})"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise SessionFileError(f"{label}: is a directory, not a session file")
    if not stat.S_ISREG(info.st_mode):
        raise SessionFileError(
            f"{label}: is not a regular file (a pipe or a device); save the "
            "session to a file first"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise SessionFileError(
            f"{label}: is {info.st_size / 2**20:.0f} MB; a session file is at "
            f"most {MAX_FILE_BYTES // 2**20} MB"
        )
    try:
        raw = Path(label).read_bytes()
    except OSError as error:
        raise SessionFileError(
            f"{label}: cannot be read ({error.strerror or error})"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SessionFileError(
            f"{label}: is not a session file (not UTF-8 text)"
        ) from None
    return parse_session(text, label)


def parse_session(text: str, label: str = "session") -> SessionFile:
    """Check the text of a session file (see :func:`read_session`)."""
    if not text.strip():
        raise SessionFileError(f"{label}: is empty, not a session file")
    if "\0" in text:
        raise SessionFileError(f"{label}: is not a session file (binary data)")
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise SessionFileError(
            f"{label}: is nested too deeply to be a session"
        ) from None
    except ValueError as error:
        if "JSON allows" in str(error):
            raise SessionFileError(
                f"{label}: holds {str(error).split(' is ')[0]}, which is not a "
                "number JSON allows (NaN and Infinity are refused)"
            ) from None
        where = ""
        if isinstance(error, json.JSONDecodeError):
            where = f" at line {error.lineno}, column {error.colno}"
            if error.pos >= len(text.rstrip()) - 1 or error.msg.startswith(
                "Unterminated"
            ):
                raise SessionFileError(
                    f"{label}: is not valid JSON: it ends too early (truncated?)"
                ) from None
        raise SessionFileError(
            f"{label}: is not valid JSON{where} ({getattr(error, 'msg', error)})"
        ) from None
    return _check_document(document, Check(label))


def _check_document(document: Any, top: Check) -> SessionFile:
    if not isinstance(document, dict):
        raise top.fail(f"is not a session: a JSON {top.kind(document)}, not an object")
    if "format" not in document:
        raise top.fail(
            f"is not an sgd-viewer session (it has no format tag; a session "
            f'starts with "format": "{FORMAT}")'
        )
    if document.get("format") != FORMAT:
        raise top.fail(
            f"is not an sgd-viewer session (format is "
            f"{document.get('format')!r}, not {FORMAT!r})"
        )
    version = top.at("version").integer(document.get("version"), 1, 10**6)
    if version > VERSION:
        raise top.fail(
            f"was saved by a newer sgd-viewer (session version {version}; this "
            f"one reads version {VERSION}): update sgd-viewer to open it"
        )
    top.known_keys(document, _TOP_KEYS)
    data = _check_data(top.at("data"), top.required(document, "data"))
    start = top.at("start").point(top.required(document, "start"))
    runs_check = top.at("runs")
    raw_runs = runs_check.array(top.required(document, "runs"))
    if not 1 <= len(raw_runs) <= MAX_RUNS:
        raise runs_check.fail(
            f"holds {len(raw_runs)} runs; a session has 1 to {MAX_RUNS}"
        )
    modes = _check_scaling(top.at("scaling"), document.get("scaling", {}), data)
    fitted = scale(data, *modes)[0]
    runs = tuple(
        _check_run(runs_check.at(index), raw, fitted)
        for index, raw in enumerate(raw_runs)
    )
    selected = top.at("selected").integer(document.get("selected", 0), 0, len(runs) - 1)
    step = document.get("step")
    latest = max(run.steps for run in runs)
    viewed = None if step is None else top.at("step").integer(step, 0, latest)
    display = _check_display(top.at("display"), document.get("display", {}))
    pinned_raw = document.get("pinned")
    pinned = None if pinned_raw is None else top.at("pinned").point(pinned_raw)
    views = _check_views(top.at("views"), document.get("views", {}))
    return SessionFile(
        data, start, runs, selected, viewed, display, pinned, views, modes
    )


def _check_scaling(check: Check, raw: Any, data: Dataset) -> tuple[str, str]:
    check.object(raw)
    check.known_keys(raw, {"x", "y"})
    x = check.at("x").choice(raw.get("x", "none"), X_MODES)
    y = check.at("y").choice(raw.get("y", "none"), Y_MODES)
    try:
        scale(data, x, y)
    except ValueError as error:
        raise check.fail(str(error)) from None
    return x, y


def _check_data(check: Check, raw: Any) -> Dataset:
    check.object(raw)
    kind = check.at("kind").choice(
        check.required(raw, "kind"), ("generated", "bundled", "points")
    )
    try:
        if kind == "generated":
            check.known_keys(raw, {"kind", "n", "a", "b", "noise", "seed"})
            return generate(
                n=check.at("n").integer(check.required(raw, "n"), 2, MAX_POINTS),
                a=check.at("a").number(check.required(raw, "a")),
                b=check.at("b").number(check.required(raw, "b")),
                noise=check.at("noise").number(check.required(raw, "noise"), 0.0),
                seed=check.at("seed").integer(
                    check.required(raw, "seed"), 0, 2**63 - 1
                ),
            )
        if kind == "bundled":
            check.known_keys(raw, {"kind", "name", "x", "y"})
            name = check.at("name").text(check.required(raw, "name"), 100)
            if any(sep in name for sep in ("/", "\\", "..", ":")) or name.startswith(
                "."
            ):
                raise check.at("name").fail(
                    f"{name!r} is not a dataset name (no paths in a session)"
                )
            names = bundled_dataset_names()
            if name not in names:
                raise check.at("name").fail(
                    f"no bundled dataset {name!r}; available: {', '.join(names)}"
                )
            columns = [
                check.at(axis).text(raw[axis], 200) if axis in raw else None
                for axis in ("x", "y")
            ]
            return load_bundled(name, x=columns[0], y=columns[1])
        check.known_keys(raw, {"kind", "name", "x_label", "y_label", "x", "y"})
        name = check.at("name").text(raw.get("name", "points"), 260)
        xs = check.at("x").numbers(check.required(raw, "x"), MAX_POINTS)
        ys = check.at("y").numbers(check.required(raw, "y"), MAX_POINTS)
        if len(xs) != len(ys):
            raise check.fail(
                f"x has {len(xs):,} values and y has {len(ys):,}; they must pair up"
            )
        return Dataset(
            x=np.asarray(xs, dtype=float),
            y=np.asarray(ys, dtype=float),
            name=name,
            source=name,
            x_label=check.at("x_label").text(raw.get("x_label", "x"), 200),
            y_label=check.at("y_label").text(raw.get("y_label", "y"), 200),
        )
    except DataError as error:
        raise check.fail(f"cannot be used: {error}") from None


def _check_run(check: Check, raw: Any, fitted: Dataset) -> RunEntry:
    check.object(raw)
    if "lr_times_lr_max" in raw:
        # A learning rate computed from the data (lessons: "0.9·lr_max of
        # these data", whatever the data are).
        factor = check.at("lr_times_lr_max").number(raw["lr_times_lr_max"], 1e-6, 1e3)
        reduction = raw.get("reduction", "mean")
        if reduction in ("mean", "sum"):
            problem = Problem.from_data(fitted.x, fitted.y)
            lr = float(f"{factor * problem.lr_max(reduction):.6g}")
            raw = {k: v for k, v in raw.items() if k != "lr_times_lr_max"} | {"lr": lr}
    recipe = check_recipe(
        check, raw, extra_keys={"steps", "visible", "custom_label", "diverged"}
    )
    steps = check.at("steps").integer(check.required(raw, "steps"), 0, MAX_STEPS)
    diverged = check.at("diverged").boolean(raw.get("diverged", False))
    for change_index, change in enumerate(recipe.changes):
        if change.step > steps + diverged:
            raise (
                check.at("changes")
                .at(change_index)
                .fail(
                    f"is at step {change.step:,}, after the run's last step ({steps:,})"
                )
            )
    visible = check.at("visible").boolean(raw.get("visible", True))
    custom = check.at("custom_label").boolean(raw.get("custom_label", False))
    return RunEntry(recipe, steps, visible, custom, diverged)


def _check_display(check: Check, raw: Any) -> DisplayOptions:
    check.object(raw)
    defaults = vars(DisplayOptions())
    check.known_keys(raw, set(defaults))
    for key, value in raw.items():
        if key == "residuals":
            check.at(key).text(value, 20)
        else:
            check.at(key).boolean(value)
    try:
        return DisplayOptions().with_changes(**raw)
    except ValueError as error:
        raise check.fail(str(error)) from None


def _check_views(check: Check, raw: Any) -> dict[str, dict[str, Any]]:
    check.object(raw)
    check.known_keys(raw, set(_VIEW_NAMES))
    views = {}
    for name, view in raw.items():
        where = check.at(name)
        where.object(view)
        where.known_keys(view, {"range", "auto"})
        box = where.at("range").numbers(where.required(view, "range"), 4)
        if len(box) != 4 or not (box[0] < box[1] and box[2] < box[3]):
            raise where.at("range").fail(
                "must be [x0, x1, y0, y1] with x0 < x1 and y0 < y1"
            )
        if any(abs(v) > 1e300 for v in box) or not all(map(math.isfinite, box)):
            raise where.at("range").fail("must hold finite numbers")
        views[name] = {
            "range": box,
            "auto": where.at("auto").boolean(view.get("auto", True)),
        }
    return views
