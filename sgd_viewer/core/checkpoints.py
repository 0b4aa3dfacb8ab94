"""Checkpoints of a run's exact state, so that it can continue from any step.

A :class:`Checkpoint` is everything a trainer needs to go on exactly as it did:
the parameters, the optimizer's and the schedule's state dicts, the position in
the mini-batch stream and the settings in effect. The :class:`CheckpointStore`
keeps one every ``interval`` steps, thinning itself (every other one dropped,
the interval doubled) when full, so its memory is bounded however long the run.
Continuing from step k restores the nearest checkpoint at or before k and
replays the few steps in between (DESIGN.md §10).

stdlib only: the state dicts it holds are opaque to it. No Qt.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

#: Most checkpoints kept for one run. Two scalar parameters make a state dict
#: of about 1-3 kB, so a full store holds a few MB.
MAX_CHECKPOINTS = 2048
#: Wall time that the steps between two checkpoints should take: a resume then
#: replays at most about this long (the interval adapts to the step's cost).
#: A checkpoint of Adam's state costs ~50 µs: at this spacing under 0.5 % of
#: the steps' time.
REPLAY_SECONDS = 0.01


@dataclass(frozen=True)
class Checkpoint:
    """The state of a run right after step ``step`` (0: the start).

    ``config`` is the settings in effect for that step: a change of settings
    recorded at the checkpoint's own step came after it (a checkpoint is taken
    as its step ends, a change between two steps).
    """

    step: int
    epoch: int
    a: float
    b: float
    optimizer_state: dict[str, Any]
    schedule_state: dict[str, Any] | None
    stream_state: dict[str, Any]
    config: Any
    status: str
    row: dict[str, float] | None


class CheckpointStore:
    """Checkpoints of one run, oldest first, at multiples of ``interval``."""

    def __init__(self, capacity: int = MAX_CHECKPOINTS) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self.interval = 16
        self._items: list[Checkpoint] = []
        self._steps: list[int] = []

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._steps.clear()

    def due(self, step: int) -> bool:
        """Whether a checkpoint belongs after ``step``."""
        return step % self.interval == 0 and (not self._steps or step > self._steps[-1])

    def add(self, checkpoint: Checkpoint) -> None:
        """Keep ``checkpoint`` (its step must be later than every one held)."""
        if self._steps and checkpoint.step <= self._steps[-1]:
            raise ValueError(
                f"checkpoint at step {checkpoint.step} after {self._steps[-1]}"
            )
        self._items.append(checkpoint)
        self._steps.append(checkpoint.step)
        if len(self._items) > self.capacity:
            self._thin()

    def _thin(self) -> None:
        self.interval *= 2
        kept = [c for c in self._items if c.step == 0 or c.step % self.interval == 0]
        if len(kept) > self.capacity:  # an interval set after the first ones
            kept = kept[:1] + kept[2::2]
        self._items = kept
        self._steps = [c.step for c in kept]

    def adapt(self, seconds_per_step: float) -> None:
        """Choose the interval from a step's measured cost (a power of two,
        never smaller than the one thinning has reached for the steps held)."""
        if not seconds_per_step > 0:
            return
        wanted = max(1, int(REPLAY_SECONDS / seconds_per_step))
        interval = 1 << (wanted.bit_length() - 1)
        floor = 16
        if self._steps and len(self._items) > self.capacity // 2:
            floor = self.interval  # keep a filling store's spacing
        self.interval = max(min(interval, 1 << 16), floor)

    def copy(self) -> CheckpointStore:
        """Another store holding the same checkpoints (they are immutable)."""
        other = CheckpointStore(self.capacity)
        other.interval = self.interval
        other._items = list(self._items)
        other._steps = list(self._steps)
        return other

    def latest_at(self, step: int) -> Checkpoint | None:
        """The latest checkpoint at or before ``step``."""
        index = bisect.bisect_right(self._steps, step)
        return self._items[index - 1] if index else None

    def drop_after(self, step: int) -> None:
        """Forget checkpoints later than ``step``."""
        index = bisect.bisect_right(self._steps, step)
        del self._items[index:]
        del self._steps[index:]

    @property
    def steps(self) -> list[int]:
        return list(self._steps)
