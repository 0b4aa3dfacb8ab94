"""``sgd-viewer map``: the stability map headless, analytic and empirical."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sgd_viewer.core.data import generate
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.stability import rate_and_regime
from sgd_viewer.core.stability_empirical import empirical_map


@pytest.fixture
def problem() -> Problem:
    data = generate()  # what the command fits without data options
    return Problem.from_data(data.x, data.y)


def _json(result) -> dict:
    assert result.code == 0, result.err
    assert result.err == ""
    return json.loads(result.out)


def test_default_map_is_heavy_ball_200_by_200(cli, problem):
    data = _json(cli("map", "--json"))
    assert len(data["lr"]) == 200
    assert len(data["momentum"]) == 200
    assert len(data["rate"]) == 200
    assert all(len(row) == 200 for row in data["rate"])
    assert data["lr"][0] == pytest.approx(problem.lr_max() / 100)
    assert data["lr"][-1] == pytest.approx(3 * problem.lr_max())
    assert data["momentum"][0] == 0.0


def test_rate_rows_are_momenta_and_columns_learning_rates(cli, problem):
    data = _json(
        cli(
            "map",
            "--size",
            "7",
            "--lr-range",
            "0.05",
            "1.5",
            "--knob-range",
            "0",
            "0.9",
            "--json",
        )
    )
    lr, momentum = np.array(data["lr"]), np.array(data["momentum"])
    rate = np.array(data["rate"])
    np.testing.assert_allclose(lr, np.geomspace(0.05, 1.5, 7))
    np.testing.assert_allclose(momentum, np.linspace(0.0, 0.9, 7))
    expected, _ = rate_and_regime(
        "momentum", lr[None, :], momentum[:, None], problem.eigenvalues()
    )
    np.testing.assert_allclose(rate, expected, rtol=1e-12)
    # Row 0 is μ = 0: plain descent's max|1 − lr·h|, which a transposed map
    # would not give.
    small, big = problem.eigenvalues()
    np.testing.assert_allclose(
        rate[0], np.maximum(abs(1 - lr * small), abs(1 - lr * big)), rtol=1e-12
    )
    # Heavy ball diverges for lr ≥ 2(1 + μ)/λmax: a limit that moves with the row.
    np.testing.assert_array_equal(
        rate >= 1, lr[None, :] >= 2 * (1 + momentum[:, None]) / big
    )


def test_sum_reduction_and_nesterov(cli, problem):
    data = _json(
        cli("map", "--optimizer", "nesterov", "--loss", "sum", "--json", "--size", "5")
    )
    assert data["optimizer"] == "nesterov"
    assert data["lr_max"] == pytest.approx(problem.lr_max("sum"))
    assert data["momentum"][0] == pytest.approx(0.01)  # torch's Nesterov needs μ > 0


def test_readable_summary(cli):
    result = cli("map")
    assert result.code == 0
    assert "monotone" in result.out
    assert "oscillating" in result.out
    assert "diverging" in result.out
    assert "fastest: rate" in result.out
    assert not result.out.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--size", "1"], "--size"),
        (["--size", "0"], "--size"),
        (["--size", "5000"], "--size"),
        (["--lr-range", "1", "0.1"], "--lr-range"),
        (["--lr-range", "0", "1"], "LO > 0"),
        (["--lr-range", "nan", "1"], "--lr-range"),
        (["--knob-range", "0", "1.5"], "momentum must be between"),
        (["--optimizer", "adam"], "--empirical"),
        (["--optimizer", "nosuch"], "unknown optimizer"),
        (["--steps", "100"], "--empirical"),
        (["--empirical", "--optimizer", "lbfgs"], "sgd, momentum, nesterov"),
        (["--empirical", "--steps", "0"], "--steps"),
        (["--empirical", "--size", "300"], "--size"),
        (
            ["--empirical", "--optimizer", "sgd", "--knob-range", "0", "1"],
            "needs a knob",
        ),
        (["--empirical", "--knob", "bogus"], "no hyperparameter 'bogus'"),
        (["--empirical", "--opt", "eps"], "KEY=NUMBER"),
        (["--lr-range", "1"], "expected 2 arguments"),
        (["--n", "1"], "n must be between"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, complaint):
    result = cli("map", *args)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("sgd-viewer map")
    assert complaint in result.err_lines[0]


def test_empirical_map_of_adam_is_lr_by_beta1(cli, problem):
    data = _json(
        cli(
            "map",
            "--empirical",
            "--optimizer",
            "adam",
            "--size",
            "4",
            "--steps",
            "200",
            "--lr-range",
            "0.01",
            "1",
            "--json",
        )
    )
    assert set(data) >= {"lr", "beta1", "steps"}
    assert "rate" not in data
    steps = data["steps"]
    assert len(steps) == len(data["beta1"]) == 4
    assert all(len(row) == len(data["lr"]) == 4 for row in steps)
    direct = empirical_map(problem, "adam", data["lr"], data["beta1"], budget=200).steps
    for i in range(4):
        for j in range(4):
            expected = direct[i, j]
            assert steps[i][j] == (int(expected) if np.isfinite(expected) else None)
    assert any(v is not None for row in steps for v in row)
    assert data["budget"] == 200


def test_empirical_sweep_for_sgd_is_a_list(cli, problem):
    data = _json(
        cli("map", "--empirical", "--optimizer", "sgd", "--size", "6", "--json")
    )
    assert "momentum" not in data
    assert len(data["steps"]) == len(data["lr"]) == 6
    assert data["steps"][-1] is None  # 3·lr_max diverges
    assert data["outcome"][-1] == 2
    assert data["lr_max"] == pytest.approx(problem.lr_max())


def test_empirical_momentum_with_another_knob_and_summary(cli):
    data = _json(
        cli(
            "map",
            "--empirical",
            "--optimizer",
            "rmsprop",
            "--knob",
            "momentum",
            "--knob-range",
            "0",
            "0.5",
            "--size",
            "3",
            "--steps",
            "50",
            "--json",
        )
    )
    assert data["momentum"] == [0.0, 0.25, 0.5]
    assert data["hyperparameters"] == {"alpha": 0.99, "eps": 1e-08}
    text = cli("map", "--empirical", "--optimizer", "momentum", "--size", "8")
    assert text.code == 0
    assert "empirical map of SGD + momentum" in text.out
    assert "fewest:" in text.out
