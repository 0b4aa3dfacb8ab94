"""Problem: the closed-form quadratic against naive per-point computations.

References are independent: per-point numpy sums (float64, or the x87 long double
where float64 itself cannot resolve the answer), ``numpy.polyfit``, exact rational
arithmetic, ``numpy.linalg`` and finite differences.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from core_reference import (
    make_dataset,
    make_xy,
    naive_gradient,
    naive_hessian,
    naive_loss,
)

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.problem import Problem, ViewWindow

LONG = np.longdouble
HAVE_LONG = np.finfo(np.longdouble).eps < 1e-18  # x87 80-bit on x86-64 Linux

# (n, x offset, y offset): the lesson's data, ill-conditioned data (x ≈ 1e6), and
# data far from the origin in y.
CASES = [
    pytest.param(50, 0.0, 0.0, id="n50"),
    pytest.param(1000, 0.0, 0.0, id="n1000"),
    pytest.param(1000, 1e6, 0.0, id="n1000-x1e6"),
    pytest.param(1000, 0.0, 1e9, id="n1000-y1e9"),
]


def random_points(problem: Problem, count: int, seed: int) -> list[tuple[float, float]]:
    """Points around the optimum, a few natural units away (never at it)."""
    rng = np.random.default_rng(seed)
    unit_a = math.sqrt(max(problem.cyy, 1e-6) / problem.cxx)
    unit_b = max(abs(problem.b_opt), 1.0)
    return [
        (
            problem.a_opt + unit_a * rng.normal() * 3,
            problem.b_opt + unit_b * rng.normal(),
        )
        for _ in range(count)
    ]


def exact_loss(x, y, a, b, reduction: str = "mean") -> float:
    """The per-point loss in exact rational arithmetic (slow: small n only)."""
    fa, fb = Fraction(a), Fraction(b)
    total = sum(
        (fa * Fraction(u) + fb - Fraction(v)) ** 2
        for u, v in zip(x.tolist(), y.tolist(), strict=True)
    )
    return float(total / len(x) if reduction == "mean" else total)


def assert_sum_close(actual, expected, terms_scale, rtol=1e-12) -> None:
    """``actual`` equals ``expected`` to ``rtol`` of the sum's own scale.

    A sum of terms of mean magnitude ``terms_scale`` cannot be known to better
    than ``eps·terms_scale``; where terms do not cancel that equals the value.
    """
    assert abs(actual - expected) <= rtol * max(abs(expected), terms_scale), (
        actual,
        expected,
    )


# ------------------------------------------------------------------ statistics
def test_from_data_rejects_too_few_points_and_constant_x() -> None:
    with pytest.raises(ValueError, match="two points"):
        Problem.from_data(np.array([1.0]), np.array([2.0]))
    with pytest.raises(ValueError, match="two points"):
        Problem.from_data(np.array([1.0, 2.0]), np.array([2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="all x values are equal"):
        Problem.from_data(np.full(5, 3.0), np.arange(5.0))


@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
def test_statistics_are_the_centred_moments(n, x_offset, y_offset) -> None:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset)
    p = Problem.from_data(x, y)
    assert p.n == n
    xl, yl = x.astype(LONG), y.astype(LONG)
    mx, my = np.mean(xl), np.mean(yl)
    assert p.x_mean == pytest.approx(float(mx), rel=1e-15)
    assert p.y_mean == pytest.approx(float(my), rel=1e-15)
    tol = 1e-10 if HAVE_LONG else 1e-7
    assert p.cxx == pytest.approx(float(np.mean((xl - mx) ** 2)), rel=tol)
    assert p.cyy == pytest.approx(float(np.mean((yl - my) ** 2)), rel=tol)
    assert p.cxy == pytest.approx(float(np.mean((xl - mx) * (yl - my))), rel=tol)


# ------------------------------------------------------- loss, gradient, Hessian
@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_gradient_hessian_match_naive_per_point_sums(
    n, x_offset, y_offset, reduction
) -> None:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset, seed=1)
    p = Problem.from_data(x, y)
    k = n if reduction == "sum" else 1
    for a, b in random_points(p, 6, seed=2):
        r = a * x + b - y
        assert_sum_close(
            p.loss(a, b, reduction),
            naive_loss(x, y, a, b, reduction),
            k * float(np.mean(r * r)),
        )
        ga, gb = p.gradient(a, b, reduction)
        na, nb = naive_gradient(x, y, a, b, reduction)
        assert_sum_close(ga, na, k * float(np.mean(np.abs(2 * r * x))))
        assert_sum_close(gb, nb, k * float(np.mean(np.abs(2 * r))))
    np.testing.assert_allclose(
        p.hessian(reduction), naive_hessian(x, reduction), rtol=1e-12
    )


def test_loss_and_gradient_broadcast_over_arrays() -> None:
    x, y = make_xy(200, seed=3)
    p = Problem.from_data(x, y)
    a = np.linspace(-5, 5, 7)[:, None]
    b = np.linspace(0, 10, 5)[None, :]
    values = p.loss(a, b)
    ga, gb = p.gradient(a, b)
    assert values.shape == ga.shape == gb.shape == (7, 5)
    for i in range(7):
        for j in range(5):
            ai, bj = float(a[i, 0]), float(b[0, j])
            assert values[i, j] == pytest.approx(naive_loss(x, y, ai, bj), rel=1e-12)
            expected = naive_gradient(x, y, ai, bj)
            assert (ga[i, j], gb[i, j]) == pytest.approx(expected, rel=1e-11, abs=1e-11)


def _large_n_check(n: int) -> None:
    x, y = make_xy(n, seed=4)
    p = Problem.from_data(x, y)
    for a, b in random_points(p, 3, seed=5):
        for reduction in ("mean", "sum"):
            assert p.loss(a, b, reduction) == pytest.approx(
                naive_loss(x, y, a, b, reduction), rel=1e-12
            )
            expected = naive_gradient(x, y, a, b, reduction)
            assert p.gradient(a, b, reduction) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(p.hessian(), naive_hessian(x), rtol=1e-12)


def test_large_n_matches_naive_sums() -> None:
    _large_n_check(1_000_000)


def test_n_1e7_matches_naive_sums() -> None:
    _large_n_check(10_000_000)


@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
def test_gradient_matches_finite_differences(n, x_offset, y_offset) -> None:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset, seed=6)
    p = Problem.from_data(x, y)
    for a, b in random_points(p, 4, seed=7):
        # A quadratic: central differences are exact but for rounding, whatever
        # h, so a large h keeps the rounding (eps·L/h) small.
        ha = max(1.0, abs(a))
        hb = max(1.0, abs(b))
        fd_a = (p.loss(a + ha, b) - p.loss(a - ha, b)) / (2 * ha)
        fd_b = (p.loss(a, b + hb) - p.loss(a, b - hb)) / (2 * hb)
        ga, gb = p.gradient(a, b)
        eps = np.finfo(np.float64).eps
        top = max(
            p.loss(a + ha, b), p.loss(a - ha, b), p.loss(a, b + hb), p.loss(a, b - hb)
        )
        assert abs(ga - fd_a) <= 1e-9 * abs(ga) + 8 * eps * top / ha
        assert abs(gb - fd_b) <= 1e-9 * abs(gb) + 8 * eps * top / hb
        # and the check can fail: a wrong gradient is far outside those bounds
        assert abs(1.01 * ga - fd_a) > 1e-9 * abs(ga) + 8 * eps * top / ha


def test_gradient_vanishes_at_the_optimum() -> None:
    x, y = make_xy(500, seed=8)
    p = Problem.from_data(x, y)
    ga, gb = p.gradient(p.a_opt, p.b_opt)
    _, scale = naive_gradient(x, y, p.a_opt + 1.0, p.b_opt)
    assert abs(ga) <= 1e-13 * abs(scale)
    assert abs(gb) <= 1e-13 * abs(scale)


# ------------------------------------------------------------------ optimum
def shifted_polyfit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``numpy.polyfit(x, y, 1)`` on data shifted next to the origin.

    polyfit's least squares are backward stable with respect to |y|, so on data
    far from the origin (x ≈ 1e6 or y ≈ 1e9) its answer is only good to
    ``eps·|y| / (slope·spread)`` (1e-8 here). Shifting by round numbers near the
    medians is exact in float64 (Sterbenz) and removes that error.
    """
    c = float(np.round(np.median(x)))
    d = float(np.round(np.median(y)))
    slope, intercept = np.polyfit(x - c, y - d, 1)
    return float(slope), float(intercept + d - slope * c)


