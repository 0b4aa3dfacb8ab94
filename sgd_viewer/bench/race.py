"""Race benchmarks of ``sgd-viewer bench``: ``engine_race``, ``gui_race``,
``seek`` and ``resume``.

- ``engine_race``: a :class:`~sgd_viewer.core.race.Race` of 8 runs (one per
  optimizer in :data:`RACE_OPTIMIZERS`, full batch, n = 1e5): its steps/s × 8
  against one SGD trainer's steps/s on the same data, interleaved (as the
  engine rows are).
- ``gui_race``: the window with the same 8 runs flat out, in rounds against the
  headless 8-run Race in the same child (the method of ``gui_run``:
  :func:`sgd_viewer.bench.gui.window_rounds`); steps are summed over the runs.
- ``seek``: a window (worker idle) whose 8 runs hold 1e6 synthetic steps each;
  the time of ``window.view_step(k)`` (session, presenter.draw, timeline,
  readouts) for random ``k``: p99 of 200. The paint that follows
  (``draw_now``) is reported beside it.
- ``resume``: continue from step 5e5 of a 1e6-step run (momentum and Adam),
  until the first new step exists: ``Trainer.rewind`` + one step headless, and
  in the window ``view_step`` then ``step(1)`` until ``snapshot()`` shows the
  new step (that one after 1e5 real steps, 5e3 with ``--quick``: filling a
  window's run with 1e6 real steps would take a minute per optimizer).

Window measurements run in fresh processes on the offscreen platform (see
:mod:`sgd_viewer.bench.gui`); Qt is imported only inside ``*_child``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from sgd_viewer.bench.engine import LR, START, Settings, median, row, run_child

RACE_OPTIMIZERS = (
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "nadam",
    "adamw",
)
RACE_N = 100_000
RACE_SECONDS = 3.0
SEEKS = 200
RESUME_OPTIMIZERS = ("momentum", "adam")


def _configs():
    from sgd_viewer.core.config import TrainingConfig

    return [TrainingConfig(optimizer=name, lr=LR) for name in RACE_OPTIMIZERS]


def _race_stepper(race):
    """``run(k)``: ``k`` steps of every run; the caller multiplies by the runs."""

    def run(count: int) -> None:
        race.step(count)

    return run


# ---------------------------------------------------------------- engine_race
def engine_race(settings: Settings) -> list[dict[str, Any]]:
    """Steps/s × 8 of an 8-run Race against one SGD trainer, full batch."""
    from sgd_viewer.bench.engine import (
        _compare_rates,
        app_stepper,
        dataset,
        single_thread,
    )
    from sgd_viewer.core.race import Race

    data = dataset(RACE_N)
    race = Race(data, START)
    for run_id, config in enumerate(_configs(), start=1):
        race.add(run_id, config)
    with single_thread():
        value, baseline = _compare_rates(
            _race_stepper(race), app_stepper(data, "sgd", None), settings
        )
    runs = len(race.trainers)
    going = sum(t.status != "diverged" for t in race.trainers.values())
    value *= runs
    return [
        row(
            f"race of {runs} n=1e+05 (steps/s × {runs}) vs one sgd trainer",
            "steps/s",
            value,
            baseline,
            "≥ 0.8×",
            value / baseline >= 0.8,
            n=RACE_N,
            optimizers=list(RACE_OPTIMIZERS),
            runs_going=going,
            repeats=settings.repeats,
        )
    ]


# ------------------------------------------------------------------- gui_race
def _race_specs() -> list[str]:
    return [f"{name}:lr={LR}" for name in RACE_OPTIMIZERS]


def open_race_window(app, n: int):
    """The window with the 8 race runs (the first one reconfigured), engine
    ready, nothing running."""
    from sgd_viewer.bench.gui import open_window
    from sgd_viewer.core.recipe import parse_spec

    window = open_window(app, n)
    specs = _race_specs()
    first, _ = parse_spec(specs[0], window.session.run.config)
    window.apply_config(first)
    for spec in specs[1:]:
        if window.add_run(spec) < 0:
            raise RuntimeError(f"the window refused run {spec!r}: {window.last_error}")
    window.select_run(0)
    return window


def gui_race_child(n: int, seconds: float, rounds_count: int) -> None:
    """The window with 8 runs flat out against the headless 8-run Race; JSON."""
    import torch
    from PySide6.QtWidgets import QApplication

    from sgd_viewer.bench.engine import dataset, steps_per_second, warm_up
    from sgd_viewer.bench.gui import HEADLESS_SECONDS, close_window, window_rounds
    from sgd_viewer.core.race import Race

    app = QApplication.instance() or QApplication([])
    window = open_race_window(app, n)
    session = window.session
    configs = [run.config for run in session.runs]
    torch.set_num_threads(1)
    race = Race(dataset(n), session.start)
    for run_id, config in enumerate(configs, start=1):
        race.add(run_id, config)
    stepper = _race_stepper(race)
    warm_up(stepper, 0.2)

    def headless() -> float:
        race.reset()
        return steps_per_second(stepper, HEADLESS_SECONDS) * len(race.trainers)

    def steps() -> int:
        return sum(run.latest_step for run in session.runs)

    rounds = window_rounds(app, window, seconds, rounds_count, headless, steps)
    optimizers = [c.optimizer for c in configs]
    close_window(app, window)
    print(json.dumps({"rounds": rounds, "optimizers": optimizers}), flush=True)


def gui_race(settings: Settings) -> list[dict[str, Any]]:
    """8 runs in the window flat out vs the headless 8-run Race."""
    from sgd_viewer.bench.gui import (
        HEADLESS_SECONDS,
        WINDOW_MISSING,
        _ratio,
        child_env,
        window_available,
    )

    seconds = 1.5 if settings.quick else RACE_SECONDS
    rounds_count = 1 if settings.quick else 3
    label = f"window, 8 runs n=1e5, {seconds:g} s flat out" + (
        " (--quick: 1 round)" if settings.quick else ""
    )
    target = "≥ 0.6× headless race, ≥ 50 frames/s, p99 ≤ 30 ms"
    if not window_available():
        return [row(label, "steps/s", None, None, target, None, note=WINDOW_MISSING)]
    code = (
        "from sgd_viewer.bench.race import gui_race_child; "
        f"gui_race_child({RACE_N}, {seconds}, {rounds_count})"
    )
    timeout = 90 + rounds_count * (seconds + 4 * HEADLESS_SECONDS + 10)
    lines = run_child(code, timeout=timeout, env=child_env()).strip().splitlines()
    done = json.loads(lines[-1])
    rounds = done["rounds"]
    result = sorted(rounds, key=_ratio)[len(rounds) // 2]
    value, baseline = result["steps_per_s"], result["headless_steps_per_s"]
    frames, p99 = result["frames_per_s"], result["lateness_p99_ms"]
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
            lateness_p50_ms=result["lateness_p50_ms"],
            lateness_p99_ms=p99,
            lateness_max_ms=result["lateness_max_ms"],
            heartbeats=result["heartbeats"],
            status=result["status"],
            rounds=len(rounds),
            ratio_by_round=[_ratio(r) for r in rounds],
            optimizers=done["optimizers"],
        )
    ]


# ----------------------------------------------------------------------- seek
def fill_history(history, problem, steps: int, seed: int, chunk: int = 100_000):
    """Append ``steps`` synthetic consecutive steps (a path decaying toward the
    optimum) to ``history``, as the worker's batches would arrive."""
    import numpy as np

    from sgd_viewer.core.history import StepBatch

    rng = np.random.default_rng(seed)
    a0, b0 = START
    tau = steps / (5.0 + seed)
    for first in range(1, steps + 1, chunk):
        step = np.arange(first, min(first + chunk, steps + 1), dtype=np.int64)
        decay = np.exp(-step / tau)
        a = problem.a_opt + (a0 - problem.a_opt) * decay
        b = problem.b_opt + (b0 - problem.b_opt) * decay
        loss = problem.loss(a, b)
        grad_a, grad_b = problem.gradient(a, b)
        history.append(
            StepBatch(
                step=step,
                epoch=step,
                a=a,
                b=b,
                loss=loss,
                batch_loss=loss * (1 + 0.01 * rng.standard_normal(step.size)),
                grad_a=np.asarray(grad_a, dtype=np.float64),
                grad_b=np.asarray(grad_b, dtype=np.float64),
                lr=np.full(step.size, LR),
            )
        )


