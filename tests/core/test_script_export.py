"""The run as a torch script (issue 11 §4): the scripts that
``core.script_export`` writes are run for real and must end where the app's
run of the same recipe ends (``play_recipe``), within 1e-12 in float64 and
1e-6 in float32; they import nothing but numpy, torch and the standard
library, and say in their header what they are.

Torch takes seconds to import, so the scripts run together: one child
process runs each of them as ``__main__`` (as ``python script.py`` would) and
hands back what each printed. One script also runs on its own, the plain way.
"""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from sgd_viewer.cli import summary
from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset, generate, load_bundled, load_csv
from sgd_viewer.core.optimizers import OPTIMIZERS, get_optimizer
from sgd_viewer.core.recipe import RunRecipe, SettingChange, play_recipe
from sgd_viewer.core.schedules import SCHEDULES
from sgd_viewer.core.script_export import torch_script, write_script

TOLERANCE = {"float64": 1e-12, "float32": 1e-6}
STEPS = 60
START = (-1.0, 1.0)

# Values that a decimal printout would not give back exactly.
CSV_TEXT = "x,y\n" + "".join(
    f"{x!r},{y!r}\n"
    for x, y in zip(
        [i / 7 + 0.1 + 0.2 for i in range(40)],
        [3 * i / 7 + 1 / 3 + math.sin(i) / 9 for i in range(40)],
        strict=True,
    )
)

_RUNNER = r"""
import contextlib, io, json, runpy, sys, traceback
outputs = {}
for path in sys.argv[1:]:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_path(path, run_name="__main__")
    except Exception:  # that script's test fails, showing why; the rest run
        printed.write(traceback.format_exc())
    outputs[path] = printed.getvalue()
ours = sorted(name for name in sys.modules if name.split(".")[0] == "sgd_viewer")
print(json.dumps({"outputs": outputs, "sgd_viewer_modules": ours}))
"""


@dataclass(frozen=True)
class Case:
    data: str  # "lesson", "noisy" (generated) or "csv" (embedded)
    config: TrainingConfig
    changes: tuple[SettingChange, ...] = ()

    @property
    def recipe(self) -> RunRecipe:
        return RunRecipe(self.config, self.config.optimizer, "#0072b2", self.changes)


def _knobs(name: str, **values) -> dict:
    return {**get_optimizer(name).defaults(), **values}


def _case(optimizer: str, data: str = "lesson", changes=(), **settings) -> Case:
    return Case(data, TrainingConfig(optimizer=optimizer, **settings), tuple(changes))


