"""Edits by hand to a dataset, with undo and redo.

Owns the edit model behind the window's "Edit data" mode: the three edits
(:class:`MovePoint`, :class:`AddPoint`, :class:`RemovePoint`), the function
that makes the edited :class:`~sgd_viewer.core.dataset.Dataset` from the
current one (:func:`apply_edit`) and the undo/redo stack (:class:`EditStack`).

An edited dataset is a new value: named "… (edited)" with source ``"edited"``,
so that nothing takes it for the generator's output or the file's contents (a
session file then embeds its points, and the file on disk is never touched).
Edits that would leave invalid data (fewer than two points, every x equal,
a non-finite or overflowing value) are refused with :class:`EditRefused`, one
line fit to show a user; the data stay as they were.

numpy and the data layer only: no Qt, no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sgd_viewer.core.dataset import MAX_ABS_VALUE, DataError, Dataset

__all__ = [
    "EDITED_SOURCE",
    "MAX_EDITABLE_POINTS",
    "AddPoint",
    "Edit",
    "EditRefused",
    "EditStack",
    "MovePoint",
    "RemovePoint",
    "apply_edit",
    "edited_name",
]

#: Most points editable by hand: every point must be drawn to be picked (the
#: data view subsamples beyond this), and each edit copies the arrays.
MAX_EDITABLE_POINTS = 10_000

#: The ``source`` of every edited dataset.
EDITED_SOURCE = "edited"

_EDITED_SUFFIX = " (edited)"

#: Edits kept for undo; each holds a dataset, at most 160 kB at 10k points.
DEFAULT_UNDO_LIMIT = 200


class EditRefused(ValueError):
    """An edit that would leave invalid data; ``str(err)`` says why, in one line."""


@dataclass(frozen=True)
class MovePoint:
    """Move point ``index`` to ``(x, y)``."""

    index: int
    x: float
    y: float

    def describe(self) -> str:
        return f"move point {self.index + 1}"


@dataclass(frozen=True)
class AddPoint:
    """Add the point ``(x, y)`` (after the last)."""

    x: float
    y: float

    def describe(self) -> str:
        return "add a point"


@dataclass(frozen=True)
class RemovePoint:
    """Remove point ``index``."""

    index: int

    def describe(self) -> str:
        return f"remove point {self.index + 1}"


Edit = MovePoint | AddPoint | RemovePoint


def edited_name(name: str) -> str:
    """``name`` marked as edited, once however often it is edited."""
    return name.removesuffix(_EDITED_SUFFIX) + _EDITED_SUFFIX


def _check_value(what: str, value: float, edit: Edit) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise EditRefused(f"Cannot {edit.describe()}: {what} must be a finite number")
    if abs(value) > MAX_ABS_VALUE:
        raise EditRefused(
            f"Cannot {edit.describe()}: |{what}| must be at most {MAX_ABS_VALUE:g}"
        )
    return value


def _check_index(index: int, data: Dataset, edit: Edit) -> int:
    if not 0 <= int(index) < data.n:
        raise EditRefused(
            f"Cannot {edit.describe()}: the data have points 1 to {data.n} only"
        )
    return int(index)


def apply_edit(data: Dataset, edit: Edit) -> Dataset:
    """The dataset ``edit`` makes of ``data`` (which is left as it is).

    Raises
    ------
    EditRefused
        When the result would not be valid data, or ``data`` are too many
        points to edit by hand (:data:`MAX_EDITABLE_POINTS`).
    """
    if data.n > MAX_EDITABLE_POINTS:
        raise EditRefused(
            f"Cannot {edit.describe()}: editing by hand works on up to "
            f"{MAX_EDITABLE_POINTS:,} points; these data have {data.n:,}"
        )
    if isinstance(edit, MovePoint):
        index = _check_index(edit.index, data, edit)
        x_new = _check_value("x", edit.x, edit)
        y_new = _check_value("y", edit.y, edit)
        x, y = data.x.copy(), data.y.copy()
        x[index], y[index] = x_new, y_new
    elif isinstance(edit, AddPoint):
        if data.n >= MAX_EDITABLE_POINTS:
            raise EditRefused(
                f"Cannot add a point: editing by hand works on up to "
                f"{MAX_EDITABLE_POINTS:,} points"
            )
        x = np.append(data.x, _check_value("x", edit.x, edit))
        y = np.append(data.y, _check_value("y", edit.y, edit))
    elif isinstance(edit, RemovePoint):
        index = _check_index(edit.index, data, edit)
        if data.n <= 2:
            raise EditRefused(
                f"Cannot {edit.describe()}: a line needs at least 2 points"
            )
        x, y = np.delete(data.x, index), np.delete(data.y, index)
    else:
        raise TypeError(f"not an edit: {edit!r}")
    try:
        return Dataset(
            x=x,
            y=y,
            name=edited_name(data.name),
            source=EDITED_SOURCE,
            x_label=data.x_label,
            y_label=data.y_label,
        )
    except DataError as error:
        # The message starts with the data's name; the user knows which data.
        reason = str(error).removeprefix(f"{edited_name(data.name)}: ")
        raise EditRefused(f"Cannot {edit.describe()}: {reason}") from None


@dataclass(frozen=True)
class _Step:
    before: Dataset
    after: Dataset
    edit: Edit


class EditStack:
    """Edits made, for undo, and edits undone, for redo.

    Each entry keeps the dataset before and after its edit, so that undo and
    redo give back the very same :class:`Dataset` values (same points, same
    name and source: undoing every edit of generated data gives the
    generator's dataset again). A new edit clears what could be redone.

    The stack trusts its caller to apply each edit to the data it last
    returned (:attr:`current`); the window clears it when other data load.
    """

    def __init__(self, limit: int = DEFAULT_UNDO_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the undo limit must be at least 1")
        self.limit = int(limit)
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []

    def apply(self, data: Dataset, edit: Edit) -> Dataset:
        """The edited data (``EditRefused`` and no change when invalid)."""
        after = apply_edit(data, edit)
        self._undo.append(_Step(data, after, edit))
        del self._undo[: -self.limit]
        self._redo.clear()
        return after

    def undo(self) -> Dataset:
        """The data before the last edit (``IndexError`` when there is none)."""
        if not self._undo:
            raise IndexError("nothing to undo")
        step = self._undo.pop()
        self._redo.append(step)
        return step.before

    def redo(self) -> Dataset:
        """The data after the last edit undone (``IndexError`` when none)."""
        if not self._redo:
            raise IndexError("nothing to redo")
        step = self._redo.pop()
        self._undo.append(step)
        return step.after

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    @property
    def undo_count(self) -> int:
        return len(self._undo)

    @property
    def redo_count(self) -> int:
        return len(self._redo)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        """What undo would undo (``""`` when nothing)."""
        return self._undo[-1].edit.describe() if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1].edit.describe() if self._redo else ""

    @property
    def current(self) -> Dataset | None:
        """The data the stack last returned (``None`` when empty)."""
        if self._undo:
            return self._undo[-1].after
        if self._redo:
            return self._redo[-1].before
        return None
