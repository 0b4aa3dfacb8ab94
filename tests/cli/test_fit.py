"""``sgd-viewer fit``: the lesson's two runs reproduced, the outputs, the exit
codes and the one-line errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import bundled_dataset_names, generate, load_bundled
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.trainer import Trainer

BAD_DIR = Path(__file__).resolve().parents[1] / "data" / "bad"
EXPECTED_JSON = BAD_DIR / "expected.json"


# ------------------------------------------------------------ the lesson
def lesson_autograd_loop():
    """The notebook's torch loop, float32, on generate(1000).

    Returns the final (a, b) and the mean loss printed at t = 0, 100, …, 400,
    plus the one at 500 (after the loop), as the CLI logs it.
    """
    data = generate(1000)
    x = torch.from_numpy(np.array(data.x)).type(torch.float32)
    y = torch.from_numpy(np.array(data.y)).type(torch.float32)
    n = 1000
    torch.manual_seed(0)
    a = torch.randn(1).type(torch.float32).requires_grad_(True)
    b = torch.randn(1).type(torch.float32).requires_grad_(True)
    learning_rate = 1e-4
    printed = {}
    for t in range(500):
        y_pred = x.mul(a) + b
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 0:
            printed[t] = float(loss.data / n)
        if a.grad is not None:
            a.grad.data.zero_()
            b.grad.data.zero_()
        loss.backward()
        a.data -= learning_rate * a.grad.data
        b.data -= learning_rate * b.grad.data
    printed[500] = float((x.mul(a) + b - y).pow(2).sum().data / n)
    return a.item(), b.item(), printed


def lesson_animation_loop(lr=0.01, steps=1200):
    """The animation's upd(): full-batch descent on the mean squared error."""
    data = generate(50)
    x, y = np.array(data.x), np.array(data.y)
    a, b = -1.0, 1.0
    path = [(a, b)]
    for _ in range(steps):
        y_hat = a * x + b
        a, b = (
            a - lr * np.mean(2 * (y_hat - y) * x),
            b - lr * np.mean(2 * (y_hat - y)),
        )
        path.append((a, b))
    return np.array(path)


def test_preset_lesson_autograd_reproduces_the_notebook_loop(cli) -> None:
    result = cli("fit", "--preset", "lesson-autograd", "--json")
    assert result.code == 0, result.err
    assert result.err == ""
    a, b, printed = lesson_autograd_loop()
    summary = result.json
    assert summary["n"] == 1000
    assert summary["steps"] == 500
    assert summary["dtype"] == "float32"
    assert summary["reduction"] == "sum"
    assert summary["a"] == pytest.approx(a, rel=1e-5)
    assert summary["b"] == pytest.approx(b, rel=1e-5)
    # the start is the lesson's torch.randn draw
    torch.manual_seed(0)
    assert summary["start"] == pytest.approx(
        [float(torch.randn(1)), float(torch.randn(1))], rel=1e-7
    )
    log = result.log
    assert [int(row["step"]) for row in log] == [0, 100, 200, 300, 400, 500]
    for row in log:
        step = int(row["step"])
        # printed with 6 significant digits
        assert row["mse"] == pytest.approx(printed[step], rel=2e-5)
        assert row["loss"] == pytest.approx(printed[step] * 1000, rel=2e-5)
    assert log[-1]["a"] == pytest.approx(a, abs=2e-6)
    assert log[-1]["b"] == pytest.approx(b, abs=2e-6)


def test_preset_lesson_animation_reproduces_upd(cli, tmp_path) -> None:
    trajectory = tmp_path / "path.csv"
    result = cli(
        "fit", "--preset", "lesson-animation", "--json", "--trajectory", trajectory
    )
    assert result.code == 0, result.err
    path = lesson_animation_loop()
    summary = result.json
    assert summary["steps"] == 1200
    assert summary["n"] == 50
    assert summary["a"] == pytest.approx(path[-1, 0], rel=1e-9)
    assert summary["b"] == pytest.approx(path[-1, 1], rel=1e-9)
    table = np.loadtxt(trajectory, delimiter=",", skiprows=1, usecols=(0, 2, 3))
    np.testing.assert_array_equal(table[:, 0], np.arange(1201))
    np.testing.assert_allclose(table[:, 1], path[:, 0], rtol=1e-9)
    np.testing.assert_allclose(table[:, 2], path[:, 1], rtol=1e-9)


