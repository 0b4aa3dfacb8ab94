"""The training engine behind the window: every torch object of a session
(its :class:`~sgd_viewer.core.race.Race`, a scratch trainer for drag
previews) and the commands the window's worker sends it.

One class, two homes. :class:`Engine` runs wherever it is built: in the
worker's thread (the fallback) or in a process of its own
(:mod:`sgd_viewer.core.engine_process`, the default), where the training no
longer shares the window's GIL. Both answer the same commands with the same
plain values (numpy step batches, dicts, numbers), so that the worker does
not know which it talks to.

Stepping is split into :meth:`Engine.request_step` and
:meth:`Engine.collect`: in a process the next chunk is computed while the
window draws the last one; here the request only notes the count and
``collect`` does the work.

Imports torch when an engine is built; never Qt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.history import StepBatch
from sgd_viewer.core.recipe import RunRecipe

RunBatches = dict[int, StepBatch]


@dataclass(frozen=True)
class Chunk:
    """What one chunk of steps gave: every run's new steps (by run id),
    whether any run can still step, and the chunk's own compute time."""

    batches: RunBatches
    going: bool
    count: int
    seconds: float


class Engine:
    """The runs' trainers of one window, built from its data, runs and start.

    Raises ``ValueError`` for settings that cannot run (the worker shows the
    message) and ``KeyError`` for a run id it does not have.
    """

    #: Whether the next chunk is computed while the caller does other work
    #: (only in a process of its own).
    overlaps = False

    def __init__(
        self,
        data: Dataset,
        runs: list[tuple[int, TrainingConfig]],
        start: tuple[float, float],
    ) -> None:
        import torch

        # One intra-op thread: the fastest for two scalar parameters, and the
        # window's thread needs the other core.
        torch.set_num_threads(1)
        from sgd_viewer.core.race import Race

        self.torch_version = torch.__version__
        self._data = data
        self._race = Race(data, start)
        for run_id, config in runs:
            self._race.add(run_id, config)
        self._preview = None
        self._preview_config: TrainingConfig | None = None
        self._requested: int | None = None

    # ------------------------------------------------------------- stepping
    @property
    def in_flight(self) -> bool:
        """A chunk has been requested and not yet collected."""
        return self._requested is not None

    def request_step(self, count: int) -> None:
        """Ask for ``count`` more steps of every run still going."""
        if self._requested is not None:
            raise RuntimeError("a chunk is already in flight")
        self._requested = count

    def collect(self) -> Chunk:
        """The chunk asked for by :meth:`request_step`."""
        count, self._requested = self._requested, None
        if count is None:
            raise RuntimeError("no chunk was requested")
        return self.step(count)

    def step(self, count: int) -> Chunk:
        """``count`` more steps of every run still going, now."""
        began = time.perf_counter()
        batches = self._race.step(count)
        return Chunk(batches, self._race.going, count, time.perf_counter() - began)

    def going(self) -> bool:
        """Whether any run can still take a step."""
        return self._race.going

    # ------------------------------------------------------------- the runs
    def add(self, run_id: int, config: TrainingConfig) -> None:
        self._race.add(run_id, config)

    def remove(self, run_id: int) -> None:
        self._race.remove(run_id)

    def configure(self, run_id: int, config: TrainingConfig) -> int:
        """New settings for one run from its next step on; returns the step
        after which they took effect."""
        self._race.configure(run_id, config)
        return self._race.trainers[run_id].step_count

    def reset(self, start: tuple[float, float]) -> None:
        self._race.reset(start)

    def rewind(self, step: int) -> None:
        self._race.rewind(step)

    def set_data(self, data: Dataset) -> None:
        self._data = data
        self._preview = None
        self._race.set_data(data)

    def load(
        self,
        data: Dataset,
        start: tuple[float, float],
        plans: list[tuple[int, RunRecipe, int]],
    ) -> tuple[RunBatches, str | None]:
        """Replace every run by a saved session's, each ``(run id, recipe,
        steps)`` replayed from the start. Returns their steps and, if a recipe
        could not be replayed, why (the runs replayed before it are kept)."""
        from sgd_viewer.core.race import Race
        from sgd_viewer.core.recipe import replay

        self._data = data
        self._preview = None
        race = Race(data, start)
        batches: RunBatches = {}
        error = None
        try:
            for run_id, recipe, steps in plans:
                played = replay(race.add(run_id, recipe.config), recipe, steps)
                if played:
                    batches[run_id] = StepBatch.concatenate(played)
        except ValueError as failure:
            error = str(failure)
        self._race = race
        return batches, error

    # ------------------------------------------------------ looking around
    def preview(
        self, a0: float, b0: float, config: TrainingConfig, steps: int
    ) -> StepBatch:
        """``steps`` steps from ``(a0, b0)`` with ``config`` on a scratch
        trainer (the runs are not touched)."""
        if self._preview is None or self._preview_config != config:
            from sgd_viewer.core.trainer import Trainer

            self._preview = Trainer(
                self._data, config, (a0, b0), problem=self._race.problem
            )
            self._preview_config = config
        else:
            self._preview.reset(a0, b0)
        return self._preview.step(steps)

    def explain(self, run_id: int, step: int) -> dict | None:
        """The update that produced ``step`` of a run, as a plain dict
        (``core.update_terms``), or ``None`` where there is none."""
        from sgd_viewer.core.update_explainer import explain_step

        update = explain_step(self._race.trainers[run_id], step)
        return None if update is None else update.as_dict()

    def trainer_state(self, run_id: int) -> dict:
        """A run's position, for checks: its start, step and status."""
        trainer = self._race.trainers[run_id]
        return {
            "start": trainer.start,
            "step": trainer.step_count,
            "status": trainer.status,
            "config": trainer.config,
        }

    def close(self) -> None:
        """Nothing to release here (the process engine returns to its pool)."""