@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
def test_optimum_equals_polyfit(n, x_offset, y_offset) -> None:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset, seed=9)
    p = Problem.from_data(x, y)
    slope, intercept = shifted_polyfit(x, y)
    assert p.a_opt == pytest.approx(slope, rel=1e-9)
    assert p.b_opt == pytest.approx(intercept, rel=1e-9)
    if x_offset == 0 and y_offset == 0:
        slope, intercept = np.polyfit(x, y, 1)
        assert p.a_opt == pytest.approx(slope, rel=1e-9)
        assert p.b_opt == pytest.approx(intercept, rel=1e-9)


@pytest.mark.parametrize("x_offset", [0.0, 1e6])
def test_optimum_equals_exact_rational_least_squares(x_offset) -> None:
    # Exact arithmetic on the float64 data: the answer every method approximates.
    x, y = make_xy(200, x_offset=x_offset, seed=10)
    p = Problem.from_data(x, y)
    xs = [Fraction(v) for v in x]
    ys = [Fraction(v) for v in y]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((u - mx) ** 2 for u in xs)
    sxy = sum((u - mx) * (v - my) for u, v in zip(xs, ys, strict=True))
    a = sxy / sxx
    b = my - a * mx
    assert p.a_opt == pytest.approx(float(a), rel=1e-13)
    assert p.b_opt == pytest.approx(float(b), rel=1e-12)


