"""The trainer against plain loops written here the lesson's way, and its
promises: same trajectory whichever loss form, honest mini-batches, live
settings, and divergence that stops cleanly."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from core_reference import make_dataset, naive_gradient, naive_loss

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset, generate
from sgd_viewer.core.history import COLUMNS
from sgd_viewer.core.optimizers import OPTIMIZERS, get_optimizer
from sgd_viewer.core.trainer import Trainer

ALL = list(OPTIMIZERS)
ADAPTIVE = ["adam", "adagrad", "rmsprop", "adamax", "nadam", "adadelta", "adamw"]


def opt_param(name: str):
    return pytest.param(name, id=name)


def rel_err(actual: np.ndarray, expected: np.ndarray) -> float:
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = np.maximum(np.abs(expected), 1e-300)
    return float(np.max(np.abs(actual - expected) / scale))


def trainer_for(data: Dataset, **config) -> Trainer:
    start = config.pop("start", (-1.0, 1.0))
    return Trainer(data, TrainingConfig(**config), start)


# ------------------------------------------------------------- plain loops
def lesson_sgd_loop(x, y, a0, b0, lr, steps, reduction="mean", dtype=torch.float64):
    """The lesson's autograd loop (per-point loss, manual update)."""
    x = torch.tensor(x, dtype=dtype)
    y = torch.tensor(y, dtype=dtype)
    a = torch.tensor([a0], dtype=dtype, requires_grad=True)
    b = torch.tensor([b0], dtype=dtype, requires_grad=True)
    path = []
    for _ in range(steps):
        y_pred = x.mul(a) + b
        loss = (y_pred - y).pow(2).sum()
        if reduction == "mean":
            loss = loss / x.shape[0]
        if a.grad is not None:
            a.grad.data.zero_()
            b.grad.data.zero_()
        loss.backward()
        a.data -= lr * a.grad.data
        b.data -= lr * b.grad.data
        path.append((a.item(), b.item()))
    return np.array(path)


def numpy_heavy_ball(x, y, a0, b0, lr, steps, momentum, nesterov=False):
    """torch.optim.SGD's momentum, written out: buf = μ·buf + g; p −= lr·buf."""
    p = np.array([a0, b0])
    buf = None
    path = []
    for _ in range(steps):
        g = np.array(naive_gradient(x, y, p[0], p[1]))
        buf = g.copy() if buf is None else momentum * buf + g
        p = p - lr * (g + momentum * buf if nesterov else buf)
        path.append(p.copy())
    return np.array(path)


# ---------------------------------------------------------------- basics
def test_initial_state(lesson_data) -> None:
    trainer = trainer_for(lesson_data, start=(2.0, -3.0))
    assert trainer.status == "ready"
    assert trainer.step_count == 0
    assert trainer.epoch == 0
    assert trainer.parameters == (2.0, -3.0)
    assert trainer.start == (2.0, -3.0)
    assert trainer.params.dtype == torch.float64


