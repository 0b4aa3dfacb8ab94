"""The worker's chunk loop, as a mixin of
:class:`~sgd_viewer.gui.worker.TrainerWorker`: running is a chain of chunks
driven by a timer in the worker's thread, never a blocking loop, so the
GUI's queued requests apply between two chunks.

Each turn of the timer collects a chunk of steps from the engine (or asks for
one and waits), keeps its steps and, when a message is due, sends every step
since the last one and waits for the window to draw them (see the worker's
docstring). An engine in a process of its own is asked for the next chunk
before that wait, so that it trains while the window draws.

Needs from the worker: ``_engine``, ``pacer``, the run flags and counters,
``frame_shown``, ``pause_event`` and the signals it emits.
"""

from __future__ import annotations

import time
import traceback

from sgd_viewer.core.engine_process import EngineLost
from sgd_viewer.core.history import StepBatch
from sgd_viewer.gui.pacing import EMIT_INTERVAL, EMIT_SLACK, after_frame

#: Longest a running loop waits for the window to draw the steps it sent; a
#: window that draws slower (or not at all: minimised, behind a dialog) then
#: only slows the run, never stops it.
FRAME_WAIT_SECONDS = 1.0 / 30


class ChunkLoop:
    """Starting, stepping, sending and stopping the runs' chunks."""

    def _start_loop(self) -> None:
        self.pause_event.clear()
        self._settle(keep=True)
        if not self._engine.going():
            self._remaining = None
            self.steps_ready.emit(self._generation, self._engine.step(0).batches)
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
        self._settle(keep=True)  # its steps were taken: they are sent below
        self._remaining = None
        if self._running:
            self._running = False
            # Before the last steps: when the window shows the final step, it
            # already knows the run has stopped.
            self.run_state_changed.emit(False)
        self._flush()

    def _tick(self) -> None:
        if self.pause_event.is_set():
            self.pause_event.clear()
            self._stop_loop()
            return
        try:
            chunk = self._next_chunk()
            if chunk is not None:
                self._take(chunk)
                if not chunk.going:
                    self._stop_loop()
                    return
            if self._remaining is not None and self._remaining <= 0:
                self._stop_loop()
                return
            if self._pipelined:
                # The engine's process computes the next chunk while the
                # window draws this one.
                self._engine.request_step(self.pacer.pipelined_count())
        except Exception as error:  # shown to the user; the run stops
            self._fail(error)
            return
        if time.perf_counter() - self.pacer.last_emit >= EMIT_INTERVAL - EMIT_SLACK:
            self._emit_pending()
            flushed = self.pacer.last_emit
            # Turn-taking with the window (see the module's docstring).
            self.frame_shown.wait(FRAME_WAIT_SECONDS)
            if not self._pipelined:
                self.pacer.last_emit = after_frame(flushed, time.perf_counter())

    @property
    def _pipelined(self) -> bool:
        """Running flat out, with an engine that computes while we wait."""
        return (
            self._engine.overlaps
            and self._running
            and self._remaining is None
            and self._steps_per_second is None
        )

    def _next_chunk(self):
        """The chunk in flight, or one of the steps due now (``None`` when
        none are due: a set speed whose clock has not earned a step)."""
        engine = self._engine
        if not engine.in_flight:
            count = self._due_count(time.perf_counter())
            if count <= 0:
                return None
            engine.request_step(count)
        return engine.collect()

    def _due_count(self, now: float) -> int:
        """Steps for the chunk starting now: flat out, the pacing's; at a set
        speed, those its clock has earned."""
        if self._steps_per_second is None:
            count = self.pacer.flat_out_count(now)
        else:
            self._step_credit += (now - self._last_tick) * self._steps_per_second
            count = int(self._step_credit)
            self._step_credit -= count
        self._last_tick = now
        if self._remaining is not None:
            count = min(count, self._remaining)
        return count

    def _take(self, chunk) -> None:
        """Keep a chunk's steps for the next message."""
        if self._steps_per_second is None:
            self.pacer.measured(chunk.count, chunk.seconds)
        self._pending.append(chunk.batches)
        if self._remaining is not None:
            self._remaining -= chunk.count

    def _settle(self, keep: bool) -> None:
        """Wait for a chunk still being computed; keep its steps, or drop
        them when what follows starts the runs again or rewinds them."""
        if self._engine is None or not self._engine.in_flight:
            return
        try:
            chunk = self._engine.collect()
        except Exception as error:  # shown to the user; the run stops
            self._fail(error)
            return
        if keep:
            self._take(chunk)

    def _fail(self, error: Exception) -> None:
        """A step failed (a bug, torch out of memory, the engine's process
        gone): stop the loop, send the steps taken before it and say what
        happened, instead of failing again at every turn while the window
        still shows "running"."""
        if isinstance(error, EngineLost):
            self._recover(error)
            return
        traceback.print_exc()
        self._timer.stop()
        self._remaining = None
        if self._running:
            self._running = False
            self.run_state_changed.emit(False)
        self._emit_pending()
        self.errored.emit(f"Training stopped: a step failed ({error}).")

    def _flush(self) -> None:
        """Send every step taken, including a chunk still being computed."""
        self._settle(keep=True)
        self._emit_pending()

    def _emit_pending(self) -> None:
        """Send every step not yet sent, one batch per run."""
        if not self._pending:
            return
        by_run: dict[int, list[StepBatch]] = {}
        for batches in self._pending:
            for run_id, batch in batches.items():
                by_run.setdefault(run_id, []).append(batch)
        self._pending = []
        self.pacer.last_emit = time.perf_counter()
        self.frame_shown.clear()
        self.steps_ready.emit(
            self._generation,
            {run_id: StepBatch.concatenate(b) for run_id, b in by_run.items()},
        )

    def _discard_pending(self) -> None:
        self._settle(keep=False)
        self._pending = []
