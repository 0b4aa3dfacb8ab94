"""The session: data, start, the runs (1 to 8) and the step being viewed.

The Qt-free model the window's views observe (napari's ViewerModel is the
pattern): every command changes it and then tells its listeners what changed
(``"runs"``, ``"steps"``, ``"view"``, ``"data"``, ``"selection"``,
``"hover"``, ``"pinned"``, ``"display"``), plain callbacks. The window turns
user gestures into commands and worker messages into :meth:`Session.record`;
it keeps no state of its own.

A run here is its recipe (settings at step 0, the changes made since, label,
colour) plus its result (a bounded :class:`History`, a status). The torch side
of each run lives in the worker's :class:`~sgd_viewer.core.race.Race`, keyed by
the same run id.

numpy and stdlib only: no torch (the window builds the session before torch
loads), no Qt.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from sgd_viewer.core.config import TrainingConfig, needs_reset
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.display import DisplayOptions
from sgd_viewer.core.history import History, StepBatch
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.recipe import (
    MAX_RUNS,
    RunRecipe,
    SettingChange,
    change_between,
    default_label,
    next_colour,
)
from sgd_viewer.core.scaling import Scaling, scale

Listener = Callable[[str], None]


@dataclass
class Run:
    """One run of the session: what it is and how far it has got."""

    id: int
    config: TrainingConfig
    colour: str
    label: str = ""
    custom_label: bool = False
    visible: bool = True
    initial_config: TrainingConfig | None = None
    changes: list[SettingChange] = field(default_factory=list)
    history: History = field(default_factory=lambda: History(track_lr=True))
    message: str = ""
    #: Changes at the end of ``changes`` whose step the worker has not yet
    #: confirmed (while running it is ahead of what the window has drawn).
    unsettled: int = 0

    def __post_init__(self) -> None:
        if self.initial_config is None:
            self.initial_config = self.config
        if not self.label:
            self.label = default_label(self.config)

    @property
    def diverged(self) -> bool:
        return bool(self.message)

    @property
    def latest_step(self) -> int:
        return self.history.last_step

    def recipe(self) -> RunRecipe:
        """The run as plain data that replays to the same trajectory."""
        assert self.initial_config is not None
        return RunRecipe(
            self.initial_config, self.label, self.colour, tuple(self.changes)
        )

    def row_at(self, step: int) -> dict[str, float] | None:
        """The run's row at ``step`` (its latest, if it stopped earlier)."""
        return self.history.row_at(step)


