"""Window benchmarks of ``sgd-viewer bench``: ``gui_run`` and ``startup``.

Owns the measurements that need Qt, each in a fresh Python process on the
offscreen platform, so that neither the bench's own imports (torch, the 1e7
datasets of the engine bench) nor a ``QApplication`` of the caller (pytest-qt)
colour them:

- ``startup``: from process launch to the first paint of the main window, against
  a process showing a bare window of two pyqtgraph plots; the child prints a
  marker from an event filter on its first ``QEvent.Paint``.
- ``gui_run``: the window at n = 1e5 running flat out for 3 s: steps/s, painted
  frames/s (repaints of the plot repainted most; each plot's rate is reported
  too), and the lateness of a 10 ms ``QTimer`` heartbeat, against the headless
  trainer's steps/s measured in the same child, just before and just after,
  while the window's trainer is paused. Three such rounds (one with
  ``--quick``); the median round by ratio is reported.

Imports Qt only inside the child functions (``*_child``), which the parent runs
with ``python -c``; the parent side needs neither Qt nor torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from sgd_viewer.bench.engine import Settings, median, row, run_child

MARKER = "BENCH-FIRST-PAINT"
WINDOW_SIZE = (1400, 900)
GUI_N = 100_000
RUN_SECONDS = 3.0
#: Window runs in one measurement (each between two headless runs).
GUI_ROUNDS = 3
#: Length of one headless measurement next to a window run.
HEADLESS_SECONDS = 0.5
HEARTBEAT_MS = 10
PLOT_NAMES = ("fitPlot", "surfacePlot", "lossPlot")
WINDOW_MISSING = "window not available"


def child_env() -> dict[str, str]:
    """The offscreen platform for every child, as the issue measures it."""
    return dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYQTGRAPH_QT_LIB="PySide6",
        PYTHONUNBUFFERED="1",
    )


def window_factory():
    """``sgd_viewer.gui.create_main_window``, or the ``MainWindow`` class itself
    where the package does not export the factory (same arguments)."""
    try:
        from sgd_viewer.gui import create_main_window
    except ImportError:
        from sgd_viewer.gui.main_window import MainWindow as create_main_window
    return create_main_window


def window_available() -> bool:
    """Whether the main window can be imported (checked in a child process, so
    the bench itself never imports Qt widgets)."""
    import importlib.util

    if importlib.util.find_spec("sgd_viewer.gui.main_window") is None:
        return False
    try:
        run_child(
            "from sgd_viewer.bench.gui import window_factory; window_factory()",
            timeout=60,
            env=child_env(),
        )
    except (RuntimeError, subprocess.TimeoutExpired):
        return False
    return True


# ------------------------------------------------------------------ children
def _first_paint_filter(window):
    """An event filter that prints ``MARKER`` at the first paint of ``window``
    (or any widget in it) and then closes the window."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    class FirstPaint(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.seen = False

        def eventFilter(self, watched, event) -> bool:
            if (
                not self.seen
                and event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and watched.window() is window
            ):
                self.seen = True
                print(MARKER, flush=True)
                QTimer.singleShot(0, window.close)
                QTimer.singleShot(0, QApplication.instance().quit)
            return False

    return FirstPaint()


def startup_child(kind: str) -> None:
    """Show a window and exit after its first paint: ``app`` (the main window)
    or ``bare`` (two pyqtgraph plots side by side in a QMainWindow)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if kind == "app":
        window = window_factory()()
    else:
        import pyqtgraph as pg
        from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QWidget

        window = QMainWindow()
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(pg.PlotWidget())
        layout.addWidget(pg.PlotWidget())
        window.setCentralWidget(central)
    watcher = _first_paint_filter(window)
    app.installEventFilter(watcher)
    window.resize(*WINDOW_SIZE)
    window.show()
    app.exec()
    app.removeEventFilter(watcher)


def _wait(app, condition, timeout_s: float) -> bool:
    """Process events until ``condition()`` holds (polling, never spinning)."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            return False
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return True


