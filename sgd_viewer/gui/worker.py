"""The trainer's thread: a QObject on one QThread that drives the training
engine for the window.

The engine (:mod:`sgd_viewer.core.engine`) holds every torch object of the
app: a :class:`~sgd_viewer.core.race.Race` of the session's runs, keyed by the
session's run ids, stepped together chunk by chunk. It runs in a process of
its own (:mod:`sgd_viewer.core.engine_process`), or in this thread where a
process cannot start. The GUI talks to this worker only through queued
signals (see DESIGN.md §3) and one ``threading.Event`` for pausing, which the
GUI sets directly so that a pause never waits behind queued work.

Running is a chain of short chunks driven by a timer in this thread, never a
blocking loop: between two chunks the thread's event loop delivers the GUI's
queued requests (a new learning rate, a reset, a preview), so they apply
mid-run. Steps are sent to the GUI at most 60 times a second, each message
carrying every step since the last one (``pacing`` sizes chunks and spaces
messages).

After sending, a running loop waits (at most ``FRAME_WAIT_SECONDS``) until the
window says it has drawn them (``frame_shown``), so the window is never more
than one frame behind. With the engine in its own process, the next chunk is
already being computed during that wait (``_pipelined``): training and drawing
run at once, on two cores. With the engine in this thread they share one GIL,
and take turns: while the window draws, its many short Python calls
(pyqtgraph paints in Python) would each have to wrest the GIL from the
trainer, and the handovers cost both threads more than the work itself.
"""

from __future__ import annotations

import functools
import threading
import traceback

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.engine import RunBatches
from sgd_viewer.core.engine_process import EngineLost, start_engine
from sgd_viewer.core.recipe import RunRecipe
from sgd_viewer.gui.chunk_loop import ChunkLoop
from sgd_viewer.gui.pacing import ChunkPacer

#: Steps shown as a faint preview while the start handle is dragged.
PREVIEW_STEPS = 200


def _survives_engine_loss(slot):
    """A slot that, if the engine's process has died, starts another
    instead of failing (see ``TrainerWorker._recover``)."""

    @functools.wraps(slot)
    def guarded(self, *args):
        try:
            return slot(self, *args)
        except EngineLost as error:
            self._recover(error)

    return guarded