@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_opt_is_the_naive_loss_at_the_optimum(
    n, x_offset, y_offset, reduction
) -> None:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset, seed=11)
    p = Problem.from_data(x, y)
    # Residuals at the optimum are small differences of large numbers when x or y
    # are large: exact rational arithmetic on the float64 data is the reference.
    expected = exact_loss(x, y, p.a_opt, p.b_opt, reduction)
    assert p.loss_opt(reduction) == pytest.approx(expected, rel=1e-12)
    assert p.loss(p.a_opt, p.b_opt, reduction) == pytest.approx(
        p.loss_opt(reduction), rel=1e-12
    )
    for a, b in random_points(p, 5, seed=12):
        assert p.loss(a, b, reduction) > p.loss_opt(reduction)


def test_unknown_reduction_is_rejected() -> None:
    p = Problem.from_data(*make_xy(10))
    with pytest.raises(ValueError, match="reduction"):
        p.loss(1.0, 1.0, "median")
    with pytest.raises(ValueError, match="reduction"):
        p.lr_max("max")


# ------------------------------------------------------------------ curvature
@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_eigenvalues_and_lr_max(n, x_offset, y_offset, reduction) -> None:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset, seed=13)
    p = Problem.from_data(x, y)
    h = naive_hessian(x, reduction)
    reference = np.linalg.eigvalsh(h)
    small, big = p.eigenvalues(reduction)
    assert big == pytest.approx(reference[1], rel=1e-12)
    assert p.lr_max(reduction) == pytest.approx(2.0 / reference.max(), rel=1e-12)
    # The invariants fix λmin even where eigvalsh cannot resolve it (x ≈ 1e6:
    # λmin/λmax ≈ 1e-25, far below float64's eps): det H = 4·Var(x) (× n²).
    k = n if reduction == "sum" else 1
    det = 4.0 * float(np.var(x)) * k * k
    assert small * big == pytest.approx(det, rel=1e-12)
    assert small + big == pytest.approx(float(np.trace(h)), rel=1e-12)
    assert 0 < small <= big
    if x_offset == 0:  # well conditioned: eigvalsh is exact enough for both
        assert small == pytest.approx(reference[0], rel=1e-12)
        cond = np.linalg.cond(naive_hessian(x))
        assert p.condition_number() == pytest.approx(cond, rel=1e-12)
    assert p.condition_number() == pytest.approx(big * big / det, rel=1e-12)


def test_ill_conditioned_data_have_a_huge_condition_number() -> None:
    p_good = Problem.from_data(*make_xy(1000))
    p_bad = Problem.from_data(*make_xy(1000, x_offset=1e6))
    assert p_good.condition_number() < 100
    assert p_bad.condition_number() > 1e20


def _sgd_run(data, lr: float, steps: int):
    from sgd_viewer.core.trainer import Trainer

    trainer = Trainer(data, TrainingConfig(optimizer="sgd", lr=lr))
    batch = trainer.step(steps)
    return trainer, batch


