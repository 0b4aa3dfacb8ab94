"""The trainer's thread and the window take turns: the worker sends steps and
waits (at most ``FRAME_WAIT_SECONDS``) until the window says it has drawn them
through ``TrainerWorker.frame_shown`` (``gui.chunk_loop``, ``gui.main_window``)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.history import COLUMNS, StepBatch
from sgd_viewer.gui import chunk_loop, pacing
from sgd_viewer.gui.pacing import ChunkPacer
from sgd_viewer.gui.worker import TrainerWorker

#: Long enough that a worker waiting this long for a frame can only have been
#: woken by the event (a test waits at most a few seconds for anything).
FOREVER = 600.0


def _one_step_batch(step: int = 1) -> StepBatch:
    row = {name: [0.5] for name in COLUMNS}
    row.update(step=[step], epoch=[0])
    return StepBatch.from_rows(row)


def _for_the_run(window) -> dict[int, StepBatch]:
    """One step of the window's one run, as the worker sends it."""
    return {window.session.run.id: _one_step_batch()}


# ------------------------------------------------------- the window's side
def test_window_acknowledges_a_batch_it_shows(window):
    """Each batch the window draws releases the worker."""
    window._worker.frame_shown.clear()
    window._on_steps(
        window.session.generation, {window.session.run.id: _one_step_batch()}
    )
    assert window.snapshot()["step"] == 1
    assert window._worker.frame_shown.is_set()


def test_window_acknowledges_a_stale_batch_it_drops(window):
    """Steps of a run the user restarted are dropped, but still acknowledged:
    otherwise the worker would wait for a frame that never comes."""
    window._worker.frame_shown.clear()
    window._on_steps(
        window.session.generation - 1, {window.session.run.id: _one_step_batch()}
    )
    assert window.snapshot()["step"] == 0  # dropped
    assert window._worker.frame_shown.is_set()


def test_window_acknowledges_even_when_drawing_fails(window, monkeypatch):
    """A failure while showing the steps must not leave the worker waiting."""

    def broken(generation, batch):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(window, "_show_steps", broken)
    window._worker.frame_shown.clear()
    with pytest.raises(RuntimeError, match="drawing failed"):
        window._on_steps(
            window.session.generation, {window.session.run.id: _one_step_batch()}
        )
    assert window._worker.frame_shown.is_set()


def test_running_window_is_never_more_than_one_message_behind(
    window, qtbot, monkeypatch
):
    """Running flat out, the worker sends its next steps only once the window
    has taken in the previous ones. The worker's wait is made long, so a window
    that failed to acknowledge a frame would stall the run (and the test)."""
    monkeypatch.setattr(chunk_loop, "FRAME_WAIT_SECONDS", FOREVER)
    worker = window._worker
    sent = 0
    #: Per message: steps sent before it that the window had not yet taken in.
    unshown_when_sending: list[int] = []

    def on_send(generation, batch) -> None:  # in the worker's thread
        nonlocal sent
        # Below zero when the window has already taken in this message too.
        unshown_when_sending.append(max(sent - window.history.steps_seen, 0))
        sent += len(batch)

    worker.steps_ready.connect(on_send, Qt.ConnectionType.DirectConnection)
    window.controls.speed_spin.setValue(0)
    window.run()
    qtbot.waitUntil(lambda: len(unshown_when_sending) >= 20, timeout=10_000)
    # Before pausing: a pause wakes the worker without a frame shown.
    while_running = list(unshown_when_sending)
    window.pause()
    qtbot.waitUntil(lambda: not worker._running)
    assert window.snapshot()["step"] > 300
    assert set(while_running) == {0}


# ------------------------------------------------------- the worker's side
def test_request_pause_sets_pause_and_wakes_a_frame_wait(qtbot):
    """``request_pause`` must also release a worker waiting for a frame, or a
    pause would wait for the window first."""
    worker = TrainerWorker(generate(), [(1, TrainingConfig())], (-1.0, 1.0))
    worker.frame_shown.clear()
    worker.request_pause()
    assert worker.pause_event.is_set()
    assert worker.frame_shown.is_set()


