"""The trainer's thread: a QObject that owns the runs' trainers on one QThread.

Owns every torch object of the app: a :class:`~sgd_viewer.core.race.Race` of
the session's runs, keyed by the session's run ids, stepped together chunk by
chunk. The GUI talks to it only through queued
signals (see DESIGN.md §3) and one ``threading.Event`` for pausing, which the GUI
sets directly so that a pause never waits behind queued work.

Running is a chain of short chunks driven by a timer in this thread, never a
blocking loop: between two chunks the thread's event loop delivers the GUI's
queued requests (a new learning rate, a reset, a preview), so they apply
mid-run. Steps are sent to the GUI at most 60 times a second, each message
carrying every step since the last one (``pacing`` sizes chunks and spaces
messages).

After sending, a running loop waits (at most ``FRAME_WAIT_SECONDS``) until the
window says it has drawn them (``frame_shown``). The two threads share one
GIL: while the window draws, its many short Python calls (pyqtgraph paints in
Python) each had to wrest the GIL from the trainer, which releases and retakes
it around every torch call; the handovers cost both threads more than the work
itself (the trainer ran at ~0.5× its headless speed). Taking turns, each runs
undisturbed, and the window is never more than one frame behind.

Imports torch only inside :meth:`TrainerWorker.initialize`, which runs in the
worker thread after the window has painted.
"""

from __future__ import annotations

import threading
import time
import traceback

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.history import StepBatch
from sgd_viewer.core.recipe import RunRecipe
from sgd_viewer.gui.pacing import (
    EMIT_INTERVAL,
    EMIT_SLACK,
    after_frame,
    chunk_steps,
    smoothed_step_time,
)

RunBatches = dict[int, StepBatch]

#: Longest a running loop waits for the window to draw the steps it sent; a
#: window that draws slower (or not at all: minimised, behind a dialog) then
#: only slows the run, never stops it.
FRAME_WAIT_SECONDS = 1.0 / 30
#: Steps shown as a faint preview while the start handle is dragged.
PREVIEW_STEPS = 200


