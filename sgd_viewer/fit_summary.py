"""The JSON summary of a finished ``fit`` run: what ``fit --json`` prints and
what ``fit --session`` and the tests compare.

Imports neither Qt nor torch (the trainer it reads brings torch).
"""

from __future__ import annotations

from typing import Any


def summary(trainer) -> dict[str, Any]:
    """The JSON summary of a finished (or diverged) run."""
    problem, config = trainer.problem, trainer.config
    a, b = trainer.parameters
    return {
        "status": "diverged" if trainer.status == "diverged" else "ok",
        "message": trainer.message,
        "steps": trainer.step_count,
        "epoch": trainer.epoch,
        "a": a,
        "b": b,
        "loss": float(problem.loss(a, b, config.reduction)),
        "mse": float(problem.loss(a, b)),
        "n": problem.n,
        "data": trainer.data.name,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "hyperparameters": dict(config.hyperparameters),
        "batch_size": config.batch_size or "full",
        "schedule": config.schedule,
        "schedule_options": dict(config.schedule_options),
        "reduction": config.reduction,
        "dtype": config.dtype,
        "start": list(trainer.start),
        "optimum": {
            "a": problem.a_opt,
            "b": problem.b_opt,
            "loss": problem.loss_opt(config.reduction),
        },
        "lr_max": problem.lr_max(config.reduction),
        "condition_number": problem.condition_number(),
    }
