"""Closing the window at a random moment of a flat-out Run: 12 times in every
test run, 50 in the soak run (``-m soak``).

Each run is a fresh process (the offscreen platform): it opens the window,
waits for the engine, runs as fast as it goes and, after a seeded random
0–300 ms, closes the window and quits. Every process must exit 0 with no
thread destroyed while running, no fatal error, no traceback and no signal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

#: Each is a fresh process that loads torch: 12 keep CI's time in bounds, and
#: the soak run closes 50 times.
RUNS = 12
SOAK_RUNS = 50
PARALLEL = 2

SCRIPT = r"""
import random
import sys

from PySide6.QtCore import QTimer

from sgd_viewer.gui import create_main_window
from sgd_viewer.gui.app import ensure_application

seed = int(sys.argv[1])
delay = random.Random(seed).randint(0, 300)
app = ensure_application()
window = create_main_window()
window.resize(900, 600)
window.show()


def finish():
    snap = window.snapshot()
    window.close()
    assert window.worker_thread is None
    print(f"closed after {delay} ms at step {snap['step']} running={snap['running']}")
    app.quit()


def go():
    window.controls.speed_spin.setValue(0)
    window.run()
    assert window.snapshot()["running"]
    QTimer.singleShot(delay, finish)


window.engine_ready.connect(go)
sys.exit(app.exec())
"""

BAD_WORDS = ("QThread: Destroyed", "Fatal", "Traceback", "Segmentation", "Aborted")


def _one(seed: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONFAULTHANDLER": "1"}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seed)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_close_at_a_random_moment_of_a_run_is_clean():
    _close_at_random_moments(RUNS)


@pytest.mark.soak
def test_close_at_fifty_random_moments_is_clean():
    _close_at_random_moments(SOAK_RUNS)


def _close_at_random_moments(runs: int) -> None:
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(_one, range(runs)))
    problems = []
    steps = []
    for seed, done in enumerate(results):
        text = done.stdout + done.stderr
        if done.returncode != 0:
            problems.append(f"seed {seed}: exit {done.returncode}\n{text}")
        elif any(word in text for word in BAD_WORDS):
            problems.append(f"seed {seed}: bad output\n{text}")
        elif "running=True" not in done.stdout:
            problems.append(f"seed {seed}: was not running when closed\n{text}")
        else:
            steps.append(int(done.stdout.split(" at step ")[1].split()[0]))
    assert not problems, "\n\n".join(problems)
    # The random delays spread the closes over the run: some early, some late.
    assert len(steps) == runs
    assert min(steps) < max(steps)