class TrainerWorker(QObject, ChunkLoop):
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
    engine_lost(str)
        The engine's process died (why, for the user). Another has started,
        with every run at step 0: the window replays its runs into it.
    """

    ready = Signal(str)
    steps_ready = Signal(int, object)
    change_applied = Signal(int, int)
    run_state_changed = Signal(bool)
    preview_ready = Signal(int, object)
    update_explained = Signal(int, int, object)
    loaded = Signal(int)
    errored = Signal(str)
    engine_lost = Signal(str)

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
        self._engine = None
        self._timer: QTimer | None = None
        self._steps_per_second: float | None = None  # None: as fast as possible
        self._remaining: int | None = None  # steps left of a Step; None: run on
        self._running = False
        self._pending: list[RunBatches] = []
        self._last_tick = 0.0
        self._step_credit = 0.0
        self.pacer = ChunkPacer()
        self._generation = 0

    # ----------------------------------------------------------- life cycle
    @Slot()
    def initialize(self) -> None:
        """Start the training engine (runs in the worker thread): in a process
        of its own, or here if that cannot start (see ``engine_process``)."""
        try:
            self._engine = start_engine(self._data, self._runs, self._start)
        except Exception as error:  # any failure: shown to the user, not a crash
            self.errored.emit(f"The training engine failed to start: {error}")
            traceback.print_exc()
            return
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.ready.emit(self._engine.torch_version)

    @Slot()
    def shutdown(self) -> None:
        """Stop the timer, release the engine and hand this object back to
        the GUI thread.

        Runs in the worker thread as its event loop ends: a timer may only be
        stopped by its own thread, and an object whose thread has ended must
        belong to a living one before Python frees it.
        """
        if self._timer is not None:
            self._timer.stop()
        self._running = False
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        self.moveToThread(QCoreApplication.instance().thread())

    @property
    def engine(self):
        """The runs' engine (``None`` until it has started)."""
        return self._engine

    def _recover(self, error: EngineLost) -> None:
        """The engine's process died (killed, out of memory): stop, start
        another with the runs' current settings at step 0, and say so
        (``engine_lost``); the window replays its runs into it."""
        traceback.print_exc()
        self._timer.stop()
        self._remaining, self._pending = None, []
        if self._running:
            self._running = False
            self.run_state_changed.emit(False)
        self._engine.terminate()
        try:
            self._engine = start_engine(self._data, self._runs, self._start)
        except Exception as failure:  # shown; the window stays usable
            self._engine = None
            self.errored.emit(
                f"The training engine stopped ({error}) and "
                f"could not start again: {failure}"
            )
            return
        self.engine_lost.emit(str(error))

    # ------------------------------------------------------------- requests
    def request_pause(self) -> None:
        """Stop the chunk loop before its next chunk, from any thread: sets
        events only, so it never waits behind queued work, and wakes a loop
        waiting for a frame."""
        self.pause_event.set()
        self.frame_shown.set()

    @Slot(int)
    @_survives_engine_loss
    def step(self, count: int) -> None:
        """Run ``count`` more steps of every run, in chunks, then stop."""
        if self._engine is None or count <= 0:
            return
        self._settle(keep=True)  # a chunk in flight is not part of this Step
        if self._running and self._remaining is not None:
            # A Step pressed while the last one is still going adds to it:
            # two quick presses are two steps.
            self._remaining += count
        else:
            self._remaining = count
        self._start_loop()

    @Slot()
    @_survives_engine_loss
    def run(self) -> None:
        """Run until paused (or every run has diverged)."""
        if self._engine is None:
            return
        self._settle(keep=True)
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
    @_survives_engine_loss
    def reset(self, generation: int, a0: float, b0: float) -> None:
        """Every run back to step 0 at ``(a0, b0)``; keeps running if it was."""
        self._generation = generation
        self._start = (a0, b0)
        if self._engine is None:
            return
        self._discard_pending()
        self._engine.reset((a0, b0))
        if self._remaining is not None:
            self._stop_loop()

    @Slot(int, int)
    @_survives_engine_loss
    def rewind(self, generation: int, step: int) -> None:
        """Every run back to its exact state after ``step`` steps."""
        self._generation = generation
        if self._engine is None:
            return
        self._discard_pending()
        self._engine.rewind(step)

    @Slot(int, object, object, object)
    @_survives_engine_loss
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
        self._discard_pending()
        if self._running:
            self._stop_loop()
        self._runs = [
            (run_id, recipe.config_at(steps)) for run_id, recipe, steps in plans
        ]
        if self._engine is None:
            return  # the engine failed to start; it has said so
        batches, error = self._engine.load(data, start, plans)
        if error is not None:
            self.errored.emit(error)
        if batches:
            self.frame_shown.clear()
            self.steps_ready.emit(generation, batches)
        self.loaded.emit(generation)

    @Slot(int, object)
    @_survives_engine_loss
    def add_run(self, run_id: int, config: TrainingConfig) -> None:
        """A new run at step 0 (or replacing one whose settings changed what
        its steps mean: the window removes the old id first)."""
        self._runs.append((run_id, config))
        if self._engine is None:
            return
        self._flush()
        try:
            self._engine.add(run_id, config)
        except ValueError as error:
            self.errored.emit(str(error))

    @Slot(int)
    @_survives_engine_loss
    def remove_run(self, run_id: int) -> None:
        self._runs = [(i, c) for i, c in self._runs if i != run_id]
        if self._engine is not None:
            self._flush()
            self._engine.remove(run_id)

    @Slot(int, object)
    @_survives_engine_loss
    def set_config(self, run_id: int, config: TrainingConfig) -> None:
        """New lr, knobs or batch size for one run, from its next step on."""
        self._runs = [(i, config if i == run_id else c) for i, c in self._runs]
        if self._engine is None:
            # The trainer will be built with these settings: they are the
            # run's initial ones (a change after step 0).
            self.change_applied.emit(run_id, 0)
            return
        self._flush()
        try:
            applied_after = self._engine.configure(run_id, config)
        except KeyError:
            return  # a run removed since
        except ValueError as error:
            self.errored.emit(str(error))
            return
        self.change_applied.emit(run_id, applied_after)

    @Slot(int, object)
    @_survives_engine_loss
    def set_data(self, generation: int, data: Dataset) -> None:
        """New data: every run starts again from the current start, paused."""
        self._generation = generation
        self._data = data
        if self._engine is None:
            return
        self._discard_pending()
        self._engine.set_data(data)
        self._stop_loop()

    @Slot(float)
    def set_speed(self, steps_per_second: float) -> None:
        """Pace the run; 0 (or less) means as fast as the engine goes."""
        self._steps_per_second = steps_per_second if steps_per_second > 0 else None
        if self._running:
            self._schedule()

    @Slot(int, float, float, object)
    @_survives_engine_loss
    def preview(
        self, request_id: int, a0: float, b0: float, config: TrainingConfig
    ) -> None:
        """The next ``PREVIEW_STEPS`` steps from ``(a0, b0)`` with ``config``
        (the selected run's), on a scratch trainer."""
        if self._engine is None or request_id != self.latest_preview_id:
            return  # a newer drag position is queued behind this one
        self._settle(keep=True)
        try:
            batch = self._engine.preview(a0, b0, config, PREVIEW_STEPS)
        except ValueError as error:
            self.errored.emit(str(error))
            return
        self.preview_ready.emit(request_id, batch)

    @Slot(int, int)
    @_survives_engine_loss
    def explain(self, run_id: int, step: int) -> None:
        """The update that produced ``step`` of a run, with its numbers
        (``update_explained``; ``None`` where there is none)."""
        if self._engine is None:
            return
        self._settle(keep=True)
        try:
            update = self._engine.explain(run_id, step)
        except KeyError:
            return  # a run removed since
        except (ValueError, RuntimeError) as error:  # shown, never a crash
            self.errored.emit(f"Cannot explain step {step}: {error}")
            return
        self.update_explained.emit(run_id, step, update)
