"""The update behind any step of a run, with the optimizer's own numbers.

A run is a deterministic recipe (DESIGN.md §10): its exact state after step
``k − 1`` comes back from the nearest checkpoint plus a replay, on a twin of
the trainer so that the run itself is not touched. One more step there, with
the optimizer's state captured before and read after, is the update that
produced step ``k``: :func:`explain_step`. Costs at most one checkpoint
interval of replay (about 10 ms of steps) plus building the twin.

Imports torch (through the trainer); never Qt.
"""

from __future__ import annotations

from sgd_viewer.core.trainer import Trainer
from sgd_viewer.core.update_terms import (
    UpdateExplanation,
    capture_state,
    explain_update,
)


def explain_step(trainer: Trainer, step: int) -> UpdateExplanation | None:
    """The update that took ``trainer``'s run from step ``step − 1`` to
    ``step``; ``None`` for step 0 (no update yet) or a step not reached."""
    if not 1 <= step <= trainer.step_count:
        return None
    twin = trainer.twin()
    twin.rewind(step - 1)
    optimizer = twin.optimizer
    before = capture_state(optimizer)
    parameters_before = twin.parameters
    batch = twin.step(1)
    if not len(batch):
        return None  # the step blew up: nothing finite to show
    return explain_update(
        twin.config.optimizer,
        twin.optimizer,
        before,
        parameters_before,
        (float(batch.a[0]), float(batch.b[0])),
        (float(batch.grad_a[0]), float(batch.grad_b[0])),
        float(batch.lr[0]),
        step,
    )