#: One run per optimizer, between them every schedule, both reductions and
#: dtypes, mini-batches, the per-point loss, embedded data and mid-run changes.
CASES = {
    "sgd": _case("sgd", lr=0.1, changes=[SettingChange(20, 0.3, {}, None)]),
    "momentum": _case(
        "momentum",
        lr=0.002,
        batch_size=8,
        seed=3,
        reduction="sum",
        schedule="step",
        schedule_options={"step_size": 10},
        changes=[SettingChange(25, 0.001, _knobs("momentum"), None)],
    ),
    "nesterov": _case(
        "nesterov",
        "csv",
        lr=0.05,
        dtype="float32",
        schedule="cosine",
        schedule_options={"t_max": 40},
    ),
    "adagrad": _case(
        "adagrad",
        "noisy",
        lr=0.5,
        reduction="sum",
        loss_form="per_point",
        schedule="exponential",
        schedule_options={"gamma": 0.98},
        changes=[SettingChange(30, 0.5, _knobs("adagrad"), 8)],
    ),
    "rmsprop": _case(
        "rmsprop",
        "csv",
        lr=0.02,
        batch_size=8,
        seed=1,
        schedule="warmup",
        schedule_options={"warmup_steps": 15},
        changes=[SettingChange(20, 0.02, _knobs("rmsprop", momentum=0.5), 8)],
    ),
    "adadelta": _case(
        "adadelta",
        lr=1.0,
        batch_size=8,
        dtype="float32",
        schedule="onecycle",
        schedule_options={"total_steps": 40},
    ),
    "adam": _case(
        "adam",
        "csv",
        lr=0.05,
        batch_size=8,
        seed=2,
        schedule="cosine",
        schedule_options={"t_max": 50},
        changes=[SettingChange(30, 0.1, _knobs("adam"), 16)],
    ),
    "adamw": _case(
        "adamw",
        lr=0.1,
        schedule="onecycle",
        schedule_options={"total_steps": 50},
        changes=[SettingChange(20, 0.2, _knobs("adamw", weight_decay=0.01), None)],
    ),
    "adamax": _case(
        "adamax",
        "csv",
        lr=0.05,
        batch_size=8,
        reduction="sum",
        loss_form="per_point",
        dtype="float32",
    ),
    "nadam": _case(
        "nadam",
        "noisy",
        lr=0.05,
        reduction="sum",
        loss_form="per_point",
        schedule="step",
        schedule_options={"step_size": 20, "gamma": 0.7},
        changes=[SettingChange(30, 0.05, _knobs("nadam", beta1=0.8), None)],
    ),
    "radam": _case(
        "radam",
        lr=0.05,
        dtype="float32",
        schedule="warmup",
        schedule_options={"warmup_steps": 10},
    ),
    "lbfgs": _case(
        "lbfgs",
        lr=0.5,
        batch_size=8,
        changes=[
            SettingChange(30, 0.5, _knobs("lbfgs", max_iter=3), 8),
            SettingChange(40, 0.5, _knobs("lbfgs", max_iter=3), None),
        ],
    ),
}
#: Controls: the same runs less one ingredient, which must end elsewhere.
CONTROLS = {
    "sgd-unchanged": _case("sgd", lr=0.1),
    "adam-other-seed": Case(
        "csv", CASES["adam"].config.with_changes(seed=5), CASES["adam"].changes
    ),
}
DIVERGING = _case("sgd", lr=5.0)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Dataset]:
    csv = tmp_path_factory.mktemp("data") / "points.csv"
    csv.write_text(CSV_TEXT, encoding="utf-8")
    return {
        "lesson": generate(50),
        "noisy": generate(120, a=-2.0, b=5.0, noise=1.5, seed=11),
        "csv": load_csv(csv),
    }


def _script(case: Case, datasets) -> str:
    return torch_script(datasets[case.data], START, case.recipe, STEPS)