class Session:
    """Data, start and runs, with the step being viewed.

    Parameters
    ----------
    data, start
        What every run fits, and from where.
    configs
        The runs' settings (at least one).
    """

    def __init__(
        self,
        data: Dataset,
        start: tuple[float, float],
        configs: list[TrainingConfig],
    ) -> None:
        self._ids = itertools.count(1)
        self._listeners: list[Listener] = []
        self.data = data
        self.problem = Problem.from_data(data.x, data.y)
        #: The data as loaded, and how ``data`` (what the runs fit) scales
        #: them (feature scaling: see ``core.scaling``).
        self.raw_data = data
        self.raw_problem = self.problem
        self.scale_modes = ("none", "none")
        self.scaling = Scaling()
        self.start = (float(start[0]), float(start[1]))
        self.runs: list[Run] = []
        self.selected = 0
        #: The step the views show; ``None`` follows the latest step.
        self.viewed_step: int | None = None
        #: Bumped by every command that starts all runs again or rewinds them:
        #: steps still in flight from before carry the old number and are dropped.
        self.generation = 0
        #: The guess under the cursor on the surface, and the guess pinned as
        #: "my line" (PhET's "My line vs best-fit line"); ``None`` if none.
        self.hover: tuple[float, float] | None = None
        self.pinned: tuple[float, float] | None = None
        self.display = DisplayOptions()
        for config in configs or [TrainingConfig()]:
            self.add_run(config)

    # ------------------------------------------------------------ events
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, what: str) -> None:
        for listener in self._listeners:
            listener(what)

    # ---------------------------------------------------------- queries
    @property
    def run(self) -> Run:
        """The selected run."""
        return self.runs[self.selected]

    def index_of(self, run_id: int) -> int | None:
        for index, run in enumerate(self.runs):
            if run.id == run_id:
                return index
        return None

    @property
    def latest_step(self) -> int:
        return max(run.latest_step for run in self.runs)

    @property
    def shown_step(self) -> int:
        """The step the views show now."""
        return self.latest_step if self.viewed_step is None else self.viewed_step

    @property
    def in_past(self) -> bool:
        """Whether the views show a step before the latest one."""
        return self.viewed_step is not None and self.viewed_step < self.latest_step

    def shown_parameters(self, run: Run) -> tuple[float, float]:
        """``(a, b)`` of ``run`` at the shown step."""
        row = run.row_at(self.shown_step)
        return (float(row["a"]), float(row["b"])) if row else self.start

    def going(self) -> bool:
        """Whether any run can still take a step."""
        return any(not run.diverged for run in self.runs)

    # --------------------------------------------------------- commands
    def add_run(self, config: TrainingConfig, label: str | None = None) -> int:
        """A new run at step 0; returns its index (``ValueError`` past 8)."""
        if len(self.runs) >= MAX_RUNS:
            raise ValueError(f"a session holds at most {MAX_RUNS} runs")
        run = Run(
            next(self._ids),
            config,
            next_colour([r.colour for r in self.runs]),
            label=label or "",
            custom_label=bool(label),
        )
        self.runs.append(run)
        self._emit("runs")
        return len(self.runs) - 1

    def remove_run(self, index: int) -> Run:
        """Drop a run (``ValueError`` for the last one: a session has one)."""
        if len(self.runs) == 1:
            raise ValueError("the last run cannot be removed")
        run = self.runs.pop(self._check(index))
        if index < self.selected:
            self.selected -= 1  # the same run stays selected
        self.selected = min(self.selected, len(self.runs) - 1)
        self._clamp_view()
        self._emit("runs")
        return run

    def select(self, index: int) -> None:
        self.selected = self._check(index)
        self._emit("selection")

    def set_visible(self, index: int, visible: bool) -> None:
        self.runs[self._check(index)].visible = bool(visible)
        self._emit("runs")

    def rename(self, index: int, label: str) -> None:
        """A label of the user's own; an empty one brings the generated back."""
        run = self.runs[self._check(index)]
        run.custom_label = bool(label.strip())
        run.label = label.strip() or default_label(run.config)
        self._emit("runs")

    def configure(self, index: int, config: TrainingConfig) -> int | None:
        """New settings for a run. A change of what the steps mean (see
        ``needs_reset``) starts the run again under a new id, which is
        returned; lr, knobs and batch size change mid-run and are recorded in
        its recipe (``None`` returned)."""
        run = self.runs[self._check(index)]
        old, run.config = run.config, config
        if not run.custom_label:
            run.label = default_label(config)
        restarted = None
        if needs_reset(old, config):
            run.id = next(self._ids)
            run.initial_config = config
            run.changes.clear()
            run.unsettled = 0
            run.history.clear()
            run.message = ""
            restarted = run.id
            self._clamp_view()
        elif run.diverged:
            # Made after the step that diverged: a replay diverges first too.
            # The engine's trainer stays diverged, so nothing will settle it.
            change = change_between(run.latest_step + 1, old, config)
            if change is not None:
                run.changes.append(change)
        else:
            change = change_between(run.latest_step, old, config)
            if change is not None:
                run.changes.append(change)
                run.unsettled += 1
        self._emit("runs")
        return restarted

    def settle_change(self, run_id: int, step: int) -> None:
        """The worker applied the oldest unconfirmed change of a run after
        ``step`` steps: that is the step its recipe records."""
        index = self.index_of(run_id)
        if index is None or not self.runs[index].unsettled:
            return
        run = self.runs[index]
        at = len(run.changes) - run.unsettled
        run.unsettled -= 1
        if step == 0:
            # Made before the first step: the run's initial settings (the
            # engine's trainer started afresh with them).
            assert run.initial_config is not None
            run.initial_config = run.changes.pop(at).apply(run.initial_config)
            return
        run.changes[at] = dataclasses.replace(run.changes[at], step=int(step))

    def restart(self) -> None:
        """Every run back to step 0 (Reset); settings as they are now."""
        self.generation += 1
        self.viewed_step = None
        for run in self.runs:
            run.history.clear()
            run.message = ""
            run.initial_config = run.config
            run.changes.clear()
            run.unsettled = 0
        self._emit("steps")

    def set_start(self, a: float, b: float) -> None:
        self.start = (float(a), float(b))
        self.restart()

    def set_data(self, data: Dataset, problem: Problem | None = None) -> None:
        """New data (``problem``: their statistics, if already known), scaled
        as the session scales; data that cannot be (a constant y to
        standardize) are fitted as they are."""
        self.raw_data = data
        self.raw_problem = problem or Problem.from_data(data.x, data.y)
        try:
            self._apply_scaling(*self.scale_modes)
        except ValueError:
            self._apply_scaling("none", "none")
        self.restart()
        self._emit("data")

    def set_scaling(self, x: str, y: str) -> None:
        """Fit the data centred or standardized (``x``: none, center or
        standardize; ``y`` the same); every run starts again. ``ValueError``
        (and nothing changes) when the data cannot be scaled so."""
        self._apply_scaling(x, y)
        self.restart()
        self._emit("data")

    def _apply_scaling(self, x: str, y: str) -> None:
        data, scaling = scale(self.raw_data, x, y)
        self.scale_modes, self.scaling, self.data = (x, y), scaling, data
        self.problem = (
            self.raw_problem
            if data is self.raw_data
            else Problem.from_data(data.x, data.y)
        )

    def restore(
        self,
        data: Dataset,
        start: tuple[float, float],
        runs: list[tuple[RunRecipe, bool, bool]],
        *,
        selected: int = 0,
        display: DisplayOptions | None = None,
        pinned: tuple[float, float] | None = None,
        scale_modes: tuple[str, str] = ("none", "none"),
    ) -> None:
        """Replace data, start and runs with a saved session's (each run as
        ``(recipe, visible, custom_label)``), every run at step 0 under a new
        id: the engine replays the recipes and :meth:`record` takes the steps."""
        if not 1 <= len(runs) <= MAX_RUNS:
            raise ValueError(f"a session holds 1 to {MAX_RUNS} runs")
        self.raw_data = data
        self.raw_problem = Problem.from_data(data.x, data.y)
        self._apply_scaling(*scale_modes)
        self.start = (float(start[0]), float(start[1]))
        self.generation += 1
        self.viewed_step = None
        self.runs = []
        for recipe, visible, custom_label in runs:
            current = recipe.config
            for change in recipe.changes:
                current = change.apply(current)
            self.runs.append(
                Run(
                    next(self._ids),
                    current,
                    recipe.colour,
                    label=recipe.label,
                    custom_label=custom_label,
                    visible=visible,
                    initial_config=recipe.config,
                    changes=list(recipe.changes),
                )
            )
        self.selected = min(max(selected, 0), len(self.runs) - 1)
        self.display = display or DisplayOptions()
        self.pinned = pinned
        self.hover = None
        for what in ("data", "runs", "steps", "display", "pinned"):
            self._emit(what)

    def record(self, generation: int, batches: dict[int, StepBatch]) -> list[Run]:
        """Steps from the worker, by run id; returns the runs that diverged in
        them. Steps of an older generation or of runs since restarted are
        dropped."""
        if generation != self.generation:
            return []
        diverged = []
        for run_id, batch in batches.items():
            index = self.index_of(run_id)
            if index is None:
                continue
            run = self.runs[index]
            run.history.append(batch)
            if batch.diverged and not run.diverged:
                run.message = batch.message
                diverged.append(run)
        self._emit("steps")
        return diverged

    def view(self, step: int | None) -> None:
        """Show ``step`` (clamped to 0 … latest); ``None`` or the latest step
        follows the run as it goes."""
        latest = self.latest_step
        if step is not None:
            step = min(max(int(step), 0), latest)
            if step >= latest:
                step = None
        if step != self.viewed_step:
            self.viewed_step = step
            self._emit("view")

    def cut_at_view(self) -> int | None:
        """Continue from the past: forget every run's steps after the viewed
        step; returns that step, or ``None`` when the latest step is shown."""
        if not self.in_past:
            self.viewed_step = None
            return None
        step = self.viewed_step
        assert step is not None
        self.generation += 1
        for run in self.runs:
            if run.latest_step > step:
                run.message = ""  # a divergence after the cut never happened
            run.history.truncate(step)
            run.changes = [c for c in run.changes if c.step <= step]
            run.unsettled = 0
            if run.changes:
                run.config = run.changes[-1].apply(run.initial_config)
            else:
                run.config = run.initial_config
            if not run.custom_label:
                run.label = default_label(run.config)
        self.viewed_step = None
        self._emit("steps")
        return step

    def set_hover(self, guess: tuple[float, float] | None) -> None:
        """The guess under the cursor (``None`` when it leaves the surface)."""
        guess = None if guess is None else (float(guess[0]), float(guess[1]))
        if guess != self.hover:
            self.hover = guess
            self._emit("hover")

    def pin(self, guess: tuple[float, float] | None) -> None:
        """Keep ``guess`` as "my line" to compare with the runs (``None``
        unpins)."""
        guess = None if guess is None else (float(guess[0]), float(guess[1]))
        if guess != self.pinned:
            self.pinned = guess
            self._emit("pinned")

    def set_display(self, **changes) -> None:
        """Change display options by name (``ValueError`` for a bad one)."""
        display = self.display.with_changes(**changes)
        if display != self.display:
            self.display = display
            self._emit("display")

    def _clamp_view(self) -> None:
        """A viewed step that no run reaches any more (its steps were
        forgotten) gives way to the latest step."""
        if self.viewed_step is not None and self.viewed_step >= self.latest_step:
            self.viewed_step = None

    def _check(self, index: int) -> int:
        if not 0 <= index < len(self.runs):
            raise IndexError(f"no run {index}: the session has {len(self.runs)}")
        return index
