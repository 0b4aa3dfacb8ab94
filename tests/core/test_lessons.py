"""The shipped lessons: each one opens as a session, its pages read, its
numbers are these data's, and it behaves as its text says."""

from __future__ import annotations

import numpy as np
import pytest

from sgd_viewer.core.lessons import (
    LessonError,
    fill_numbers,
    find_lesson,
    list_lessons,
    parse_pages,
)
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.recipe import play_recipe
from sgd_viewer.core.session_file import read_session

LESSONS = [lesson.name for lesson in list_lessons()]


def test_at_least_nine_lessons_ship() -> None:
    assert len(LESSONS) >= 9
    assert all(lesson.builtin for lesson in list_lessons())


@pytest.mark.parametrize("name", LESSONS)
def test_each_lesson_opens_and_reads(name: str) -> None:
    lesson = find_lesson(name)
    saved = read_session(lesson.session_path)
    assert lesson.title
    assert lesson.summary
    assert len(lesson.pages) >= 2
    problem = Problem.from_data(saved.data.x, saved.data.y)
    for page in lesson.pages:
        filled = fill_numbers(page, problem, saved.runs[0].recipe.config.reduction, 7)
        assert "{lr_max}" not in filled
        assert "{a_opt}" not in filled
    for entry in saved.runs:  # each run takes steps
        trainer, _ = play_recipe(entry.recipe, saved.data, saved.start, 5)
        assert trainer.step_count >= 1


def _losses(entry, saved, steps: int) -> np.ndarray:
    _, batches = play_recipe(entry.recipe, saved.data, saved.start, steps)
    return np.concatenate([batch.loss for batch in batches])


def test_the_regimes_are_smooth_zigzag_and_diverging() -> None:
    saved = read_session(find_lesson("03-learning-rate-regimes").session_path)
    problem = Problem.from_data(saved.data.x, saved.data.y)
    lr_max = problem.lr_max("mean")
    smooth, zigzag, diverging = saved.runs
    for entry, factor in zip(saved.runs, (0.3, 0.9, 1.05), strict=True):
        assert entry.recipe.config.lr == pytest.approx(factor * lr_max, rel=1e-5)
    loss_opt = problem.loss_opt("mean")
    # Smooth: the loss falls at every step, all the way down.
    falling = _losses(smooth, saved, 300)
    assert np.all(np.diff(falling) <= 0)
    assert falling[-1] - loss_opt < 1e-6
    # Zig-zag: the step along the steep direction flips sign each time, yet
    # the run converges.
    trainer, batches = play_recipe(zigzag.recipe, saved.data, saved.start, 300)
    a = np.concatenate([b.a for b in batches])
    steps = np.diff(a[:20])
    assert np.all(steps[1:] * steps[:-1] < 0)
    assert trainer.status != "diverged"
    assert _losses(zigzag, saved, 300)[-1] - loss_opt < 1e-6
    # Diverging: stops with its status saying so.
    gone, _ = play_recipe(diverging.recipe, saved.data, saved.start, 2000)
    assert gone.status == "diverged"


def _steps_to_converge(entry, saved, budget: int) -> int:
    problem = Problem.from_data(saved.data.x, saved.data.y)
    loss_opt = problem.loss_opt("mean")
    loss0 = problem.loss(*saved.start, "mean")
    losses = _losses(entry, saved, budget)
    reached = np.flatnonzero(losses - loss_opt <= 1e-6 * (loss0 - loss_opt))
    return int(reached[0]) + 1 if reached.size else budget + 1


def test_momentum_crosses_the_narrow_valley_in_fewer_steps() -> None:
    saved = read_session(find_lesson("04-narrow-valley").session_path)
    problem = Problem.from_data(saved.data.x, saved.data.y)
    assert problem.condition_number() > 100  # a narrow valley indeed
    sgd, momentum, nesterov = (
        _steps_to_converge(entry, saved, 20_000) for entry in saved.runs
    )
    assert momentum < sgd / 3
    assert nesterov < sgd / 3
    assert sgd <= 20_000  # SGD gets there too, slowly


def test_pages_need_a_title_and_pages() -> None:
    assert parse_pages("# T\nsummary\n---\none\n---\ntwo\n", "x") == (
        "T",
        "summary",
        ("one", "two"),
    )
    with pytest.raises(LessonError, match="first line must be"):
        parse_pages("no title\n---\npage", "x")
    with pytest.raises(LessonError, match="has no pages"):
        parse_pages("# T\nsummary only\n", "x")


def test_an_unknown_lesson_names_the_ones_there_are() -> None:
    with pytest.raises(LessonError, match="no lesson called 'nope'; there are: 01-"):
        find_lesson("nope")


def _play(name: str, index: int, steps: int, data=None):
    saved = read_session(find_lesson(name).session_path)
    data = data if data is not None else saved.data
    trainer, batches = play_recipe(saved.runs[index].recipe, data, saved.start, steps)
    losses = np.concatenate([batch.loss for batch in batches])
    return trainer, losses, Problem.from_data(data.x, data.y), saved


def test_the_notebook_lessons_do_what_the_notebook_did() -> None:
    _, losses, problem, _ = _play("01-notebook-animation", 0, 1200)
    assert losses[-1] == pytest.approx(problem.loss_opt("mean"), rel=0.01)
    trainer, _, _, _ = _play("02-autograd-loop", 0, 500)
    a, b = trainer.parameters  # the notebook's printed result
    assert (a, b) == pytest.approx((2.997994, 7.997290), abs=2e-6)


def test_standardizing_the_cars_data_converges_where_raw_crawls() -> None:
    from sgd_viewer.core.recipe import RunRecipe
    from sgd_viewer.core.scaling import scale

    _, raw, problem, saved = _play("05-feature-scaling", 0, 300)
    assert raw[-1] > 1.05 * problem.loss_opt("mean")
    scaled_data, _ = scale(saved.data, "standardize")
    scaled = Problem.from_data(scaled_data.x, scaled_data.y)
    recipe = saved.runs[0].recipe  # the same 0.9·lr_max, of the scaled data
    same = RunRecipe(
        recipe.config.with_changes(lr=0.9 * scaled.lr_max("mean")),
        recipe.label,
        recipe.colour,
    )
    _, batches = play_recipe(same, scaled_data, saved.start, 300)
    assert batches[-1].loss[-1] == pytest.approx(scaled.loss_opt("mean"), rel=1e-9)


def test_smaller_batches_are_noisier() -> None:
    spread = [np.std(_play("06-minibatch-noise", i, 600)[1][-200:]) for i in range(3)]
    batch_1, batch_8, full = spread
    assert batch_1 > 2 * batch_8 > 2 * full


def test_every_adaptive_method_gets_there() -> None:
    for index in range(4):
        trainer, losses, problem, _ = _play("07-adaptive-methods", index, 600)
        assert trainer.status != "diverged"
        assert losses[-1] < 1.1 * problem.loss_opt("mean")


def test_anscombes_four_sets_share_one_surface() -> None:
    from sgd_viewer.core.data import load_bundled

    problems = [
        Problem.from_data(d.x, d.y)
        for d in (load_bundled(f"anscombe-{k}") for k in range(1, 5))
    ]
    first = problems[0]
    for other in problems[1:]:
        assert other.lr_max("mean") == pytest.approx(first.lr_max("mean"), rel=1e-6)
        assert other.condition_number() == pytest.approx(first.condition_number())
        assert (other.a_opt, other.b_opt) == pytest.approx(
            (first.a_opt, first.b_opt), abs=3e-3
        )
