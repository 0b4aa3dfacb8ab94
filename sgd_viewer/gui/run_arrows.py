"""Session → the surface's per-run arrows: the step each visible run took to
the shown step, and the momentum a heavy-ball run carries into its next one.

Both come from the recorded rows, exactly: torch's SGD with momentum keeps
``buf_k = μ·buf_{k−1} + g_k`` and steps ``Δ_k = −η_k·buf_k`` (heavy ball) or
``Δ_k = −η_k·(g_k + μ·buf_k)`` (Nesterov), so ``buf_k`` follows from the step
and the gradient recorded at step ``k``, and the next step carries
``−η_{k+1}·μ·buf_k`` (heavy ball) or ``−η_{k+1}·μ²·buf_k`` (Nesterov) on top of
its gradient term. ``η_{k+1}`` is the next row's lr where the run has one (a
schedule moves it), else ``η_k``.
"""

from __future__ import annotations

from sgd_viewer.core.session import Run, Session
from sgd_viewer.gui.surface_arrows import RunArrow

MOMENTUM_FAMILIES = ("momentum", "nesterov")


def _exact_row(run: Run, step: int, start: tuple[float, float]) -> dict | None:
    """The row of exactly ``step`` (the start for 0), or ``None`` if the
    history has thinned it away."""
    if step == 0:
        return {"a": start[0], "b": start[1]}
    row = run.row_at(step)
    return row if row is not None and int(row["step"]) == step else None


def run_arrows(session: Session) -> tuple[list[RunArrow], list[RunArrow]]:
    """``(steps taken, momenta carried)`` of the visible runs at the shown
    step, as the display options ask."""
    display = session.display
    steps: list[RunArrow] = []
    momenta: list[RunArrow] = []
    if not (display.step_taken or display.momentum):
        return steps, momenta
    shown = session.shown_step
    for run in session.runs:
        if not (run.visible or run is session.run):
            continue
        at = min(shown, run.latest_step)
        now = _exact_row(run, at, session.start)
        before = _exact_row(run, at - 1, session.start) if at >= 1 else None
        if now is None or before is None:
            continue
        origin = (float(before["a"]), float(before["b"]))
        here = (float(now["a"]), float(now["b"]))
        taken = (here[0] - origin[0], here[1] - origin[1])
        if display.step_taken:
            steps.append(RunArrow(run.colour, origin, taken))
        config = run.config
        if display.momentum and config.optimizer in MOMENTUM_FAMILIES:
            carried = _carried(run, now, taken, at)
            if carried is not None:
                momenta.append(RunArrow(run.colour, here, carried))
    return steps, momenta


def _carried(run: Run, now: dict, taken, at: int) -> tuple[float, float] | None:
    """What the next step carries from the momentum buffer (see the module)."""
    mu = float(run.config.hyperparameters.get("momentum", 0.0))
    lr = float(now["lr"])
    if not (mu > 0 and lr > 0):
        return None
    following = run.row_at(at + 1)
    next_lr = (
        float(following["lr"])
        if following is not None and int(following["step"]) == at + 1
        else lr
    )
    if run.config.optimizer == "momentum":
        # Δ_k = −η_k·buf_k: buf_k = −Δ_k/η_k.
        buffer = (-taken[0] / lr, -taken[1] / lr)
        scale = -next_lr * mu
    else:
        # Δ_k = −η_k·(g_k + μ·buf_k), g_k with weight decay folded in.
        decay = float(run.config.hyperparameters.get("weight_decay", 0.0))
        a_before, b_before = now["a"] - taken[0], now["b"] - taken[1]
        grad = (
            float(now["grad_a"]) + decay * a_before,
            float(now["grad_b"]) + decay * b_before,
        )
        buffer = (
            (-taken[0] / lr - grad[0]) / mu,
            (-taken[1] / lr - grad[1]) / mu,
        )
        scale = -next_lr * mu * mu
    return scale * buffer[0], scale * buffer[1]
