"""How a running worker paces its chunks of steps and its messages to the
window (see ``worker``): pure arithmetic on times, no Qt and no torch.

Running flat out, the worker sends every step since the last message at most
``MAX_EMITS_PER_SECOND`` times a second, and sizes each chunk of steps to end
when the next message is due (from the measured time a step takes): one
chunk a frame where it fits, each chunk's fixed cost (a race's setup, a
timer's round trip) paid once a frame. After each message it waits for the
window to draw it, then trains for a while before the next.
"""

from __future__ import annotations

MAX_EMITS_PER_SECOND = 60
#: Longest wall time one chunk of steps may take: short enough that pausing,
#: dragging and a changed learning rate answer within a frame.
CHUNK_SECONDS = 0.014
#: Shortest chunk a running loop aims for.
MIN_CHUNK_SECONDS = 0.001
#: Messages go out once this long has passed since the last one.
EMIT_INTERVAL = 1.0 / MAX_EMITS_PER_SECOND - 0.0005
#: A pipelined chunk's length: a little over one message interval, so that
#: each chunk's arrival finds the next message due.
MAX_EMIT_INTERVAL = 1.0 / MAX_EMITS_PER_SECOND
#: A chunk ending this close before a message is due sends it: another chunk
#: that short would cost more than it trains.
EMIT_SLACK = 0.001
#: Least training time between the window's acknowledgement of one frame and
#: the next message: when drawing takes most of a 60 Hz frame, the trainer
#: still gets this long before it waits again.
MIN_TRAIN_SECONDS = 0.5 * EMIT_INTERVAL
#: Training time aimed for after a frame is drawn, while frames still come at
#: ``SLOWEST_FRAME_INTERVAL`` or faster. A frame drawn within DESIGN's 3 ms
#: budget leaves that much of a 60 Hz frame anyway; a longer one (eight
#: racing runs take about 5 ms) spaces frames a little (55 a second) instead
#: of the trainer waiting a third of its time.
PREFERRED_TRAIN_SECONDS = 0.013
SLOWEST_FRAME_INTERVAL = 1.0 / 55
#: Most steps of one chunk, whatever a step's measured time.
MAX_CHUNK_STEPS = 100_000


def chunk_steps(seconds_per_step: float, since_emit: float) -> int:
    """Steps that end about when the next message is due, ``since_emit``
    seconds after the last one (at least one step, at most ``CHUNK_SECONDS``
    of them)."""
    due = EMIT_INTERVAL - since_emit
    seconds = min(max(due, MIN_CHUNK_SECONDS), CHUNK_SECONDS)
    return max(1, min(int(seconds / seconds_per_step), MAX_CHUNK_STEPS))


def pipelined_chunk_steps(seconds_per_step: float) -> int:
    """Steps of a chunk that an engine in its own process computes while
    the window draws: one message interval of them (a message a chunk)."""
    return max(1, min(int(MAX_EMIT_INTERVAL / seconds_per_step), MAX_CHUNK_STEPS))


def smoothed_step_time(previous: float | None, count: int, seconds: float) -> float:
    """The step-time estimate after a chunk of ``count`` steps took
    ``seconds``.

    Every chunk counts, smoothed, so that a run that diverges or a setting
    that changes the cost shows within a few chunks; one slow chunk (a
    garbage collection, the first race's one-off check) counts as at most
    twice the estimate. An estimate that only chunks of many steps could
    correct stayed stuck at one step a chunk after such an outlier, and the
    race ran at a third of its speed.
    """
    per_step = max(seconds / count, 1e-8)
    if previous is None:
        return per_step
    return 0.5 * previous + 0.5 * min(per_step, 2 * previous)


def after_frame(flushed: float, drawn: float) -> float:
    """When to count the next message's interval from, for a frame sent at
    ``flushed`` and drawn at ``drawn``: the next message is due
    ``EMIT_INTERVAL`` after the last one (60 a second), or later to leave the
    trainer ``PREFERRED_TRAIN_SECONDS`` (but no later than
    ``SLOWEST_FRAME_INTERVAL`` allows, and never less than
    ``MIN_TRAIN_SECONDS``)."""
    room = flushed + SLOWEST_FRAME_INTERVAL - drawn
    train = min(PREFERRED_TRAIN_SECONDS, max(MIN_TRAIN_SECONDS, room))
    due = max(flushed + EMIT_INTERVAL, drawn + train)
    return due - EMIT_INTERVAL


class ChunkPacer:
    """A running worker's pacing state: the measured time of a step and when
    the last message went out; sizes the next chunk from them."""

    #: Steps of the first chunk, before a step's time is known.
    FIRST_CHUNK_STEPS = 16

    def __init__(self) -> None:
        #: Measured wall time of one step (of every run), smoothed.
        self.seconds_per_step: float | None = None
        #: When the last message went out (``time.perf_counter``), or when the
        #: next one's interval counts from (see :func:`after_frame`).
        self.last_emit = 0.0

    def measured(self, count: int, seconds: float) -> None:
        """A chunk of ``count`` steps took ``seconds``."""
        self.seconds_per_step = smoothed_step_time(
            self.seconds_per_step, count, seconds
        )

    def flat_out_count(self, now: float) -> int:
        """Steps that end about when the next message is due (before a step
        is measured, a few)."""
        if self.seconds_per_step is None:
            return self.FIRST_CHUNK_STEPS
        return chunk_steps(self.seconds_per_step, now - self.last_emit)

    def pipelined_count(self) -> int:
        """Steps of a chunk computed while the window draws."""
        if self.seconds_per_step is None:
            return self.FIRST_CHUNK_STEPS
        return pipelined_chunk_steps(self.seconds_per_step)
