"""Several runs on one dataset from one start, stepped together: a race.

The engine behind the window's Runs panel and ``fit --compare``. Each run is a
:class:`~sgd_viewer.core.trainer.Trainer` keyed by the session's run id; all
share the data's statistics. Runs with the same batch size and seed draw the
same mini-batches: each run's stream is seeded by the recipe's seed, and the
draws are the same operations in the same order, so they see one sequence of
batches (a fair race; ``tests/core/test_race.py`` checks it).

Imports torch (through the trainer); never Qt.
"""

from __future__ import annotations

import torch

from sgd_viewer.core.closed_form import ClosedFormTerms, lockstep_backward
from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.history import StepBatch
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.stepping import Stepping
from sgd_viewer.core.trainer import Trainer


class Race:
    """The trainers of a session's runs, in the order they were added.

    Parameters
    ----------
    data, start
        Shared by every run.
    """

    def __init__(self, data: Dataset, start: tuple[float, float]) -> None:
        self.data = data
        self.problem = Problem.from_data(data.x, data.y)
        self.start = (float(start[0]), float(start[1]))
        self.trainers: dict[int, Trainer] = {}

    def add(self, run_id: int, config: TrainingConfig) -> Trainer:
        """A new run at step 0 (``ValueError`` for settings that cannot run)."""
        trainer = Trainer(self.data, config, self.start, problem=self.problem)
        self.trainers[run_id] = trainer
        return trainer

    def remove(self, run_id: int) -> None:
        self.trainers.pop(run_id, None)

    def configure(self, run_id: int, config: TrainingConfig) -> bool:
        """New settings for one run; returns whether it had to start again."""
        return self.trainers[run_id].configure(config)

    def reset(self, start: tuple[float, float] | None = None) -> None:
        """Every run back to step 0 (at a new start, if given)."""
        if start is not None:
            self.start = (float(start[0]), float(start[1]))
        for trainer in self.trainers.values():
            trainer.reset(*self.start)

    def set_data(self, data: Dataset) -> None:
        """New data for every run; all start again."""
        self.data = data
        self.problem = Problem.from_data(data.x, data.y)
        for trainer in self.trainers.values():
            trainer.start = self.start
            trainer.set_data(data, self.problem)

    def step(self, count: int) -> dict[int, StepBatch]:
        """``count`` more steps of every run still going, by run id.

        Full-batch runs of one dtype and device step in lockstep: one autograd
        graph and one ``backward`` give every one of them its gradient (see
        :func:`step_in_lockstep`); the others step one after another.
        """
        going = {
            run_id: trainer
            for run_id, trainer in self.trainers.items()
            if trainer.status != "diverged"
        }
        groups: dict[tuple, list[int]] = {}
        for run_id, trainer in going.items():
            if trainer.steps_in_lockstep:
                key = (trainer.config.dtype, trainer.config.device)
                groups.setdefault(key, []).append(run_id)
        batches: dict[int, StepBatch] = {}
        for run_ids in groups.values():
            if len(run_ids) > 1:
                stepped = step_in_lockstep([going[i] for i in run_ids], count)
                batches.update(zip(run_ids, stepped, strict=True))
        return {
            run_id: batches[run_id] if run_id in batches else trainer.step(count)
            for run_id, trainer in going.items()
        }

    def rewind(self, step: int) -> None:
        """Every run back to its exact state after ``step`` steps (runs that
        have not got that far stay where they are)."""
        for trainer in self.trainers.values():
            trainer.rewind(step)

    @property
    def step_count(self) -> int:
        """The furthest any run has got."""
        return max((t.step_count for t in self.trainers.values()), default=0)

    @property
    def going(self) -> bool:
        """Whether any run can still take a step."""
        return any(t.status != "diverged" for t in self.trainers.values())


def step_in_lockstep(trainers: list[Trainer], count: int) -> list[StepBatch]:
    """``count`` steps of full-batch closed-form runs of one dtype, together.

    Each step stacks the runs' parameters, computes every run's closed-form
    loss element by element and calls ``backward`` once on their sum: the
    gradient of a sum is each run's own gradient, and each element's
    arithmetic is a trainer's own (``core.closed_form``; runs step in lockstep
    only where ``lockstep_is_exact`` has checked that on this machine), so
    every run's numbers are bit for bit its own trainer's. Autograd's fixed
    cost per ``backward`` is then paid once a step instead of once a run.
    Each run's optimizer update, schedule, row and checkpoints are its own
    (:class:`~sgd_viewer.core.stepping.Stepping`); a run that diverges drops
    out and the others go on.
    """
    steppings = [Stepping(trainer, count) for trainer in trainers]
    going = list(steppings)
    terms = ClosedFormTerms.stacked([t.closed_form_terms for t in trainers])
    for _ in range(count):
        lrs = [s.group["lr"] for s in going]
        values, grads = lockstep_backward([s.params for s in going], terms)
        for stepping, lr_used in zip(going, lrs, strict=True):
            stepping.update(lr_used)
        with torch.no_grad():  # every run's new (a, b) in one read
            now = torch.stack([s.params for s in going]).tolist()
        still = [
            stepping
            for stepping, lr_used, value, point, grad in zip(
                going, lrs, values, now, grads, strict=True
            )
            if stepping.record(lr_used, value + stepping.loss_offset, point, grad)
        ]
        if len(still) != len(going):
            if not still:
                break
            going = still
            terms = ClosedFormTerms.stacked(
                [s.trainer.closed_form_terms for s in going]
            )
    return [s.finish(count, sharing=len(trainers)) for s in steppings]
