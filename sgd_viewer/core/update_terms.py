"""One optimizer step of ``a`` and ``b``, explained with the numbers torch used.

Owns :func:`capture_state` (a cheap copy of a torch optimizer's state, taken just
before a step) and :func:`explain_update` (that step's rule in Unicode math with
the actual numbers, and those numbers as a ``terms`` dict). The numbers come
from the optimizer's own state, so the text follows torch's conventions (where
``ε`` goes, a first momentum buffer equal to the gradient …), not a textbook's.
Imports torch but never Qt.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import torch

from sgd_viewer.core.optimizers import get_optimizer

_NAMES = ("a", "b")
#: A formula and its numbers share a line up to this width, else take two.
_WIDTH = 70
#: The symbol in the rules of each piece of torch state (suffixed ``_a``/``_b``;
#: all but acc_delta enter the terms as they stand AFTER the step) and of each
#: hyperparameter (by torch's name).
_SYMBOLS = dict(
    re.findall(
        r"(\w+):(\S+)",
        "momentum_buffer:v sum:s square_avg:v grad_avg:ḡ exp_avg:m exp_avg_sq:v"
        " max_exp_avg_sq:v̄ exp_inf:u acc_delta:u eps:ε weight_decay:λ momentum:μ"
        " dampening:τ alpha:α rho:ρ lr_decay:decay momentum_decay:ψ",
    )
)


@dataclass(frozen=True)
class UpdateExplanation:
    """The update rule of one step, with its numbers.

    ``rule`` is several lines of Unicode math with the actual numbers; ``terms``
    holds those numbers by name (``grad_a``, ``lr``, torch's state names with
    the suffix ``_a``/``_b``, ``step``, the hyperparameters by their registry
    names, a few derived values). ``step`` is the 1-based step this update
    produced; ``a_before`` … ``b_after`` are the parameters around it.
    """

    optimizer: str
    step: int
    rule: str
    terms: dict[str, float]
    a_before: float
    b_before: float
    a_after: float
    b_after: float

    def as_dict(self) -> dict:
        """Plain Python values only, ready for ``json.dumps``."""
        return asdict(self)


def _copy(value: Any) -> Any:
    """``value`` detached from the optimizer: torch updates its state in place."""
    if isinstance(value, torch.Tensor):
        # 0-d state (moments of scalar parameters, step counts) as a float costs
        # less than a clone; vectors (L-BFGS's direction) are cloned.
        return value.item() if value.dim() == 0 else value.detach().clone()
    if isinstance(value, list | tuple):
        return type(value)(_copy(item) for item in value)
    return value


def capture_state(optimizer: torch.optim.Optimizer) -> dict:
    """Cheap copy (plain floats / cloned tensors) of the per-parameter state and of
    the param group, taken just BEFORE a step (Adadelta's acc_delta and L-BFGS
    need it).

    Parameters
    ----------
    optimizer
        A one-group torch optimizer; its state may still be empty (step 1).

    Returns
    -------
    dict
        ``{"group": {hyperparameter: value}, "state": [state of each param]}``.
    """
    group = optimizer.param_groups[0]
    return {
        "group": {k: _copy(v) for k, v in group.items() if k != "params"},
        "state": [
            state
            for p in group["params"]
            for state in _per_coordinate(optimizer, p, optimizer.state.get(p, {}))
        ],
    }


def _per_coordinate(optimizer, param: torch.Tensor, state: dict) -> list[dict]:
    """A parameter's state, one dict per coordinate: the trainer keeps
    ``(a, b)`` in one tensor, and the explanations speak of ``m_a`` and
    ``m_b``. Per-coordinate moments are split; shared entries (step counts,
    NAdam's μ product) and L-BFGS's flat history go to each as they are."""
    if param.dim() == 0:
        return [{k: _copy(v) for k, v in state.items()}]
    if isinstance(optimizer, torch.optim.LBFGS):  # keyed by the first only
        return [{k: _copy(v) for k, v in state.items()}] + [{}] * (param.numel() - 1)
    return [
        {
            k: _copy(
                v[i] if isinstance(v, torch.Tensor) and v.shape == param.shape else v
            )
            for k, v in state.items()
        }
        for i in range(param.numel())
    ]


def _f(value: float, digits: int = 5) -> str:
    """``value`` with ``digits`` significant digits and a true minus sign."""
    return f"{float(value):.{digits}g}".replace("-", "−")


class _Writer:
    """Collects the lines and terms of one explanation.

    Its table maps each symbol of the rules (``η``, ``m_a``, ``a`` …) to the
    number it stands for; :meth:`say` writes a formula followed by the same
    formula with the numbers put in, so the two can never disagree.
    """

    def __init__(self, optimizer, before, x, x_after, grad, lr) -> None:
        now = capture_state(optimizer)
        self.group, self.new = before.get("group") or now["group"], now["state"]
        self.old = before.get("state") or [{} for _ in self.new]
        self.kind = type(optimizer).__name__
        self.x, self.x_after, self.grad, self.lr = x, x_after, grad, lr
        self.wd = self.hyper("weight_decay")
        self.decoupled = bool(self.group.get("decoupled_weight_decay"))
        self.eps = self.hyper("eps")
        self.lines: list[str] = []
        self.terms = {"grad_a": grad[0], "grad_b": grad[1], "lr": lr}
        # Enough digits that each parameter's before and after differ in print.
        self.digits = [
            next((d for d in range(5, 13) if _f(u, d) != _f(v, d)), 12)
            for u, v in zip(x, x_after, strict=True)
        ]
        self.table = {"η": _f(lr)}
        for key, symbol in _SYMBOLS.items():  # the hyperparameters
            if key in self.group:
                self.table[symbol] = _f(self.hyper(key))
        if "betas" in self.group:
            self.table["β₁"], self.table["β₂"] = map(_f, self.group["betas"])
        for i, n in enumerate(_NAMES):
            self.table[n] = _f(x[i], self.digits[i])
            self.table[f"∂L/∂{n}"] = _f(grad[i])
            for key, symbol in _SYMBOLS.items():
                if self.kind == "RMSprop" and key == "momentum_buffer":
                    symbol = "B"  # v is its square_avg
                if key in self.new[i]:  # the value before the step, 0 at first
                    self.table[f"{symbol}_{n}"] = _f(self.value(i, key, old=True))

    def hyper(self, name: str) -> float:
        if name in ("beta1", "beta2"):
            return float(self.group["betas"][name == "beta2"])
        return float(self.group.get(name) or 0.0)

    def value(self, i: int, key: str, old: bool = False, default: float = 0.0):
        found = (self.old if old else self.new)[i].get(key)
        return default if found is None else float(found)

    def say(self, formula: str, value: float, digits: int = 5) -> None:
        """``formula = numbers = value``; its left-hand symbol now means ``value``."""
        target, _, expression = re.split(" (←|=) ", formula, maxsplit=1)
        keys = sorted(self.table, key=len, reverse=True)  # m̂_a before m, a
        # A symbol is not part of a longer name (² is a power, not a name).
        pattern = r"(?<!\w)(?:" + "|".join(map(re.escape, keys)) + r")(?![^\W²])"

        def number(match: re.Match) -> str:
            text, start, end = self.table[match.group()], match.start(), match.end()
            # A negative number needs brackets after an operator or before a power.
            bare = expression[start - 1 : start] in "(|" and expression[end:][:1] != "²"
            return text if bare or not text.startswith("−") else f"({text})"

        numbers = re.sub(pattern, number, expression)
        shown = self.table[target] = _f(value, digits)
        tail = f" = {numbers}" * (numbers != shown) + f" = {shown}"
        long = len(formula + tail) > _WIDTH
        self.lines += [formula, "   " + tail] if long else [formula + tail]

    def move(self, i: int, expression: str) -> None:
        """The parameter's update ``a ← expression``, ending at its new value."""
        self.say(f"{_NAMES[i]} ← {expression}", self.x_after[i], self.digits[i])

    def gradient(self, i: int) -> float:
        """The gradient the update uses (coupled weight decay added), as a line."""
        n, g, coupled = _NAMES[i], self.grad[i], self.wd and not self.decoupled
        g += self.wd * self.x[i] if coupled else 0.0
        self.say(f"g_{n} = ∂L/∂{n}" + f" + λ·{n}" * bool(coupled), g)
        return g

    def adam_start(self, i: int) -> None:
        """Decoupled weight decay, gradient and both moments, as lines."""
        n, decayed = _NAMES[i], self.x[i] * (1 - self.lr * self.wd)
        if self.wd and self.decoupled:  # AdamW shrinks the parameter first
            self.say(f"{n} ← (1 − η·λ)·{n}", decayed, self.digits[i])
        self.gradient(i)
        self.say(f"m_{n} ← β₁·m_{n} + (1−β₁)·g_{n}", self.value(i, "exp_avg"))
        self.say(f"v_{n} ← β₂·v_{n} + (1−β₂)·g_{n}²", self.value(i, "exp_avg_sq"))


def _sgd(w: _Writer) -> None:
    mu, tau = w.hyper("momentum"), w.hyper("dampening")
    for i, n in enumerate(_NAMES):
        if not mu:  # plain descent, written with ∂L as the lesson does
            w.move(i, f"{n} − η·(∂L/∂{n} + λ·{n})" if w.wd else f"{n} − η·∂L/∂{n}")
            continue
        w.gradient(i)
        first = w.old[i].get("momentum_buffer") is None  # torch's first v is g
        update = f"g_{n}" if first else f"μ·v_{n} + " + "(1−τ)·" * bool(tau) + f"g_{n}"
        w.say(f"v_{n} ← {update}", w.value(i, "momentum_buffer"))
        nesterov = w.group.get("nesterov")
        w.move(i, f"{n} − η·(g_{n} + μ·v_{n})" if nesterov else f"{n} − η·v_{n}")


def _adagrad(w: _Writer) -> None:
    t, decay = w.terms["step"], w.hyper("lr_decay")
    # torch counts the step before decaying it: step 1 uses the full lr.
    clr = w.terms["clr"] = w.lr / (1 + (t - 1) * decay)
    if decay:
        w.say("η′ = η/(1 + (t − 1)·decay)", clr)
    for i, n in enumerate(_NAMES):
        w.gradient(i)
        w.say(f"s_{n} ← s_{n} + g_{n}²", w.value(i, "sum"))
        w.move(i, f"{n} − η{'′' * bool(decay)}·g_{n}/(√s_{n} + ε)")


def _rmsprop(w: _Writer) -> None:
    for i, n in enumerate(_NAMES):
        w.gradient(i)
        w.say(f"v_{n} ← α·v_{n} + (1−α)·g_{n}²", w.value(i, "square_avg"))
        denominator = f"(√v_{n} + ε)"
        if w.group.get("centered"):
            w.say(f"ḡ_{n} ← α·ḡ_{n} + (1−α)·g_{n}", w.value(i, "grad_avg"))
            denominator = f"(√(v_{n} − ḡ_{n}²) + ε)"
        if w.hyper("momentum") > 0:
            buffer = w.value(i, "momentum_buffer")
            w.say(f"B_{n} ← μ·B_{n} + g_{n}/{denominator}", buffer)
            w.move(i, f"{n} − η·B_{n}")
        else:
            w.move(i, f"{n} − η·g_{n}/{denominator}")


def _adadelta(w: _Writer) -> None:
    for i, n in enumerate(_NAMES):
        g = w.gradient(i)
        v = w.value(i, "square_avg")
        w.say(f"v_{n} ← ρ·v_{n} + (1−ρ)·g_{n}²", v)
        # The update uses the accumulated update u from BEFORE this step.
        u = w.terms[f"acc_delta_{n}"] = w.value(i, "acc_delta", old=True)
        delta = math.sqrt(u + w.eps) / math.sqrt(v + w.eps) * g
        w.say(f"Δ_{n} = √(u_{n} + ε)/√(v_{n} + ε)·g_{n}", delta)
        w.move(i, f"{n} − η·Δ_{n}")
        w.say(f"u_{n} ← ρ·u_{n} + (1−ρ)·Δ_{n}²", w.value(i, "acc_delta"))
    w.lines.append("(u: acc_delta; this step used the old u, the new one is for next)")


def _adamax(w: _Writer) -> None:
    for i, n in enumerate(_NAMES):
        w.gradient(i)
        w.say(f"m_{n} ← β₁·m_{n} + (1−β₁)·g_{n}", w.value(i, "exp_avg"))
        # torch puts ε inside the max, not in the denominator.
        w.say(f"u_{n} ← max(β₂·u_{n}, |g_{n}| + ε)", w.value(i, "exp_inf"))
        w.move(i, f"{n} − η/(1 − β₁ᵗ)·m_{n}/u_{n}")


def _adam(w: _Writer) -> None:
    """Adam and AdamW, and NAdam and RAdam, which share its moments."""
    t, b1, b2, lr = w.terms["step"], w.hyper("beta1"), w.hyper("beta2"), w.lr
    bc1, bc2 = w.terms["bias_correction1"], w.terms["bias_correction2"]
    amsgrad, rect = bool(w.group.get("amsgrad")), 0.0
    if w.kind == "NAdam":  # its momentum schedule μₜ, the weights c₁ of g, c₂ of m
        psi = w.terms["momentum_decay"] = w.hyper("momentum_decay")
        mu = w.terms["mu_t"] = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        nu = w.terms["mu_next"] = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        # torch keeps the product of all μ in float32: read it, don't recompute.
        prod = w.terms["mu_product"] = w.value(0, "mu_product", default=1.0)
        w.table["Πμ"] = _f(w.value(0, "mu_product", old=True, default=1.0))
        w.say("μₜ = β₁·(1 − ½·0.96^(t·ψ))", mu)
        w.say("μₜ₊₁ = β₁·(1 − ½·0.96^((t + 1)·ψ))", nu)
        w.say("Πμ ← Πμ·μₜ", prod)
        w.say("c₁ = η·(1 − μₜ)/(1 − Πμ)", lr * (1 - mu) / (1 - prod))
        w.say("c₂ = η·μₜ₊₁/(1 − Πμ·μₜ₊₁)", lr * nu / (1 - prod * nu))
    if w.kind == "RAdam":  # its rectification r, once the variance is trusted
        q = w.terms["rho_inf"] = 2 / (1 - b2) - 1
        r = w.terms["rho_t"] = q - 2 * t * b2**t / bc2
        w.say("ρ∞ = 2/(1 − β₂) − 1", q)
        w.say("ρₜ = ρ∞ − 2·t·β₂ᵗ/(1 − β₂ᵗ)", r)
        if r > 5:
            rect = math.sqrt((r - 4) * (r - 2) * q / ((q - 4) * (q - 2) * r))
            w.say("r = √((ρₜ − 4)(ρₜ − 2)·ρ∞/((ρ∞ − 4)(ρ∞ − 2)·ρₜ))", rect)
            w.terms["rect"] = rect
        else:
            w.lines.append("ρₜ ≤ 5: the variance is not trusted yet, a momentum step")
    for i, n in enumerate(_NAMES):
        w.adam_start(i)
        m, v = w.value(i, "exp_avg"), w.value(i, "exp_avg_sq")
        if w.kind == "NAdam":
            w.say(f"D_{n} = √(v_{n}/(1 − β₂ᵗ)) + ε", math.sqrt(v / bc2) + w.eps)
            w.move(i, f"{n} − (c₁·g_{n} + c₂·m_{n})/D_{n}")
            continue
        w.say(f"m̂_{n} = m_{n}/(1 − β₁ᵗ)", m / bc1)
        if w.kind == "RAdam":  # torch adds ε to √v before the bias correction
            rectified = f"{n} − η·r·m̂_{n}·√(1 − β₂ᵗ)/(√v_{n} + ε)"
            w.move(i, rectified if rect else f"{n} − η·m̂_{n}")
            continue
        if amsgrad:  # the largest v so far stands in for v
            v = w.value(i, "max_exp_avg_sq")
            w.say(f"v̄_{n} ← max(v̄_{n}, v_{n})", v)
        w.say(f"v̂_{n} = v{'̄' * amsgrad}_{n}/(1 − β₂ᵗ)", v / bc2)
        w.move(i, f"{n} − η·m̂_{n}/(√v̂_{n} + ε)")


def _lbfgs(w: _Writer) -> None:
    # L-BFGS keeps its whole state on the first parameter.
    new, n_iter = w.new[0], int(w.value(0, "n_iter"))
    inner = n_iter - int(w.value(0, "n_iter", old=True))
    w.terms["n_iter"] = n_iter
    if not inner or new.get("d") is None:
        w.lines.append("max |∂L| ≤ tolerance_grad: L-BFGS stopped without moving")
        return
    d, t = [float(v) for v in new["d"]], float(new["t"])
    w.terms.update(d_a=d[0], d_b=d[1], t=t)
    w.table.update(d_a=_f(d[0]), d_b=_f(d[1]))
    if inner > 1:
        limit = _f(w.hyper("max_iter"))
        w.lines.append(f"{inner} inner iterations ran (max_iter = {limit});")
        w.lines.append("torch keeps only the last one's direction d and length t:")
    g, shown = ", ".join(map(_f, w.grad)), f"({_f(d[0])}, {_f(d[1])})"
    if n_iter == 1:  # torch's very first direction and length
        w.lines.append(f"d = −∇L = −({g}) = {shown}")
        w.table["‖∇L‖₁"] = _f(abs(w.grad[0]) + abs(w.grad[1]))
        w.say("t = η·min(1, 1/‖∇L‖₁)", t)
    else:
        pairs, gamma = len(new.get("old_dirs") or ()), _f(new.get("H_diag", 1.0))
        w.lines.append(f"d = −H·∇L, H from {pairs} stored (s, y) pairs, H₀ = {gamma}·I")
        w.lines.append(f"  = −H·({g}) = {shown}")
        w.say("t = η", t)
    for i, n in enumerate(_NAMES):
        if inner > 1:
            w.table[f"Δ{n}"] = _f(w.x_after[i] - w.x[i])
        w.move(i, f"{n} + t·d_{n}" if inner == 1 else f"{n} + Δ{n}")
    if w.x_after == w.x:
        w.lines.append("∇L·d ≥ −tolerance_change: no move this step")


_RULES = {"SGD": _sgd, "Adagrad": _adagrad, "RMSprop": _rmsprop, "LBFGS": _lbfgs}
_RULES.update(Adadelta=_adadelta, Adamax=_adamax)  # the rest are Adam's family


def explain_update(
    name: str,
    optimizer: torch.optim.Optimizer,
    before: dict,
    parameters_before: tuple[float, float],
    parameters_after: tuple[float, float],
    gradient: tuple[float, float],
    lr_used: float,
    step: int,
) -> UpdateExplanation:
    """The rule of the step just taken, with the numbers torch used.

    Parameters
    ----------
    name
        Registry name of the optimizer; ``KeyError`` if unknown, ``ValueError``
        if ``optimizer`` is not the torch class it builds.
    optimizer
        The torch optimizer over ``[a, b]``, AFTER the step.
    before
        :func:`capture_state` of ``optimizer`` taken just before the step.
    parameters_before, parameters_after, gradient
        ``(a, b)`` before and after the step; ``(a.grad, b.grad)`` of the step,
        raw (before any weight decay).
    lr_used, step
        The lr this step used (before any scheduler moved it on); the step
        this update produced (1-based).

    Returns
    -------
    UpdateExplanation
        Its terms hold the state the update USED: mostly the state after the
        step (moments updated with this gradient), but Adadelta's acc_delta_a/_b
        are from BEFORE the step, as its update uses them (the new ones serve
        the next step). L-BFGS gives d_a, d_b and t of its last inner iteration.
    """
    spec = get_optimizer(name)
    if (kind := type(optimizer).__name__) != spec.torch_class:
        raise ValueError(f"{name!r} builds torch.optim.{spec.torch_class}, not {kind}")
    x = (float(parameters_before[0]), float(parameters_before[1]))
    x_after = (float(parameters_after[0]), float(parameters_after[1]))
    grad = (float(gradient[0]), float(gradient[1]))
    w = _Writer(optimizer, before, x, x_after, grad, float(lr_used))
    w.lines.append(f"{spec.label}, step {int(step)}, η = {w.table['η']}")
    w.terms.update({h.name: w.hyper(h.name) for h in spec.hyperparameters})
    w.terms.update({k: w.hyper(k) for k in ("weight_decay", "dampening") if w.hyper(k)})
    for key in _SYMBOLS:
        if key in w.new[0] and key != "acc_delta":
            w.terms[f"{key}_a"], w.terms[f"{key}_b"] = w.value(0, key), w.value(1, key)
    if "step" in w.new[0]:
        t = w.terms["step"] = w.value(0, "step")
        w.table["t"] = _f(t)
        for k in (1, 2) if "betas" in w.group else ():  # Adam's bias corrections
            beta = w.hyper(f"beta{k}")
            w.terms[f"bias_correction{k}"] = 1 - beta**t
            w.table[f"β{'₁₂'[k - 1]}ᵗ"] = f"{_f(beta)}^{_f(t)}"
    _RULES.get(spec.torch_class, _adam)(w)
    rule, terms = "\n".join(w.lines), {k: float(v) for k, v in w.terms.items()}
    return UpdateExplanation(spec.name, int(step), rule, terms, *x, *x_after)