def _snapshot(window) -> dict[str, Any]:
    return dict(window.snapshot())


def _ready(window) -> bool:
    """Whether the window's engine has loaded (torch imported, trainer built)."""
    for name in ("is_ready", "ready", "engine_ready"):
        attribute = getattr(window, name, None)
        if isinstance(attribute, bool):
            return attribute
        if callable(attribute) and not hasattr(attribute, "connect"):
            return bool(attribute())
    snap = _snapshot(window)
    if "ready" in snap:
        return bool(snap["ready"])
    from PySide6.QtWidgets import QAbstractButton

    button = window.findChild(QAbstractButton, "runButton")
    return button is not None and button.isEnabled()


def _set_flat_out(window) -> None:
    """Steps per second at 'max' (the spin box's special value at its minimum,
    0: unpaced), or at its largest number where it has no such value."""
    from PySide6.QtWidgets import QAbstractSpinBox

    spin = window.findChild(QAbstractSpinBox, "stepsPerSecondSpin")
    if spin is None:
        return
    unpaced = spin.specialValueText().strip().lower() in ("max", "maximum", "∞")
    spin.setValue(spin.minimum() if unpaced else spin.maximum())


def _plot_viewports(window) -> dict[str, Any]:
    from PySide6.QtWidgets import QGraphicsView, QWidget

    viewports = {}
    for name in PLOT_NAMES:
        widget = window.findChild(QWidget, name)
        if widget is None:
            continue
        if not isinstance(widget, QGraphicsView):
            widget = widget.findChild(QGraphicsView) or widget
        viewports[name] = (
            widget.viewport() if isinstance(widget, QGraphicsView) else widget
        )
    return viewports


def open_window(app, n: int):
    """The main window on ``n`` generated points, shown, its engine loaded."""
    from sgd_viewer.core.data import generate

    window = window_factory()(data=generate(n))
    window.resize(*WINDOW_SIZE)
    window.show()
    if not _wait(app, lambda: _ready(window), 60):
        raise RuntimeError("the window's engine did not become ready in 60 s")
    return window


def window_rounds(app, window, seconds: float, rounds_count: int, headless, steps):
    """``rounds_count`` rounds, each a flat-out window run of ``seconds`` between
    two calls of ``headless()`` (steps/s with the window's trainer paused).

    ``steps()`` is the window's step count (summed over its runs, for a race).
    Frames are counted from the plots' repaints; the heartbeat is a
    ``HEARTBEAT_MS`` precise timer whose lateness is reported.
    """
    import numpy as np
    from PySide6.QtCore import QEvent, QObject, Qt, QTimer
    from PySide6.QtWidgets import QAbstractButton

    _set_flat_out(window)

    class PaintCounter(QObject):
        """Counts repaints of each plot. A plot is repainted only when its
        picture changed (a converged fit line stays put), so the window's
        frames are the repaints of the plot repainted most often: each is a
        new picture on screen."""

        def __init__(self, names: dict[Any, str]) -> None:
            super().__init__()
            self.names = names
            self.counts = dict.fromkeys(names.values(), 0)
            self.counting = False

        def eventFilter(self, watched, event) -> bool:
            if self.counting and event.type() == QEvent.Type.Paint:
                name = self.names.get(watched)
                if name is not None:
                    self.counts[name] += 1
            return False

    viewports = _plot_viewports(window)
    counter = PaintCounter({v: k for k, v in viewports.items()})
    for viewport in viewports.values():
        viewport.installEventFilter(counter)

    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))

    run_button = window.findChild(QAbstractButton, "runButton")
    if run_button is None:
        raise RuntimeError("no runButton in the window")

    def run_once() -> dict[str, Any]:
        """The window running flat out for ``seconds`` (after a short start)."""
        run_button.click()
        _wait(app, lambda: _snapshot(window).get("running", True), 10)
        # Let the run get going (first chunks, chunk size adapting) first.
        warm_end = time.perf_counter() + 0.3
        _wait(app, lambda: time.perf_counter() >= warm_end, 5)
        beats.clear()
        counter.counts = dict.fromkeys(counter.counts, 0)
        step0, t0 = steps(), time.perf_counter()
        counter.counting = True
        heartbeat.start()
        end = t0 + seconds
        _wait(app, lambda: time.perf_counter() >= end, seconds + 5)
        step1, t1 = steps(), time.perf_counter()
        counter.counting = False
        heartbeat.stop()
        status = str(_snapshot(window).get("status", ""))
        run_button.click()  # pause: the headless trainer runs alone next
        _wait(app, lambda: not _snapshot(window).get("running", False), 10)
        intervals = np.diff(np.asarray(beats)) * 1e3
        lateness = np.maximum(intervals - HEARTBEAT_MS, 0.0)
        elapsed = t1 - t0
        counts = dict(counter.counts)
        return {
            "steps_per_s": (step1 - step0) / elapsed,
            "frames_per_s": max(counts.values(), default=0) / elapsed,
            "repaints_per_s": {k: v / elapsed for k, v in counts.items()},
            "lateness_p50_ms": float(np.percentile(lateness, 50)) if beats else None,
            "lateness_p99_ms": float(np.percentile(lateness, 99)) if beats else None,
            "lateness_max_ms": float(lateness.max()) if lateness.size else None,
            "heartbeats": len(beats),
            "seconds": elapsed,
            "status": status,
        }

    # Window runs and headless runs take turns, so that both see the same
    # machine: on a shared machine the speed drifts by 2× within a minute.
    rounds = []
    for _ in range(rounds_count):
        before = headless()
        measured = run_once()
        measured["headless_steps_per_s"] = (before + headless()) / 2
        rounds.append(measured)
    return rounds


