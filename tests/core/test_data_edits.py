"""Edits by hand to a dataset: the edits, refusals, undo and redo."""

from __future__ import annotations

import numpy as np
import pytest

from sgd_viewer.core.data import Dataset, generate, load_bundled, load_csv
from sgd_viewer.core.data_edits import (
    MAX_EDITABLE_POINTS,
    AddPoint,
    EditRefused,
    EditStack,
    MovePoint,
    RemovePoint,
    apply_edit,
    edited_name,
)
from sgd_viewer.core.problem import Problem


def _points(x, y, **kwargs) -> Dataset:
    return Dataset(x=np.asarray(x, float), y=np.asarray(y, float), **kwargs)


def test_move_add_and_remove_make_new_edited_data():
    data = generate(n=5, seed=1)
    moved = apply_edit(data, MovePoint(2, 0.5, 42.0))
    assert (moved.x[2], moved.y[2]) == (0.5, 42.0)
    others = [0, 1, 3, 4]
    assert np.array_equal(moved.x[others], data.x[others])
    assert np.array_equal(moved.y[others], data.y[others])
    added = apply_edit(moved, AddPoint(2.0, -1.0))
    assert added.n == 6
    assert (added.x[-1], added.y[-1]) == (2.0, -1.0)
    removed = apply_edit(added, RemovePoint(0))
    assert np.array_equal(removed.x, added.x[1:])
    assert np.array_equal(removed.y, added.y[1:])
    # The original is a frozen value: untouched, and still the generator's.
    assert data.n == 5
    assert data.is_generated
    assert np.array_equal(data.x, generate(n=5, seed=1).x)


def test_edited_data_say_so_and_keep_the_labels():
    data = _points([0, 1, 2], [1, 2, 4], name="heights.csv", x_label="age",
                   y_label="height", source="/tmp/heights.csv")  # fmt: skip
    edited = apply_edit(data, MovePoint(0, 0.0, 0.5))
    assert edited.name == "heights.csv (edited)"
    assert edited.source == "edited"
    assert not edited.is_generated
    assert (edited.x_label, edited.y_label) == ("age", "height")
    assert edited.true_a is None
    assert edited.true_b is None
    again = apply_edit(edited, AddPoint(3.0, 5.0))
    assert again.name == "heights.csv (edited)"  # marked once
    assert edited_name("a (edited)") == "a (edited)"


def test_generated_data_lose_the_generators_true_line():
    edited = apply_edit(generate(n=10), RemovePoint(3))
    assert edited.true_a is None
    assert edited.noise is None
    assert edited.seed is None
    assert edited.source == "edited"


def test_bundled_data_edit_too():
    from sgd_viewer.core.data import bundled_dataset_names

    data = load_bundled(bundled_dataset_names()[0])
    edited = apply_edit(data, RemovePoint(0))
    assert edited.n == data.n - 1
    assert edited.source == "edited"
    assert (edited.x_label, edited.y_label) == (data.x_label, data.y_label)