@pytest.fixture(scope="module")
def ran(datasets, tmp_path_factory) -> dict:
    """What every script printed, by name, from one child process."""
    folder = tmp_path_factory.mktemp("scripts")
    paths = {}
    for name, case in {**CASES, **CONTROLS}.items():
        paths[name] = folder / f"{name}.py"
        write_script(paths[name], datasets[case.data], START, case.recipe, STEPS)
    done = subprocess.run(
        [sys.executable, "-I", "-c", _RUNNER, *map(str, paths.values())],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["sgd_viewer_modules"] == []  # no script reached for the app
    return {name: report["outputs"][str(path)] for name, path in paths.items()}


def _result(printed: str) -> dict:
    assert "Traceback" not in printed, printed
    result = json.loads(printed.strip().splitlines()[-1])
    assert set(result) == {"a", "b", "loss"}
    return result


def _app(case: Case, datasets) -> tuple[dict, str]:
    trainer, _ = play_recipe(case.recipe, datasets[case.data], START, STEPS)
    return summary(trainer), trainer.status


def _assert_same(got: dict, want: dict, dtype: str) -> None:
    for key in ("a", "b", "loss"):
        assert math.isclose(got[key], want[key], rel_tol=TOLERANCE[dtype]), (
            key,
            got[key],
            want[key],
        )


# ------------------------------------------------------------------- runs
def test_the_cases_cover_every_optimizer_and_schedule() -> None:
    assert set(CASES) == set(OPTIMIZERS)
    assert {c.config.schedule for c in CASES.values()} == set(SCHEDULES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_script_ends_where_the_app_does(name: str, ran, datasets) -> None:
    case = CASES[name]
    want, status = _app(case, datasets)
    assert status == "running"  # these runs are meant not to diverge
    got = _result(ran[name])
    _assert_same(got, want, case.config.dtype)
    assert (got["a"], got["b"]) != START  # the run went somewhere
    assert "step 60:" in ran[name]  # progress lines come before the result


def test_the_ingredients_matter(ran) -> None:
    # Without its mid-run change, or with another shuffling seed, a run ends
    # elsewhere: the agreement above is not that of runs that ignore them.
    assert _result(ran["sgd-unchanged"]) != _result(ran["sgd"])
    assert _result(ran["adam-other-seed"]) != _result(ran["adam"])


def test_a_diverging_run_stops_where_the_app_stops(datasets, tmp_path) -> None:
    # Run the plain way: python script.py, in a folder of its own.
    path = tmp_path / "diverges.py"
    write_script(path, datasets["lesson"], START, DIVERGING.recipe, STEPS)
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    want, status = _app(DIVERGING, datasets)
    assert status == "diverged"
    stopped = [line for line in done.stdout.splitlines() if "diverged" in line]
    assert stopped
    assert f"at step {want['steps'] + 1} " in stopped[0]
    got = _result(done.stdout)
    _assert_same(got, want, "float64")
    assert all(math.isfinite(value) for value in got.values())


# ----------------------------------------------------------- the script text
def _top_level_imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import"
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
            "__import__",
            "exec",
            "eval",
        ):
            names.add(f"<{node.func.id}>")
    return names


@pytest.mark.parametrize("name", sorted(CASES))
def test_script_imports_only_numpy_torch_and_the_standard_library(
    name: str, datasets
) -> None:
    imported = _top_level_imports(_script(CASES[name], datasets))
    assert {"numpy", "torch"} <= imported
    assert imported - {"numpy", "torch"} <= set(sys.stdlib_module_names)


def test_import_check_can_fail() -> None:
    assert "sgd_viewer" in _top_level_imports("from sgd_viewer.core import data")
    assert "<__import__>" in _top_level_imports("__import__('sgd_viewer')")


@pytest.mark.parametrize("name", ["sgd", "nesterov", "lbfgs"])
def test_header_says_what_the_script_is(name: str, datasets) -> None:
    case = CASES[name]
    source = _script(case, datasets)
    compile(source, f"{name}.py", "exec")
    header = source[: source.index("\nimport ")].splitlines()
    assert all(line.startswith("#") or not line for line in header)
    text = "\n".join(header)
    torch_class = get_optimizer(case.config.optimizer).torch_class
    assert f"torch.optim.{torch_class}" in text
    assert f"lr = {case.config.lr!r}" in text
    assert datasets[case.data].name in text
    for change in case.changes:
        assert f"after step {change.step}" in text
    # The optimizer is built in the open with the same class and lr.
    assert f"opt = torch.optim.{torch_class}(" in source
    assert "loss.backward()" in source


def _literal_list(source: str, name: str) -> list[float]:
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", None) == name
            and isinstance(node.value, ast.Call)
            and node.value.args
            and isinstance(node.value.args[0], ast.List)
        ):
            return ast.literal_eval(node.value.args[0])
    raise AssertionError(f"no literal list assigned to {name}")


def test_embedded_data_round_trips_exactly(datasets) -> None:
    data = datasets["csv"]
    source = _script(CASES["adam"], datasets)
    assert _literal_list(source, "x") == data.x.tolist()
    assert _literal_list(source, "y") == data.y.tolist()
    bundled = load_bundled("forbes")
    source = torch_script(bundled, START, CASES["sgd"].recipe, 5)
    assert _literal_list(source, "y") == bundled.y.tolist()


