"""The loss written as a sum of squared residuals (``core.loss_terms``), checked
against numpy's own mean and sum of the squared residuals, read back from the
text."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_viewer.core.data import generate
from sgd_viewer.core.loss_terms import (
    LEADING_TERMS,
    loss_equation,
    point_share,
    residuals,
)

MINUS = "\u2212"


def shown_value(text: str) -> float:
    """The loss at the end of the equation, as a float."""
    return float(text.rsplit("= ", 1)[1].replace(MINUS, "-"))


def shown_terms(text: str) -> list[str]:
    """The numeric terms (``0.412²``, ``(−0.13)²``, ``…``) of the equation."""
    numbers = text.split(" = ")[2]
    if numbers.startswith("(1/"):
        numbers = numbers.split("·(", 1)[1].removesuffix(")")
    return numbers.split(" + ")


def naive_loss(x, y, a, b, reduction):
    r = np.asarray(y, dtype=float) - (a * np.asarray(x, dtype=float) + b)
    return float(np.mean(r**2) if reduction == "mean" else np.sum(r**2))


def test_residuals_are_y_minus_the_line():
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.5, 4.0])
    np.testing.assert_array_equal(residuals(x, y, 1.0, 1.0), [0.0, 0.5, 1.0])
    assert residuals(x, y, 1.0, 1.0).dtype == np.float64


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("n", [1, 2, 5, 12, 13, 50])
def test_the_value_is_the_loss_of_the_residuals(n, reduction):
    """The number a learner reads is numpy's mean (sum) of squared residuals,
    to the six digits shown."""
    data = generate(max(n, 2))
    x, y = data.x[:n], data.y[:n]
    text = loss_equation(x, y, 0.7, -0.3, reduction)
    expected = naive_loss(x, y, 0.7, -0.3, reduction)
    assert shown_value(text) == pytest.approx(expected, rel=1e-4)


@settings(max_examples=60, deadline=None)
@given(
    points=st.lists(
        st.tuples(
            st.floats(-1e3, 1e3, allow_nan=False),
            st.floats(-1e3, 1e3, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    ),
    a=st.floats(-50, 50, allow_nan=False),
    b=st.floats(-50, 50, allow_nan=False),
    reduction=st.sampled_from(["mean", "sum"]),
)
def test_any_data_reads_back_its_loss(points, a, b, reduction):
    x, y = np.array(points).T
    text = loss_equation(x, y, a, b, reduction)
    expected = naive_loss(x, y, a, b, reduction)
    assert shown_value(text) == pytest.approx(expected, rel=1e-4, abs=1e-300)


@pytest.mark.parametrize("n", [1, 3, 12])
def test_up_to_max_terms_every_term_is_written(n):
    x = np.arange(n, dtype=float)
    y = 2 * x + 1 + np.linspace(-1, 1, n) + 0.05
    text = loss_equation(x, y, 2.0, 1.0)
    terms = shown_terms(text)
    assert len(terms) == n
    assert "…" not in terms
    assert all(term.endswith("²") for term in terms)


def test_many_points_show_the_first_few_then_the_last():
    data = generate(50)
    r = residuals(data.x, data.y, 0.5, 0.0)
    text = loss_equation(data.x, data.y, 0.5, 0.0)
    assert text.startswith("MSE = (1/50)·(r₁² + r₂² + … + rₙ²) = (1/50)·(")
    terms = shown_terms(text)
    assert len(terms) == LEADING_TERMS + 2
    assert terms[LEADING_TERMS] == "…"
    written = terms[:LEADING_TERMS] + terms[-1:]
    for term, value in zip(written, [*r[:LEADING_TERMS], r[-1]], strict=True):
        # 3 significant digits of the residual itself.
        number = float(term.strip("()²").replace(MINUS, "-"))
        assert number == pytest.approx(value, rel=5e-3)


def test_max_terms_is_honoured():
    x = np.arange(12.0)
    assert "…" in shown_terms(loss_equation(x, x + 1, 1.0, 0.0, max_terms=11))
    assert "…" not in shown_terms(loss_equation(x, x + 1, 1.0, 0.0, max_terms=12))


def test_negative_residuals_are_in_parentheses_with_a_real_minus():
    """``(−0.13)²``, never ``−0.13²`` (which reads as −(0.13²)) nor a hyphen."""
    x, y = np.array([0.0, 1.0]), np.array([0.412, 0.87])  # residuals 0.412, −0.13
    text = loss_equation(x, y, 1.0, 0.0)
    assert shown_terms(text) == ["0.412²", f"({MINUS}0.13)²"]
    assert "-" not in text


def test_the_sum_has_no_one_over_n():
    x, y = np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 2.5])
    text = loss_equation(x, y, 1.0, 0.0, "sum")
    assert text == f"SSE = r₁² + r₂² + r₃² = 0.5² + 0² + 0.5² = {0.5:g}"


def test_one_point():
    text = loss_equation(np.array([2.0]), np.array([3.0]), 1.0, 0.5)
    assert text == "MSE = (1/1)·(r₁²) = (1/1)·(0.5²) = 0.25"


def test_a_perfect_fit_is_all_zeros():
    x = np.linspace(0, 1, 20)
    text = loss_equation(x, 3 * x - 1, 3.0, -1.0)
    assert shown_value(text) == 0.0
    assert set(shown_terms(text)) == {"0²", "…"}


def test_large_residuals_are_written_without_an_exponent():
    x, y = np.array([0.0, 0.0]), np.array([1234.5, -0.00123])
    terms = shown_terms(loss_equation(x, y, 0.0, 0.0))
    assert terms == ["1230²", f"({MINUS}0.00123)²"]


@pytest.mark.parametrize(
    ("a", "b"), [(math.nan, 0.0), (0.0, math.inf), (-math.inf, math.nan)]
)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_non_finite_line_gives_a_short_sentence(a, b, reduction):
    text = loss_equation(np.arange(5.0), np.arange(5.0), a, b, reduction)
    assert text.startswith("MSE" if reduction == "mean" else "SSE")
    assert "not a finite number" in text
    assert "=" not in text
    assert len(text) < 80


def test_an_overflowing_loss_gives_a_short_sentence():
    text = loss_equation(np.array([1.0, 2.0]), np.array([0.0, 0.0]), 1e300, 0.0)
    assert "too large" in text
    assert "=" not in text


def test_no_points_and_unknown_reductions():
    assert loss_equation(np.empty(0), np.empty(0), 1.0, 0.0) == "MSE: no points"
    with pytest.raises(ValueError, match="reduction"):
        loss_equation(np.arange(3.0), np.arange(3.0), 1.0, 0.0, "median")
    with pytest.raises(ValueError, match="same length"):
        loss_equation(np.arange(3.0), np.arange(4.0), 1.0, 0.0)


# ---------------------------------------------------------------- point_share
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_shares_sum_to_one_and_contributions_to_the_loss(reduction):
    data = generate(50)
    a, b = 0.3, 0.2
    parts = [point_share(data.x, data.y, a, b, i, reduction) for i in range(50)]
    assert math.fsum(p["share"] for p in parts) == pytest.approx(1.0, rel=1e-12)
    total = math.fsum(p["contribution"] for p in parts)
    assert total == pytest.approx(naive_loss(data.x, data.y, a, b, reduction))


def test_a_point_reads_its_own_numbers():
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 4.0])  # r = 0, −1, 1
    part = point_share(x, y, 1.0, 1.0, 1)
    assert part == {
        "x": 1.0,
        "y": 1.0,
        "residual": -1.0,
        "squared": 1.0,
        "share": 0.5,
        "contribution": pytest.approx(1 / 3),
    }
    assert point_share(x, y, 1.0, 1.0, -1)["x"] == 2.0
    with pytest.raises(IndexError):
        point_share(x, y, 1.0, 1.0, 3)


def test_shares_are_zero_on_a_perfect_fit():
    x = np.linspace(0, 1, 5)
    part = point_share(x, 2 * x, 2.0, 0.0, 2)
    assert part["share"] == 0.0
    assert part["squared"] == 0.0


def test_shares_survive_squares_that_overflow():
    """A diverged but finite line: the squares overflow, the shares do not."""
    x, y = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    shares = [point_share(x, y, 1e200, 0.0, i)["share"] for i in range(2)]
    assert shares == pytest.approx([0.2, 0.8])


def test_a_non_finite_line_gives_nan_shares_without_raising():
    part = point_share(np.arange(3.0), np.arange(3.0), math.nan, 0.0, 0)
    assert part["x"] == 0.0
    for key in ("residual", "squared", "share", "contribution"):
        assert math.isnan(part[key])


def test_a_given_loss_is_written_with_the_same_terms():
    rng = np.random.default_rng(5)
    x, y = rng.random(1_000), rng.random(1_000) * 3
    full = loss_equation(x, y, 1.5, 0.2)
    value = float(np.mean((y - (1.5 * x + 0.2)) ** 2))
    assert loss_equation(x, y, 1.5, 0.2, loss=value) == full
