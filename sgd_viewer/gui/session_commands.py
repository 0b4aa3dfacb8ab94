"""Commands on the session that the engine must follow: each changes the
Qt-free :class:`~sgd_viewer.core.session.Session` and sends the matching
request to the worker, so that the two never disagree about the runs.

Knows nothing of widgets; raises ``ValueError`` (or ``SpecError``) with a
message for the user, which the window shows.
"""

from __future__ import annotations

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.race_presets import race_specs
from sgd_viewer.core.recipe import MAX_RUNS, parse_spec
from sgd_viewer.core.session import Session
from sgd_viewer.gui.engine_link import EngineLink


class SessionCommands:
    """The session and the engine, changed together."""

    def __init__(self, session: Session, engine: EngineLink) -> None:
        self.session = session
        self.engine = engine

    def _check_room(self) -> None:
        if len(self.session.runs) >= MAX_RUNS:
            raise ValueError(f"a session holds at most {MAX_RUNS} runs")

    def add_run(self, config: TrainingConfig, label: str | None = None) -> int:
        self._check_room()
        index = self.session.add_run(config, label)
        run = self.session.runs[index]
        self.engine.add_run.emit(run.id, run.config)
        return index

    def add_spec(self, spec: str) -> int:
        """A run from a spec (``SpecError`` naming the spec when it is bad)."""
        self._check_room()
        config, label = parse_spec(spec, self.session.run.config)
        return self.add_run(config, label)

    def remove_run(self, index: int) -> None:
        run = self.session.remove_run(index)
        self.engine.remove_run.emit(run.id)

    def configure(self, index: int, config: TrainingConfig) -> None:
        """New settings for a run: mid-run for lr, knobs and batch size; a
        change of meaning restarts that run under a new id."""
        run = self.session.runs[index]
        old_id = run.id
        new_id = self.session.configure(index, config)
        if new_id is not None:
            self.engine.remove_run.emit(old_id)
            self.engine.add_run.emit(new_id, config)
        else:
            self.engine.set_config.emit(run.id, config)

    def race(self) -> None:
        """One run per optimizer family at learning rates for these data."""
        session = self.session
        while len(session.runs) > 1:
            self.remove_run(len(session.runs) - 1)
        base = session.run.config
        specs = race_specs(session.problem, session.start, base.reduction)
        config, label = parse_spec(specs[0], base)
        self.configure(0, config)
        session.rename(0, label or "")
        for spec in specs[1:]:
            self.add_spec(spec)
        self.restart()
        session.select(0)

    def restart(self) -> None:
        """Every run back to the start."""
        self.session.restart()
        self.engine.reset.emit(self.session.generation, *self.session.start)

    def set_start(self, a: float, b: float) -> None:
        self.session.start = (float(a), float(b))
        self.restart()

    def continue_from_view(self) -> bool:
        """Viewing the past: every run forgets what came after and goes on
        from the shown step. Returns whether it did."""
        step = self.session.cut_at_view()
        if step is None:
            return False
        self.engine.rewind.emit(self.session.generation, step)
        return True

    def set_data(self, data: Dataset) -> None:
        self.session.set_data(data)
        self.engine.set_data.emit(self.session.generation, self.session.data)

    def set_scaling(self, x: str, y: str) -> None:
        """Fit the data scaled so (``ValueError`` when they cannot be)."""
        self.session.set_scaling(x, y)
        self.engine.set_data.emit(self.session.generation, self.session.data)

    def load(self, saved) -> None:
        """Everything replaced by a saved session (a ``SessionFile``); the
        engine replays its recipes and says ``loaded`` when done."""
        session = self.session
        session.restore(
            saved.data,
            saved.start,
            [(e.recipe, e.visible, e.custom_label) for e in saved.runs],
            selected=saved.selected,
            display=saved.display,
            pinned=saved.pinned,
            scale_modes=saved.scale_modes,
        )
        plans = [
            (run.id, entry.recipe, entry.replay_steps)
            for run, entry in zip(session.runs, saved.runs, strict=True)
        ]
        self.engine.load.emit(session.generation, session.data, session.start, plans)
