"""Session → views: what every view draws for the session's visible runs at
the shown step, and the rows of the Runs panel.

Pure functions over the session and the views' public methods; owns no state.
Each frame reads every run's history through ``display_indices``/``take``
(bounded vertices, DESIGN.md §5).
"""

from __future__ import annotations

import numpy as np

from sgd_viewer.core.progress import assess_progress
from sgd_viewer.core.session import Run, Session
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
    steps = np.r_[0, history.take("step", idx)]
    path_a = np.r_[a0, history.take("a", idx)]
    path_b = np.r_[b0, history.take("b", idx)]
    losses = np.r_[loss0, history.take("loss", idx)]
    batch_losses = None
    if run.config.effective_batch_size(problem.n) is not None:
        batch_losses = np.r_[loss0, history.take("batch_loss", idx)]
    return steps, path_a, path_b, losses, batch_losses


def draw(session: Session, fit_view, surface_view, loss_view, dragging: bool) -> None:
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
        surface_view.set_current(*surface.point)
        fit_view.set_lines(line, lines)
    loss_view.set_runs(curve, loss_parts, batch_losses)


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
