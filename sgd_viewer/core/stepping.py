"""What happens to one trainer after each step's gradient is known: the
optimizer's update, the schedule, the row of numbers, the divergence check and
the checkpoints.

A :class:`Stepping` lives for one call of ``Trainer.step`` (or one chunk of a
race stepped in lockstep, see :mod:`sgd_viewer.core.race`). The gradient can
come from the trainer's own backward pass or from one backward pass over every
racing run: whatever computed it, the same code turns it into the run's next
step, so a run's numbers do not depend on who it ran with.

The per-step values are hoisted into attributes once per call: the loop runs
tens of thousands of times a second.

Imports torch; never Qt.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from sgd_viewer.core.history import COLUMNS, StepBatch
from sgd_viewer.core.torch_state import bare_step, is_plain_sgd


class Stepping:
    """Turns gradients into steps of one trainer, for up to ``count`` steps."""

    # ``trainer`` is a core.trainer.Trainer, which imports this module.
    def __init__(self, trainer: Any, count: int) -> None:
        self.trainer = trainer
        self.rows: dict[str, list] = {name: [] for name in COLUMNS}
        self.params = trainer.params
        optimizer = trainer.optimizer
        self.group = optimizer.param_groups[0]
        config, problem = trainer.config, trainer.problem
        reduction = config.reduction
        batch_size = config.effective_batch_size(problem.n)
        self.full_batch = batch_size is None
        closed = self.full_batch and config.loss_form == "closed"
        #: The constant the closed-form loss leaves out of the graph.
        self.loss_offset = trainer._loss_offset if closed else 0.0
        self._scale = problem.scale(reduction)
        self._a_opt, self._x_mean = problem.a_opt, problem.x_mean
        self._y_mean, self._cxx = problem.y_mean, problem.cxx
        self._loss_opt = problem.loss_opt(reduction)
        self._loss_limit = trainer._loss_limit
        self.schedule = trainer._schedule
        self.plain_sgd = self.schedule is None and is_plain_sgd(optimizer)
        self._step_now = bare_step(optimizer) or optimizer.step
        self._checkpoints = trainer.checkpoints
        interval = self._checkpoints.interval
        self._next_checkpoint = (trainer.step_count // interval + 1) * interval
        self.diverged_step: int | None = None
        self._blown_loss = float("nan")
        self._began = time.perf_counter()
        if count > 0:
            trainer.status = "running"  # also what checkpoints taken below record

    def update(self, lr_used: float) -> None:
        """The optimizer's update from the gradient in ``params.grad``."""
        if self.plain_sgd:
            # torch.optim's single-tensor SGD step, bit for bit, without its
            # wrapper and profiler hooks (see torch_state.is_plain_sgd).
            with torch.no_grad():
                self.params.add_(self.params.grad, alpha=-lr_used)
        else:
            self._step_now()

    def record(self, lr_used: float, batch_loss: float, point=None, grad=None) -> bool:
        """After the update: the schedule's step and the step's row. Returns
        False (and records nothing) if the step diverged. ``point`` and
        ``grad``, the new ``(a, b)`` and the gradient used, where the caller
        has read them already (a race reads every run's at once)."""
        if self.schedule is not None:
            self.schedule.step()
        params = self.params
        a_now, b_now = params.tolist() if point is None else point
        # Problem.loss inlined on floats: numpy scalars would cost 5 µs a step.
        slope_error = a_now - self._a_opt
        centre_error = a_now * self._x_mean + b_now - self._y_mean
        loss_now = (
            self._cxx * slope_error * slope_error + centre_error * centre_error
        ) * self._scale + self._loss_opt
        trainer = self.trainer
        step_number = trainer.step_count + 1
        if not (
            math.isfinite(a_now)
            and math.isfinite(b_now)
            and math.isfinite(batch_loss)
            and loss_now <= self._loss_limit
        ):
            self.diverged_step = step_number
            self._blown_loss = loss_now
            return False
        trainer.step_count = step_number
        if self.full_batch:
            trainer.epoch = step_number
        rows = self.rows
        rows["step"].append(step_number)
        rows["epoch"].append(trainer.epoch)
        rows["a"].append(a_now)
        rows["b"].append(b_now)
        rows["loss"].append(loss_now)
        rows["batch_loss"].append(batch_loss)
        grad_a, grad_b = params.grad.tolist() if grad is None else grad
        rows["grad_a"].append(grad_a)
        rows["grad_b"].append(grad_b)
        rows["lr"].append(lr_used)
        if step_number == self._next_checkpoint:
            checkpoints = self._checkpoints
            checkpoints.add(
                trainer._checkpoint({name: rows[name][-1] for name in COLUMNS})
            )
            interval = checkpoints.interval  # thinning may have doubled it
            self._next_checkpoint = (step_number // interval + 1) * interval
        return True

    def finish(self, count: int, sharing: int = 1) -> StepBatch:
        """The steps taken as one batch; the trainer's status and message.

        ``sharing``: how many runs shared the wall time since the start (a
        race in lockstep), so that the checkpoint interval adapts to this
        run's own cost per step.
        """
        trainer, rows = self.trainer, self.rows
        taken = len(rows["a"])
        if count >= 16 and taken:
            seconds = (time.perf_counter() - self._began) / sharing
            trainer.checkpoints.adapt(seconds / taken)
        if taken:
            trainer._last_good = (rows["a"][-1], rows["b"][-1])
        if self.diverged_step is None:
            trainer.status = "running"
            return StepBatch.from_rows(rows)
        trainer._restore_last_good()
        trainer.status = "diverged"
        trainer.message = trainer.divergence_message(
            self.diverged_step, self._blown_loss
        )
        return StepBatch.from_rows(
            rows,
            status="diverged",
            message=trainer.message,
            diverged_step=self.diverged_step,
        )