@pytest.mark.parametrize("x_offset", [0.0, 100.0])
def test_sgd_converges_just_below_lr_max_and_diverges_just_above(x_offset) -> None:
    data = make_dataset(200, x_offset=x_offset, seed=14)
    p = Problem.from_data(data.x, data.y)
    lr_max = p.lr_max()

    trainer, batch = _sgd_run(data, 0.99 * lr_max, 4000)
    assert trainer.status != "diverged"
    assert len(batch) == 4000
    start_loss = p.loss(-1.0, 1.0)
    assert batch.loss[-1] < start_loss
    # The stiff direction (λmax) has settled: its step factor is |1 − 0.99·2|.
    ga, gb = p.gradient(batch.a[-1], batch.b[-1])
    ga0, gb0 = p.gradient(-1.0, 1.0)
    assert math.hypot(ga, gb) < 1e-6 * math.hypot(ga0, gb0) or x_offset != 0
    if x_offset == 0:
        assert batch.loss[-1] == pytest.approx(p.loss_opt(), rel=1e-9)

    trainer, batch = _sgd_run(data, 1.01 * lr_max, 4000)
    assert trainer.status == "diverged"
    assert batch.diverged


# ------------------------------------------------------------------ surface
def test_view_window_contains_and_expanded() -> None:
    view = ViewWindow(-1.0, 3.0, 2.0, 4.0)
    assert view.contains(-1.0, 2.0)
    assert view.contains(3.0, 4.0)
    assert view.contains(1.0, 3.0)
    assert not view.contains(3.0000001, 3.0)
    assert not view.contains(1.0, 1.9999999)
    assert not view.contains(-1.5, 3.0)
    assert not view.contains(1.0, 4.5)
    big = view.expanded(2.0)
    assert big == ViewWindow(-3.0, 5.0, 1.0, 5.0)
    assert view.expanded(1.0) == view
    small = view.expanded(0.5)
    assert small == ViewWindow(0.0, 2.0, 2.5, 3.5)
    assert all(big.contains(a, b) for a in (-1, 3) for b in (2, 4))


VIEW_CASES = [
    pytest.param(50, 0.0, 0.0, (-1.0, 1.0), id="lesson"),
    pytest.param(50, 0.0, 0.0, None, id="no-start"),
    pytest.param(50, 0.0, 0.0, (40.0, -30.0), id="far-start"),
    pytest.param(1000, 1e6, 0.0, (-1.0, 1.0), id="x1e6"),
    pytest.param(1000, 1e6, 0.0, None, id="x1e6-no-start"),
    pytest.param(1000, 0.0, 1e9, (-1.0, 1.0), id="y1e9"),
    pytest.param(1000, 0.0, 1e9, None, id="y1e9-no-start"),
]


@pytest.mark.parametrize(("n", "x_offset", "y_offset", "start"), VIEW_CASES)
def test_default_view_holds_optimum_and_start(n, x_offset, y_offset, start) -> None:
    p = Problem.from_data(*make_xy(n, x_offset=x_offset, y_offset=y_offset))
    view = p.default_view(start)
    values = (view.a_min, view.a_max, view.b_min, view.b_max)
    assert all(math.isfinite(v) for v in values)
    assert view.a_max > view.a_min
    assert view.b_max > view.b_min
    assert view.contains(p.a_opt, p.b_opt)
    if start is not None:
        assert view.contains(*start)
        # with room around: neither point sits on the border
        assert view.expanded(0.99).contains(*start)
    assert view.expanded(0.99).contains(p.a_opt, p.b_opt)
    # The grid over it is not degenerate in float64.
    a_values, b_values, _ = p.loss_grid(view, (50, 50))
    assert np.all(np.diff(a_values) > 0)
    assert np.all(np.diff(b_values) > 0)


def test_default_view_never_collapses_for_a_perfect_constant_fit() -> None:
    x = np.linspace(0.0, 1.0, 20)
    for level in (0.0, 1e9):
        p = Problem.from_data(x, np.full(20, level))
        view = p.default_view()
        assert view.a_max > view.a_min
        assert view.b_max > view.b_min
        assert view.contains(p.a_opt, p.b_opt)


