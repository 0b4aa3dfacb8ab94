"""``animate`` of ``sgd-viewer bench``: seconds per frame of an exported GIF
at 1200×800 against ``QWidget.grab()`` of the same window at that size.

Measured in a fresh process on the offscreen platform (as ``bench.gui``
measures the window), so that neither the bench's own imports nor a caller's
``QApplication`` colour it. The child opens the main window at 1200×800 on
the lesson's data with its engine loaded, exports one short animation
untimed (first-use costs: fonts, PyAV, the trainer's first build), then
takes turns, the order swapped each round:

- export: ``window.export_animation`` of the lesson's animation (40 frames
  of 30 steps, the plot area, GIF), timed from the call to its ``finished``
  signal: replay, framing, drawing, palette, encoding and the file, with the
  window's event loop running as it does for a user; divided by 40.
- grab: 40 grabs of the window, divided by 40.

The value and the baseline are the medians over the rounds. An MP4 export of
the same animation is timed in each round too, and both files' sizes are
reported (the README's case for each format).

Imports Qt only inside :func:`animate_child`; the parent needs neither Qt
nor torch.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import Any

from sgd_viewer.bench.engine import Settings, median, row, run_child

SIZE = (1200, 800)
FRAMES = 40
STEPS_PER_FRAME = 30
TARGET = 3.0
#: Seconds one export may take before the child gives up on it.
EXPORT_TIMEOUT_S = 120


def _export_seconds(app, window, path: str, frames: int) -> float:
    """Seconds from ``export_animation`` to its ``finished`` signal."""
    from PySide6.QtCore import QEventLoop, QTimer

    exporter = window.animation_export
    loop = QEventLoop()
    outcome: dict[str, str] = {}
    finished = exporter.finished.connect(lambda _: loop.quit())
    failed = exporter.failed.connect(
        lambda message: (outcome.update(error=message), loop.quit())
    )
    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)
    limit.start(EXPORT_TIMEOUT_S * 1000)
    start = time.perf_counter()
    if not window.export_animation(
        path, frames=frames, steps_per_frame=STEPS_PER_FRAME, size=SIZE
    ):
        raise RuntimeError(f"the export did not start: {window.last_error}")
    loop.exec()
    seconds = time.perf_counter() - start
    limit.stop()
    exporter.finished.disconnect(finished)
    exporter.failed.disconnect(failed)
    if "error" in outcome:
        raise RuntimeError(outcome["error"])
    if exporter.running:
        exporter.cancel()
        raise RuntimeError(f"the export took over {EXPORT_TIMEOUT_S} s")
    return seconds


def _grab_seconds(window, frames: int) -> float:
    start = time.perf_counter()
    for _ in range(frames):
        window.grab()
    return time.perf_counter() - start


def animate_child(rounds: int) -> None:
    """The window at 1200×800: ``rounds`` rounds of a GIF export, an MP4
    export and as many grabs as frames; prints JSON."""
    import sys

    from PySide6.QtWidgets import QApplication

    from sgd_viewer.bench.gui import close_window, open_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = open_window(app, 50)  # the lesson's 50 points
    window.resize(*SIZE)
    folder = tempfile.mkdtemp(prefix="sgd-viewer-bench-")
    gif, mp4 = os.path.join(folder, "a.gif"), os.path.join(folder, "a.mp4")
    _export_seconds(app, window, gif, 3)
    _export_seconds(app, window, mp4, 3)
    _grab_seconds(window, 3)
    gif_s, grab_s, mp4_s = [], [], []
    for i in range(rounds):
        steps = [
            lambda: gif_s.append(_export_seconds(app, window, gif, FRAMES) / FRAMES),
            lambda: grab_s.append(_grab_seconds(window, FRAMES) / FRAMES),
        ]
        for step in steps if i % 2 == 0 else reversed(steps):
            step()
        mp4_s.append(_export_seconds(app, window, mp4, FRAMES) / FRAMES)
    result = {
        "gif_s": gif_s,
        "grab_s": grab_s,
        "mp4_s": mp4_s,
        "gif_kb": os.path.getsize(gif) / 1024,
        "mp4_kb": os.path.getsize(mp4) / 1024,
        "window": [window.width(), window.height()],
    }
    for path in (gif, mp4):
        os.unlink(path)
    os.rmdir(folder)
    close_window(app, window)
    print(json.dumps(result), flush=True)


def animate(settings: Settings) -> list[dict[str, Any]]:
    """Seconds per exported GIF frame vs a grab of the window, 1200×800."""
    from sgd_viewer.bench.gui import WINDOW_MISSING, child_env, window_available

    label = f"GIF frame of the plot area, {SIZE[0]}x{SIZE[1]}"
    target = f"≤ {TARGET:g}×"
    if not window_available():
        return [row(label, "s", None, None, target, None, note=WINDOW_MISSING)]
    rounds = 2 if settings.quick else min(settings.repeats, 5)
    code = (
        f"from sgd_viewer.bench.animate import animate_child; animate_child({rounds})"
    )
    lines = run_child(code, timeout=60 + rounds * 60, env=child_env())
    result = json.loads(lines.strip().splitlines()[-1])
    value, baseline = median(result["gif_s"]), median(result["grab_s"])
    return [
        row(
            label,
            "s",
            value,
            baseline,
            target,
            value / baseline <= TARGET,
            rounds=rounds,
            frames=FRAMES,
            steps_per_frame=STEPS_PER_FRAME,
            median_ms=value * 1e3,
            gif_s=result["gif_s"],
            grab_s=result["grab_s"],
            mp4_s_per_frame=median(result["mp4_s"]),
            gif_kb=result["gif_kb"],
            mp4_kb=result["mp4_kb"],
            window=result["window"],
        )
    ]