class TrainerWorker(QObject):
    """Runs gradient descent for the window, off the GUI thread.

    Signals
    -------
    ready(str)
        torch has loaded and the trainers exist; carries the torch version.
    steps_ready(int, object)
        The session's generation and ``{run id: StepBatch}`` of every step
        since the last message. The window bumps the generation with every
        request that starts all runs again (or rewinds them), so steps still in
        flight from before are dropped.
    change_applied(int, int)
        A run id and the step after which its new settings took effect (the
        step its recipe records).
    run_state_changed(bool)
        The chunk loop started (True) or stopped (False).
    preview_ready(int, object)
        Request id and the :class:`StepBatch` of a drag preview.
    update_explained(int, int, object)
        A run id, a step and the update that produced it (a plain dict, see
        ``core.update_terms``), or ``None`` for step 0.
    loaded(int)
        A saved session's runs have been replayed (their steps sent just
        before); carries its generation.
    errored(str)
        Something failed in the worker; the message is for the user.
    """

    ready = Signal(str)
    steps_ready = Signal(int, object)
    change_applied = Signal(int, int)
    run_state_changed = Signal(bool)
    preview_ready = Signal(int, object)
    update_explained = Signal(int, int, object)
    loaded = Signal(int)
    errored = Signal(str)

    def __init__(
        self,
        data: Dataset,
        runs: list[tuple[int, TrainingConfig]],
        start: tuple[float, float],
    ) -> None:
        super().__init__()
        self._data = data
        self._runs = list(runs)
        self._start = start
        #: Set from the GUI thread to stop the chunk loop before its next chunk.
        self.pause_event = threading.Event()
        #: Set by the GUI thread once it has drawn the last steps sent (see
        #: the module's docstring); clear while a message is in flight.
        self.frame_shown = threading.Event()
        self.frame_shown.set()
        #: The newest preview the GUI wants; older queued requests are skipped.
        self.latest_preview_id = 0
        self._race = None
        self._preview_trainer = None
        self._preview_config: TrainingConfig | None = None
        self._timer: QTimer | None = None
        self._steps_per_second: float | None = None  # None: as fast as possible
        self._remaining: int | None = None  # steps left of a Step; None: run on
        self._running = False
        self._pending: list[RunBatches] = []
        self._last_emit = 0.0
        self._last_tick = 0.0
        self._step_credit = 0.0
        #: Steps of the first chunk, before a step's time is known.
        self._chunk_steps = 16
        #: Measured wall time of one step (of every run), smoothed.
        self._seconds_per_step: float | None = None
        self._generation = 0

    # ----------------------------------------------------------- life cycle
    @Slot()
    def initialize(self) -> None:
        """Load torch and build the trainers (runs in the worker thread)."""
        try:
            import torch

            # The GUI thread needs the other core; one intra-op thread is also
            # the fastest for two scalar parameters.
            torch.set_num_threads(1)
            from sgd_viewer.core.race import Race

            race = Race(self._data, self._start)
            for run_id, config in self._runs:
                race.add(run_id, config)
            self._race = race
        except Exception as error:  # any failure: shown to the user, not a crash
            self.errored.emit(f"The training engine failed to start: {error}")
            traceback.print_exc()
            return
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.ready.emit(torch.__version__)

    @Slot()
    def shutdown(self) -> None:
        """Stop the timer and hand this object back to the GUI thread.

        Runs in the worker thread as its event loop ends: a timer may only be
        stopped by its own thread, and an object whose thread has ended must
        belong to a living one before Python frees it.
        """
        if self._timer is not None:
            self._timer.stop()
        self._running = False
        self.moveToThread(QCoreApplication.instance().thread())

    @property
    def race(self):
        """The runs' trainers (``None`` until torch has loaded)."""
        return self._race

    # ------------------------------------------------------------- requests
    def request_pause(self) -> None:
        """Stop the chunk loop before its next chunk, from any thread: sets
        events only, so it never waits behind queued work, and wakes a loop
        waiting for a frame."""
        self.pause_event.set()
        self.frame_shown.set()

    @Slot(int)
    def step(self, count: int) -> None:
        """Run ``count`` more steps of every run, in chunks, then stop."""
        if self._race is None or count <= 0:
            return
        if self._running and self._remaining is not None:
            # A Step pressed while the last one is still going adds to it:
            # two quick presses are two steps.
            self._remaining += count
        else:
            self._remaining = count
        self._start_loop()

    @Slot()
    def run(self) -> None:
        """Run until paused (or every run has diverged)."""
        if self._race is None:
            return
        self._remaining = None
        self._start_loop()

    @Slot()
    def pause(self) -> None:
        """Stop the loop. Queued after any run request the GUI sent before it:
        a Run starting now clears ``pause_event``, so the event alone would
        lose a Pause pressed before the Run request arrived."""
        self.pause_event.clear()
        if self._running:
            self._stop_loop()

    @Slot(int, float, float)
    def reset(self, generation: int, a0: float, b0: float) -> None:
        """Every run back to step 0 at ``(a0, b0)``; keeps running if it was."""
        self._generation = generation
        self._start = (a0, b0)
        if self._race is None:
            return
        self._discard_pending()
        self._race.reset((a0, b0))
        if self._remaining is not None:
            self._stop_loop()

    @Slot(int, int)
    def rewind(self, generation: int, step: int) -> None:
        """Every run back to its exact state after ``step`` steps."""
        self._generation = generation
        if self._race is None:
            return
        self._discard_pending()
        self._race.rewind(step)

    @Slot(int, object, object, object)
    def load(
        self,
        generation: int,
        data: Dataset,
        start: tuple[float, float],
        plans: list[tuple[int, RunRecipe, int]],
    ) -> None:
        """Replace every run by a saved session's: each ``(run id, recipe,
        steps)`` replayed from the start, its steps sent in one message, then
        ``loaded``."""
        self._generation = generation
        self._data, self._start = data, start
        self._preview_trainer = None
        self._discard_pending()
        if self._running:
            self._stop_loop()
        self._runs = [
            (run_id, recipe.config_at(steps)) for run_id, recipe, steps in plans
        ]
        if self._race is None:
            return  # the engine failed to start; it has said so
        from sgd_viewer.core.race import Race
        from sgd_viewer.core.recipe import replay

        race = Race(data, start)
        batches: RunBatches = {}
        try:
            for run_id, recipe, steps in plans:
                played = replay(race.add(run_id, recipe.config), recipe, steps)
                if played:
                    batches[run_id] = StepBatch.concatenate(played)
        except ValueError as error:
            self.errored.emit(str(error))
        self._race = race
        if batches:
            self.frame_shown.clear()
            self.steps_ready.emit(generation, batches)
        self.loaded.emit(generation)

    @Slot(int, object)
    def add_run(self, run_id: int, config: TrainingConfig) -> None:
        """A new run at step 0 (or replacing one whose settings changed what
        its steps mean: the window removes the old id first)."""
        self._runs.append((run_id, config))
        if self._race is None:
            return
        self._flush()
        try:
            self._race.add(run_id, config)
        except ValueError as error:
            self.errored.emit(str(error))

    @Slot(int)
    def remove_run(self, run_id: int) -> None:
        self._runs = [(i, c) for i, c in self._runs if i != run_id]
        if self._race is not None:
            self._flush()
            self._race.remove(run_id)

    @Slot(int, object)
    def set_config(self, run_id: int, config: TrainingConfig) -> None:
        """New lr, knobs or batch size for one run, from its next step on."""
        self._runs = [(i, config if i == run_id else c) for i, c in self._runs]
        self._preview_trainer = None
        if self._race is None:
            # The trainer will be built with these settings: they are the
            # run's initial ones (a change after step 0).
            self.change_applied.emit(run_id, 0)
            return
        if run_id not in self._race.trainers:
            return
        self._flush()
        try:
            self._race.configure(run_id, config)
        except ValueError as error:
            self.errored.emit(str(error))
            return
        self.change_applied.emit(run_id, self._race.trainers[run_id].step_count)

    @Slot(int, object)
    def set_data(self, generation: int, data: Dataset) -> None:
        """New data: every run starts again from the current start, paused."""
        self._generation = generation
        self._data = data
        self._preview_trainer = None
        if self._race is None:
            return
        self._discard_pending()
        self._race.set_data(data)
        self._stop_loop()

    @Slot(float)
    def set_speed(self, steps_per_second: float) -> None:
        """Pace the run; 0 (or less) means as fast as the engine goes."""
        self._steps_per_second = steps_per_second if steps_per_second > 0 else None
        if self._running:
            self._schedule()

    @Slot(int, float, float, object)
    def preview(
        self, request_id: int, a0: float, b0: float, config: TrainingConfig
    ) -> None:
        """The next ``PREVIEW_STEPS`` steps from ``(a0, b0)`` with ``config``
        (the selected run's), on a scratch trainer."""
        if self._race is None or request_id != self.latest_preview_id:
            return  # a newer drag position is queued behind this one
        try:
            if self._preview_trainer is None or self._preview_config != config:
                from sgd_viewer.core.trainer import Trainer

                self._preview_trainer = Trainer(
                    self._data, config, (a0, b0), problem=self._race.problem
                )
                self._preview_config = config
            else:
                self._preview_trainer.reset(a0, b0)
            batch = self._preview_trainer.step(PREVIEW_STEPS)
        except ValueError as error:
            self.errored.emit(str(error))
            return
        self.preview_ready.emit(request_id, batch)

    @Slot(int, int)
    def explain(self, run_id: int, step: int) -> None:
        """The update that produced ``step`` of a run, with its numbers
        (``update_explained``; ``None`` where there is none)."""
        if self._race is None or run_id not in self._race.trainers:
            return
        from sgd_viewer.core.update_explainer import explain_step

        try:
            update = explain_step(self._race.trainers[run_id], step)
        except (ValueError, RuntimeError) as error:  # shown, never a crash
            self.errored.emit(f"Cannot explain step {step}: {error}")
            return
        self.update_explained.emit(
            run_id, step, None if update is None else update.as_dict()
        )

    # ------------------------------------------------------------ the loop
    def _start_loop(self) -> None:
        self.pause_event.clear()
        if not self._race.going:
            self._remaining = None
            self.steps_ready.emit(self._generation, self._race.step(0))
            return
        if not self._running:
            self._running = True
            self._last_tick = time.perf_counter()
            self._step_credit = 0.0
            self.run_state_changed.emit(True)
        self._schedule()

    def _schedule(self) -> None:
        if self._steps_per_second is None:
            interval = 0  # fire whenever the event loop is idle
        else:
            interval = max(int(1000 / self._steps_per_second), 1000 // 60)
        self._timer.start(interval)

    def _stop_loop(self) -> None:
        self._timer.stop()
        self._remaining = None
        if self._running:
            self._running = False
            # Before the last steps: when the window shows the final step, it
            # already knows the run has stopped.
            self.run_state_changed.emit(False)
        self._flush()

    @Slot()
    def _tick(self) -> None:
        if self.pause_event.is_set():
            self.pause_event.clear()
            self._stop_loop()
            return
        now = time.perf_counter()
        if self._steps_per_second is None:
            count = self._flat_out_count(now)
        else:
            self._step_credit += (now - self._last_tick) * self._steps_per_second
            count = int(self._step_credit)
            self._step_credit -= count
        self._last_tick = now
        if self._remaining is not None:
            count = min(count, self._remaining)
        if count > 0:
            began = time.perf_counter()
            try:
                batches = self._race.step(count)
            except Exception as error:  # shown to the user; the run stops
                self._fail(error)
                return
            self._adapt_chunk(count, time.perf_counter() - began)
            self._pending.append(batches)
            if self._remaining is not None:
                self._remaining -= count
            if not self._race.going:
                self._stop_loop()
                return
        if self._remaining is not None and self._remaining <= 0:
            self._stop_loop()
        elif time.perf_counter() - self._last_emit >= EMIT_INTERVAL - EMIT_SLACK:
            self._flush()
            flushed = self._last_emit
            # Turn-taking with the window (see the module's docstring).
            self.frame_shown.wait(FRAME_WAIT_SECONDS)
            self._last_emit = after_frame(flushed, time.perf_counter())

    def _fail(self, error: Exception) -> None:
        """A step failed (a bug, or torch out of memory): stop the loop, keep
        the steps taken before it and say what happened, instead of the timer
        failing again at every turn while the window still shows "running"."""
        traceback.print_exc()
        self._stop_loop()
        self.errored.emit(f"Training stopped: a step failed ({error}).")

    def _flat_out_count(self, now: float) -> int:
        """Steps that end about when the next message is due (see ``pacing``;
        before a step is measured, a few)."""
        if self._seconds_per_step is None:
            return self._chunk_steps
        return chunk_steps(self._seconds_per_step, now - self._last_emit)

    def _adapt_chunk(self, count: int, seconds: float) -> None:
        if self._steps_per_second is None:
            self._seconds_per_step = smoothed_step_time(
                self._seconds_per_step, count, seconds
            )

    def _flush(self) -> None:
        """Send every step not yet sent, one batch per run."""
        if not self._pending:
            return
        by_run: dict[int, list[StepBatch]] = {}
        for batches in self._pending:
            for run_id, batch in batches.items():
                by_run.setdefault(run_id, []).append(batch)
        self._pending = []
        self._last_emit = time.perf_counter()
        self.frame_shown.clear()
        self.steps_ready.emit(
            self._generation,
            {run_id: StepBatch.concatenate(b) for run_id, b in by_run.items()},
        )

    def _discard_pending(self) -> None:
        self._pending = []
