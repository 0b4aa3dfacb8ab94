"""A start so far away that its loss exceeds float32's range (found by
test_random_use: cascading far drops widen the view, the next drop goes
farther). The trainer works in float64 and accepts it; the window must too.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Q_ARG, QMetaObject, Qt

from .helpers import views_are_finite

FLOAT32_MAX = float(np.finfo(np.float32).max)


def test_a_start_whose_loss_overflows_float32(make_window, qtbot):
    window = make_window(speed=0)
    window.apply_config(window._config.with_changes(lr=1e-9))
    window.set_start(1e20, 0.0)
    assert window.snapshot()["loss"] > FLOAT32_MAX
    # Let the worker take the new lr and start (queued) before using its trainer.
    QMetaObject.invokeMethod(
        window._worker,
        "set_speed",
        Qt.ConnectionType.BlockingQueuedConnection,
        Q_ARG(float, 0.0),
    )
    # The worker is idle now: its engine may be asked directly.
    engine = window._worker.engine
    run_id = window.session.run.id
    assert engine.trainer_state(run_id)["start"] == (1e20, 0.0)
    batch = engine.step(1).batches[run_id]  # what the worker would send
    assert batch.batch_loss[0] > FLOAT32_MAX
    window._on_steps(
        window.session.generation, {window.session.run.id: batch}
    )  # the slot
    snap = window.snapshot()
    assert snap["step"] == 1
    assert math.isfinite(snap["loss"])
    assert np.all(np.isfinite(window.history.column("batch_loss")))
    assert views_are_finite(window) == []
