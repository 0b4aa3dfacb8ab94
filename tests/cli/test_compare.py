"""``sgd-viewer fit --compare SPEC …``: the JSON report, each run equal to a
separate ``fit``, a diverged run reported (exit 0), bad specs in one line
(exit 2), the trajectory with a run column; and ``--schedule``/``--sched-opt``
on a plain fit."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.recipe import MAX_RUNS, default_label
from sgd_viewer.core.trainer import Trainer

STEPS = "300"
#: The issue's example, and the separate fit that each spec stands for.
SPECS = {
    "sgd:lr=0.1": ["--optimizer", "sgd", "--lr", "0.1"],
    "momentum:lr=0.05,momentum=0.9": [
        "--optimizer",
        "momentum",
        "--lr",
        "0.05",
        "--momentum",
        "0.9",
    ],
    "adam:lr=0.1": ["--optimizer", "adam", "--lr", "0.1"],
}
MORE_SPECS = {
    "adam:lr=0.1,betas=0.8/0.99": [
        "--optimizer",
        "adam",
        "--lr",
        "0.1",
        "--betas",
        "0.8",
        "0.99",
    ],
    "sgd:lr=0.05,batch=8": ["--optimizer", "sgd", "--lr", "0.05", "--batch-size", "8"],
    "sgd:lr=0.05,schedule=cosine,t_max=100": [
        "--optimizer",
        "sgd",
        "--lr",
        "0.05",
        "--schedule",
        "cosine",
        "--sched-opt",
        "t_max=100",
    ],
}
RUN_KEYS = {
    "label",
    "optimizer",
    "hyperparameters",
    "batch_size",
    "schedule",
    "a",
    "b",
    "loss",
    "steps",
    "status",
    "message",
}


def _compare(cli, *specs: str, extra=()):
    return cli("fit", "--compare", *specs, "--steps", STEPS, "--json", *extra)


def test_the_issue_s_example_reports_every_run(cli) -> None:
    result = _compare(cli, *SPECS)
    assert result.code == 0, result.err
    assert result.err == ""
    report = result.json
    assert {"runs", "n", "optimum", "lr_max", "condition_number"} <= set(report)
    assert len(report["runs"]) == len(SPECS)
    for entry in report["runs"]:
        assert set(entry) >= RUN_KEYS
        assert entry["status"] == "ok"
        assert entry["message"] == ""
        assert entry["steps"] == int(STEPS)
        assert entry["batch_size"] == "full"
        assert entry["schedule"] == "constant"
    assert [e["optimizer"] for e in report["runs"]] == ["sgd", "momentum", "adam"]
    assert report["runs"][1]["hyperparameters"]["momentum"] == 0.9
    data = generate(50)
    problem = Problem.from_data(data.x, data.y)
    assert report["n"] == 50
    slope, intercept = np.polyfit(data.x, data.y, 1)
    assert report["optimum"]["a"] == pytest.approx(slope)
    assert report["optimum"]["b"] == pytest.approx(intercept)
    assert report["optimum"]["loss"] == problem.loss_opt("mean")
    assert report["lr_max"] == problem.lr_max("mean")
    assert report["condition_number"] == problem.condition_number()


def test_labels_are_generated_or_the_spec_s_own(cli) -> None:
    result = _compare(cli, "momentum:lr=0.05,momentum=0.9", "sgd:lr=0.1,label=mine")
    assert result.code == 0, result.err
    labels = [entry["label"] for entry in result.json["runs"]]
    expected = TrainingConfig(
        optimizer="momentum", lr=0.05, hyperparameters={"momentum": 0.9}
    )
    assert labels == [default_label(expected), "mine"]


@pytest.mark.parametrize(
    ("spec", "separate"),
    list(SPECS.items()) + list(MORE_SPECS.items()),
    ids=[*SPECS, *MORE_SPECS],
)
def test_each_run_equals_a_separate_fit(cli, spec, separate) -> None:
    together = _compare(cli, "sgd:lr=0.02", spec)  # not alone in the race
    assert together.code == 0, together.err
    entry = together.json["runs"][1]
    alone = cli("fit", *separate, "--steps", STEPS, "--json")
    assert alone.code == 0, alone.err
    summary = alone.json
    for key in ("a", "b", "loss", "steps", "status", "hyperparameters", "batch_size"):
        assert entry[key] == summary[key], key


def test_the_base_options_fill_in_what_specs_leave_out(cli) -> None:
    result = cli(
        "fit",
        "--batch-size",
        "8",
        "--lr",
        "0.07",
        "--steps",
        "50",
        "--json",
        "--compare",
        "sgd",
        "adam",
    )
    assert result.code == 0, result.err
    sgd, adam = result.json["runs"]
    assert sgd["lr"] == 0.07
    assert adam["lr"] != 0.07  # another optimizer: its own suggestion
    assert sgd["batch_size"] == adam["batch_size"] == 8
    alone = cli(
        "fit", "--batch-size", "8", "--lr", "0.07", "--steps", "50", "--json"
    ).json
    assert (sgd["a"], sgd["b"]) == (alone["a"], alone["b"])


def test_a_diverging_run_is_reported_and_the_race_goes_on(cli) -> None:
    result = _compare(cli, "sgd:lr=5", "adam:lr=0.1")
    assert result.code == 0, result.err
    report = result.json
    assert report["lr_max"] < 5  # the spec is above the stable limit ...
    blown, fine = report["runs"]
    assert blown["status"] == "diverged"  # ... and does diverge
    assert blown["steps"] < int(STEPS)
    assert "Diverged at step" in blown["message"]
    assert "lr = 5" in blown["message"]
    assert np.isfinite([blown["a"], blown["b"], blown["loss"]]).all()
    assert fine["status"] == "ok"
    assert fine["steps"] == int(STEPS)
    alone = cli("fit", "--lr", "5", "--steps", STEPS, "--json")
    assert alone.code == 3  # alone, a divergence is a failure
    summary = alone.json
    assert (blown["a"], blown["b"], blown["steps"]) == (
        summary["a"],
        summary["b"],
        summary["steps"],
    )
    assert blown["message"] == summary["message"]


def test_text_report_has_a_line_per_run(cli) -> None:
    result = cli("fit", "--compare", *SPECS, "sgd:lr=5", "--steps", "50")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == len(SPECS) + 2
    assert lines[0].startswith(default_label(TrainingConfig(lr=0.1)))
    assert "diverged" in lines[3]
    assert lines[-1].startswith("optimum")


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("bogus:lr=0.1", "unknown optimizer"),
        ("sgd:foo=1", "unknown key 'foo'"),
        ("sgd:lr=0", "learning rate"),
        ("momentum:momentum=2", "momentum must be between"),
        ("sgd:lr", "expected key=value"),
        ("sgd:lr=abc", "not a number"),
        (":lr=1", "no optimizer name"),
        ("adam:betas=0.9", "betas expects B1/B2"),
    ],
)
def test_a_bad_spec_is_one_line_naming_it_and_exit_2(cli, spec, problem) -> None:
    result = cli("fit", "--compare", "sgd:lr=0.1", spec, "--steps", "5", "--json")
    assert result.code == 2
    assert result.out == ""
    assert len(result.err_lines) == 1
    line = result.err_lines[0]
    assert line.startswith("sgd-viewer fit: error: ")
    assert repr(spec) in line
    assert problem in line


def test_more_than_eight_specs_is_exit_2(cli) -> None:
    result = cli("fit", "--compare", *["sgd"] * (MAX_RUNS + 1), "--steps", "5")
    assert result.code == 2
    assert result.out == ""
    assert len(result.err_lines) == 1
    assert str(MAX_RUNS) in result.err


def test_eight_specs_race(cli) -> None:
    specs = [f"sgd:lr={0.01 * (i + 1):g}" for i in range(MAX_RUNS)]
    result = cli("fit", "--compare", *specs, "--steps", "5", "--json")
    assert result.code == 0, result.err
    assert [e["lr"] for e in result.json["runs"]] == [
        0.01 * (i + 1) for i in range(MAX_RUNS)
    ]


def test_trajectory_has_a_run_column_and_every_run_s_rows(cli, tmp_path) -> None:
    out = tmp_path / "race.csv"
    specs = ["sgd:lr=0.1", "adam:lr=0.1,batch=8", "sgd:lr=5"]
    result = cli("fit", "--compare", *specs, "--steps", "40", "--trajectory", out)
    assert result.code == 0, result.err
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["run", "step", "epoch", "a", "b", "loss", "grad_a", "grad_b"]
    table = np.array(rows[1:], dtype=np.float64)
    assert sorted(set(table[:, 0].astype(int))) == [0, 1, 2]
    data = generate(50)
    problem = Problem.from_data(data.x, data.y)
    configs = [
        TrainingConfig(lr=0.1),
        TrainingConfig(optimizer="adam", lr=0.1, batch_size=8),
        TrainingConfig(lr=5.0),
    ]
    for run, config in enumerate(configs):
        mine = table[table[:, 0] == run]
        # The start row, then exactly the trainer's steps.
        assert list(mine[0, 1:6]) == [0, 0, -1.0, 1.0, problem.loss(-1.0, 1.0)]
        batch = Trainer(data, config).step(40)
        assert len(mine) == 1 + len(batch)
        names = ("step", "epoch", "a", "b", "loss", "grad_a", "grad_b")
        for column, name in enumerate(names, start=1):
            assert np.array_equal(mine[1:, column], getattr(batch, name)), name
    assert len(table[table[:, 0] == 2]) < 41  # the diverged run stopped early


# ------------------------------------------------------ schedules on fit
def _fit(cli, *extra: str) -> dict:
    result = cli("fit", "--steps", STEPS, "--lr", "0.05", "--json", *extra)
    assert result.code == 0, result.err
    return result.json


def test_a_schedule_changes_a_plain_fit_as_the_trainer_does(cli) -> None:
    constant = _fit(cli)
    cosine = _fit(cli, "--schedule", "cosine", "--sched-opt", "t_max=100")
    assert (cosine["a"], cosine["b"]) != (constant["a"], constant["b"])
    config = TrainingConfig(lr=0.05, schedule="cosine", schedule_options={"t_max": 100})
    trainer = Trainer(generate(50), config)
    trainer.step(int(STEPS))
    assert (cosine["a"], cosine["b"]) == trainer.parameters
    # t_max reaches torch: another period, another result.
    other = _fit(cli, "--schedule", "cosine", "--sched-opt", "t_max=200")
    assert other["a"] != cosine["a"]


def test_a_plain_fit_reports_its_schedule(cli) -> None:
    cosine = _fit(cli, "--schedule", "cosine", "--sched-opt", "t_max=100")
    assert cosine["schedule"] == "cosine"
    assert cosine["schedule_options"]["t_max"] == 100


@pytest.mark.parametrize(
    "extra",
    [
        ["--sched-opt", "bogus=1"],
        ["--schedule", "cosine", "--sched-opt", "bogus=1"],
        ["--schedule", "cosine", "--sched-opt", "t_max=0"],
        ["--schedule", "cosine", "--sched-opt", "t_max"],
        ["--schedule", "cosine", "--sched-opt", "t_max=abc"],
    ],
)
def test_a_bad_schedule_knob_is_one_line_and_exit_2(cli, extra) -> None:
    result = cli("fit", "--steps", "5", *extra)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err_lines) == 1
    assert "t_max" in result.err or "bogus" in result.err


def test_an_unknown_schedule_is_exit_2(cli) -> None:
    result = cli("fit", "--steps", "5", "--schedule", "sometimes")
    assert result.code == 2
    assert len(result.err_lines) == 1