def close_window(app, window) -> None:
    window.close()
    _wait(app, lambda: not window.isVisible(), 10)


def gui_run_child(n: int, seconds: float, rounds_count: int = 1) -> None:
    """The window at ``n`` points running flat out for ``seconds``, ``rounds_count``
    times, each between two runs of the headless trainer; prints JSON."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = open_window(app, n)
    settings = _run_settings(_snapshot(window))
    headless = _headless_rate_meter(n, settings)
    rounds = window_rounds(
        app,
        window,
        seconds,
        rounds_count,
        headless,
        lambda: int(_snapshot(window)["step"]),
    )
    close_window(app, window)
    print(json.dumps({"rounds": rounds, "settings": settings}), flush=True)


def _run_settings(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The window's training settings, as ``TrainingConfig`` arguments."""
    return {
        key: snapshot[key]
        for key in ("optimizer", "lr", "batch_size", "reduction", "start")
        if key in snapshot
    }


def _headless_rate_meter(n: int, settings: dict[str, Any]):
    """A function measuring the app's trainer alone on the window's data,
    settings and start, as the worker runs it (one torch thread), in this
    process's main thread while the window's trainer is paused: steps/s."""
    import torch

    from sgd_viewer.bench.engine import START, dataset, steps_per_second, warm_up
    from sgd_viewer.core.config import TrainingConfig
    from sgd_viewer.core.trainer import Trainer

    torch.set_num_threads(1)
    settings = dict(settings)
    start = tuple(settings.pop("start", START))
    trainer = Trainer(dataset(n), TrainingConfig(**settings), start)
    warm_up(trainer.step, 0.2)

    def rate() -> float:
        trainer.reset(*start)
        return steps_per_second(trainer.step, HEADLESS_SECONDS)

    return rate


# -------------------------------------------------------------------- parent
def _launch_env(bytecode_dir: str) -> dict[str, str]:
    """A child's environment with compiled bytecode kept in ``bytecode_dir``.

    An installed app launches from bytecode (pip compiles a wheel's modules
    when it installs them; a checkout caches them on its first launch). Where
    the environment forbids writing it (``PYTHONDONTWRITEBYTECODE``, as on the
    project's machines), every launch would compile the app's hundred-odd
    modules again, about 0.15 s that no user waits for, while the bare
    window's pyqtgraph comes precompiled: the comparison would not be like
    for like.
    """
    env = child_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = bytecode_dir
    return env