def seek_child(steps: int, seeks: int) -> None:
    """Random seeks in a window whose 8 runs hold ``steps`` steps each; JSON."""
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from sgd_viewer.bench.gui import close_window
    from sgd_viewer.gui.frame_sync import draw_now

    app = QApplication.instance() or QApplication([])
    window = open_race_window(app, RACE_N)
    session = window.session
    for index, run in enumerate(session.runs):
        fill_history(run.history, session.problem, steps, seed=index)
    session.view(None)
    window.view_step(None)
    app.processEvents()
    rng = np.random.default_rng(0)
    targets = rng.integers(0, steps, size=seeks + 10)
    scenes = window._plot_scenes
    view_ms, shown_ms = [], []
    for i, k in enumerate(targets):
        t0 = time.perf_counter()
        window.view_step(int(k))
        t1 = time.perf_counter()
        draw_now(window, scenes)
        t2 = time.perf_counter()
        app.processEvents()
        if i >= 10:  # the first seeks warm caches (pixmaps, numpy)
            view_ms.append((t1 - t0) * 1e3)
            shown_ms.append((t2 - t0) * 1e3)
    shown_step = session.shown_step
    close_window(app, window)
    print(
        json.dumps(
            {
                "view_ms": view_ms,
                "shown_ms": shown_ms,
                "rows": [len(run.history) for run in session.runs],
                "last_shown": shown_step,
            }
        ),
        flush=True,
    )


