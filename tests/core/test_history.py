"""StepBatch and the bounded History."""

from __future__ import annotations

import numpy as np
import pytest

from sgd_viewer.core.history import COLUMNS, History, StepBatch, display_indices


def rows_for(steps, seed: int = 0) -> dict[str, list]:
    """Rows with distinct, exactly representable-in-float64 values per step."""
    steps = list(steps)
    rng = np.random.default_rng(seed + (steps[0] if steps else 0))
    rows: dict[str, list] = {"step": steps, "epoch": [s // 7 for s in steps]}
    for name in COLUMNS[2:]:
        rows[name] = list(rng.normal(size=len(steps)) * 10.0 ** rng.integers(-5, 5))
    return rows


def batch_for(steps, **extra) -> StepBatch:
    return StepBatch.from_rows(rows_for(steps), **extra)


# -------------------------------------------------------------------- StepBatch
def test_from_rows_types_and_values() -> None:
    rows = rows_for(range(1, 6))
    batch = StepBatch.from_rows(rows)
    assert len(batch) == 5
    assert batch.step.dtype == np.int64
    assert batch.epoch.dtype == np.int64
    for name in COLUMNS:
        column = getattr(batch, name)
        assert column.shape == (5,)
        np.testing.assert_array_equal(column, rows[name])
        if name not in ("step", "epoch"):
            assert column.dtype == np.float64
    assert batch.status == "ok"
    assert not batch.diverged
    assert batch.message == ""
    assert batch.diverged_step is None


def test_from_rows_with_status() -> None:
    batch = batch_for([1, 2], status="diverged", message="boom", diverged_step=3)
    assert batch.diverged
    assert (batch.message, batch.diverged_step) == ("boom", 3)


def test_empty() -> None:
    batch = StepBatch.empty()
    assert len(batch) == 0
    for name in COLUMNS:
        assert getattr(batch, name).shape == (0,)
    assert not batch.diverged
    diverged = StepBatch.empty(status="diverged", message="m")
    assert len(diverged) == 0
    assert diverged.diverged
    assert diverged.message == "m"


def test_concatenate() -> None:
    first = batch_for([1, 2, 3])
    second = batch_for([4, 5], status="diverged", message="late", diverged_step=6)
    joined = StepBatch.concatenate([first, StepBatch.empty(), second])
    assert len(joined) == 5
    for name in COLUMNS:
        np.testing.assert_array_equal(
            getattr(joined, name),
            np.concatenate([getattr(first, name), getattr(second, name)]),
        )
    assert joined.step.dtype == np.int64
    assert (joined.status, joined.message, joined.diverged_step) == (
        "diverged",
        "late",
        6,
    )
    # status comes from the last batch, even an ok one after a diverged one
    assert StepBatch.concatenate([second, first]).status == "ok"
    assert len(StepBatch.concatenate([])) == 0


def test_batches_are_immutable() -> None:
    import dataclasses

    batch = batch_for([1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.status = "x"  # type: ignore[misc]


# ---------------------------------------------------------------------- History
def test_rejects_tiny_capacity() -> None:
    with pytest.raises(ValueError, match="capacity"):
        History(capacity=3)


def test_empty_history() -> None:
    history = History(capacity=16)
    assert len(history) == 0
    assert history.last() is None
    assert history.steps_seen == 0
    assert history.column("a").shape == (0,)
    assert history.display_indices().shape == (0,)
    history.append(StepBatch.empty())
    assert len(history) == 0
    assert history.last() is None


@pytest.mark.parametrize("chunk", [1, 7, 100])
def test_keeps_every_row_below_capacity(chunk) -> None:
    history = History(capacity=1000, initial=16)
    all_rows = rows_for(range(1, 1001))
    for begin in range(0, 1000, chunk):
        piece = {k: v[begin : begin + chunk] for k, v in all_rows.items()}
        history.append(StepBatch.from_rows(piece))
    assert len(history) == 1000
    assert history.stride == 1
    assert history.steps_seen == 1000
    for name in history.columns:
        stored = history.column(name)
        assert stored.shape == (1000,)
        # float32 columns (batch loss, gradient) are kept to float32 precision
        np.testing.assert_allclose(stored, all_rows[name], rtol=1e-6)
    for name in ("step", "epoch", "a", "b", "loss"):
        np.testing.assert_array_equal(history.column(name), all_rows[name])


def _fill(history: History, total: int, chunk: int) -> dict[str, float]:
    last = {}
    for begin in range(1, total + 1, chunk):
        batch = batch_for(range(begin, min(begin + chunk, total + 1)))
        history.append(batch)
        last = {name: getattr(batch, name)[-1] for name in COLUMNS}
        # last() is exact at every moment, not just at the end
        assert history.last() == last
        assert history.column("step")[-1] == last["step"]
        assert history.column("a")[-1] == last["a"]
    return last


@pytest.mark.parametrize("chunk", [1, 3, 64, 1000])
def test_thins_beyond_capacity(chunk) -> None:
    capacity = 64
    history = History(capacity=capacity, initial=8)
    total = 50 * capacity
    last = _fill(history, total, chunk)
    assert history.steps_seen == total
    assert history.stride > 1
    assert history.stride & (history.stride - 1) == 0  # a power of two: it doubles
    steps = history.column("step")
    assert steps[-1] == total
    held = steps[:-1] if steps[-1] % history.stride else steps
    assert np.all(held % history.stride == 0)
    assert np.all(np.diff(steps) > 0)
    # evenly thinned: no gap bigger than the stride, and the record reaches back
    # to the start of the run
    assert np.all(np.diff(held) == history.stride)
    assert held[0] == history.stride
    assert len(history) >= capacity // 2
    assert history.last() == last


@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_take_and_tail_read_what_column_holds(chunk) -> None:
    """The window reads a thinned view and the last rows every frame with
    ``take`` and ``tail``, which must agree with the whole column, the
    latest row (held apart once thinning starts) included."""
    history = History(capacity=64, initial=8)
    for begin in range(1, 40 * 64, chunk):
        history.append(batch_for(range(begin, begin + chunk)))
        rows = history.display_indices(20)
        for name in history.columns:
            whole = history.column(name)
            np.testing.assert_array_equal(history.take(name, rows), whole[rows])
            np.testing.assert_array_equal(history.tail(name, 5), whole[-5:])
    assert history.stride > 1  # thinning happened along the way
    latest = history.take("step", np.array([len(history) - 1]))[0]
    assert latest == history.last()["step"] == history.steps_seen


def test_len_never_exceeds_capacity() -> None:
    capacity = 8
    history = History(capacity=capacity)
    for step in range(1, 200):
        history.append(batch_for([step]))
        assert len(history) <= capacity, step
        assert history.column("a").shape[0] <= capacity


def test_stored_rows_never_exceed_capacity() -> None:
    capacity = 8
    history = History(capacity=capacity)
    for step in range(1, 200):
        history.append(batch_for([step]))
        assert len(history) <= capacity + 1
        assert history._size <= capacity


def test_stride_doubles_one_thinning_at_a_time() -> None:
    history = History(capacity=16)
    strides = []
    for step in range(1, 16 * 33):
        history.append(batch_for([step]))
        if not strides or strides[-1] != history.stride:
            strides.append(history.stride)
    assert strides == [2**k for k in range(len(strides))]
    assert len(strides) >= 6


def test_memory_is_bounded() -> None:
    capacity = 256
    history = History(capacity=capacity, initial=16)
    _fill(history, 10 * capacity, 37)
    bytes_per_row = sum(np.dtype(t).itemsize for t in History._DTYPES.values())
    assert bytes_per_row == 52
    assert history.nbytes() <= capacity * bytes_per_row
    _fill(history, 10 * capacity, 1)  # steps restart: still bounded
    assert history.nbytes() <= capacity * bytes_per_row


def test_default_capacity_stays_under_50_mib() -> None:
    history = History()
    assert history.capacity * 52 <= 52 * 2**20
    assert history.nbytes() < 1 * 2**20  # small until it fills


def test_clear_forgets_everything() -> None:
    history = History(capacity=8)
    _fill(history, 100, 5)
    history.clear()
    assert len(history) == 0
    assert history.stride == 1
    assert history.steps_seen == 0
    assert history.last() is None
    history.append(batch_for([1, 2]))
    np.testing.assert_array_equal(history.column("step"), [1, 2])


def test_display_indices_of_history() -> None:
    history = History(capacity=10_000)
    _fill(history, 7000, 500)
    indices = history.display_indices(1000)
    assert indices[0] == 0
    assert indices[-1] == len(history) - 1
    assert len(indices) <= 1000
    assert history.column("step")[indices[-1]] == 7000


@pytest.mark.parametrize("length", [0, 1, 2, 5, 4999, 5000, 5001, 12345, 10**6])
@pytest.mark.parametrize("max_points", [2, 3, 100, 5000])
def test_display_indices(length, max_points) -> None:
    indices = display_indices(length, max_points)
    assert indices.dtype.kind == "i"
    assert len(indices) <= max(max_points, 0) or length <= max_points
    assert len(indices) <= max_points
    if length == 0:
        assert indices.size == 0
        return
    assert indices[0] == 0
    assert indices[-1] == length - 1
    assert np.all(np.diff(indices) > 0)
    assert np.all((indices >= 0) & (indices < length))
    if length <= max_points:
        np.testing.assert_array_equal(indices, np.arange(length))
    else:
        # A third of the points is evenly spread, so no gap is wider than that
        # spacing; the rest crowd the start, where descent moves most.
        even = max_points - 2 * (max_points // 3) if max_points >= 6 else max_points
        assert np.max(np.diff(indices)) <= (length - 1) / (even - 1) + 1
        if max_points >= 6:
            assert np.array_equal(
                indices[: max_points // 3], np.arange(max_points // 3)
            )
