"""Session → views: what every view draws for the session's visible runs at
the shown step, and the rows of the Runs panel.

Pure functions over the session and the views' public methods; owns no state.
Each frame reads every run's history through ``display_indices``/``take``
(bounded vertices, DESIGN.md §5).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sgd_viewer.core import loss_terms
from sgd_viewer.core.progress import assess_progress
from sgd_viewer.core.session import Run, Session
from sgd_viewer.gui.run_arrows import run_arrows
from sgd_viewer.gui.run_layers import RunDrawing
from sgd_viewer.gui.surface_view import MAX_PATH_VERTICES

#: Fewer vertices for the runs that are not selected: eight runs share a frame.
OTHER_RUN_VERTICES = 600


def _columns(run: Run, session: Session, vertices: int):
    """``steps, a, b, losses, batch_losses`` from the start to the latest step."""
    history, problem = run.history, session.problem
    reduction = run.config.reduction
    a0, b0 = session.start
    loss0 = problem.loss(a0, b0, reduction)
    if not len(history):
        one = np.array([0.0])
        return one, np.array([a0]), np.array([b0]), np.array([loss0]), None
    idx = history.display_indices(vertices)

    def from_start(first: float, name: str) -> np.ndarray:
        # np.concatenate, not np.r_: np.r_ parses its index each call, 20 µs
        # of a frame that does this forty times.
        return np.concatenate(([first], history.take(name, idx)))

    steps = from_start(0, "step")
    path_a = from_start(a0, "a")
    path_b = from_start(b0, "b")
    losses = from_start(loss0, "loss")
    batch_losses = None
    if run.config.effective_batch_size(problem.n) is not None:
        batch_losses = from_start(loss0, "batch_loss")
    return steps, path_a, path_b, losses, batch_losses


def draw(
    session: Session, fit_view, surface_view, loss_view, lr_strip, dragging: bool
) -> None:
    """Push the session's state at the shown step to every view."""
    shown = session.shown_step
    selected = session.run
    surface_parts, loss_parts, lines = [], [], []
    batch_losses = None
    for run in session.runs:
        is_selected = run is selected
        if not (run.visible or is_selected):
            continue
        vertices = MAX_PATH_VERTICES if is_selected else OTHER_RUN_VERTICES
        steps, path_a, path_b, losses, batches = _columns(run, session, vertices)
        cut = int(np.searchsorted(steps, shown, "right"))
        a, b = session.shown_parameters(run)
        loss = float(session.problem.loss(a, b, run.config.reduction))
        surface = RunDrawing(run.colour, run.label, path_a, path_b, cut, (a, b))
        curve = RunDrawing(run.colour, run.label, steps, losses, cut, (shown, loss))
        if is_selected:
            # The selected run is always drawn: its settings are the ones the
            # controls edit, and the arrow and readouts are about it.
            batch_losses = batches
            selected_parts = (surface, curve, (a, b, run.colour))
            continue
        surface_parts.append(surface)
        loss_parts.append(curve)
        lines.append((a, b, run.colour))
    surface, curve, line = selected_parts
    surface_view.set_runs(surface, surface_parts)
    if not dragging:
        surface_view.arrow_lr = lr_at(selected, shown)
        problem = session.problem
        surface_view.keep_in_view(
            [
                session.start,
                (problem.a_opt, problem.b_opt),
                surface.point,
                *(part.point for part in surface_parts),
            ]
        )
        surface_view.set_current(*surface.point)
        surface_view.arrows.show_runs(*run_arrows(session))
        fit_view.set_lines(line, lines)
    loss_view.set_runs(curve, loss_parts, batch_losses)
    draw_lr(selected, lr_strip)


def draw_slices(session: Session, slices_view) -> None:
    """The selected run's point at the shown step, on the slices."""
    run = session.run
    slices_view.set_point(*session.shown_parameters(run), run.colour)


def losses_at(session: Session, step: int) -> list[tuple[str, float]]:
    """``(label, loss)`` at ``step`` of each visible run that has got there
    (the loss-curve hover)."""
    rows = []
    for run in session.runs:
        if not (run.visible or run is session.run) or step > run.latest_step:
            continue
        row = run.row_at(step) if step > 0 else None
        a, b = (float(row["a"]), float(row["b"])) if row else session.start
        rows.append(
            (run.label, float(session.problem.loss(a, b, run.config.reduction)))
        )
    return rows


