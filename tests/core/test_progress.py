"""The plain-words progress verdict."""

from __future__ import annotations

import numpy as np

from sgd_viewer.core.progress import assess_progress


def test_no_steps_yet():
    assert assess_progress(np.empty(0), 1.0, 5.0) == "not started"


def test_steady_descent_is_converging_then_converged():
    opt = 0.25
    falling = opt + 4.0 * 0.9 ** np.arange(200)
    assert assess_progress(falling[:100], opt, 4.25) == "converging"
    settled = np.full(200, opt * (1 + 1e-9))
    assert assess_progress(settled, opt, 4.25) == "converged"


def test_passing_through_the_optimum_is_not_converged():
    opt = 0.25
    bouncing = np.full(200, opt)
    bouncing[150] = 1e3  # thrown off again in the recent half
    assert assess_progress(bouncing, opt, 4.25) != "converged"


def test_bouncing_far_away_is_not_converging():
    opt = 0.25
    bouncing = opt + np.tile([1e3, 2e3], 100)  # no better on average
    assert assess_progress(bouncing, opt, 4.25) == "not converging"


def test_zero_optimum_uses_the_start_as_scale():
    assert assess_progress(np.full(10, 1e-20), 0.0, 10.0) == "converged"
    assert assess_progress(np.full(10, 1e-3), 0.0, 10.0) != "converged"
