"""What the app remembers between launches, in QSettings: the window's
geometry and splitter sizes, the recent sessions, the last data and the last
runs' settings.

Everything is read defensively: a value from an older version, another
platform or a hand-edited file that does not fit is ignored, never an error.
``SGD_VIEWER_CONFIG_DIR`` points the settings at another folder (the tests
set it, so they never touch the user's own).
"""

from __future__ import annotations

import json
import os
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.recipe import MAX_RUNS, RunRecipe
from sgd_viewer.core.session_checks import Check, SessionFileError, check_recipe
from sgd_viewer.core.session_file import recipe_of_data

ORGANISATION = APPLICATION = "sgd_viewer"
RECENT_LIMIT = 8
_ENV = "SGD_VIEWER_CONFIG_DIR"


def app_settings() -> QSettings:
    """The app's settings store (an INI file under ``SGD_VIEWER_CONFIG_DIR``
    when that is set, else the platform's usual place)."""
    folder = os.environ.get(_ENV)
    if folder:
        return QSettings(
            os.path.join(folder, f"{APPLICATION}.ini"), QSettings.Format.IniFormat
        )
    return QSettings(
        QSettings.Format.IniFormat,
        QSettings.Scope.UserScope,
        ORGANISATION,
        APPLICATION,
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


# -------------------------------------------------------------- recent files
def recent_sessions() -> list[str]:
    return _strings(app_settings().value("recent/sessions", []))[:RECENT_LIMIT]


def remember_session(path: str) -> list[str]:
    """Put ``path`` first among the recent sessions; the new list."""
    path = os.path.abspath(path)
    paths = [path, *(p for p in recent_sessions() if p != path)][:RECENT_LIMIT]
    app_settings().setValue("recent/sessions", paths)
    return paths


def forget_session(path: str) -> list[str]:
    paths = [p for p in recent_sessions() if p != path]
    app_settings().setValue("recent/sessions", paths)
    return paths


# ------------------------------------------------------------ window state
def save_window(window) -> None:
    """Geometry, splitter sizes, the data and the runs' settings."""
    store = app_settings()
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue(
        "window/splitters",
        json.dumps([splitter.sizes() for splitter in window.splitters]),
    )
    session = window.session
    store.setValue("last/data", json.dumps(data_reference(session.data)))
    store.setValue(
        "last/runs",
        json.dumps(
            [
                RunRecipe(run.config, run.label, run.colour).to_json()
                | {"custom_label": run.custom_label}
                for run in session.runs
            ]
        ),
    )
    store.setValue("last/start", json.dumps(list(session.start)))
    store.sync()


def restore_geometry(window) -> bool:
    """Geometry and splitter sizes of the last launch; whether there were any."""
    store = app_settings()
    geometry = store.value("window/geometry")
    restored = isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)
    sizes = _json(store.value("window/splitters"))
    if isinstance(sizes, list) and len(sizes) == len(window.splitters):
        for splitter, saved in zip(window.splitters, sizes, strict=True):
            if (
                isinstance(saved, list)
                and len(saved) == splitter.count()
                and all(isinstance(v, int) and v >= 0 for v in saved)
            ):
                splitter.setSizes(saved)
    return bool(restored)


def last_data() -> dict | None:
    value = _json(app_settings().value("last/data"))
    return value if isinstance(value, dict) else None


def last_runs() -> list[tuple[TrainingConfig, str]]:
    """Settings and label (empty: generated) of each run of the last launch;
    entries that do not check out (another version, a hand edit) are skipped."""
    value = _json(app_settings().value("last/runs"))
    if not isinstance(value, list):
        return []
    runs = []
    for item in value[:MAX_RUNS]:
        if not isinstance(item, dict):
            continue
        custom = item.pop("custom_label", False) is True
        try:
            recipe = check_recipe(Check("settings"), item)
        except SessionFileError:
            continue
        runs.append((recipe.config, recipe.label if custom else ""))
    return runs


def last_start() -> tuple[float, float] | None:
    value = _json(app_settings().value("last/start"))
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and abs(v) < 1e12 for v in value)
    ):
        return float(value[0]), float(value[1])
    return None


def clear() -> None:
    """Forget everything (File ▸ Reset settings)."""
    store = app_settings()
    store.clear()
    store.sync()


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def data_reference(data: Dataset) -> dict:
    """How to find ``data`` again: generator parameters, a bundled name, or
    the file it came from (with its columns)."""
    recipe = recipe_of_data(data)
    if recipe is not None:
        return recipe
    return {"kind": "file", "path": data.source, "x": data.x_label, "y": data.y_label}