def lr_at(run: Run, step: int) -> float:
    """The learning rate ``run`` used at ``step`` (its setting before any)."""
    row = run.row_at(step)
    return float(row.get("lr", run.config.lr)) if row else run.config.lr


def draw_lr(run: Run, lr_strip) -> None:
    """The selected run's lr per step, when a schedule or a change moves it."""
    history = run.history
    if not len(history) or (run.config.schedule == "constant" and not run.changes):
        lr_strip.set_lr(np.empty(0), None, run.colour)
        return
    idx = history.display_indices(MAX_PATH_VERTICES)
    lr_strip.set_lr(history.take("step", idx), history.take("lr", idx), run.colour)


def run_status(run: Run, running: bool) -> str:
    if run.diverged:
        return "diverged"
    if running:
        return "running"
    return "paused" if run.latest_step else "ready"


def progress(run: Run, session: Session) -> str:
    """The plain-words verdict for ``run`` (see ``core.progress``)."""
    if run.diverged:
        return "diverged"
    reduction = run.config.reduction
    problem = session.problem
    tail = run.history.tail("loss", 200)
    start_loss = float(problem.loss(*session.start, reduction))
    return assess_progress(tail, problem.loss_opt(reduction), start_loss)


def run_rows(session: Session, running: bool) -> list[dict]:
    """One plain dict a run, for the Runs panel and ``snapshot()["runs"]``."""
    rows = []
    for run in session.runs:
        a, b = session.shown_parameters(run)
        row = run.row_at(session.shown_step)
        rows.append(
            {
                "label": run.label,
                "optimizer": run.config.optimizer,
                "lr": run.config.lr,
                "hyperparameters": dict(run.config.hyperparameters),
                "batch_size": run.config.batch_size,
                "schedule": run.config.schedule,
                "a": a,
                "b": b,
                "loss": float(session.problem.loss(a, b, run.config.reduction)),
                "step": int(row["step"]) if row else 0,
                "status": run_status(run, running),
                "message": run.message,
                "visible": run.visible,
                "colour": run.colour,
            }
        )
    return rows


def status(session: Session, *, ready: bool, running: bool) -> str:
    """The window's status: ``loading``, ``diverged`` (the selected run),
    ``running``, ``paused`` or ``ready``."""
    if not ready:
        return "loading"
    if session.run.diverged:
        return "diverged"
    if running:
        return "running"
    return "paused" if session.latest_step else "ready"


def snapshot(
    session: Session,
    *,
    ready: bool,
    running: bool,
    drag: tuple[float, float] | None = None,
) -> dict:
    """What the window shows: the selected run at the shown step (at the
    dragged start while the handle moves) and every run under ``runs``."""
    run, config = session.run, session.run.config
    a, b = drag if drag is not None else session.shown_parameters(run)
    row = run.row_at(session.shown_step)
    lr_now = lr_at(run, session.shown_step)
    return {
        "step": session.shown_step,
        "latest_step": session.latest_step,
        "epoch": int(row["epoch"]) if row else 0,
        "a": float(a),
        "b": float(b),
        "loss": float(session.problem.loss(a, b, config.reduction)),
        "running": running,
        "status": status(session, ready=ready, running=running),
        "message": run.message,
        "progress": progress(run, session),
        "start": tuple(session.start),
        "optimizer": config.optimizer,
        "lr": config.lr,
        "lr_now": float(lr_now),
        "schedule": config.schedule,
        "batch_size": config.batch_size,
        "reduction": config.reduction,
        "n": session.data.n,
        "data": session.data.name,
        "ready": ready,
        "selected": session.selected,
        "runs": run_rows(session, running),
        "display": dataclasses.asdict(session.display),
        "scaling": scaling_numbers(session, a, b),
    }


def scaling_numbers(session: Session, a: float, b: float) -> dict:
    """The scaling, and the shown line and the surface's conditioning in the
    original units beside the scaled ones."""
    x, y = session.scale_modes
    original = session.scaling.to_original(a, b)
    return {
        "x": x,
        "y": y,
        "a_original": float(original[0]),
        "b_original": float(original[1]),
        "condition_number": float(session.problem.condition_number()),
        "raw_condition_number": float(session.raw_problem.condition_number()),
    }


def scaling_text(snap: dict) -> str:
    scaled = snap["scaling"]
    if (scaled["x"], scaled["y"]) == ("none", "none"):
        return ""
    return (
        f"a = {scaled['a_original']:.6g}, b = {scaled['b_original']:.6g}; "
        f"κ = {scaled['condition_number']:.3g} (raw data: "
        f"{scaled['raw_condition_number']:.3g})"
    )


