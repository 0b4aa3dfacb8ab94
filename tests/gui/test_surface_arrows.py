"""The surface's explaining arrows: the gradient field, each run's step taken
and the momentum a heavy-ball run carries; display options in the session."""

from __future__ import annotations

import numpy as np
import pytest

from sgd_viewer.core.display import DisplayOptions
from sgd_viewer.core.trainer import Trainer


def _run_steps(window, qtbot, count: int) -> None:
    target = window.snapshot()["latest_step"] + count
    window.step(count)
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] >= target, timeout=20_000)


def test_display_options_live_in_the_session_and_the_box_shows_them(window):
    assert window.snapshot()["display"] == DisplayOptions().__dict__
    window.explain_box.checks["gradient_field"].setChecked(True)
    assert window.session.display.gradient_field
    window.set_display(step_taken=True, residuals="squares")
    assert window.explain_box.checks["step_taken"].isChecked()
    assert window.explain_box.residual_combo.currentData() == "squares"
    assert window.snapshot()["display"]["residuals"] == "squares"
    with pytest.raises(ValueError, match="unknown display option"):
        window.set_display(sparkles=True)
    with pytest.raises(ValueError, match="residuals must be one of"):
        window.set_display(residuals="circles")


def test_the_gradient_field_points_downhill(window):
    window.set_display(gradient_field=True)
    x, y = window.surface_view.arrows.field_data()
    assert x.size > 100
    # Segment pairs: shafts first (a third of the pairs), from grid point to tip.
    pairs = x.size // 2
    shafts = pairs // 3
    problem = window.session.problem
    x0, x1 = x[0 : 2 * shafts : 2], x[1 : 2 * shafts : 2]
    y0, y1 = y[0 : 2 * shafts : 2], y[1 : 2 * shafts : 2]
    grad_a, grad_b = problem.gradient(x0, y0, "mean")
    along = -(grad_a * (x1 - x0) + grad_b * (y1 - y0))
    assert (along > 0).all()  # every arrow goes downhill
    window.set_display(gradient_field=False)
    assert window.surface_view.arrows.field_data()[0].size == 0


def test_step_taken_is_each_runs_last_step(window, qtbot):
    window.add_run("adam:lr=0.1")
    window.set_display(step_taken=True)
    _run_steps(window, qtbot, 6)
    window.settle_views()
    arrows = window.surface_view.arrows.drawn["step"]
    assert len(arrows) == 2
    for run, arrow in zip(window.session.runs, arrows, strict=True):
        five, six = run.row_at(5), run.row_at(6)
        assert arrow.origin == (five["a"], five["b"])
        assert arrow.vector == pytest.approx(
            (six["a"] - five["a"], six["b"] - five["b"]), rel=1e-12
        )
        assert arrow.colour == run.colour
    # Adam's step is not along −∇L at the point it left.
    adam = arrows[1]
    grad = window.session.problem.gradient(*adam.origin, "mean")
    cosine = -np.dot(grad, adam.vector) / (
        np.linalg.norm(grad) * np.linalg.norm(adam.vector)
    )
    assert cosine < 0.999


@pytest.mark.parametrize(
    "spec",
    ["momentum:lr=0.05,momentum=0.9", "nesterov:lr=0.05,momentum=0.8,weight_decay=0.1"],
)
def test_momentum_carried_plus_the_gradient_step_is_the_next_step(window, qtbot, spec):
    window.add_run(spec)
    window.remove_run(0)
    window.set_display(momentum=True)
    _run_steps(window, qtbot, 8)
    window.view_step(7)
    window.settle_views()
    (carried,) = window.surface_view.arrows.drawn["momentum"]
    run = window.session.run
    seven, eight = run.row_at(7), run.row_at(8)
    assert carried.origin == (seven["a"], seven["b"])
    # The next step is the carried momentum plus its gradient term:
    # heavy ball −η·g, Nesterov −η·(1 + μ)·g (g with weight decay).
    config = run.config
    mu = config.hyperparameters["momentum"]
    decay = config.hyperparameters.get("weight_decay", 0.0)
    g = np.array([eight["grad_a"], eight["grad_b"]]) + decay * np.array(
        [seven["a"], seven["b"]]
    )
    factor = 1.0 if config.optimizer == "momentum" else 1.0 + mu
    step = np.array([eight["a"] - seven["a"], eight["b"] - seven["b"]])
    predicted = np.array(carried.vector) - eight["lr"] * factor * g
    # The window trains in float32: agreement to its rounding.
    np.testing.assert_allclose(predicted, step, rtol=1e-5, atol=1e-9)


def test_runs_without_momentum_carry_no_arrow(window, qtbot):
    window.set_display(momentum=True)
    _run_steps(window, qtbot, 3)
    assert window.surface_view.arrows.drawn["momentum"] == []


def test_arrows_agree_with_a_headless_run(window, qtbot):
    window.set_display(step_taken=True)
    _run_steps(window, qtbot, 4)
    trainer = Trainer(window.session.data, window.session.run.config)
    batch = trainer.step(4)
    (arrow,) = window.surface_view.arrows.drawn["step"]
    assert arrow.vector == (batch.a[3] - batch.a[2], batch.b[3] - batch.b[2])