def test_options_override_the_preset(cli) -> None:
    result = cli("fit", "--preset", "lesson-animation", "--lr", "0.1", "--json")
    assert result.code == 0, result.err
    summary = result.json
    assert summary["lr"] == 0.1
    assert summary["steps"] == 1200
    assert summary["n"] == 50
    path = lesson_animation_loop(lr=0.1)
    assert summary["a"] == pytest.approx(path[-1, 0], rel=1e-9)
    assert summary["b"] == pytest.approx(path[-1, 1], rel=1e-9)
    # and more than one at once
    result = cli(
        "fit",
        "--preset",
        "lesson-autograd",
        "--steps",
        "7",
        "--dtype",
        "float64",
        "--n",
        "30",
        "--json",
    )
    summary = result.json
    assert (summary["steps"], summary["dtype"], summary["n"]) == (7, "float64", 30)
    assert summary["reduction"] == "sum"  # the rest still from the preset


# ---------------------------------------------------------------- outputs
JSON_KEYS = {"a", "b", "loss", "steps", "status", "n", "optimum", "lr_max"}


def test_json_summary(cli) -> None:
    result = cli("fit", "--steps", "300", "--lr", "0.3", "--json")
    assert result.code == 0, result.err
    summary = result.json
    assert set(summary) >= JSON_KEYS
    assert set(summary["optimum"]) >= {"a", "b", "loss"}
    assert summary["status"] == "ok"
    assert summary["steps"] == 300
    data = generate(50)
    slope, intercept = np.polyfit(data.x, data.y, 1)
    assert summary["optimum"]["a"] == pytest.approx(slope, rel=1e-9)
    assert summary["optimum"]["b"] == pytest.approx(intercept, rel=1e-9)
    residual = np.mean((slope * data.x + intercept - data.y) ** 2)
    assert summary["optimum"]["loss"] == pytest.approx(residual, rel=1e-9)
    hessian = 2 * np.array(
        [[np.mean(data.x**2), np.mean(data.x)], [np.mean(data.x), 1.0]]
    )
    assert summary["lr_max"] == pytest.approx(
        2 / np.linalg.eigvalsh(hessian).max(), rel=1e-12
    )
    assert summary["loss"] == pytest.approx(
        np.mean((summary["a"] * data.x + summary["b"] - data.y) ** 2), rel=1e-12
    )
    # same run, same numbers as the trainer
    trainer = Trainer(data, TrainingConfig(lr=0.3))
    trainer.step(300)
    assert (summary["a"], summary["b"]) == trainer.parameters


def test_text_summary_without_json(cli) -> None:
    result = cli("fit", "--steps", "10")
    assert result.code == 0
    lines = result.out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ok: 10 steps")
    assert "lr_max" in lines[0]


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--batch-size", "8", "--seed", "4"],
        ["--optimizer", "adam", "--lr", "0.05"],
    ],
    ids=["full", "minibatch", "adam"],
)
def test_trajectory_csv(cli, tmp_path, extra) -> None:
    out = tmp_path / "trajectory.csv"
    result = cli("fit", "--steps", "123", "--trajectory", out, *extra)
    assert result.code == 0, result.err
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["step", "epoch", "a", "b", "loss", "grad_a", "grad_b"]
    assert len(rows) == 1 + 124
    assert all(len(row) == 7 for row in rows[1:])
    data = generate(50, seed=int(extra[3]) if "--seed" in extra else 0)
    problem = Problem.from_data(data.x, data.y)
    # row 0: the start and its loss (its gradient: test_trajectory_start_row...)
    start = [float(v) for v in rows[1][:5]]
    assert start == [0, 0, -1.0, 1.0, problem.loss(-1.0, 1.0)]
    # the rest: exactly the trainer's rows
    table = np.array(rows[2:], dtype=np.float64)
    np.testing.assert_array_equal(table[:, 0], np.arange(1, 124))
    config = {"batch_size": 8, "seed": 4} if "--batch-size" in extra else {}
    if "--optimizer" in extra:
        config.update(optimizer="adam", lr=0.05)
    batch = Trainer(data, TrainingConfig(**config)).step(123)
    names = ("step", "epoch", "a", "b", "loss", "grad_a", "grad_b")
    for column, name in enumerate(names):
        np.testing.assert_array_equal(table[:, column], getattr(batch, name))


def test_trajectory_start_row_is_plain_numbers(cli, tmp_path) -> None:
    out = tmp_path / "trajectory.csv"
    assert cli("fit", "--steps", "3", "--trajectory", out).code == 0
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    assert table.shape == (4, 7)
    problem = Problem.from_data(generate(50).x, generate(50).y)
    assert tuple(table[0, 5:7]) == pytest.approx(problem.gradient(-1.0, 1.0))


