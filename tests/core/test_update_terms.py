"""explain_update: every optimizer's step, re-derived from its terms.

For each optimizer of the registry (default and non-default settings) a few
steps of torch on a quadratic are explained one by one; the test then redoes
each step with its own textbook formula (torch's conventions) from the
parameters before the step and the explanation's terms only, and checks the
state terms against the recurrences from the previous step's terms. Nothing
here calls the module's own arithmetic.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from sgd_viewer.core.optimizers import OPTIMIZERS, get_optimizer
from sgd_viewer.core.update_terms import (
    UpdateExplanation,
    capture_state,
    explain_update,
)

START = (-1.0, 1.0)
STEPS = 6
REL = 1e-6
#: torch's defaults for settings the registry does not expose.
TORCH_DEFAULTS = {
    "weight_decay": 0.0,
    "dampening": 0.0,
    "momentum_decay": 4e-3,
    "centered": False,
    "amsgrad": False,
    "decoupled_weight_decay": False,
}

# (id, registry name, lr, registry hyperparameters, extra torch group settings)
CASES = [
    ("sgd", "sgd", 0.02, {}, {}),
    ("sgd-wd", "sgd", 0.02, {"weight_decay": 0.1}, {}),
    ("momentum", "momentum", 0.02, {}, {}),
    ("momentum-wd", "momentum", 0.02, {"weight_decay": 0.05, "momentum": 0.7}, {}),
    ("momentum-dampening", "momentum", 0.02, {}, {"dampening": 0.3}),
    ("nesterov", "nesterov", 0.02, {}, {}),
    ("nesterov-wd", "nesterov", 0.02, {"weight_decay": 0.05, "momentum": 0.5}, {}),
    ("adagrad", "adagrad", 0.5, {}, {}),
    ("adagrad-decay", "adagrad", 0.5, {"lr_decay": 0.1, "eps": 1e-3}, {}),
    ("adagrad-wd", "adagrad", 0.5, {}, {"weight_decay": 0.1}),
    ("rmsprop", "rmsprop", 0.01, {}, {}),
    ("rmsprop-momentum", "rmsprop", 0.01, {"momentum": 0.9, "alpha": 0.9}, {}),
    ("rmsprop-centered", "rmsprop", 0.01, {"momentum": 0.5}, {"centered": True}),
    ("adadelta", "adadelta", 1.0, {}, {}),
    ("adadelta-rho", "adadelta", 0.5, {"rho": 0.5, "eps": 1e-3}, {"weight_decay": 0.1}),
    ("adam", "adam", 0.05, {}, {}),
    ("adam-wd", "adam", 0.05, {"beta1": 0.8, "beta2": 0.99}, {"weight_decay": 0.1}),
    ("adam-amsgrad", "adam", 0.05, {}, {"amsgrad": True}),
    ("adamw", "adamw", 0.05, {}, {}),
    ("adamw-wd", "adamw", 0.05, {"weight_decay": 0.1, "eps": 1e-4}, {}),
    ("adamax", "adamax", 0.05, {}, {}),
    ("adamax-wd", "adamax", 0.05, {"beta1": 0.5, "eps": 0.5}, {"weight_decay": 0.1}),
    ("nadam", "nadam", 0.05, {}, {}),
    (
        "nadam-decoupled",
        "nadam",
        0.05,
        {"beta1": 0.8, "beta2": 0.99},
        {"weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
    ("radam", "radam", 0.05, {}, {}),
    ("radam-rectified", "radam", 0.05, {"beta2": 0.9}, {}),
    (
        "radam-decoupled",
        "radam",
        0.05,
        {"beta2": 0.9},
        {"weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
    ("lbfgs", "lbfgs", 0.5, {}, {}),
    ("lbfgs-short-history", "lbfgs", 0.3, {"history_size": 2}, {}),
]

#: Terms every explanation of the class holds (besides grad_a, grad_b, lr).
STATE_TERMS = {
    "SGD": [],
    "Adagrad": ["sum_a", "sum_b", "step", "lr_decay", "eps", "clr"],
    "RMSprop": ["square_avg_a", "square_avg_b", "step", "alpha", "eps", "momentum"],
    "Adadelta": ["square_avg_a", "square_avg_b", "acc_delta_a", "acc_delta_b"],
    "Adam": ["exp_avg_a", "exp_avg_sq_b", "step", "bias_correction1", "beta2", "eps"],
    "AdamW": ["exp_avg_b", "exp_avg_sq_a", "step", "bias_correction2", "weight_decay"],
    "Adamax": ["exp_avg_a", "exp_avg_b", "exp_inf_a", "exp_inf_b", "step"],
    "NAdam": ["exp_avg_a", "exp_avg_sq_b", "mu_product", "mu_t", "mu_next", "step"],
    "RAdam": ["exp_avg_a", "exp_avg_b", "exp_avg_sq_a", "exp_avg_sq_b", "rho_t"],
    "LBFGS": ["d_a", "d_b", "t", "n_iter", "history_size", "max_iter"],
}
DICT_KEYS = {
    "optimizer",
    "step",
    "rule",
    "terms",
    "a_before",
    "b_before",
    "a_after",
    "b_after",
}


def _loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A quadratic with the app's shape (a slope term and a centred residual)."""
    return 2.0 * (a - 3) ** 2 + (0.5 * a + b - 8) ** 2