def seek(settings: Settings) -> list[dict[str, Any]]:
    """p99 of ``window.view_step(k)`` with 8 runs of 1e6 steps in history."""
    import numpy as np

    from sgd_viewer.bench.gui import WINDOW_MISSING, child_env, window_available

    steps = 100_000 if settings.quick else 1_000_000
    label = f"view_step(random k), 8 runs × {steps:.0e} steps, p99 of {SEEKS}"
    label = label.replace("e+0", "e") + (" (--quick: 1e5)" if settings.quick else "")
    target = "≤ 16 ms"
    if not window_available():
        return [row(label, "ms", None, None, target, None, note=WINDOW_MISSING)]
    code = f"from sgd_viewer.bench.race import seek_child; seek_child({steps}, {SEEKS})"
    lines = run_child(code, timeout=300, env=child_env()).strip().splitlines()
    done = json.loads(lines[-1])
    view = np.asarray(done["view_ms"])
    shown = np.asarray(done["shown_ms"])
    p99 = float(np.percentile(view, 99))
    return [
        row(
            label,
            "ms",
            p99,
            None,
            target,
            p99 <= 16.0,
            steps=steps,
            seeks=int(view.size),
            p50_ms=float(np.percentile(view, 50)),
            max_ms=float(view.max()),
            with_paint_p50_ms=float(np.percentile(shown, 50)),
            with_paint_p99_ms=float(np.percentile(shown, 99)),
            history_rows=done["rows"],
        )
    ]


# --------------------------------------------------------------------- resume
def resume_child(steps: int, at: int, repeats: int) -> None:
    """Headless: trainers that ran ``steps`` steps, rewound to ``at`` + one
    step, ``repeats`` times each; JSON."""
    import torch

    from sgd_viewer.bench.engine import dataset
    from sgd_viewer.core.config import TrainingConfig
    from sgd_viewer.core.trainer import Trainer

    torch.set_num_threads(1)
    data = dataset(RACE_N)
    result: dict[str, Any] = {}
    for name in RESUME_OPTIMIZERS:
        trainer = Trainer(data, TrainingConfig(optimizer=name, lr=LR), START)
        t0 = time.perf_counter()
        while trainer.step_count < steps and trainer.status != "diverged":
            trainer.step(min(1_000, steps - trainer.step_count))
        run_s = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            trainer.rewind(at)
            batch = trainer.step(1)
            times.append((time.perf_counter() - t0) * 1e3)
            assert int(batch.step[0]) == at + 1
        result[name] = {
            "ms": times,
            "run_s": run_s,
            "checkpoint_interval": trainer.checkpoints.interval,
            "steps_run": steps,
        }
    print(json.dumps(result), flush=True)