def test_generated_data_is_regenerated_only_when_it_matches(datasets) -> None:
    lesson = datasets["lesson"]
    source = _script(CASES["sgd"], datasets)
    assert "np.random.default_rng(0)" in source
    with pytest.raises(AssertionError):
        _literal_list(source, "x")
    # Points that claim to be generated but are not: written out instead.
    moved = Dataset(
        x=lesson.x,
        y=lesson.y + 1.0,
        name=lesson.name,
        true_a=3.0,
        true_b=8.0,
        noise=0.3,
        seed=0,
        source="generated",
    )
    source = torch_script(moved, START, CASES["sgd"].recipe, STEPS)
    assert _literal_list(source, "y") == moved.y.tolist()


# ------------------------------------------------------ bad input, the file
def test_refuses_what_it_cannot_replay(datasets) -> None:
    lesson = datasets["lesson"]
    recipe = CASES["sgd"].recipe
    with pytest.raises(ValueError, match="steps"):
        torch_script(lesson, START, recipe, -1)
    with pytest.raises(ValueError, match="finite"):
        torch_script(lesson, (math.nan, 1.0), recipe, 5)
    # A change of L-BFGS's history restarts an app run: not a replayable change.
    restart = SettingChange(3, 0.5, _knobs("lbfgs", history_size=5), None)
    lbfgs = RunRecipe(TrainingConfig(optimizer="lbfgs", lr=0.5), "l", "#000000")
    with pytest.raises(ValueError, match="restarts"):
        torch_script(lesson, START, RunRecipe(lbfgs.config, "l", "#000", (restart,)), 5)
    # The same change past the last step is never applied: fine.
    later = SettingChange(9, restart.lr, restart.hyperparameters, None)
    late = RunRecipe(lbfgs.config, "l", "#000000", (later,))
    assert "LBFGS" in torch_script(lesson, START, late, 5)


def test_write_script_writes_utf8_and_raises_oserror(datasets, tmp_path) -> None:
    case = CASES["nesterov"]
    path = tmp_path / "run.py"
    write_script(path, datasets[case.data], START, case.recipe, STEPS)
    assert path.read_bytes().decode("utf-8") == _script(case, datasets)
    assert "·" in path.read_text(encoding="utf-8")  # not ASCII: really UTF-8
    with pytest.raises(FileNotFoundError):
        write_script(
            tmp_path / "nowhere" / "run.py", datasets["csv"], START, case.recipe, STEPS
        )
    with pytest.raises(IsADirectoryError):
        write_script(tmp_path, datasets["csv"], START, case.recipe, STEPS)


def test_labels_and_names_cannot_break_the_comment_header(datasets) -> None:
    lesson = datasets["lesson"]
    odd = Dataset(x=lesson.x, y=lesson.y, name="two\nlines\x00\u2028here")
    recipe = RunRecipe(CASES["sgd"].config, "label\r\nimport os", "#000000")
    source = torch_script(odd, START, recipe, 3)
    compile(source, "odd.py", "exec")
    assert "os" not in _top_level_imports(source)
    assert np.isfinite(_literal_list(source, "x")).all()


def test_writing_a_script_needs_no_torch(tmp_path) -> None:
    # The window writes scripts from its menu: that must not load torch.
    code = (
        "import sys\n"
        "from sgd_viewer.core.data import generate\n"
        "from sgd_viewer.core.recipe import RunRecipe\n"
        "from sgd_viewer.core.config import TrainingConfig\n"
        "from sgd_viewer.core.script_export import write_script\n"
        "recipe = RunRecipe(TrainingConfig(schedule='onecycle'), 's', '#000000')\n"
        f"path = {str(tmp_path / 'run.py')!r}\n"
        "write_script(path, generate(), (0.0, 0.0), recipe, 9)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert "OneCycleLR" in (tmp_path / "run.py").read_text(encoding="utf-8")