@pytest.mark.parametrize("shape", [(200, 200), (30, 17)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_grid_matches_loss(shape, reduction) -> None:
    x, y = make_xy(100, seed=15)
    p = Problem.from_data(x, y)
    view = p.default_view((-1.0, 1.0))
    a_values, b_values, losses = p.loss_grid(view, shape, reduction)
    assert a_values.shape == (shape[0],)
    assert b_values.shape == (shape[1],)
    assert losses.shape == shape
    assert a_values[0] == view.a_min
    assert a_values[-1] == pytest.approx(view.a_max, rel=1e-15)
    assert b_values[0] == view.b_min
    assert b_values[-1] == pytest.approx(view.b_max, rel=1e-15)
    rng = np.random.default_rng(16)
    for i, j in zip(
        rng.integers(0, shape[0], 20), rng.integers(0, shape[1], 20), strict=True
    ):
        a, b = float(a_values[i]), float(b_values[j])
        assert losses[i, j] == pytest.approx(p.loss(a, b, reduction), rel=1e-15)
        assert losses[i, j] == pytest.approx(
            naive_loss(x, y, a, b, reduction), rel=1e-12
        )


@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_contour_levels_increase_above_the_optimum(
    n, x_offset, y_offset, reduction
) -> None:
    p = Problem.from_data(*make_xy(n, x_offset=x_offset, y_offset=y_offset))
    view = p.default_view((-1.0, 1.0))
    levels = p.contour_levels(view, 10, reduction)
    assert levels.shape == (10,)
    assert np.all(np.isfinite(levels))
    assert np.all(np.diff(levels) > 0)
    assert np.all(levels > p.loss_opt(reduction))
    corners = [
        p.loss(a, b, reduction)
        for a in (view.a_min, view.a_max)
        for b in (view.b_min, view.b_max)
    ]
    assert levels[-1] <= max(corners)
    if reduction == "sum":
        mean_levels = p.contour_levels(view, 10, "mean")
        np.testing.assert_allclose(levels, mean_levels * n, rtol=1e-12)


def _split_path(a: np.ndarray, b: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pieces of a path between the separators (NaN in both a and b)."""
    gaps = np.flatnonzero(np.isnan(a) & np.isnan(b))
    pieces, begin = [], 0
    for g in gaps:
        pieces.append((a[begin:g], b[begin:g]))
        begin = g + 1
    assert begin == a.size, "the path must end with a separator"
    return pieces


@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_ellipse_points_lie_on_their_level(n, x_offset, y_offset, reduction) -> None:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset, seed=17)
    p = Problem.from_data(x, y)
    view = p.default_view((-1.0, 1.0))
    levels = p.contour_levels(view, 8, reduction)
    a, b = p.ellipses(levels, reduction, points=91)
    assert a.shape == b.shape == (8 * 92,)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    pieces = _split_path(a, b)
    assert len(pieces) == 8
    for level, (pa, pb) in zip(levels, pieces, strict=True):
        assert pa.size == 91
        assert np.all(np.isfinite(pa))
        assert np.all(np.isfinite(pb))
        # Exact loss of the float64 points; the only error allowed beyond 1e-9 is
        # what rounding the points themselves to float64 can cause (it matters
        # for ill-conditioned data, where the loss is steep in a).
        exact = np.array(
            [
                naive_loss(x, y, u, v, reduction, dtype=LONG)
                for u, v in zip(pa, pb, strict=True)
            ],
            dtype=LONG,
        )
        ga, gb = p.gradient(pa, pb, reduction)
        rounding = np.abs(ga) * np.spacing(np.abs(pa)) + np.abs(gb) * np.spacing(
            np.abs(pb)
        )
        err = np.abs(exact - LONG(level)).astype(np.float64)
        limit = 1e-9 * level + (4.0 * rounding if HAVE_LONG else 1e-6 * level)
        assert np.all(err <= limit), float(np.max(err / level))
        # A closed curve around the optimum.
        assert pa[0] == pytest.approx(pa[-1], rel=1e-12, abs=1e-12)
        assert pb[0] == pytest.approx(pb[-1], rel=1e-12, abs=1e-12)
        assert pa.min() < p.a_opt < pa.max()
        assert pb.min() < p.b_opt < pb.max()


def test_ellipse_levels_nest() -> None:
    p = Problem.from_data(*make_xy(100, seed=18))
    levels = p.contour_levels(p.default_view((-1.0, 1.0)), 5)
    pieces = _split_path(*p.ellipses(levels))
    widths = [np.ptp(pa) for pa, _ in pieces]
    assert widths == sorted(widths)
    assert len(set(widths)) == 5


def test_ellipses_skip_levels_at_or_below_the_optimum() -> None:
    p = Problem.from_data(*make_xy(100, seed=19))
    opt = p.loss_opt()
    a, b = p.ellipses(np.array([opt * 0.5, opt, opt * 2.0]))
    assert len(_split_path(a, b)) == 1
    a, b = p.ellipses(np.array([opt * 0.5, opt]))
    assert a.size == 0
    assert b.size == 0
    a, b = p.ellipses(np.array([]))
    assert a.size == 0
    assert b.size == 0


@pytest.mark.parametrize(("n", "x_offset", "y_offset"), CASES)
def test_clip_draws_only_the_arcs_inside(n, x_offset, y_offset) -> None:
    x, y = make_xy(n, x_offset=x_offset, y_offset=y_offset, seed=20)
    p = Problem.from_data(x, y)
    levels = p.contour_levels(p.default_view((-1.0, 1.0)), 10)
    a_all, b_all = p.ellipses(levels)
    # A window over the middle of the rings: the inner ones lie inside, the outer
    # ones cross it, whatever the shape of the ellipses.
    half_a = 0.5 * np.nanmax(np.abs(a_all - p.a_opt))
    half_b = 0.5 * np.nanmax(np.abs(b_all - p.b_opt))
    clip = ViewWindow(
        p.a_opt - half_a, p.a_opt + half_a, p.b_opt - half_b, p.b_opt + half_b
    )
    a, b = p.ellipses(levels, clip=clip)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    inside = np.array(
        [
            bool(np.isfinite(u)) and clip.contains(u, v)
            for u, v in zip(a_all, b_all, strict=True)
        ]
    )
    assert inside.any()
    assert not inside[np.isfinite(a_all)].all()
    # Only the arcs inside are drawn, and every drawn point lies on a ring.
    finite = np.isfinite(a)
    assert finite.any()
    assert all(clip.contains(u, v) for u, v in zip(a[finite], b[finite], strict=True))
    on_ring = p.loss(a[finite], b[finite])
    nearest = levels[np.argmin(np.abs(on_ring[:, None] - levels[None, :]), axis=1)]
    np.testing.assert_allclose(on_ring, nearest, rtol=1e-6)


def _drawn_length(a: np.ndarray, b: np.ndarray, view: ViewWindow) -> float:
    """Length of a ``connect="finite"`` path in view units (the view is 1 × 1)."""
    u = (a - view.a_min) / (view.a_max - view.a_min)
    v = (b - view.b_min) / (view.b_max - view.b_min)
    return float(np.nansum(np.hypot(np.diff(u), np.diff(v))))


def _bundled(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sgd_viewer.core.data import load_bundled

    data = load_bundled(name)
    return data.x, data.y


@pytest.mark.parametrize(
    ("xy", "start"),
    [
        pytest.param(lambda: make_xy(50), (-1.0, 1.0), id="lesson-start"),
        pytest.param(lambda: make_xy(50), None, id="lesson"),
        pytest.param(lambda: _bundled("cars"), None, id="cars"),
        pytest.param(lambda: _bundled("anscombe-1"), (-1.0, 1.0), id="anscombe-1"),
        pytest.param(lambda: _bundled("forbes"), None, id="forbes"),
        pytest.param(
            lambda: make_xy(1000, x_offset=10.0),
            None,
            id="x10",
        ),
    ],
)
def test_clipped_contours_stay_visible_in_the_default_view(xy, start) -> None:
    # What the surface view draws: the default window and its levels, clipped.
    p = Problem.from_data(*xy())
    view = p.default_view(start)
    levels = p.contour_levels(view)
    drawn = _drawn_length(*p.ellipses(levels, clip=view), view)
    # A dense sampling of the same rings shows how much of them is in the view.
    visible = _drawn_length(*p.ellipses(levels, points=200_001, clip=view), view)
    assert visible > 1.0  # the rings do cross the window
    assert drawn >= 0.5 * visible, f"drew {drawn:.3g} of {visible:.3g}"


def test_ellipse_of_a_level_relates_to_eigen_axes() -> None:
    # Semi-axes are sqrt(2·excess/λ): the widest extent is the λmin axis.
    p = Problem.from_data(*make_xy(300, seed=21))
    excess = 0.5
    a, b = p.ellipses(np.array([p.loss_opt() + excess]), points=3601)
    ((pa, pb),) = _split_path(a, b)
    radius = np.hypot(pa - p.a_opt, pb - p.b_opt)
    small, big = p.eigenvalues()
    assert radius.max() == pytest.approx(math.sqrt(2 * excess / small), rel=1e-6)
    assert radius.min() == pytest.approx(math.sqrt(2 * excess / big), rel=1e-6)