def test_step_returns_consecutive_rows(lesson_data) -> None:
    trainer = trainer_for(lesson_data)
    first = trainer.step(5)
    second = trainer.step(3)
    assert trainer.status == "running"
    np.testing.assert_array_equal(first.step, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(second.step, [6, 7, 8])
    np.testing.assert_array_equal(second.epoch, [6, 7, 8])  # full batch: epoch = step
    assert trainer.step_count == 8
    assert trainer.parameters == (second.a[-1], second.b[-1])
    assert len(trainer.step(0)) == 0
    assert trainer.step_count == 8


def test_rows_report_the_full_loss_and_the_gradient_used(lesson_data) -> None:
    x, y = lesson_data.x, lesson_data.y
    trainer = trainer_for(lesson_data, lr=0.1)
    batch = trainer.step(50)
    prev_a = np.concatenate([[-1.0], batch.a[:-1]])
    prev_b = np.concatenate([[1.0], batch.b[:-1]])
    for i in range(50):
        assert batch.loss[i] == pytest.approx(
            naive_loss(x, y, batch.a[i], batch.b[i]), rel=1e-12
        )
        # full batch: the batch loss is the loss where the gradient was taken
        assert batch.batch_loss[i] == pytest.approx(
            naive_loss(x, y, prev_a[i], prev_b[i]), rel=1e-12
        )
        # autograd of the lesson's per-point loss at the previous point
        a = torch.tensor(prev_a[i], dtype=torch.float64, requires_grad=True)
        b = torch.tensor(prev_b[i], dtype=torch.float64, requires_grad=True)
        ((torch.tensor(x) * a + b - torch.tensor(y)) ** 2).mean().backward()
        assert batch.grad_a[i] == pytest.approx(a.grad.item(), rel=1e-10, abs=1e-12)
        assert batch.grad_b[i] == pytest.approx(b.grad.item(), rel=1e-10, abs=1e-12)
        # and SGD used exactly that gradient
        assert batch.a[i] == pytest.approx(prev_a[i] - 0.1 * a.grad.item(), rel=1e-13)


# ----------------------------------------------- closed form == per point
@pytest.mark.parametrize("name", [opt_param(n) for n in ALL])
def test_closed_and_per_point_forms_give_the_same_trajectory(name) -> None:
    data = make_dataset(200, seed=1)
    lr = get_optimizer(name).suggested_lr
    runs = {
        form: trainer_for(data, optimizer=name, lr=lr, loss_form=form).step(1000)
        for form in ("closed", "per_point")
    }
    closed, per_point = runs["closed"], runs["per_point"]
    assert len(closed) == len(per_point) == 1000
    for column in ("a", "b", "loss", "batch_loss"):
        assert rel_err(getattr(closed, column), getattr(per_point, column)) < 1e-9
    gscale = np.abs(per_point.grad_a).max() + np.abs(per_point.grad_b).max()
    for column in ("grad_a", "grad_b"):
        diff = np.abs(getattr(closed, column) - getattr(per_point, column))
        assert diff.max() <= 1e-9 * gscale
    # the trajectories really moved
    assert abs(closed.a[-1] + 1.0) > 0.1


@pytest.mark.parametrize("name", [opt_param(n) for n in ("sgd", "adam", "lbfgs")])
def test_closed_and_per_point_agree_with_sum_reduction(name) -> None:
    data = make_dataset(200, seed=2)
    lr = get_optimizer(name).suggested_lr / (200 if name == "sgd" else 1)
    runs = [
        trainer_for(data, optimizer=name, lr=lr, reduction="sum", loss_form=form).step(
            1000
        )
        for form in ("closed", "per_point")
    ]
    for column in ("a", "b", "loss", "batch_loss"):
        assert rel_err(getattr(runs[0], column), getattr(runs[1], column)) < 1e-9


@pytest.mark.parametrize("loss_form", ["closed", "per_point"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sgd_matches_the_lessons_loop(loss_form, reduction) -> None:
    data = make_dataset(100, seed=3)
    lr = 0.1 if reduction == "mean" else 1e-3
    batch = trainer_for(data, lr=lr, reduction=reduction, loss_form=loss_form).step(
        1000
    )
    path = lesson_sgd_loop(data.x, data.y, -1.0, 1.0, lr, 1000, reduction)
    assert rel_err(batch.a, path[:, 0]) < 1e-9
    assert rel_err(batch.b, path[:, 1]) < 1e-9


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_matches_a_numpy_heavy_ball(nesterov) -> None:
    data = make_dataset(60, seed=4)
    name = "nesterov" if nesterov else "momentum"
    batch = trainer_for(
        data, optimizer=name, lr=0.05, hyperparameters={"momentum": 0.8}
    ).step(500)
    path = numpy_heavy_ball(data.x, data.y, -1.0, 1.0, 0.05, 500, 0.8, nesterov)
    assert rel_err(batch.a, path[:, 0]) < 1e-9
    assert rel_err(batch.b, path[:, 1]) < 1e-9


def test_sum_reduction_is_mean_times_n() -> None:
    data = make_dataset(80, seed=5)
    mean = trainer_for(data, lr=0.2).step(300)
    total = trainer_for(data, lr=0.2 / 80, reduction="sum").step(300)
    assert rel_err(total.a, mean.a) < 1e-9
    assert rel_err(total.b, mean.b) < 1e-9
    assert rel_err(total.loss, 80 * mean.loss) < 1e-9
    gscale = np.abs(mean.grad_a).max()
    assert np.abs(total.grad_a - 80 * mean.grad_a).max() < 1e-9 * 80 * gscale
    # and the sum's loss really is the per-point sum
    assert total.loss[-1] == pytest.approx(
        naive_loss(data.x, data.y, total.a[-1], total.b[-1], "sum"), rel=1e-12
    )


@pytest.mark.parametrize("loss_form", ["closed", "per_point"])
def test_float32_runs_close_to_float64(loss_form) -> None:
    data = make_dataset(100, seed=6)
    low = trainer_for(data, lr=0.1, dtype="float32", loss_form=loss_form)
    assert low.params.dtype == torch.float32
    batch32 = low.step(500)
    batch64 = trainer_for(data, lr=0.1, loss_form=loss_form).step(500)
    assert low.status == "running"
    assert np.all(np.isfinite(batch32.a))
    assert np.all(np.isfinite(batch32.loss))
    assert rel_err(batch32.a, batch64.a) < 1e-5
    assert rel_err(batch32.b, batch64.b) < 1e-5
    # rows hold what the float32 parameters are
    assert batch32.a[-1] == np.float32(batch32.a[-1])


# ------------------------------------------------------------ mini-batches
def reference_minibatch_sgd(data, lr, steps, batch, seed, a0=-1.0, b0=1.0):
    """Per-epoch permutations from default_rng(seed); mean loss per batch."""
    rng = np.random.default_rng(seed)
    n = data.n
    a, b = a0, b0
    order, position, epoch = rng.permutation(n), 0, 0
    rows = []
    for _ in range(steps):
        if position >= n:
            epoch += 1
            order, position = rng.permutation(n), 0
        idx = order[position : position + batch]
        position += batch
        xb, yb = data.x[idx], data.y[idx]
        batch_loss = naive_loss(xb, yb, a, b)
        ga, gb = naive_gradient(xb, yb, a, b)
        a, b = a - lr * ga, b - lr * gb
        rows.append((epoch, a, b, batch_loss, ga, gb, idx))
    return rows


def test_minibatch_epochs_count_the_partial_batch() -> None:
    data = generate(50)
    trainer = trainer_for(data, batch_size=8)
    batch = trainer.step(7 * 5 + 3)
    # 50 points in batches of 8: 6 full batches and one of 2 make an epoch.
    np.testing.assert_array_equal(batch.epoch, (batch.step - 1) // 7)
    assert trainer.epoch == 5


def test_minibatch_steps_follow_the_reference_loop() -> None:
    data = generate(50)
    batch = trainer_for(data, lr=0.1, batch_size=8, seed=3).step(70)
    reference = reference_minibatch_sgd(data, 0.1, 70, 8, seed=3)
    seen = np.zeros(data.n, dtype=int)
    for i, (epoch, a, b, batch_loss, ga, gb, idx) in enumerate(reference):
        assert batch.epoch[i] == epoch
        assert batch.a[i] == pytest.approx(a, rel=1e-12)
        assert batch.b[i] == pytest.approx(b, rel=1e-12)
        assert batch.batch_loss[i] == pytest.approx(batch_loss, rel=1e-12)
        assert batch.grad_a[i] == pytest.approx(ga, rel=1e-12, abs=1e-14)
        assert batch.grad_b[i] == pytest.approx(gb, rel=1e-12, abs=1e-14)
        # the loss column is always the full-data loss
        assert batch.loss[i] == pytest.approx(
            naive_loss(data.x, data.y, a, b), rel=1e-12
        )
        if epoch == 0:
            seen[idx] += 1
    assert np.all(seen == 1)  # every point once per epoch
    # batch losses are not the full loss
    assert not np.allclose(batch.batch_loss[1:], batch.loss[:-1])


def test_minibatch_seed_decides_the_order() -> None:
    data = generate(50)
    one = trainer_for(data, lr=0.1, batch_size=8, seed=7).step(40)
    same = trainer_for(data, lr=0.1, batch_size=8, seed=7).step(40)
    other = trainer_for(data, lr=0.1, batch_size=8, seed=8).step(40)
    for column in COLUMNS:
        np.testing.assert_array_equal(getattr(one, column), getattr(same, column))
    assert not np.array_equal(one.a, other.a)
    # reset replays the same order
    trainer = trainer_for(data, lr=0.1, batch_size=8, seed=7)
    trainer.step(13)
    trainer.reset()
    np.testing.assert_array_equal(trainer.step(40).a, one.a)


def test_batch_at_least_n_is_the_full_batch() -> None:
    data = generate(50)
    full = trainer_for(data, lr=0.1).step(20)
    big = trainer_for(data, lr=0.1, batch_size=50).step(20)
    np.testing.assert_array_equal(full.a, big.a)
    np.testing.assert_array_equal(big.epoch, big.step)


# ------------------------------------------------------- live settings
def test_lr_change_mid_run_applies_without_reset(lesson_data) -> None:
    x, y = lesson_data.x, lesson_data.y
    trainer = trainer_for(lesson_data, lr=0.01)
    before = trainer.step(10)
    assert trainer.configure(trainer.config.with_changes(lr=0.3)) is False
    after = trainer.step(5)
    np.testing.assert_array_equal(after.step, [11, 12, 13, 14, 15])
    a, b = before.a[-1], before.b[-1]
    for i in range(5):
        ga, gb = naive_gradient(x, y, a, b)
        a, b = a - 0.3 * ga, b - 0.3 * gb
        assert after.a[i] == pytest.approx(a, rel=1e-12)
        assert after.b[i] == pytest.approx(b, rel=1e-12)


def test_hyperparameter_change_mid_run_applies_without_reset() -> None:
    data = make_dataset(60, seed=8)
    trainer = trainer_for(
        data, optimizer="momentum", lr=0.05, hyperparameters={"momentum": 0.8}
    )
    first = trainer.step(100)
    changed = trainer.config.with_changes(hyperparameters={"momentum": 0.3})
    assert trainer.configure(changed) is False
    assert trainer.optimizer.param_groups[0]["momentum"] == 0.3
    second = trainer.step(100)
    assert second.step[0] == 101
    # reference: heavy ball whose momentum drops to 0.3 after step 100
    p, buf = np.array([-1.0, 1.0]), None
    path = []
    for k in range(200):
        mu = 0.8 if k < 100 else 0.3
        g = np.array(naive_gradient(data.x, data.y, *p))
        buf = g.copy() if buf is None else mu * buf + g
        p = p - 0.05 * buf
        path.append(p.copy())
    path = np.array(path)
    assert rel_err(np.concatenate([first.a, second.a]), path[:, 0]) < 1e-9
    assert rel_err(np.concatenate([first.b, second.b]), path[:, 1]) < 1e-9


def test_betas_change_mid_run_reach_torch_as_a_tuple() -> None:
    trainer = trainer_for(generate(50), optimizer="adam", lr=0.05)
    trainer.step(3)
    trainer.configure(
        trainer.config.with_changes(hyperparameters={"beta1": 0.5, "beta2": 0.9})
    )
    group = trainer.optimizer.param_groups[0]
    assert tuple(group["betas"]) == (0.5, 0.9)
    assert "beta1" not in group
    assert "beta2" not in group
    assert len(trainer.step(3)) == 3


def test_batch_size_change_mid_run_keeps_the_step_count() -> None:
    trainer = trainer_for(generate(50), lr=0.05)
    trainer.step(10)
    assert trainer.configure(trainer.config.with_changes(batch_size=8)) is False
    batch = trainer.step(10)
    np.testing.assert_array_equal(batch.step, np.arange(11, 21))
    # mini-batch losses now differ from the full loss at the previous point
    assert not np.allclose(batch.batch_loss[1:], batch.loss[:-1])


@pytest.mark.parametrize(
    "change",
    [
        {"optimizer": "adam"},
        {"reduction": "sum"},
        {"dtype": "float32"},
        {"loss_form": "per_point"},
        {"seed": 5},
    ],
    ids=lambda c: next(iter(c)),
)
def test_changes_of_meaning_reset_the_run(change) -> None:
    trainer = trainer_for(generate(50), lr=0.05, start=(0.5, 0.25))
    trainer.step(25)
    assert trainer.configure(trainer.config.with_changes(**change)) is True
    assert trainer.step_count == 0
    assert trainer.epoch == 0
    assert trainer.status == "ready"
    assert trainer.parameters == (0.5, 0.25)
    for key, value in change.items():
        assert getattr(trainer.config, key) == value
    batch = trainer.step(2)
    np.testing.assert_array_equal(batch.step, [1, 2])
    if "optimizer" in change:
        assert type(trainer.optimizer) is torch.optim.Adam
    if "dtype" in change:
        assert trainer.params.dtype == torch.float32


def test_reset_sets_the_start(lesson_data) -> None:
    trainer = trainer_for(lesson_data, lr=0.1)
    trainer.step(30)
    trainer.reset(4.0, -2.0)
    assert trainer.start == (4.0, -2.0)
    assert trainer.parameters == (4.0, -2.0)
    assert trainer.step_count == 0
    assert trainer.status == "ready"
    batch = trainer.step(1)
    ga, _gb = naive_gradient(lesson_data.x, lesson_data.y, 4.0, -2.0)
    assert batch.a[0] == pytest.approx(4.0 - 0.1 * ga, rel=1e-12)
    trainer.step(5)
    trainer.reset()  # back to the same start
    assert trainer.parameters == (4.0, -2.0)
    fresh = trainer_for(lesson_data, lr=0.1, start=(4.0, -2.0)).step(20)
    np.testing.assert_array_equal(trainer.step(20).a, fresh.a)


def test_reset_rejects_non_finite_start(lesson_data) -> None:
    trainer = trainer_for(lesson_data)
    with pytest.raises(ValueError, match="finite"):
        trainer.reset(math.nan, 0.0)
    with pytest.raises(ValueError, match="finite"):
        Trainer(lesson_data, TrainingConfig(), (math.inf, 0.0))


def test_set_data_restarts_on_the_new_data(lesson_data) -> None:
    trainer = trainer_for(lesson_data, lr=0.1)
    trainer.step(10)
    other = make_dataset(30, seed=9)
    trainer.set_data(other)
    assert trainer.step_count == 0
    assert trainer.parameters == (-1.0, 1.0)
    batch = trainer.step(20)
    path = lesson_sgd_loop(other.x, other.y, -1.0, 1.0, 0.1, 20)
    assert rel_err(batch.a, path[:, 0]) < 1e-9
    assert trainer.problem.n == 30


# ------------------------------------------------------------ divergence
def check_divergence(trainer: Trainer, steps: int = 5000) -> None:
    batch = trainer.step(steps)
    lr_max = trainer.problem.lr_max(trainer.config.reduction)
    assert trainer.status == "diverged"
    assert batch.diverged
    assert batch.status == "diverged"
    assert len(batch) < steps
    assert batch.diverged_step == len(batch) + 1
    assert trainer.step_count == len(batch)
    for column in COLUMNS:
        assert np.all(np.isfinite(getattr(batch, column))), column
    assert np.all(batch.loss <= trainer._loss_limit)
    message = batch.message
    assert message == trainer.message
    assert "\n" not in message
    assert f"step {batch.diverged_step}" in message
    assert f"lr = {trainer.config.lr:g}" in message
    assert f"{lr_max:.4g}" in message
    a, b = trainer.parameters
    assert math.isfinite(a)
    assert math.isfinite(b)
    if len(batch):
        assert (a, b) == (batch.a[-1], batch.b[-1])
    else:
        assert (a, b) == trainer.start
    # no more steps until reset
    again = trainer.step(10)
    assert len(again) == 0
    assert again.diverged
    assert again.message == message
    assert trainer.step_count == len(batch)
    # reset recovers
    trainer.configure(trainer.config.with_changes(lr=0.5 * lr_max))
    trainer.reset()
    assert trainer.status == "ready"
    recovered = trainer.step(20)
    assert len(recovered) == 20
    assert not recovered.diverged
    assert trainer.status == "running"


@pytest.mark.parametrize("factor", [1.2, 3.0, 1e3])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sgd_above_lr_max_diverges_cleanly(factor, reduction) -> None:
    data = make_dataset(50, seed=10)
    lr_max = Trainer(data, TrainingConfig(reduction=reduction)).problem.lr_max(
        reduction
    )
    check_divergence(trainer_for(data, lr=factor * lr_max, reduction=reduction))


def test_divergence_after_earlier_steps_names_the_right_step(lesson_data) -> None:
    trainer = trainer_for(
        lesson_data, lr=1.5 * trainer_for(lesson_data).problem.lr_max()
    )
    first = trainer.step(3)
    assert not first.diverged
    assert trainer.status == "running"
    batch = trainer.step(5000)
    assert batch.diverged
    assert batch.diverged_step == 3 + len(batch) + 1
    assert batch.step[0] == 4


def test_overflow_is_caught_at_the_largest_lr() -> None:
    # x ≈ 1000: λmax ≈ 2e6, so lr = 1000 overflows within a few steps.
    data = make_dataset(50, x_offset=1000.0, seed=11)
    check_divergence(trainer_for(data, lr=1e3))


@pytest.mark.parametrize("name", ["momentum", "nesterov"])
def test_momentum_variants_diverge_cleanly_at_high_lr(name) -> None:
    data = make_dataset(50, seed=12)
    lr_max = Trainer(data).problem.lr_max()
    check_divergence(trainer_for(data, optimizer=name, lr=3.0 * lr_max))


def test_minibatch_divergence_is_clean() -> None:
    data = generate(50)
    check_divergence(trainer_for(data, lr=10.0, batch_size=8))


@pytest.mark.parametrize("name", ADAPTIVE)
def test_adaptive_optimizers_stay_bounded_at_the_largest_lr(name) -> None:
    trainer = trainer_for(generate(50), optimizer=name, lr=1e3)
    batch = trainer.step(2000)
    assert trainer.status == "running", trainer.message
    assert not batch.diverged
    assert len(batch) == 2000
    for column in COLUMNS:
        assert np.all(np.isfinite(getattr(batch, column))), column


def test_radam_warm_up_diverges_like_sgd_as_its_registry_entry_says() -> None:
    # Its first steps are plain momentum steps: at lr 1e3 they blow up.
    assert get_optimizer("radam").scales_with_gradient
    trainer = trainer_for(generate(50), optimizer="radam", lr=1e3)
    batch = trainer.step(2000)
    assert trainer.status == "diverged"
    assert batch.diverged_step is not None
    assert np.all(np.isfinite(batch.a))


def test_every_optimizer_not_scaling_with_gradient_is_checked() -> None:
    unflagged = {n for n, s in OPTIMIZERS.items() if not s.scales_with_gradient}
    assert unflagged - {"lbfgs"} == set(ADAPTIVE)


# ------------------------------------------------------------- convergence
def test_sgd_reaches_the_closed_form_optimum() -> None:
    data = generate(50)
    trainer = trainer_for(data, lr=0.5)
    batch = trainer.step(3000)
    slope, intercept = np.polyfit(data.x, data.y, 1)
    assert batch.a[-1] == pytest.approx(slope, rel=1e-6)
    assert batch.b[-1] == pytest.approx(intercept, rel=1e-6)
    assert batch.loss[-1] == pytest.approx(trainer.problem.loss_opt(), rel=1e-9)
    # loss never rises under a stable lr
    assert np.all(np.diff(batch.loss) <= 1e-12 * batch.loss[:-1])


def test_lbfgs_reaches_the_optimum_quickly() -> None:
    data = generate(50)
    trainer = trainer_for(
        data, optimizer="lbfgs", lr=0.5, hyperparameters={"max_iter": 5}
    )
    batch = trainer.step(100)
    slope, intercept = np.polyfit(data.x, data.y, 1)
    # torch's LBFGS stops once the loss changes by < tolerance_change (1e-9), so
    # it settles a little short of the exact optimum.
    assert batch.loss[-1] == pytest.approx(trainer.problem.loss_opt(), rel=1e-8)
    assert batch.a[-1] == pytest.approx(slope, rel=1e-4)
    assert batch.b[-1] == pytest.approx(intercept, rel=1e-4)
    assert np.all(np.isfinite(batch.a))


def test_lbfgs_step_emits_no_warning() -> None:
    # torch warns once per process: look in a fresh one.
    code = (
        "from sgd_viewer.core.config import TrainingConfig\n"
        "from sgd_viewer.core.data import generate\n"
        "from sgd_viewer.core.trainer import Trainer\n"
        "t = Trainer(generate(50), TrainingConfig('lbfgs', lr=0.5))\n"
        "assert len(t.step(3)) == 3\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


# ------------------------------------------------------------------ device
def test_cuda_unavailable_is_a_clear_value_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match=re.escape("CUDA is not available")):
        Trainer(generate(50), TrainingConfig(device="cuda"))


def test_configure_to_unavailable_cuda_raises() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    trainer = trainer_for(generate(50))
    trainer.step(3)
    with pytest.raises(ValueError, match="CUDA is not available"):
        trainer.configure(trainer.config.with_changes(device="cuda"))


def test_rejected_configure_leaves_the_trainer_usable() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    trainer = trainer_for(generate(50), loss_form="per_point")
    trainer.step(3)
    old = trainer.config
    with pytest.raises(ValueError, match="CUDA is not available"):
        trainer.configure(old.with_changes(device="cuda"))
    assert trainer.config == old
    trainer.reset()
    assert len(trainer.step(2)) == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_cuda_matches_cpu(name) -> None:
    data = generate(200)
    kwargs = {"optimizer": name, "lr": get_optimizer(name).suggested_lr}
    gpu = trainer_for(data, device="cuda", **kwargs).step(200)
    cpu = trainer_for(data, **kwargs).step(200)
    assert rel_err(gpu.a, cpu.a) < 1e-6
    assert rel_err(gpu.b, cpu.b) < 1e-6
    gpu_batches = trainer_for(data, device="cuda", batch_size=16, **kwargs).step(50)
    cpu_batches = trainer_for(data, batch_size=16, **kwargs).step(50)
    assert rel_err(gpu_batches.a, cpu_batches.a) < 1e-6
