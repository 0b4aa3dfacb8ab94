"""Steps as data: the :class:`StepBatch` a trainer returns and the bounded
:class:`History` that the GUI and the CLI keep of a run.

numpy/stdlib only: no torch, no Qt. Safe to pass between threads (batches are
immutable; a History belongs to the one thread that appends to it).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

#: Columns every batch and history carries, in CSV order.
COLUMNS = (
    "step",
    "epoch",
    "a",
    "b",
    "loss",
    "batch_loss",
    "grad_a",
    "grad_b",
    "lr",
)
_INT_COLUMNS = ("step", "epoch")


@dataclass(frozen=True)
class StepBatch:
    """Consecutive steps of one run, as numpy arrays of equal length.

    Row ``i`` describes the state after step ``step[i]``: the parameters ``a``,
    ``b`` and the full-data ``loss`` there, plus the ``batch_loss`` and gradient
    ``(grad_a, grad_b)`` that the optimizer used to get there (the mini-batch
    ones when batches are smaller than the data), and the learning rate ``lr``
    that step used (it changes along a schedule).

    ``status`` is ``"ok"`` or ``"diverged"``; a diverged batch ends at the last
    finite step and ``diverged_step`` names the step that blew up.
    """

    step: np.ndarray
    epoch: np.ndarray
    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    batch_loss: np.ndarray
    grad_a: np.ndarray
    grad_b: np.ndarray
    lr: np.ndarray
    status: str = "ok"
    message: str = ""
    diverged_step: int | None = None

    def __len__(self) -> int:
        return int(self.step.shape[0])

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @classmethod
    def from_rows(cls, rows: dict[str, list], **extra) -> StepBatch:
        """Build from per-column Python lists (the trainer's inner loop)."""
        arrays = {
            name: np.asarray(
                rows[name], dtype=np.int64 if name in _INT_COLUMNS else np.float64
            )
            for name in COLUMNS
        }
        return cls(**arrays, **extra)

    @classmethod
    def empty(cls, **extra) -> StepBatch:
        return cls.from_rows({name: [] for name in COLUMNS}, **extra)

    @classmethod
    def concatenate(cls, batches: list[StepBatch]) -> StepBatch:
        """One batch of all rows; status and message from the last batch."""
        if not batches:
            return cls.empty()
        last = batches[-1]
        arrays = {
            name: np.concatenate([getattr(b, name) for b in batches])
            for name in COLUMNS
        }
        return cls(
            **arrays,
            status=last.status,
            message=last.message,
            diverged_step=last.diverged_step,
        )


class History:
    """The record of a run, bounded in memory.

    Every step is kept until ``capacity`` rows are stored; after that the record
    thins itself by half (keeping every other row) and from then on stores every
    ``stride``-th step, so memory stays under ``capacity`` rows however long the
    run. The latest step is always available exactly through :meth:`last`.

    Parameters
    ----------
    capacity
        Most rows held. At the default 2**20 (1,048,576) rows of 52 bytes the
        arrays never exceed 52 MiB (see README, "Memory"). The first
        ``initial`` rows are small arrays; past them the arrays take the whole
        capacity at once, of which only the rows written use memory.
    track_lr
        Also keep the learning rate of every step (4 bytes more a row): the
        window draws it for scheduled runs; a plain record does without.
    """

    _DTYPES: ClassVar[dict[str, type]] = {
        "step": np.int64,
        "epoch": np.int32,
        "a": np.float64,
        "b": np.float64,
        "loss": np.float64,
        "batch_loss": np.float64,
        "grad_a": np.float32,
        "grad_b": np.float32,
    }

    def __init__(
        self, capacity: int = 2**20, initial: int = 4096, *, track_lr: bool = False
    ) -> None:
        if capacity < 4:
            raise ValueError("capacity must be at least 4")
        self._dtypes = dict(self._DTYPES)
        if track_lr:
            self._dtypes["lr"] = np.float32
        self.capacity = int(capacity)
        self._initial = min(int(initial), self.capacity)
        self.clear()

    def clear(self) -> None:
        """Forget every step."""
        self._size = 0
        self.stride = 1
        self._arrays = {
            name: np.empty(self._initial, dtype=dtype)
            for name, dtype in self._dtypes.items()
        }
        self._last: dict[str, float] | None = None
        self._total = 0

    def __len__(self) -> int:
        """Rows held (at most ``capacity``), the latest step included."""
        return self._size + (1 if self._last_is_extra() else 0)

    @property
    def steps_seen(self) -> int:
        """How many steps were appended since the last clear."""
        return self._total

    def append(self, batch: StepBatch) -> None:
        """Record the rows of ``batch``, thinning as needed."""
        count = len(batch)
        if count == 0:
            return
        self._total += count
        self._last = {name: getattr(batch, name)[-1] for name in COLUMNS}
        rows = np.arange(count)
        if self.stride > 1:
            rows = rows[batch.step % self.stride == 0]
        while rows.size:
            room = self.capacity - self._size
            if room == 0:
                self._thin()
                rows = rows[batch.step[rows] % self.stride == 0]
                continue
            take = rows[:room]
            self._store(batch, take)
            rows = rows[room:]
        if self._size == self.capacity and self._last_is_extra():
            # The exact latest row would make capacity + 1: thin now instead.
            self._thin()

    def _store(self, batch: StepBatch, rows: np.ndarray) -> None:
        end = self._size + rows.size
        if end > self._arrays["step"].shape[0]:
            # Straight to the full capacity, not doubling: the untouched rows
            # of a fresh array cost address space, not memory, while each
            # doubling freed arrays that the C allocator kept (about 6 MB of a
            # 1e6-step run, the `memory` bench row).
            new_len = self.capacity
            for name, array in self._arrays.items():
                grown = np.empty(new_len, dtype=array.dtype)
                grown[: self._size] = array[: self._size]
                self._arrays[name] = grown
        for name, array in self._arrays.items():
            values = getattr(batch, name)[rows]
            if array.dtype == np.float32:
                # Gradients are kept to 7 digits; beyond float32's range they
                # saturate instead of becoming infinite.
                limit = np.finfo(np.float32).max
                values = np.clip(values, -limit, limit)
            array[self._size : end] = values
        self._size = end

    def _thin(self) -> None:
        self.stride *= 2
        keep = np.flatnonzero(self._arrays["step"][: self._size] % self.stride == 0)
        for array in self._arrays.values():
            array[: keep.size] = array[keep]
        self._size = keep.size

    def _last_is_extra(self) -> bool:
        return self._last is not None and (
            self._size == 0
            or self._arrays["step"][self._size - 1] != self._last["step"]
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns held for every row (``lr`` only when tracked)."""
        return tuple(self._arrays)

    def truncate(self, step: int) -> None:
        """Forget every step after ``step`` (continuing from the past).

        The latest row becomes the last held row at or before ``step``; past
        the capacity, when only every ``stride``-th step is held, that may be
        a little earlier than ``step``.
        """
        if self._last is not None and self._last["step"] <= step:
            return
        kept = int(np.searchsorted(self._arrays["step"][: self._size], step, "right"))
        self._size = kept
        if kept == 0:
            self._last = None
            self._total = 0
            return
        self._last = {
            name: self._arrays[name][kept - 1].item() for name in self._arrays
        }
        for name in COLUMNS:
            self._last.setdefault(name, math.nan)
        self._total = int(self._last["step"])

    def row_at(self, step: int) -> dict[str, float] | None:
        """The held row of the latest step at or before ``step``, or ``None``
        before the first step."""
        last = self._last
        if last is None or step < 1:
            return None
        if step >= last["step"]:
            return last  # read-only for the caller: no copy on a frame's path
        index = int(np.searchsorted(self._arrays["step"][: self._size], step, "right"))
        if index == 0:
            return None
        return {name: array[index - 1].item() for name, array in self._arrays.items()}

    def rows_through(self, step: int) -> int:
        """How many held rows (as :meth:`display_indices` counts them) belong to
        steps at or before ``step``."""
        if self._last is not None and step >= self._last["step"]:
            return len(self)
        return int(np.searchsorted(self._arrays["step"][: self._size], step, "right"))

    def column(self, name: str) -> np.ndarray:
        """All held values of one column (a copy-free view when possible)."""
        held = self._arrays[name][: self._size]
        if self._last_is_extra():
            return np.append(held, self._last[name])
        return held

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The values of one column at row indices ``rows`` (as from
        :meth:`display_indices`), without copying the whole column first as
        :meth:`column` must when the latest row is held apart (a frame of a
        long run would copy 8 MB a column)."""
        held = self._arrays[name][: self._size]
        rows = np.asarray(rows, dtype=np.int64)
        if not self._last_is_extra():
            return held[rows]
        latest = rows == self._size
        # The dtype column() has: the exact latest value may be wider.
        values = np.empty(rows.size, np.result_type(held, np.asarray(self._last[name])))
        values[~latest] = held[rows[~latest]]
        values[latest] = self._last[name]
        return values

    def tail(self, name: str, count: int) -> np.ndarray:
        """The last ``count`` values of one column (the latest row included)."""
        size = len(self)
        return self.take(name, np.arange(max(size - count, 0), size))

    @property
    def last_step(self) -> int:
        """The latest step's number (0 before any step), without a copy."""
        return 0 if self._last is None else int(self._last["step"])

    def last(self) -> dict[str, float] | None:
        """The latest step's row, exactly, or ``None`` before any step."""
        return None if self._last is None else dict(self._last)

    def display_indices(self, max_points: int = 5000) -> np.ndarray:
        """Row indices of an evenly thinned view that always ends at the last row."""
        return display_indices(len(self), max_points)

    def nbytes(self) -> int:
        """Bytes the arrays were allocated (their capacity; rows never written
        take address space, not memory)."""
        return sum(a.nbytes for a in self._arrays.values())


@functools.lru_cache(maxsize=8)
def display_indices(length: int, max_points: int = 5000) -> np.ndarray:
    """At most ``max_points`` indices into ``length`` rows for drawing, always
    including the first and the last (read-only: the array is shared).

    A third are the first rows, a third log-spaced and a third evenly spaced:
    descent moves most in its first steps (a momentum spiral, an overshoot), so
    an even thinning alone would erase exactly what a learner came to see.

    Remembered for the last few lengths: the runs of a race are all as long,
    and a frame thins each of them (forty µs apiece).
    """
    indices = _display_indices(length, max_points)
    indices.flags.writeable = False
    return indices


def _display_indices(length: int, max_points: int) -> np.ndarray:
    if length <= max_points:
        return np.arange(length)
    if max_points < 6:
        return np.unique(
            np.linspace(0, length - 1, max_points).round().astype(np.int64)
        )
    share = max_points // 3
    head = np.arange(share, dtype=np.float64)
    # geomspace, without its checks: this runs with every frame of a run.
    logged = np.exp(np.linspace(math.log(share), math.log(length - 1), share))
    even = np.linspace(0, length - 1, max_points - 2 * share)  # ends at length − 1
    picked = np.concatenate([head, logged, even]).round().astype(np.int64)
    picked.sort()
    distinct = np.empty(picked.size, dtype=bool)
    distinct[0] = True
    np.not_equal(picked[1:], picked[:-1], out=distinct[1:])
    return picked[distinct]