def resume_window_child(steps: int, at: int) -> None:
    """The window: a run of ``steps`` real steps, then ``view_step(at)`` and
    ``step(1)`` until ``snapshot()`` shows step ``at + 1``; JSON."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from sgd_viewer.bench.gui import _set_flat_out, _wait, close_window, open_window
    from sgd_viewer.core.recipe import parse_spec

    app = QApplication.instance() or QApplication([])
    result: dict[str, Any] = {}
    for name in RESUME_OPTIMIZERS:
        window = open_window(app, RACE_N)
        config, _ = parse_spec(f"{name}:lr={LR}", window.session.run.config)
        window.apply_config(config)
        _set_flat_out(window)
        window.run()
        _wait(app, lambda w=window: w.session.latest_step >= steps, 300)
        window.pause()
        _wait(app, lambda w=window: not w.snapshot()["running"], 10)
        ran = window.session.latest_step
        t0 = time.perf_counter()
        window.view_step(at)
        window.step(1)
        while window.snapshot()["latest_step"] != at + 1:
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("the window never showed the resumed step")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 1)
            time.sleep(0.0002)
        ms = (time.perf_counter() - t0) * 1e3
        result[name] = {"ms": ms, "steps_run": ran}
        close_window(app, window)
    print(json.dumps(result), flush=True)


def resume(settings: Settings) -> list[dict[str, Any]]:
    """Continue from the middle of a long run until the first new step."""
    from sgd_viewer.bench.gui import child_env, window_available

    # --quick is a check that every row runs (CI runs it): short runs.
    steps = 20_000 if settings.quick else 1_000_000
    at = steps // 2
    quick = " (--quick: 2e4 steps)" if settings.quick else ""
    repeats = 3 if settings.quick else 5
    code = (
        "from sgd_viewer.bench.race import resume_child; "
        f"resume_child({steps}, {at}, {repeats})"
    )
    lines = run_child(
        code, timeout=900, env=dict(os.environ, OMP_NUM_THREADS="1")
    ).strip()
    done = json.loads(lines.splitlines()[-1])
    target = "≤ 300 ms"
    rows = []
    for name in RESUME_OPTIMIZERS:
        measured = done[name]
        # The worst: the first rewind restores a checkpoint and replays; later
        # ones find the store already cut back to it.
        value = max(measured["ms"])
        rows.append(
            row(
                f"headless {name}: rewind({at:.0e}) + 1 step after {steps:.0e}".replace(
                    "e+0", "e"
                )
                + quick,
                "ms",
                value,
                None,
                target,
                value <= 300.0,
                optimizer=name,
                median_ms=median(measured["ms"]),
                all_ms=measured["ms"],
                checkpoint_interval=measured["checkpoint_interval"],
                run_s=measured["run_s"],
            )
        )
    window_steps = 5_000 if settings.quick else 100_000
    window_at = window_steps // 2
    if window_available():
        code = (
            "from sgd_viewer.bench.race import resume_window_child; "
            f"resume_window_child({window_steps}, {window_at})"
        )
        out = run_child(code, timeout=600, env=child_env()).strip()
        shown = json.loads(out.splitlines()[-1])
        for name in RESUME_OPTIMIZERS:
            value = shown[name]["ms"]
            rows.append(
                row(
                    f"window {name}: view_step({window_at:.0e}), step(1) until "
                    f"shown, after {window_steps:.0e} steps".replace("e+0", "e")
                    + (" (--quick)" if settings.quick else ""),
                    "ms",
                    value,
                    None,
                    target,
                    value <= 300.0,
                    optimizer=name,
                    steps_run=shown[name]["steps_run"],
                )
            )
    return rows
