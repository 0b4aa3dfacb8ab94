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

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.history import StepBatch
from sgd_viewer.core.problem import Problem
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
        """``count`` more steps of every run still going, by run id."""
        return {
            run_id: trainer.step(count)
            for run_id, trainer in self.trainers.items()
            if trainer.status != "diverged"
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