def show_readouts(readouts, session: Session, snap: dict) -> None:
    """The readout panel for the selected run at the shown step."""
    config = session.run.config
    readouts.show_status(
        snap["status"], snap["message"] if snap["status"] == "diverged" else ""
    )
    readouts.show_pinned(pinned_text(session, snap))
    readouts.show_scaling(scaling_text(snap))
    readouts.show_state(
        session.problem,
        config.reduction,
        snap["step"],
        snap["epoch"],
        snap["a"],
        snap["b"],
        config.lr,
        snap["progress"],
        snap["lr_now"],
    )


def pinned_text(session: Session, snap: dict) -> str:
    """My line against the optimum and the selected run, in numbers."""
    pinned = snap.get("pinned")
    if not pinned:
        return "none: hover the surface and press P"
    optimum = session.problem.loss_opt(session.run.config.reduction)
    above = pinned["loss"] - optimum
    runs = "\n".join(
        f"{row['label']}: L = {row['loss']:.4g}"
        + (" (better)" if row["loss"] < pinned["loss"] else "")
        for row in snap["runs"]
        if row["visible"]
    )
    return (
        f"a = {pinned['a']:.4g}, b = {pinned['b']:.4g}, L = {pinned['loss']:.4g}\n"
        f"optimum L* = {optimum:.4g} (mine is {above:+.3g} above)\n{runs}"
    )


def divergence_text(session: Session) -> str:
    """The banner: each diverged run's message (named when there are several)."""
    several = len(session.runs) > 1
    return "\n".join(
        f"⚠ {run.label}: {run.message}" if several else f"⚠ {run.message}"
        for run in session.runs
        if run.diverged
    )


def _dataset_key(data) -> str:
    """How the Data controls' combo names ``data`` ("" for generated data)."""
    if data.source.startswith("bundled:"):
        return data.source.removeprefix("bundled:")
    return "" if data.is_generated else data.name


def show_data_size(controls, data) -> None:
    controls.set_data_size(data.n, _dataset_key(data))


def show_dataset(controls, fit_view, data, fitted=None) -> None:
    """New data in the Data controls and the fit view (which shows
    ``fitted``, the data scaled as the runs fit them, when given)."""
    show_data_size(controls, data)
    if data.is_generated:
        controls.set_generator_values(
            data.n, data.true_a, data.true_b, data.noise, data.seed or 0
        )
    fit_view.set_dataset(data if fitted is None else fitted)


def show_surface(surface_view, loss_view, session: Session) -> None:
    """The selected run's loss surface, redrawn only when the data or the
    loss reduction differ from what it shows (redrawing resets the view)."""
    reduction = session.run.config.reduction
    problem = session.problem
    shown = (id(problem), reduction)
    if getattr(surface_view, "shown_surface", None) != shown:
        surface_view.shown_surface = shown
        surface_view.set_problem(problem, reduction, session.start)
        if session.data is not session.raw_data:  # feature scaling
            surface_view.show_caption(
                f" · scaled data, κ = {problem.condition_number():.3g} "
                f"(raw: {session.raw_problem.condition_number():.3g})"
            )
    loss_view.set_optimum(problem.loss_opt(reduction))


def loss_equation(session: Session) -> str:
    """The selected run's loss at the shown step as a sum of squared
    residuals, with its numbers (its value from the closed form)."""
    run, data = session.run, session.data
    a, b = session.shown_parameters(run)
    reduction = run.config.reduction
    loss = float(session.problem.loss(a, b, reduction))
    return loss_terms.loss_equation(data.x, data.y, a, b, reduction, loss=loss)


def show_display(session: Session, window) -> None:
    """The session's display options in the Explain box and the views."""
    display = session.display
    window.explain_box.show_options(display)
    fit_view = window.fit_view
    if fit_view.residual_style != display.residuals:
        fit_view.set_residual_style(display.residuals)
    if fit_view.equal_aspect != display.equal_aspect:
        fit_view.set_equal_aspect(display.equal_aspect)
    window.loss_equation.setVisible(display.loss_equation)
    window.surface_view.show_field(display.gradient_field)


def key_numbers(snap: dict) -> str:
    """The selected run's a, b and loss at the shown step, in one line."""
    return f"a = {snap['a']:.5g}   b = {snap['b']:.5g}   L = {snap['loss']:.5g}"


def window_title(snap: dict) -> str:
    return f"sgd_viewer — {snap['data']} — step {snap['step']:,} ({snap['status']})"