class _Receiver(QObject):
    """Takes the worker's signals in the GUI thread (queued, as the window
    does; qtbot.waitSignal would run its slot in the worker's thread) and
    never acknowledges a batch."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = False
        self.batches: list[StepBatch] = []
        self.run_states: list[bool] = []

    @Slot(str)
    def on_ready(self, torch_version: str) -> None:
        self.ready = True

    @Slot(int, object)
    def on_steps(self, generation: int, batches: dict[int, StepBatch]) -> None:
        self.batches.append(batches[1])  # the one run, id 1

    @Slot(bool)
    def on_run_state(self, running: bool) -> None:
        self.run_states.append(running)


class _Requests(QObject):
    run = Signal()


@pytest.fixture
def worker_on_thread(qtbot):
    """A ready TrainerWorker on its own QThread (wired like the window's, at
    full speed) whose batches go to a receiver that never acknowledges them.
    Always stopped and joined afterwards."""
    worker = TrainerWorker(generate(), [(1, TrainingConfig())], (-1.0, 1.0))
    worker.set_speed(0)
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.initialize)
    thread.finished.connect(worker.shutdown, Qt.ConnectionType.DirectConnection)
    receiver = _Receiver()
    worker.ready.connect(receiver.on_ready)
    worker.steps_ready.connect(receiver.on_steps)
    worker.run_state_changed.connect(receiver.on_run_state)
    requests = _Requests()
    requests.run.connect(worker.run)
    try:
        thread.start()
        qtbot.waitUntil(lambda: receiver.ready, timeout=60_000)
        yield worker, requests, receiver
    finally:
        worker.request_pause()
        worker.frame_shown.set()  # even if request_pause failed to wake it
        thread.quit()
        thread.wait()


def test_unacknowledged_worker_keeps_running(worker_on_thread, qtbot):
    """A window that never draws (minimised, behind a dialog) only slows the
    run: each wait for a frame ends after FRAME_WAIT_SECONDS."""
    worker, requests, receiver = worker_on_thread
    requests.run.emit()
    qtbot.waitUntil(lambda: len(receiver.batches) >= 3, timeout=10_000)
    assert not worker.frame_shown.is_set()  # nobody acknowledged anything
    last_steps = [int(batch.step[-1]) for batch in receiver.batches[:3]]
    assert last_steps == sorted(set(last_steps))
    assert all(len(batch) > 0 for batch in receiver.batches[:3])
    worker.request_pause()
    qtbot.waitUntil(lambda: receiver.run_states == [True, False], timeout=5000)


def test_pause_wakes_a_worker_waiting_for_its_frame(
    worker_on_thread, qtbot, monkeypatch
):
    """Pausing a worker that waits for a frame stops it at once, not when the
    wait would have ended."""
    monkeypatch.setattr(chunk_loop, "FRAME_WAIT_SECONDS", FOREVER)
    worker, requests, receiver = worker_on_thread
    requests.run.emit()
    qtbot.waitUntil(lambda: len(receiver.batches) >= 1, timeout=10_000)
    assert not worker.frame_shown.is_set()  # the worker is waiting for it
    worker.request_pause()
    qtbot.waitUntil(lambda: receiver.run_states == [True, False], timeout=5000)


# ------------------------------------------------- one chunk per frame
def test_first_chunk_is_short_until_a_step_is_timed():
    pacer = ChunkPacer()
    assert pacer.flat_out_count(0.0) == ChunkPacer.FIRST_CHUNK_STEPS


def test_a_chunk_ends_when_the_next_frame_is_due():
    pacer = ChunkPacer()
    pacer.measured(100, 0.05)  # 0.5 ms a step
    pacer.last_emit = 10.0
    # 6 ms after the last message: the next is due in about 10 ms.
    due = pacing.EMIT_INTERVAL - 0.006
    assert pacer.flat_out_count(10.006) == int(due / 0.0005)
    # Right after a message: never more than CHUNK_SECONDS of steps at once.
    assert pacer.flat_out_count(10.0) == int(pacing.CHUNK_SECONDS / 0.0005)


def test_a_chunk_is_at_least_one_step_and_min_chunk_long():
    pacer = ChunkPacer()
    pacer.measured(10, 0.5)  # 50 ms a step: slower than a frame
    pacer.last_emit = 0.0
    assert pacer.flat_out_count(0.0) == 1
    fast = ChunkPacer()
    fast.measured(1000, 0.001)  # 1 µs a step
    fast.last_emit = 0.0
    # The frame is already due: still a chunk of MIN_CHUNK_SECONDS.
    assert fast.flat_out_count(1.0) == int(pacing.MIN_CHUNK_SECONDS / 1e-6)


def test_the_step_time_follows_a_change_in_cost():
    pacer = ChunkPacer()
    pacer.measured(100, 0.01)  # 100 µs a step
    for _ in range(12):
        pacer.measured(100, 0.1)  # then 1 ms a step (runs were added)
    assert pacer.seconds_per_step == pytest.approx(0.001, rel=0.01)


def test_one_slow_chunk_does_not_leave_chunks_of_one_step():
    """A chunk slowed by something else (a garbage collection, a one-off
    check) at most doubles the estimate, and one-step chunks correct it."""
    pacer = ChunkPacer()
    pacer.measured(100, 0.01)  # 100 µs a step
    pacer.measured(1, 0.3)  # one step that took 0.3 s
    assert pacer.seconds_per_step <= 2 * 0.0001
    for _ in range(12):
        pacer.measured(1, 0.0001)
    assert pacer.seconds_per_step == pytest.approx(0.0001, rel=0.01)
    pacer.last_emit = 0.0
    assert pacer.flat_out_count(0.0) > 50


# ------------------------------------------- frames spaced by their cost
def _next_message_after(sent: float, drawn: float) -> float:
    """When the next message is due, for a frame sent at ``sent`` and drawn by
    ``drawn`` (the worker counts ``EMIT_INTERVAL`` from what it returns)."""
    return pacing.after_frame(sent, drawn) + pacing.EMIT_INTERVAL


def test_a_frame_drawn_within_budget_keeps_sixty_a_second():
    # Drawn in 2 ms (one run): the next message is due one interval later.
    due = _next_message_after(10.0, 10.002)
    assert due == pytest.approx(10.0 + pacing.EMIT_INTERVAL)


def test_a_heavy_frame_leaves_the_trainer_its_preferred_share():
    # Drawn in 5 ms (eight racing runs): the trainer still gets 13 ms, and
    # frames come at least 55 times a second.
    due = _next_message_after(10.0, 10.005)
    assert due == pytest.approx(10.005 + pacing.PREFERRED_TRAIN_SECONDS)
    assert due - 10.0 <= pacing.SLOWEST_FRAME_INTERVAL


def test_frames_slow_no_further_than_needed_for_the_least_training():
    # Drawn in 8 ms: 55 a second leaves 10 ms to train; that is enough.
    due = _next_message_after(10.0, 10.008)
    assert due == pytest.approx(10.0 + pacing.SLOWEST_FRAME_INTERVAL)
    # Drawn in 15 ms: the trainer keeps its least share, frames slow.
    due = _next_message_after(10.0, 10.015)
    assert due == pytest.approx(10.015 + pacing.MIN_TRAIN_SECONDS)


def test_a_step_that_fails_stops_the_run_and_says_so(
    worker_on_thread, qtbot, monkeypatch
):
    """An exception inside a step (a bug, torch out of memory) stops the run
    and is reported once, instead of failing at every turn of the loop while
    the window shows "running"."""
    worker, requests, receiver = worker_on_thread
    messages: list[str] = []
    failures = []

    collect = worker.engine.collect

    def broken():
        failures.append(collect())
        raise RuntimeError("out of memory")

    class _Errors(QObject):
        @Slot(str)
        def on_error(self, message: str) -> None:
            messages.append(message)

    errors = _Errors()
    worker.errored.connect(errors.on_error)
    # monkeypatch: the engine goes back to a pool that the next window uses.
    monkeypatch.setattr(worker.engine, "collect", broken)
    requests.run.emit()
    qtbot.waitUntil(lambda: receiver.run_states == [True, False], timeout=10_000)
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=5000)
    assert "out of memory" in messages[0]
    assert len(failures) == 1  # the loop stopped at the first failure


def test_a_pipelined_chunk_is_one_message_interval_of_steps():
    """An engine in its own process computes a chunk while the window draws:
    each chunk is one message's worth, so each arrival makes a frame."""
    pacer = ChunkPacer()
    assert pacer.pipelined_count() == ChunkPacer.FIRST_CHUNK_STEPS
    pacer.measured(100, 0.01)  # 100 µs a step
    assert pacer.pipelined_count() == int(pacing.MAX_EMIT_INTERVAL / 1e-4)
    assert pacing.MAX_EMIT_INTERVAL >= pacing.EMIT_INTERVAL