def _setup(name, lr, hypers, extra, start=START):
    a = torch.tensor(start[0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(start[1], dtype=torch.float64, requires_grad=True)
    optimizer = get_optimizer(name).build([a, b], lr, hypers)
    optimizer.param_groups[0].update(extra)  # torch reads the group every step
    return a, b, optimizer


def _take_step(optimizer, a, b) -> None:
    """One step the way the trainer takes it."""
    if isinstance(optimizer, torch.optim.LBFGS):

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            value = _loss(a, b)
            value.backward()
            return value

        optimizer.step(closure)
    else:
        a.grad = None
        b.grad = None
        _loss(a, b).backward()
        optimizer.step()


def _explained_run(name, lr, hypers, extra, steps=STEPS):
    """``steps`` explained steps: their explanations."""
    a, b, optimizer = _setup(name, lr, hypers, extra)
    found = []
    for step in range(1, steps + 1):
        before = capture_state(optimizer)
        x = (a.item(), b.item())
        lr_used = optimizer.param_groups[0]["lr"]
        _take_step(optimizer, a, b)
        found.append(
            explain_update(
                name,
                optimizer,
                before,
                x,
                (a.item(), b.item()),
                (a.grad.item(), b.grad.item()),
                lr_used,
                step,
            )
        )
        assert found[-1].a_after == a.item()
        assert found[-1].b_after == b.item()
    return found


# --------------------------------------------------------- textbook formulas
def _settings(name, hypers, extra) -> dict:
    h = {**TORCH_DEFAULTS, **get_optimizer(name).resolve(hypers), **extra}
    h["nesterov"] = name == "nesterov"
    h["decoupled"] = name == "adamw" or h["decoupled_weight_decay"]
    return h


def _gradient(h, x, g):
    """The gradient with coupled weight decay (AdamW's decay is not in it)."""
    return g if h["decoupled"] else g + h["weight_decay"] * x


def _textbook_step(cls, h, lr, x, g, T, s) -> float:
    """``x`` after the step, from the terms ``T`` (suffix ``s``) only."""
    if cls == "LBFGS":
        return x + T["t"] * T["d" + s]
    wd, eps = h["weight_decay"], h.get("eps", 0.0)
    if h["decoupled"]:
        x = x * (1 - lr * wd)  # decoupled decay comes first
    gg = _gradient(h, x, g)
    if cls == "SGD":
        if not h.get("momentum"):
            return x - lr * gg
        buf = T["momentum_buffer" + s]
        return x - lr * (gg + h["momentum"] * buf if h["nesterov"] else buf)
    if cls == "Adagrad":
        clr = lr / (1 + (T["step"] - 1) * h["lr_decay"])
        return x - clr * gg / (math.sqrt(T["sum" + s]) + eps)
    if cls == "RMSprop":
        v = T["square_avg" + s]
        if h["centered"]:
            v -= T["grad_avg" + s] ** 2
        if h["momentum"]:
            return x - lr * T["momentum_buffer" + s]
        return x - lr * gg / (math.sqrt(v) + eps)
    if cls == "Adadelta":
        u, v = T["acc_delta" + s], T["square_avg" + s]
        return x - lr * math.sqrt(u + eps) / math.sqrt(v + eps) * gg
    b1, b2, t = h["beta1"], h["beta2"], T["step"]
    m = T["exp_avg" + s]
    if cls == "Adamax":
        return x - lr / (1 - b1**t) * m / T["exp_inf" + s]
    v = T["max_exp_avg_sq" + s] if h["amsgrad"] else T["exp_avg_sq" + s]
    if cls in ("Adam", "AdamW"):
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        return x - lr * m_hat / (math.sqrt(v_hat) + eps)
    if cls == "NAdam":
        psi = h["momentum_decay"]
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod = T["mu_product"]
        denom = math.sqrt(v / (1 - b2**t)) + eps
        return (
            x
            - lr * (1 - mu) / (1 - prod) * gg / denom
            - lr * mu_next / (1 - prod * mu_next) * m / denom
        )
    if cls == "RAdam":
        m_hat = m / (1 - b1**t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t <= 5:
            return x - lr * m_hat
        r = (rho_t - 4) * (rho_t - 2) * rho_inf
        r = math.sqrt(r / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return x - lr * m_hat * r * math.sqrt(1 - b2**t) / (math.sqrt(v) + eps)
    raise AssertionError(cls)


def _textbook_state(cls, h, x, g, T, P, s) -> dict[str, float]:
    """The state terms ``T`` should hold, from the previous step's terms ``P``
    (``None`` before the first step)."""

    def prev(key, default=0.0):
        return default if P is None else P.get(key + s, P.get(key, default))

    gg = _gradient(h, x, g)
    if cls == "SGD":
        if not h.get("momentum"):
            return {}
        keep = 1 - h["dampening"]
        first = P is None
        buf = gg if first else h["momentum"] * prev("momentum_buffer") + keep * gg
        return {"momentum_buffer" + s: buf}
    if cls == "Adagrad":
        return {"sum" + s: prev("sum") + gg * gg}
    if cls == "RMSprop":
        alpha, want = h["alpha"], {}
        v = want["square_avg" + s] = alpha * prev("square_avg") + (1 - alpha) * gg**2
        if h["centered"]:
            mean = alpha * prev("grad_avg") + (1 - alpha) * gg
            want["grad_avg" + s] = mean
            v -= mean**2
        if h["momentum"]:
            step = gg / (math.sqrt(v) + h["eps"])
            want["momentum_buffer" + s] = h["momentum"] * prev("momentum_buffer") + step
        return want
    if cls == "Adadelta":
        rho, eps = h["rho"], h["eps"]
        want = {"square_avg" + s: rho * prev("square_avg") + (1 - rho) * gg**2}
        # acc_delta is the one from before this step: the last step made it.
        want["acc_delta" + s] = 0.0
        if P is not None:
            u, v = prev("acc_delta"), prev("square_avg")
            last = _gradient(h, P["x" + s], P["grad" + s])
            delta = math.sqrt(u + eps) / math.sqrt(v + eps) * last
            want["acc_delta" + s] = rho * u + (1 - rho) * delta**2
        return want
    if cls == "LBFGS":
        return {}
    b1, b2 = h["beta1"], h["beta2"]
    want = {"exp_avg" + s: b1 * prev("exp_avg") + (1 - b1) * gg}
    if cls == "Adamax":
        want["exp_inf" + s] = max(b2 * prev("exp_inf"), abs(gg) + h["eps"])
        return want
    v = want["exp_avg_sq" + s] = b2 * prev("exp_avg_sq") + (1 - b2) * gg**2
    if h["amsgrad"]:
        want["max_exp_avg_sq" + s] = max(prev("max_exp_avg_sq"), v)
    if cls == "NAdam":
        t = T["step"]
        mu = b1 * (1 - 0.5 * 0.96 ** (t * h["momentum_decay"]))
        want["mu_product"] = prev("mu_product", 1.0) * mu
    return want


def _lbfgs_direction(pairs, g):
    """L-BFGS's two-loop recursion over the kept ``(s, y)`` pairs: ``−H·g``."""
    q, dot, alphas = [-g[0], -g[1]], _dot, []
    for s, y in reversed(pairs):
        alpha = dot(s, q) / dot(y, s)
        q = [q[k] - alpha * y[k] for k in range(2)]
        alphas.append(alpha)
    s, y = pairs[-1]
    r = [dot(s, y) / dot(y, y) * q[k] for k in range(2)]
    for (s, y), alpha in zip(pairs, reversed(alphas), strict=True):
        beta = dot(y, r) / dot(y, s)
        r = [r[k] + (alpha - beta) * s[k] for k in range(2)]
    return r


def _dot(u, v) -> float:
    return u[0] * v[0] + u[1] * v[1]


def _close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=REL, abs_tol=1e-12)


# ---------------------------------------------------------------------- tests
@pytest.mark.parametrize(
    ("name", "lr", "hypers", "extra"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_every_step_is_redone_by_the_textbook_formula(name, lr, hypers, extra):
    spec = get_optimizer(name)
    h = _settings(name, hypers, extra)
    cls = spec.torch_class
    previous = None
    pairs: list = []
    for step, found in enumerate(_explained_run(name, lr, hypers, extra), start=1):
        T = found.terms
        assert found.optimizer == name
        assert found.step == step
        assert T["lr"] == lr
        for key in ["grad_a", "grad_b", *STATE_TERMS[cls]]:
            assert key in T, key
        for key in spec.hyperparameters:
            assert T[key.name] == pytest.approx(h[key.name], rel=1e-12)
        if h["weight_decay"]:
            assert T["weight_decay"] == h["weight_decay"]
        if cls not in ("LBFGS", "SGD"):
            assert T["step"] == step
        xs = (found.a_before, found.b_before)
        xs_after = (found.a_after, found.b_after)
        for i, s in enumerate(("_a", "_b")):
            g = T["grad" + s]
            expected = _textbook_step(cls, h, lr, xs[i], g, T, s)
            assert _close(xs_after[i], expected), (step, s, xs_after[i], expected)
            for key, value in _textbook_state(cls, h, xs[i], g, T, previous, s).items():
                assert _close(T[key], value), (step, key, T[key], value)
        if cls == "LBFGS":
            g = [T["grad_a"], T["grad_b"]]
            if previous is None:  # d = −g, t = lr·min(1, 1/‖g‖₁)
                d = [-g[0], -g[1]]
                t = lr * min(1.0, 1.0 / (abs(g[0]) + abs(g[1])))
            else:
                last = [previous["grad_a"], previous["grad_b"]]
                y = [g[k] - last[k] for k in range(2)]
                s = [previous["t"] * previous["d" + k] for k in ("_a", "_b")]
                if _dot(y, s) > 1e-10:
                    pairs = [*pairs, (s, y)][-int(h["history_size"]) :]
                d, t = _lbfgs_direction(pairs, g), lr
            assert _close(T["d_a"], d[0])
            assert _close(T["d_b"], d[1])
            assert _close(T["t"], t)
        previous = {**T, "x_a": found.a_before, "x_b": found.b_before}
        assert f"{lr:.5g}" in found.rule
        assert "a ←" in found.rule
        assert "b ←" in found.rule
        assert ("λ" in found.rule) == bool(h["weight_decay"])
    if name == "radam" and hypers:
        assert "rect" in T  # the rectified branch was reached


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_as_dict_is_plain_json(name):
    found = _explained_run(name, get_optimizer(name).suggested_lr, {}, {}, steps=2)[-1]
    plain = found.as_dict()
    assert set(plain) == DICT_KEYS
    assert json.loads(json.dumps(plain)) == plain
    assert type(plain["step"]) is int
    assert all(type(v) is float for v in plain["terms"].values())
    assert all(
        type(plain[k]) is float
        for k in DICT_KEYS - {"optimizer", "step", "rule", "terms"}
    )
    assert isinstance(found, UpdateExplanation)


def test_the_rule_shows_the_sgd_numbers():
    found = _explained_run("sgd", 0.01, {}, {}, steps=1)[0]
    # ∂L/∂a = 4·(a − 3) + (0.5·a + b − 8) = −23.5 at (−1, 1); a ← −1 + 0.235.
    assert "a ← a − η·∂L/∂a = −1 − 0.01·(−23.5) = −0.765" in found.rule.splitlines()
    assert "b ← b − η·∂L/∂b = 1 − 0.01·(−15) = 1.15" in found.rule.splitlines()


def test_capture_state_copies_and_handles_an_empty_state():
    a, b, optimizer = _setup("adam", 0.05, {}, {})
    empty = capture_state(optimizer)
    assert empty["state"] == [{}, {}]
    assert empty["group"]["lr"] == 0.05
    _take_step(optimizer, a, b)
    taken = capture_state(optimizer)
    _take_step(optimizer, a, b)
    assert taken["state"][0]["step"] == 1.0  # not moved on by the second step
    assert taken["state"][0]["exp_avg"] != optimizer.state[a]["exp_avg"].item()


def test_lbfgs_with_several_inner_iterations_gives_the_total_move():
    found = _explained_run("lbfgs", 0.2, {"max_iter": 8}, {}, steps=2)
    n_iter = 0
    for explained in found:
        inner = int(explained.terms["n_iter"]) - n_iter
        n_iter += inner
        assert inner > 1
        assert f"{inner} inner iterations ran (max_iter = 8)" in explained.rule
        assert explained.terms["max_iter"] == 8.0
        total = explained.a_after - explained.a_before
        assert f"{total:.5g}".replace("-", "−") in explained.rule


def test_the_lr_used_is_the_one_explained_not_the_scheduled_next():
    a, b, optimizer = _setup("momentum", 0.02, {}, {})
    before, x = capture_state(optimizer), (a.item(), b.item())
    _take_step(optimizer, a, b)
    optimizer.param_groups[0]["lr"] = 0.5  # a scheduler moved on after the step
    grad = (a.grad.item(), b.grad.item())
    found = explain_update(
        "momentum", optimizer, before, x, (a.item(), b.item()), grad, 0.02, 1
    )
    assert found.terms["lr"] == 0.02
    assert _close(found.a_after, x[0] - 0.02 * found.terms["momentum_buffer_a"])


def test_a_mismatched_optimizer_or_name_is_refused():
    a, b, optimizer = _setup("adam", 0.05, {}, {})
    before = capture_state(optimizer)
    _take_step(optimizer, a, b)
    args = (optimizer, before, (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), 0.05, 1)
    with pytest.raises(ValueError, match="RAdam"):
        explain_update("radam", *args)
    with pytest.raises(KeyError, match="unknown optimizer"):
        explain_update("lion", *args)
