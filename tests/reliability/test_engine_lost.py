"""The training engine runs in a process of its own. If that process dies
(killed, out of memory) the window says so, starts another, replays every run
to where it was and goes on: nothing is lost, nothing freezes."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication, QMessageBox

from sgd_viewer.core.engine import Engine
from sgd_viewer.core.engine_process import EngineProcess


def _expected_rows(window, steps: int) -> dict[str, np.ndarray]:
    """Every run's (a, b) after ``steps`` uninterrupted steps, here."""
    session = window.session
    engine = Engine(
        session.data, [(run.id, run.config) for run in session.runs], session.start
    )
    batches = engine.step(steps).batches
    return {
        run.label: (batches[run.id].a[-1], batches[run.id].b[-1])
        for run in session.runs
    }


def test_a_killed_engine_is_replaced_and_every_run_replayed(make_window, qtbot):
    window = make_window(speed=0)
    window.add_run("momentum:lr=0.05,momentum=0.9")
    window.add_run("adam:lr=0.1")
    dead = window._worker.engine
    assert isinstance(dead, EngineProcess)
    window.run()
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] > 200, timeout=20_000)
    dead._process.kill()
    qtbot.waitUntil(
        lambda: "stopped unexpectedly" in (window.last_error or ""), timeout=20_000
    )
    assert "replayed" in window.last_error
    qtbot.waitUntil(lambda: not window.opening, timeout=20_000)
    assert window._worker.engine is not dead
    assert window._worker.engine.alive
    snap = window.snapshot()
    assert not snap["running"]
    latest = snap["latest_step"]
    assert latest > 200
    assert snap["step"] == latest
    # The dialog was built by the GUI thread (the signal came from the worker's).
    dialogs = [d for d in window.findChildren(QMessageBox) if d.isVisible()]
    assert dialogs
    assert all(d.thread() is QApplication.instance().thread() for d in dialogs)

    # The new engine goes on from exactly where the old one was.
    window.step(7)
    qtbot.waitUntil(
        lambda: window.snapshot()["latest_step"] == latest + 7, timeout=20_000
    )
    expected = _expected_rows(window, latest + 7)
    for run in window.snapshot()["runs"]:
        assert (run["a"], run["b"]) == expected[run["label"]]
        assert run["step"] == latest + 7


def test_an_engine_lost_while_paused_is_replaced_at_the_next_request(window, qtbot):
    window.step(12)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 12)
    window._worker.engine._process.kill()
    window._worker.engine._process.join(timeout=10)
    window.step(1)  # finds the engine gone
    qtbot.waitUntil(
        lambda: "stopped unexpectedly" in (window.last_error or ""), timeout=20_000
    )
    qtbot.waitUntil(lambda: not window.opening, timeout=20_000)
    assert window.snapshot()["latest_step"] == 12
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 13, timeout=20_000)
    assert (window.snapshot()["a"], window.snapshot()["b"]) == _expected_rows(
        window, 13
    )[window.session.run.label]