def _time_to_marker(kind: str, env: dict[str, str], timeout_s: float = 60) -> float:
    """Seconds from launching a fresh process to its first-paint marker."""
    code = f"from sgd_viewer.bench.gui import startup_child; startup_child({kind!r})"
    start = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        seen = None
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == MARKER:
                seen = time.perf_counter() - start
                break
        try:
            _, err = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            _, err = child.communicate()
        if seen is None:
            tail = " | ".join((err or "").strip().splitlines()[-5:])
            raise RuntimeError(
                f"{kind} window never painted (exit {child.returncode}): {tail}"
            )
    return seen


def _missing(label: str, unit: str, target: str) -> list[dict[str, Any]]:
    return [row(label, unit, None, None, target, None, note=WINDOW_MISSING)]


def startup(settings: Settings) -> list[dict[str, Any]]:
    """Fresh process to the main window's first paint vs a bare two-plot window."""
    label, target = "process launch to first paint", "≤ 1.5×"
    if not window_available():
        return _missing(label, "s", target)
    repeats = settings.repeats
    app_s: list[float] = []
    bare_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="sgd-viewer-bytecode-") as bytecode:
        env = _launch_env(bytecode)
        # Untimed first launches: they warm the disk cache for both (imports
        # are shared) and compile the bytecode every later launch reads.
        _time_to_marker("bare", env)
        _time_to_marker("app", env)
        for i in range(repeats):
            order = ("app", "bare") if i % 2 == 0 else ("bare", "app")
            for kind in order:
                (app_s if kind == "app" else bare_s).append(_time_to_marker(kind, env))
    value, baseline = median(app_s), median(bare_s)
    return [
        row(
            label,
            "s",
            value,
            baseline,
            target,
            value / baseline <= 1.5,
            repeats=repeats,
            app_s=app_s,
            bare_s=bare_s,
        )
    ]


def _ratio(gui_round: dict[str, Any]) -> float:
    return gui_round["steps_per_s"] / gui_round["headless_steps_per_s"]


def gui_run(settings: Settings) -> list[dict[str, Any]]:
    """The window running flat out vs the headless trainer's steps/s."""
    label = f"window n=1e5, {RUN_SECONDS:.0f} s flat out"
    target = "≥ 0.6× headless, ≥ 50 frames/s, p99 ≤ 30 ms"
    if not window_available():
        return _missing(label, "steps/s", target)
    rounds_count = 1 if settings.quick else GUI_ROUNDS
    code = (
        "from sgd_viewer.bench.gui import gui_run_child; "
        f"gui_run_child({GUI_N}, {RUN_SECONDS}, {rounds_count})"
    )
    timeout = 60 + rounds_count * (RUN_SECONDS + 4 * HEADLESS_SECONDS + 10)
    lines = run_child(code, timeout=timeout, env=child_env()).strip().splitlines()
    rounds = json.loads(lines[-1])["rounds"]
    # The median round by its ratio, so that every number shown comes from
    # one and the same round.
    result = sorted(rounds, key=_ratio)[len(rounds) // 2]
    value, baseline = result["steps_per_s"], result["headless_steps_per_s"]
    frames = result["frames_per_s"]
    p50, p99 = result["lateness_p50_ms"], result["lateness_p99_ms"]
    met = value / baseline >= 0.6 and frames >= 50 and p99 is not None and p99 <= 30
    return [
        row(
            label,
            "steps/s",
            value,
            baseline,
            target,
            met,
            headless_ratio=value / baseline,
            frames_per_s=frames,
            repaints_per_s_by_plot=result["repaints_per_s"],
            lateness_p50_ms=p50,
            lateness_p99_ms=p99,
            lateness_max_ms=result["lateness_max_ms"],
            heartbeats=result["heartbeats"],
            status=result["status"],
            rounds=len(rounds),
            ratio_by_round=[_ratio(r) for r in rounds],
        )
    ]