def test_trajectory_unwritable_is_exit_2(cli, tmp_path) -> None:
    result = cli("fit", "--steps", "3", "--trajectory", tmp_path / "no" / "t.csv")
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "cannot write" in result.err


def test_log_every(cli) -> None:
    result = cli("fit", "--steps", "50", "--log-every", "10")
    assert [int(r["step"]) for r in result.log] == [0, 10, 20, 30, 40, 50]


# ----------------------------------------------------------- divergence
@pytest.mark.parametrize("extra", [[], ["--optimizer", "momentum"], ["--loss", "sum"]])
def test_divergence_is_exit_3_with_one_line(cli, extra, tmp_path) -> None:
    out = tmp_path / "t.csv"
    result = cli("fit", "--lr", "5", "--json", "--trajectory", out, *extra)
    assert result.code == 3
    assert len(result.err_lines) == 1
    line = result.err_lines[0]
    summary = result.json
    assert summary["status"] == "diverged"
    assert "lr = 5" in line
    assert f"lr_max = 2/λmax = {summary['lr_max']:.4g}" in line
    assert np.isfinite(summary["a"])
    assert np.isfinite(summary["b"])
    table = np.loadtxt(out, delimiter=",", skiprows=1, ndmin=2, usecols=range(5))
    assert np.all(np.isfinite(table))
    assert table.shape[0] == summary["steps"] + 1


# ------------------------------------------------------------- bad input
def assert_one_line_error(result, *fragments: str) -> None:
    assert result.code == 2, (result.code, result.out, result.err)
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0].lower()
    assert line.startswith("sgd-viewer")
    assert "error" in line
    for fragment in fragments:
        assert fragment.lower() in line, (fragment, line)
    assert "traceback" not in result.err.lower()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--lr", "abc"], ["--lr", "abc"]),
        (["--lr", "0"], ["learning rate"]),
        (["--lr", "1e9"], ["learning rate"]),
        (["--lr", "nan"], ["learning rate"]),
        (["--optimizer", "adamm"], ["adamm", "sgd", "adam"]),
        (["--opt", "eps"], ["key=value", "eps"]),
        (["--opt", "eps=tiny"], ["eps", "not a number"]),
        (["--optimizer", "adam", "--opt", "momentum=0.5"], ["momentum", "beta1"]),
        (["--optimizer", "adam", "--opt", "eps=5"], ["eps"]),
        (["--momentum", "0.5"], ["momentum"]),  # plain sgd has no momentum
        (["--optimizer", "lbfgs", "--opt", "history_size=2.5"], ["whole number"]),
        (["--batch-size", "x"], ["batch-size", "'x'"]),
        (["--batch-size", "0"], ["batch size"]),
        (["--batch-size", "-4"], ["batch size"]),
        (["--steps", "-1"], ["--steps"]),
        (["--log-every", "-1"], ["--log-every"]),
        (["--loss", "max"], ["--loss"]),
        (["--dtype", "float16"], ["--dtype"]),
        (["--device", "tpu"], ["device"]),
        (["--n", "1"], ["n must be between"]),
        (["--noise", "-1"], ["noise"]),
        (["--init", "nan", "1"], ["--init"]),
        (["--data", "/nonexistent/points.csv"], ["points.csv", "not found"]),
        (["--dataset", "nope"], ["nope", "anscombe-1"]),
        (["--data", "a.csv", "--dataset", "cars"], ["not allowed"]),
    ],
    ids=lambda v: (
        " ".join(v) if isinstance(v, list) and v and v[0].startswith("--") else None
    ),
)
def test_bad_input_is_exit_2_with_one_line(cli, args, fragments) -> None:
    assert_one_line_error(cli("fit", "--steps", "5", *args), *fragments)


def test_cuda_where_unavailable_is_exit_2(cli) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert_one_line_error(cli("fit", "--device", "cuda"), "cuda", "not available")


def _bad_corpus() -> list:
    if not EXPECTED_JSON.exists():
        return [pytest.param(None, [], marks=pytest.mark.skip("no bad-input corpus"))]
    expected = json.loads(EXPECTED_JSON.read_text(encoding="utf-8"))
    return [
        pytest.param(name, frags, id=name) for name, frags in sorted(expected.items())
    ]


@pytest.mark.parametrize(("name", "fragments"), _bad_corpus())
def test_bad_csv_corpus_is_exit_2_with_one_line(cli, name, fragments) -> None:
    path = BAD_DIR / name
    assert path.exists(), f"expected.json names a missing file {name}"
    assert_one_line_error(cli("fit", "--data", path, "--steps", "1"), name, *fragments)


