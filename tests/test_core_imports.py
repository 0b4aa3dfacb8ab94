"""The engine stays Qt-free, and the modules the GUI reads before its first paint
stay torch-free (DESIGN.md §2, §3)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import sgd_viewer.core

CORE_DIR = Path(sgd_viewer.core.__file__).parent
FORBIDDEN_PREFIXES = ("PySide6", "pyqtgraph", "shiboken6", "sgd_viewer.gui")

ALL_CORE = (
    "sgd_viewer.core",
    "sgd_viewer.core.problem",
    "sgd_viewer.core.data",
    "sgd_viewer.core.config",
    "sgd_viewer.core.optimizers",
    "sgd_viewer.core.history",
    "sgd_viewer.core.trainer",
    "sgd_viewer.core.schedules",
    "sgd_viewer.core.checkpoints",
    "sgd_viewer.core.recipe",
    "sgd_viewer.core.session",
    "sgd_viewer.core.race",
    "sgd_viewer.core.race_presets",
    "sgd_viewer.core.loss_terms",
    "sgd_viewer.core.torch_state",
    "sgd_viewer.core.update_terms",
    "sgd_viewer.core.update_explainer",
    "sgd_viewer.core.display",
    "sgd_viewer.core.narration",
    "sgd_viewer.core.session_file",
    "sgd_viewer.core.session_checks",
    "sgd_viewer.core.script_export",
    "sgd_viewer.core.animation",
    "sgd_viewer.core.scaling",
    "sgd_viewer.core.stability_empirical",
    "sgd_viewer.core.lessons",
    "sgd_viewer.core.data_edits",
    "sgd_viewer.core.engine",
    "sgd_viewer.core.engine_process",
)
TORCH_FREE = (
    "sgd_viewer.core.config",
    "sgd_viewer.core.optimizers",
    "sgd_viewer.core.problem",
    "sgd_viewer.core.data",
    "sgd_viewer.core.history",
    "sgd_viewer.core.schedules",
    "sgd_viewer.core.checkpoints",
    "sgd_viewer.core.recipe",
    "sgd_viewer.core.session",
    "sgd_viewer.core.race_presets",
    "sgd_viewer.core.loss_terms",
    "sgd_viewer.core.display",
    "sgd_viewer.core.narration",
    "sgd_viewer.core.session_file",
    "sgd_viewer.core.session_checks",
    "sgd_viewer.core.animation",
    "sgd_viewer.fit_sessions",
    "sgd_viewer.core.scaling",
    "sgd_viewer.fit_scaling",
    "sgd_viewer.core.lessons",
    "sgd_viewer.core.stability",
    "sgd_viewer.options",
    "sgd_viewer.core.data_edits",
    "sgd_viewer.core.engine",
    "sgd_viewer.core.engine_process",
)


def _modules_loaded_by(modules: tuple[str, ...]) -> list[str]:
    """Names in ``sys.modules`` after importing ``modules`` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _is_forbidden(name: str) -> bool:
    return any(
        name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN_PREFIXES
    )


def test_core_loads_no_qt_and_no_gui() -> None:
    loaded = _modules_loaded_by(ALL_CORE)
    assert "sgd_viewer.core.trainer" in loaded  # the probe really imported
    assert "torch" in loaded  # the trainer needs it; the check below must still hold
    assert [m for m in loaded if _is_forbidden(m)] == []


def test_modules_read_before_first_paint_do_not_import_torch() -> None:
    loaded = _modules_loaded_by(TORCH_FREE)
    assert set(TORCH_FREE) <= set(loaded)
    assert [m for m in loaded if m == "torch" or m.startswith("torch.")] == []
    assert [m for m in loaded if _is_forbidden(m)] == []


def _imported_names(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against sgd_viewer.core
                base = "sgd_viewer.core" if node.level == 1 else "sgd_viewer"
                names.append(f"{base}.{node.module}" if node.module else base)
                names += [f"{base}.{alias.name}" for alias in node.names]
            elif node.module:
                names.append(node.module)
                names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


CORE_FILES = sorted(CORE_DIR.glob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_source_never_imports_qt(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [name for name in _imported_names(tree) if _is_forbidden(name)]
    assert bad == [], f"{path.name} imports {bad}"


def test_static_check_sees_every_core_module() -> None:
    names = {p.stem for p in CORE_FILES}
    assert {"problem", "data", "config", "optimizers", "history", "trainer"} <= names


def test_static_check_catches_forbidden_imports() -> None:
    # The checker itself must be able to fail.
    for source in (
        "import PySide6.QtCore",
        "from PySide6 import QtCore",
        "from pyqtgraph import PlotWidget",
        "from sgd_viewer.gui import app",
        "from ..gui.app import gui_main",
        "importlib.import_module('shiboken6')",
    ):
        names = _imported_names(ast.parse(source))
        assert any(_is_forbidden(n) for n in names), source
