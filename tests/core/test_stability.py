"""The stability map: the analytic rate map against torch's own iteration
(eigenvalues of the per-direction 2×2 matrix, found by stepping
``torch.optim.SGD``), its known limits and regimes; the empirical map's cells
against single runs of the app's Trainer (real ``torch.optim``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.stability import (
    CONVERGED,
    DIVERGING,
    EMPIRICAL_OPTIMIZERS,
    MONOTONE,
    OSCILLATING,
    REGIMES,
    UNFINISHED,
    analytic_map,
    default_knob_range,
    default_lr_range,
    optimizer_lr_range,
)
from sgd_viewer.core.stability_empirical import empirical_map, run_cells
from sgd_viewer.core.trainer import Trainer

START = (-1.0, 1.0)


@pytest.fixture
def problem(lesson_data) -> Problem:
    return Problem.from_data(lesson_data.x, lesson_data.y)


# ------------------------------------------------------------------ analytic
def _torch_iteration_matrix(
    lr: float, momentum: float, curvature: float, nesterov: bool
) -> np.ndarray:
    """The 2×2 map of (p, v) (distance from the optimum, momentum buffer) that
    one real ``torch.optim.SGD`` step applies on ``f(p) = h·p²/2``: its
    columns are the images of (1, 0) and (0, 1)."""
    columns = []
    for p0, v0 in ((1.0, 0.0), (0.0, 1.0)):
        param = torch.tensor([p0], dtype=torch.float64, requires_grad=True)
        sgd = torch.optim.SGD(
            [param], lr=lr, momentum=momentum, nesterov=nesterov, foreach=False
        )
        sgd.state[param]["momentum_buffer"] = torch.tensor([v0], dtype=torch.float64)
        param.grad = curvature * param.detach().clone()
        sgd.step()
        buffer = sgd.state[param]["momentum_buffer"]
        columns.append([param.item(), buffer.item()])
    return np.array(columns).T


def _literal_matrix(lr: float, mu: float, h: float, nesterov: bool) -> np.ndarray:
    """The same matrix written from torch's update order: v' = μv + hp, then
    p' = p − lr·v' (heavy ball) or p' = p − lr·(hp + μv') (Nesterov)."""
    if nesterov:
        return np.array([[1 - lr * h * (1 + mu), -lr * mu * mu], [h, mu]])
    return np.array([[1 - lr * h, -lr * mu], [h, mu]])


def _rate_and_regime(matrices: list[np.ndarray]) -> tuple[float, int]:
    rate, monotone = 0.0, True
    for matrix in matrices:
        eigenvalues = np.linalg.eigvals(matrix)
        dominant = eigenvalues[np.argmax(np.abs(eigenvalues))]
        rate = max(rate, float(np.abs(dominant)))
        monotone &= abs(dominant.imag) < 1e-12 and dominant.real >= 0
    if rate >= 1.0:
        return rate, DIVERGING
    return rate, MONOTONE if monotone else OSCILLATING


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov"])
def test_rate_is_the_spectral_radius_of_torchs_iteration(problem, optimizer):
    nesterov = optimizer == "nesterov"
    stability = analytic_map(problem, "mean", optimizer=optimizer)
    curvatures = problem.eigenvalues("mean")
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 200, size=(300, 2))
    for k, (i, j) in enumerate(cells):
        lr, mu = stability.lr[j], stability.momentum[i]
        literal = [_literal_matrix(lr, mu, h, nesterov) for h in curvatures]
        if k < 30:  # the literal matrix is torch's own (a few cells suffice)
            stepped = [_torch_iteration_matrix(lr, mu, h, nesterov) for h in curvatures]
            for ours, torchs in zip(literal, stepped, strict=True):
                np.testing.assert_allclose(ours, torchs, rtol=1e-12, atol=1e-12)
        rate, regime = _rate_and_regime(literal)
        assert stability.rate[i, j] == pytest.approx(rate, rel=1e-9)
        if abs(rate - 1.0) > 1e-9:
            assert stability.regime[i, j] == regime, (lr, mu)


def test_without_momentum_the_rate_is_plain_descents(problem):
    lrs = default_lr_range(problem, "mean", 50)
    stability = analytic_map(problem, "mean", lrs, [0.0, 0.5])
    small, big = problem.eigenvalues("mean")
    expected = np.maximum(np.abs(1 - lrs * small), np.abs(1 - lrs * big))
    np.testing.assert_allclose(stability.rate[0], expected, rtol=1e-12)
    # Plain descent diverges exactly past lr_max = 2/λmax.
    assert np.array_equal(stability.regime[0] == DIVERGING, lrs >= problem.lr_max())


def test_heavy_ball_diverges_past_2_1_plus_mu_over_h_max(problem):
    big = problem.eigenvalues("mean")[1]
    momenta = np.linspace(0.0, 0.95, 20)
    limit = 2 * (1 + momenta) / big
    for factor, diverges in ((1.001, True), (0.999, False)):
        for mu, lr in zip(momenta, limit * factor, strict=True):
            cell = analytic_map(problem, "mean", [lr], [mu])
            assert (cell.regime[0, 0] == DIVERGING) == diverges, (mu, factor)
            assert (cell.rate[0, 0] >= 1.0) == diverges
    _, stable_below = analytic_map(problem, "mean", [1.0], momenta).limits()
    np.testing.assert_allclose(stable_below, limit, rtol=1e-12)


def test_regimes_and_their_exact_boundaries(problem):
    stability = analytic_map(problem, "mean")
    for name in REGIMES:
        assert 0.05 < stability.share(name) < 0.9, name
    monotone_below, stable_below = stability.limits()
    lr = stability.lr[None, :]
    np.testing.assert_array_equal(
        stability.regime == MONOTONE, lr <= monotone_below[:, None]
    )
    np.testing.assert_array_equal(
        stability.regime == DIVERGING, lr >= stable_below[:, None]
    )
    # μ = 0 past 1/λmax: the error flips sign each step (a negative eigenvalue).
    lr_flip = 1.5 / problem.eigenvalues("mean")[1]
    assert analytic_map(problem, "mean", [lr_flip], [0.0]).regime_at(0, 0) == (
        "oscillating"
    )
    # Heavy ball's complex pair: the rate is √μ whatever lr (inside the band).
    complex_cell = analytic_map(problem, "mean", [problem.lr_max() * 0.6], [0.81])
    assert complex_cell.regime_at(0, 0) == "oscillating"
    assert complex_cell.rate[0, 0] == pytest.approx(0.9, rel=1e-12)


def test_rows_are_momenta_and_columns_learning_rates(problem):
    lrs = np.geomspace(0.01, 2.0, 5)
    momenta = np.array([0.0, 0.3, 0.9])
    stability = analytic_map(problem, "mean", lrs, momenta)
    assert stability.rate.shape == (3, 5)
    for i, mu in enumerate(momenta):
        for j, lr in enumerate(lrs):
            assert stability.rate[i, j] == stability.rate_at(lr, mu)
    data = stability.to_json()
    assert data["rate"][2][4] == stability.rate[2, 4]
    assert data["momentum"] == momenta.tolist()
    assert data["lr"] == lrs.tolist()


def test_sum_reduction_is_the_mean_map_at_lr_over_n(problem):
    lrs = default_lr_range(problem, "mean", 40)
    mean = analytic_map(problem, "mean", lrs)
    summed = analytic_map(problem, "sum", lrs / problem.n)
    np.testing.assert_allclose(summed.rate, mean.rate, rtol=1e-9)
    assert summed.lr_max == pytest.approx(mean.lr_max / problem.n)
    np.testing.assert_allclose(
        default_lr_range(problem, "sum", 40), lrs / problem.n, rtol=1e-12
    )


def test_default_lr_range_spans_the_limit_log_spaced(problem):
    lrs = default_lr_range(problem, "mean", 7)
    assert lrs[0] == pytest.approx(problem.lr_max() / 100)
    assert lrs[-1] == pytest.approx(3 * problem.lr_max())
    np.testing.assert_allclose(np.diff(np.log(lrs)), np.log(lrs[1] / lrs[0]))


def test_analytic_map_refuses_nonlinear_optimizers(problem):
    with pytest.raises(ValueError, match="momentum and nesterov"):
        analytic_map(problem, "mean", optimizer="adam")


# ----------------------------------------------------------------- empirical
def _single_run(problem, data, optimizer, lr, hyper, steps):
    """One real run of the app's Trainer: its (a, b) per step, the steps to
    the threshold (inf if never) and whether it diverged."""
    config = TrainingConfig(optimizer=optimizer, lr=float(lr), hyperparameters=hyper)
    trainer = Trainer(data, config, START, problem=problem)
    batch = trainer.step(steps)
    loss0, best = problem.loss(*START), problem.loss_opt()
    hits = np.flatnonzero(batch.loss <= best + 1e-6 * (loss0 - best))
    reached = float(hits[0] + 1) if hits.size else math.inf
    return batch.a, batch.b, reached, bool(batch.diverged)


CASES = [
    ("sgd", None, {}),
    ("momentum", "momentum", {}),
    ("nesterov", "momentum", {}),
    ("adam", "beta1", {}),
    ("rmsprop", "alpha", {}),
    ("adagrad", None, {}),
    # Other knobs and fixed hyperparameters than the defaults.
    ("momentum", "weight_decay", {"momentum": 0.5}),
    ("rmsprop", "momentum", {"alpha": 0.9}),
    ("adam", "beta2", {"eps": 1e-6}),
    ("adagrad", "lr_decay", {}),
]


@pytest.mark.parametrize(("optimizer", "knob", "fixed"), CASES)
def test_empirical_cells_equal_single_torch_optim_runs(
    problem, lesson_data, optimizer, knob, fixed
):
    budget = 300
    lrs = optimizer_lr_range(problem, optimizer, "mean", 12)
    values = None if knob is None else default_knob_range(optimizer, knob, 12)
    if knob == "weight_decay":
        values = np.linspace(0.0, 0.5, 12)
    result = empirical_map(
        problem,
        optimizer,
        lrs,
        values,
        knob=knob,
        hyperparameters=fixed,
        budget=budget,
    )
    outcome = result.outcome.reshape(-1)
    # One cell of every outcome the map has, and a few more at random.
    rng = np.random.default_rng(3)
    picks = [int(np.flatnonzero(outcome == code)[0]) for code in np.unique(outcome)]
    picks += rng.choice(outcome.size, 4, replace=False).tolist()
    assert CONVERGED in outcome
    if optimizer in ("sgd", "momentum", "nesterov"):
        assert DIVERGING in outcome  # the range reaches past the stable limit
    lr_cells = np.broadcast_to(result.lr, result.steps.shape).reshape(-1)
    knob_cells = (
        None
        if knob is None
        else np.broadcast_to(result.knob[:, None], result.steps.shape).reshape(-1)
    )
    trails = run_cells(
        problem,
        optimizer,
        lr_cells[picks],
        knob,
        None if knob is None else knob_cells[picks],
        hyperparameters=fixed,
        steps=budget,
        record=True,
    )
    for column, cell in enumerate(picks):
        hyper = dict(fixed)
        if knob is not None:
            hyper[knob] = float(knob_cells[cell])
        a, b, reached, diverged = _single_run(
            problem, lesson_data, optimizer, lr_cells[cell], hyper, budget
        )
        steps = result.steps.reshape(-1)[cell]
        assert steps == reached, (cell, lr_cells[cell], hyper)
        assert (outcome[cell] == DIVERGING) == (diverged and math.isinf(reached))
        if outcome[cell] == UNFINISHED:
            assert len(a) == budget  # ran the whole budget, as the cell did
        # Trajectories agree (bit for bit here: the same fused kernels) up to
        # the threshold. Past it, at the floor of the loss, Adam's steps are
        # noise-driven and amplify any last-bit difference a platform makes.
        upto = len(a) if math.isinf(reached) else int(reached)
        for ours, theirs in ((trails["a"], a), (trails["b"], b)):
            got = ours[1 : upto + 1, column]
            np.testing.assert_allclose(got, theirs[:upto], rtol=1e-12, atol=1e-12)


def test_empirical_map_orientation_and_json(problem):
    lrs = np.geomspace(0.01, 1.0, 5)
    betas = np.array([0.0, 0.5, 0.9])
    result = empirical_map(problem, "adam", lrs, betas, budget=100)
    assert result.knob_name == "beta1"
    assert result.steps.shape == (3, 5)
    single = empirical_map(problem, "adam", lrs[3:4], betas[1:2], budget=100)
    assert result.steps[1, 3] == single.steps[0, 0]
    data = result.to_json()
    assert data["beta1"] == betas.tolist()
    assert len(data["steps"]) == 3
    assert all(len(row) == 5 for row in data["steps"])
    never = np.argwhere(~np.isfinite(result.steps))
    for i, j in never:
        assert data["steps"][i][j] is None


def test_lr_sweep_has_no_knob(problem):
    lrs = optimizer_lr_range(problem, "sgd", "mean", 9)
    result = empirical_map(problem, "sgd", lrs)
    assert result.is_sweep
    assert result.steps.shape == (9,)
    assert result.outcome[-1] == DIVERGING  # 3·lr_max
    assert result.outcome[0] == UNFINISHED  # lr_max/100 is too slow for 500


def test_empirical_map_refuses_unsupported_optimizers(problem):
    with pytest.raises(ValueError, match="sgd, momentum, nesterov, adam") as error:
        empirical_map(problem, "lbfgs", [0.1])
    assert all(name in str(error.value) for name in EMPIRICAL_OPTIMIZERS)
    with pytest.raises(ValueError, match="momentum must be between"):
        empirical_map(problem, "momentum", [0.1], [1.5])


def test_start_at_the_optimum_takes_no_steps(problem):
    optimum = (problem.a_opt, problem.b_opt)
    result = empirical_map(problem, "adam", [0.1, 1.0], start=optimum)
    assert np.all(result.steps == 0)