def test_every_corpus_file_has_an_entry() -> None:
    if not EXPECTED_JSON.exists():
        pytest.skip("no bad-input corpus")
    expected = json.loads(EXPECTED_JSON.read_text(encoding="utf-8"))
    files = {p.name for p in BAD_DIR.iterdir() if p.is_file()}
    files -= {"expected.json", "README.md"}
    assert files == set(expected)


# ------------------------------------------------------------------ data
@pytest.mark.parametrize("name", bundled_dataset_names())
def test_bundled_datasets(cli, name) -> None:
    data = load_bundled(name)
    problem = Problem.from_data(data.x, data.y)
    slope, intercept = np.polyfit(data.x, data.y, 1)
    # The default lr diverges exactly where theory says it must.
    default = cli("fit", "--dataset", name, "--steps", "2000", "--json")
    assert default.code == (3 if problem.lr_max() < 0.01 else 0), default.err
    # Below the bound it runs, and the summary describes these data.
    lr = f"{0.9 * problem.lr_max():.6g}"
    result = cli("fit", "--dataset", name, "--lr", lr, "--steps", "20", "--json")
    assert result.code == 0, result.err
    summary = result.json
    assert summary["n"] == data.n
    assert summary["data"] == name
    assert summary["optimum"]["a"] == pytest.approx(slope, rel=1e-9)
    assert summary["optimum"]["b"] == pytest.approx(intercept, rel=1e-9)
    assert summary["loss"] < problem.loss(-1.0, 1.0)


def test_bundled_datasets_exist() -> None:
    assert {"anscombe-1", "cars"} <= set(bundled_dataset_names())


def _write_table(path: Path, header: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    u = rng.uniform(0, 1, 40)
    w = rng.uniform(-2, 2, 40)
    v = 2.0 * w - 1.0 + 0.1 * rng.normal(size=40)  # y column: v, x column: w
    with path.open("w", encoding="utf-8", newline="") as fh:
        if header:
            fh.write("u,v,w\n")
        for row in zip(u, v, w, strict=True):
            fh.write(",".join(repr(float(value)) for value in row) + "\n")
    return w, v


@pytest.mark.parametrize(
    "columns",
    [["--x", "w", "--y", "v"], ["--x", "2", "--y", "1"], ["--x", "W", "--y", "V"]],
    ids=["names", "indices", "names-any-case"],
)
def test_data_csv_with_chosen_columns(cli, tmp_path, columns) -> None:
    path = tmp_path / "table.csv"
    x, y = _write_table(path, header=True)
    result = cli("fit", "--data", path, *columns, "--steps", "100", "--json")
    assert result.code == 0, result.err
    summary = result.json
    assert summary["n"] == 40
    slope, intercept = np.polyfit(x, y, 1)
    assert summary["optimum"]["a"] == pytest.approx(slope, rel=1e-9)
    assert summary["optimum"]["b"] == pytest.approx(intercept, rel=1e-9)


def test_data_csv_without_header_by_index(cli, tmp_path) -> None:
    path = tmp_path / "plain.csv"
    x, y = _write_table(path, header=False)
    result = cli("fit", "--data", path, "--x", "2", "--y", "1", "--json")
    assert result.code == 0, result.err
    assert result.json["optimum"]["a"] == pytest.approx(np.polyfit(x, y, 1)[0])


def test_data_csv_unknown_column_is_exit_2(cli, tmp_path) -> None:
    path = tmp_path / "table.csv"
    _write_table(path, header=True)
    assert_one_line_error(cli("fit", "--data", path, "--x", "zz"), "zz")
    assert_one_line_error(cli("fit", "--data", path, "--x", "9"), "9")


# ------------------------------------------------------- real processes
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    return env


def test_installed_entry_point() -> None:
    script = Path(sys.executable).with_name("sgd-viewer")
    if not script.exists():
        pytest.skip("sgd-viewer is not installed next to this interpreter")
    done = subprocess.run(
        [str(script), "fit", "--preset", "lesson-animation", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    path = lesson_animation_loop()
    assert summary["a"] == pytest.approx(path[-1, 0], rel=1e-9)
    assert done.stderr == ""


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sgd_viewer", "fit", "--lr", "7", "--steps", "100"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_env(),
    )
    assert done.returncode == 3
    assert len(done.stderr.splitlines()) == 1
    assert "lr = 7" in done.stderr
