"""One update told in four stages, with its numbers (lilipads' step-by-step
tab): the gradient, what the optimizer makes of it, the scaled step, the
move. Built from an update's terms (``core.update_terms``), for every
optimizer family.

Each stage has a title, one or two sentences, and an arrow to draw at the
point the update left: ``−η·g`` (where plain descent would go) for the
gradient, the step actually taken for the others. Plain data: no torch, no Qt
(the optimizer registry is torch-free).
"""

from __future__ import annotations

from dataclasses import dataclass

from sgd_viewer.core.optimizers import get_optimizer

ADAM_FAMILY = ("adam", "adamw", "nadam", "radam")


@dataclass(frozen=True)
class Stage:
    """One stage of a narrated step: ``vector`` is drawn from ``origin``."""

    title: str
    text: str
    origin: tuple[float, float]
    vector: tuple[float, float]

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "text": self.text,
            "origin": list(self.origin),
            "vector": list(self.vector),
        }


def _pair(terms: dict, key: str) -> str:
    return f"({terms[key + '_a']:.4g}, {terms[key + '_b']:.4g})"


def _transform(optimizer: str, terms: dict) -> str:
    """What the optimizer does with the gradient, in words and numbers."""
    if optimizer in ("sgd", "momentum", "nesterov") and "momentum_buffer_a" in terms:
        mu = terms.get("momentum", 0.0)
        buffer = _pair(terms, "momentum_buffer")
        if optimizer == "nesterov":
            return (
                f"Nesterov keeps a velocity v = μ·v + g = {buffer} (μ = {mu:g}) and "
                "steps along g + μ·v: the gradient plus a look ahead."
            )
        return (
            f"Momentum keeps a velocity v = μ·v + g = {buffer}: {mu:g} of the last "
            "one plus the new gradient. It steps along v, not g."
        )
    if optimizer in ("sgd", "momentum", "nesterov"):
        return "Plain gradient descent uses the gradient as it is."
    if optimizer == "adagrad":
        return (
            f"Adagrad divides each coordinate by the root of the sum of all its "
            f"squared gradients so far, s = {_pair(terms, 'sum')}: coordinates "
            "that moved a lot slow down."
        )
    if optimizer == "rmsprop":
        return (
            f"RMSprop divides each coordinate by the root of a running mean of "
            f"squared gradients, v = {_pair(terms, 'square_avg')}."
        )
    if optimizer == "adadelta":
        return (
            f"Adadelta scales the gradient by √(u + ε)/√(v + ε): the root of the "
            f"recent squared steps u = {_pair(terms, 'acc_delta')} over that of "
            f"the recent squared gradients v = {_pair(terms, 'square_avg')}."
        )
    if optimizer == "adamax":
        return (
            f"Adamax keeps a running mean of gradients m = {_pair(terms, 'exp_avg')}"
            f" and divides it by the largest recent |g|, u = "
            f"{_pair(terms, 'exp_inf')}."
        )
    if optimizer in ADAM_FAMILY:
        t = int(terms.get("step", 0))
        return (
            f"{get_optimizer(optimizer).label} keeps "
            f"a running mean of gradients m = {_pair(terms, 'exp_avg')} and of their"
            f" squares v = {_pair(terms, 'exp_avg_sq')}, corrects both for their "
            f"start at 0 (step t = {t}), and moves each coordinate by "
            "m̂/(√v̂ + ε): about the same size whatever the slope."
        )
    if optimizer == "lbfgs":
        return (
            f"L-BFGS turns the gradient by its estimate of the curvature from "
            f"past steps: direction d = {_pair(terms, 'd')}, step length "
            f"t = {terms.get('t', float('nan')):.4g}."
        )
    return f"{optimizer} transforms the gradient."


def narrate(
    update: dict, optimizer: str, loss_before: float, loss_after: float
) -> list[Stage]:
    """The four stages of ``update`` (an ``UpdateExplanation.as_dict()``)."""
    terms = update["terms"]
    before = (update["a_before"], update["b_before"])
    after = (update["a_after"], update["b_after"])
    lr = terms["lr"]
    grad = (terms["grad_a"], terms["grad_b"])
    taken = (after[0] - before[0], after[1] - before[1])
    plain = (-lr * grad[0], -lr * grad[1])
    decay = terms.get("weight_decay", 0.0)
    decay_text = (
        f" Weight decay λ = {decay:g} also pulls a and b toward 0." if decay else ""
    )
    return [
        Stage(
            "1. The gradient",
            f"At (a, b) = ({before[0]:.5g}, {before[1]:.5g}) the loss slopes by "
            f"∂L/∂a = {grad[0]:.4g} and ∂L/∂b = {grad[1]:.4g}; downhill is −∇L. "
            f"Plain descent with η = {lr:g} would move by −η·∇L = "
            f"({plain[0]:.4g}, {plain[1]:.4g}).",
            before,
            plain,
        ),
        Stage(
            "2. What the optimizer makes of it",
            _transform(optimizer, terms) + decay_text,
            before,
            taken,
        ),
        Stage(
            "3. The scaled step",
            f"Times the learning rate η = {lr:g}: the step is (Δa, Δb) = "
            f"({taken[0]:.4g}, {taken[1]:.4g}).",
            before,
            taken,
        ),
        Stage(
            "4. The move",
            f"(a, b) goes from ({before[0]:.5g}, {before[1]:.5g}) to "
            f"({after[0]:.5g}, {after[1]:.5g}); the loss from {loss_before:.5g} "
            f"to {loss_after:.5g}"
            + (" (down)." if loss_after < loss_before else " (up: too big a step?)."),
            before,
            taken,
        ),
    ]
