"""Extreme but valid data: the optimum is right, the view is sensible, nothing
overflows (warnings are errors), and the window opens on it; data that float64
cannot fit is refused clearly.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from sgd_viewer import cli
from sgd_viewer.core.data import DataError, Dataset
from sgd_viewer.core.problem import Problem

from .helpers import check_message, views_are_finite

START = (-1.0, 1.0)


def _points(kind: str, n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    if kind == "two points":
        return np.array([0.5, 2.0]), np.array([1.0, 4.0])
    if kind == "x near 1e6":
        x = 1e6 + rng.uniform(0, 1, n)
        return x, 3.0 * x + 8.0 + 0.3 * rng.normal(size=n)
    if kind == "y near 1e9":
        x = rng.uniform(0, 1, n)
        return x, 1e9 + 3.0 * x + 0.3 * rng.normal(size=n)
    if kind == "x near 1e6, y near 1e9":
        x = 1e6 + rng.uniform(-5, 5, n)
        return x, 1e9 + 40.0 * (x - 1e6) + rng.normal(size=n)
    if kind == "large n":
        x = rng.uniform(0, 1, n)
        return x, 3.0 * x + 8.0 + 0.3 * rng.normal(size=n)
    raise AssertionError(kind)


CASES = ["two points", "x near 1e6", "y near 1e9", "x near 1e6, y near 1e9"]


def _exact_fit(x, y) -> tuple[float, float]:
    """Least squares in exact rational arithmetic (small n only)."""
    xs = [Fraction(float(v)) for v in x]
    ys = [Fraction(float(v)) for v in y]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((v - mx) ** 2 for v in xs)
    sxy = sum((u - mx) * (v - my) for u, v in zip(xs, ys, strict=True))
    slope = sxy / sxx
    return float(slope), float(my - slope * mx)


def _polyfit_tolerance(x, y, slope) -> float:
    # The intercept is an extrapolation to x = 0: its rounding grows with |x|.
    return 1e-9 * (np.abs(y).max() + abs(slope) * np.abs(x).max())


def _check_problem(x, y) -> Problem:
    problem = Problem.from_data(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    assert problem.a_opt == pytest.approx(slope, rel=1e-6, abs=1e-9)
    assert problem.b_opt == pytest.approx(
        intercept, abs=_polyfit_tolerance(x, y, slope)
    )
    if x.size <= 1000:
        exact_a, exact_b = _exact_fit(x, y)
        assert problem.a_opt == pytest.approx(exact_a, rel=1e-9)
        assert problem.b_opt == pytest.approx(
            exact_b, abs=_polyfit_tolerance(x, y, slope) * 1e-2
        )
    # The optimum really is one: the gradient there is ~0 relative to its scale.
    grad_a, grad_b = problem.gradient(problem.a_opt, problem.b_opt)
    scale = math.sqrt(problem.cyy + problem.y_mean**2) * (abs(problem.x_mean) + 1)
    assert abs(grad_a) <= 1e-6 * scale
    assert abs(grad_b) <= 1e-6 * scale
    view = problem.default_view(START)
    for value in (view.a_min, view.a_max, view.b_min, view.b_max):
        assert math.isfinite(value)
    assert view.a_max > view.a_min
    assert view.b_max > view.b_min
    assert view.contains(problem.a_opt, problem.b_opt)
    assert view.contains(*START)
    for value in (problem.lr_max(), problem.condition_number(), problem.loss_opt()):
        assert math.isfinite(value)
    _, _, losses = problem.loss_grid(view)
    assert np.all(np.isfinite(losses))
    return problem


def _write_csv(path, x, y) -> None:
    table = np.column_stack([x, y])
    np.savetxt(path, table, delimiter=",", fmt="%.17g", header="x,y", comments="")


def _fit_json(path, capsys) -> dict:
    code = cli.main(["fit", "--data", str(path), "--steps", "0", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    return json.loads(out)


@pytest.mark.parametrize("kind", CASES)
def test_optimum_and_view(kind, tmp_path, capsys):
    x, y = _points(kind)
    problem = _check_problem(x, y)
    path = tmp_path / "points.csv"
    _write_csv(path, x, y)
    summary = _fit_json(path, capsys)
    slope, intercept = np.polyfit(x, y, 1)
    assert summary["optimum"]["a"] == pytest.approx(slope, rel=1e-6, abs=1e-9)
    assert summary["optimum"]["b"] == pytest.approx(
        intercept, abs=_polyfit_tolerance(x, y, slope)
    )
    assert summary["optimum"]["a"] == pytest.approx(problem.a_opt, rel=1e-12)
    assert summary["n"] == x.size
    assert math.isfinite(summary["lr_max"])


@pytest.mark.parametrize("kind", CASES)
def test_window_opens_and_renders(kind, make_window, qtbot):
    x, y = _points(kind)
    window = make_window(data=Dataset(x=x, y=y, name=kind), start=START)
    problem = window.problem
    assert problem.a_opt == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-6)
    view = window.surface_view.visible_window()
    assert view.contains(problem.a_opt, problem.b_opt)
    assert view.contains(*START)
    image = window.surface_view._image.image
    assert image is not None
    assert image.shape == (200, 200)
    assert np.all(np.isfinite(image))
    assert np.ptp(image) > 0
    contours_a = window.surface_view._contours.xData
    assert contours_a is not None
    assert np.isfinite(contours_a).any()
    # A safe learning rate steps without a warning, NaN or divergence.
    window.controls.speed_spin.setValue(0)
    window.controls.lr_spin.setValue(max(1e-6, 0.5 * min(problem.lr_max(), 10.0)))
    window.step(20)
    qtbot.waitUntil(
        lambda: (
            window.snapshot()["step"] == 20 or window.snapshot()["status"] == "diverged"
        ),
        timeout=10_000,
    )
    snap = window.snapshot()
    if 0.5 * problem.lr_max() >= 1e-6:  # the spin box reaches a stable lr
        assert snap["status"] == "paused", snap["message"]
    assert views_are_finite(window) == []


def _large(n, tmp_path, capsys) -> None:
    x, y = _points("large n", n)
    problem = _check_problem(x, y)
    path = tmp_path / "large.csv"
    _write_csv(path, x, y)
    summary = _fit_json(path, capsys)
    assert summary["n"] == n
    assert summary["optimum"]["a"] == pytest.approx(problem.a_opt, rel=1e-12)
    assert summary["optimum"]["a"] == pytest.approx(3.0, abs=0.01)


def test_a_million_points(tmp_path, capsys):
    _large(1_000_000, tmp_path, capsys)


@pytest.mark.soak
def test_ten_million_points(tmp_path, capsys):
    _large(10_000_000, tmp_path, capsys)


@pytest.mark.parametrize("n", [pytest.param(1_000_000, id="1e6")])
def test_window_on_a_million_points(n, make_window, qtbot):
    x, y = _points("large n", n)
    window = make_window(data=Dataset(x=x, y=y, name="large"))
    assert window.fit_view.shown_points <= 10_000
    assert window.fit_view.total_points == n
    assert np.all(np.isfinite(window.surface_view._image.image))
    window.step(5)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 5, timeout=10_000)


# ------------------------------------------------------------------ refusals
TOO_CLOSE = 1e6 + np.linspace(0.0, 1e-9, 50)


def test_spread_below_float64_resolution_is_refused():
    """x spread 1e-9 at |x| = 1e6 is 1e-15 relative: below 64 ulps, no slope."""
    with pytest.raises(DataError) as info:
        Dataset(x=TOO_CLOSE, y=3.0 * TOO_CLOSE, name="too-close")
    check_message(str(info.value), "too-close", ["all x values are equal"])


def test_spread_below_resolution_is_refused_at_every_entry(
    tmp_path, capsys, make_window, qtbot
):
    path = tmp_path / "x-spread-1e-9.csv"
    _write_csv(path, TOO_CLOSE, 3.0 * TOO_CLOSE)
    code = cli.main(["fit", "--data", str(path)])
    _, err = capsys.readouterr()
    assert code == 2
    assert len(err.splitlines()) == 1
    check_message(err.strip(), path.name, ["all x values are equal"])
    window = make_window()
    before = window.snapshot()
    assert window.open_csv(str(path)) is False
    dialog = window.findChild(QMessageBox, "errorDialog")
    check_message(dialog.text(), path.name, ["all x values are equal"])
    assert window.snapshot() == before
    dialog.close()