def test_csv_data_edit_without_touching_the_file(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,y\n0,1\n1,3\n2,5\n3,7.5\n", encoding="utf-8")
    before = path.read_bytes()
    data = load_csv(str(path))
    edited = apply_edit(apply_edit(data, MovePoint(1, 1.0, 10.0)), AddPoint(4, 9))
    assert edited.n == 5
    assert path.read_bytes() == before
    assert edited.source != data.source


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_closed_form_optimum_of_edited_data_is_numpys_fit(seed):
    rng = np.random.default_rng(seed)
    data = generate(n=30, seed=seed)
    stack = EditStack()
    current = data
    for _ in range(20):
        kind = rng.integers(3)
        if kind == 0:
            edit = MovePoint(int(rng.integers(current.n)), *rng.normal(0, 3, 2))
        elif kind == 1:
            edit = AddPoint(*rng.normal(0, 3, 2))
        else:
            edit = RemovePoint(int(rng.integers(current.n)))
        current = stack.apply(current, edit)
        problem = Problem.from_data(current.x, current.y)
        slope, intercept = np.polyfit(current.x, current.y, 1)
        assert problem.a_opt == pytest.approx(slope, rel=1e-9, abs=1e-9)
        assert problem.b_opt == pytest.approx(intercept, rel=1e-9, abs=1e-9)


def test_a_far_point_pulls_the_optimum():
    data = _points([0, 1, 2, 3], [0, 1, 2, 3], name="line")
    problem = Problem.from_data(data.x, data.y)
    assert problem.a_opt == pytest.approx(1.0)
    edited = apply_edit(data, MovePoint(3, 3.0, 30.0))
    moved = Problem.from_data(edited.x, edited.y)
    assert moved.a_opt > 5.0
    assert moved.a_opt == pytest.approx(np.polyfit(edited.x, edited.y, 1)[0])


# ------------------------------------------------------------------- refusals
def test_removing_below_two_points_is_refused():
    data = _points([0, 1, 2], [1, 2, 3], name="three")
    two = apply_edit(data, RemovePoint(1))
    with pytest.raises(EditRefused, match="at least 2 points"):
        apply_edit(two, RemovePoint(0))
    assert two.n == 2


def test_making_every_x_equal_is_refused():
    data = _points([0, 1], [1, 2], name="two")
    with pytest.raises(EditRefused, match=r"Cannot move point 2: all x values"):
        apply_edit(data, MovePoint(1, 0.0, 5.0))
    three = _points([0, 0, 1], [1, 2, 3], name="three")
    with pytest.raises(EditRefused, match="all x values are equal"):
        apply_edit(three, RemovePoint(2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e200])
def test_non_finite_or_huge_values_are_refused(bad):
    data = _points([0, 1, 2], [1, 2, 3], name="three")
    for edit in (MovePoint(0, bad, 1.0), MovePoint(0, 1.0, bad), AddPoint(bad, 0.0)):
        with pytest.raises(EditRefused, match="Cannot"):
            apply_edit(data, edit)


def test_an_index_out_of_range_is_refused():
    data = _points([0, 1, 2], [1, 2, 3], name="three")
    for edit in (MovePoint(3, 0, 0), RemovePoint(-1), RemovePoint(7)):
        with pytest.raises(EditRefused, match="points 1 to 3"):
            apply_edit(data, edit)


def test_too_many_points_to_edit_by_hand_are_refused():
    x = np.linspace(0, 1, MAX_EDITABLE_POINTS + 1)
    big = _points(x, x, name="big")
    with pytest.raises(EditRefused, match="up to 10,000 points"):
        apply_edit(big, MovePoint(0, 0.5, 0.5))
    full = _points(x[:-1], x[:-1], name="full")
    with pytest.raises(EditRefused, match="add a point"):
        apply_edit(full, AddPoint(2.0, 2.0))
    assert apply_edit(full, RemovePoint(0)).n == MAX_EDITABLE_POINTS - 1


def test_refused_messages_are_one_line():
    data = _points([0, 1], [1, 2], name="two\nlines")
    with pytest.raises(EditRefused) as caught:
        apply_edit(data, MovePoint(1, 0.0, 0.0))
    assert "\n" not in str(caught.value)


def test_not_an_edit_is_a_type_error():
    with pytest.raises(TypeError):
        apply_edit(generate(n=3), "move")  # type: ignore[arg-type]


# ---------------------------------------------------------------- undo, redo
def test_undo_and_redo_give_back_the_very_same_datasets():
    original = generate(n=8)
    stack = EditStack()
    assert not stack.can_undo
    assert not stack.can_redo
    assert stack.current is None
    first = stack.apply(original, MovePoint(0, 0.1, 20.0))
    second = stack.apply(first, AddPoint(1.5, 1.0))
    third = stack.apply(second, RemovePoint(2))
    assert (stack.undo_count, stack.redo_count) == (3, 0)
    assert stack.undo_text == "remove point 3"
    assert stack.undo() is second
    assert stack.undo() is first
    assert stack.current is first
    assert stack.undo() is original
    assert original.is_generated  # the generator's data again, true line and all
    assert (stack.undo_count, stack.redo_count) == (0, 3)
    assert stack.redo_text == "move point 1"
    assert stack.redo() is first
    assert stack.redo() is second
    assert stack.redo() is third
    assert not stack.can_redo
    assert stack.current is third


def test_undo_and_redo_with_nothing_there_raise():
    stack = EditStack()
    with pytest.raises(IndexError):
        stack.undo()
    with pytest.raises(IndexError):
        stack.redo()


def test_a_new_edit_clears_what_could_be_redone():
    original = generate(n=8)
    stack = EditStack()
    first = stack.apply(original, MovePoint(0, 0.1, 20.0))
    stack.apply(first, AddPoint(1.5, 1.0))
    assert stack.undo() is first
    branch = stack.apply(first, RemovePoint(0))
    assert not stack.can_redo
    assert stack.undo() is first
    assert stack.redo() is branch


def test_a_refused_edit_changes_nothing_in_the_stack():
    data = _points([0, 1, 2], [1, 2, 3], name="three")
    stack = EditStack()
    two = stack.apply(data, RemovePoint(0))
    stack.undo()
    data_again = stack.redo()
    assert data_again is two
    stack.undo()
    stack.redo()
    with pytest.raises(EditRefused):
        stack.apply(two, RemovePoint(0))
    assert (stack.undo_count, stack.redo_count) == (1, 0)
    assert stack.current is two


def test_the_stack_keeps_at_most_its_limit_and_clears():
    stack = EditStack(limit=3)
    current = generate(n=10)
    for i in range(5):
        current = stack.apply(current, MovePoint(i, 0.5, float(i)))
    assert stack.undo_count == 3
    for _ in range(3):
        stack.undo()
    assert not stack.can_undo
    assert stack.current is not None
    assert stack.current.y[1] == 1.0
    stack.clear()
    assert (stack.undo_count, stack.redo_count) == (0, 0)
    assert stack.current is None
    with pytest.raises(ValueError, match="at least 1"):
        EditStack(limit=0)
