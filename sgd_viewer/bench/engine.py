"""Headless benchmarks of ``sgd-viewer bench``: ``engine_full_batch``,
``engine_minibatch`` and ``memory`` (``surface`` is in ``bench.surface``).

Owns the baselines these are measured against (the lesson's per-point torch
autograd loop, a naive numpy loss grid, the RSS before a run) and the timing
helpers. Every function returns a list of result rows (plain dicts, see
:func:`row`) that ``sgd_viewer.bench`` prints.

numpy, torch and the standard library only: never imports Qt or ``gui/``. The
memory measurement runs in a fresh Python process (:func:`memory_child`) so that
nothing else measured here pollutes its RSS.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: The start the app uses by default (the lesson's animation).
START = (-1.0, 1.0)
LR = 0.01


@dataclass(frozen=True)
class Settings:
    """How hard to measure: the repeats of each comparison and its time budget."""

    quick: bool = False
    repeats: int = 7
    budget_s: float = 0.15

    @classmethod
    def for_mode(cls, quick: bool) -> Settings:
        # Many short interleaved runs rather than a few long ones: on a shared
        # 2-core VM the speed drifts by ±30% over seconds, and fine interleaving
        # lets both sides see the same drift.
        return cls(quick=True, repeats=3, budget_s=0.07) if quick else cls()


# ------------------------------------------------------------------- results
def row(
    label: str,
    unit: str,
    value: float | None,
    baseline: float | None,
    target: str | None,
    met: bool | None,
    **detail: Any,
) -> dict[str, Any]:
    """One measurement: ``ratio`` is always ``value / baseline``."""
    ratio = (
        value / baseline if value is not None and baseline not in (None, 0) else None
    )
    return {
        "label": label,
        "unit": unit,
        "value": value,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "met": met,
        "detail": detail,
    }


def median(values: list[float]) -> float:
    return float(statistics.median(values))


# -------------------------------------------------------------------- timing
@contextmanager
def single_thread() -> Iterator[None]:
    """``torch.set_num_threads(1)`` for both sides, as the app's worker does."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def warm_up(run: Callable[[int], object], seconds: float) -> None:
    """Run steps for ``seconds`` untimed: lazily built tensors, optimizer state,
    and the allocator, whose first large tensors page-fault in fresh memory (the
    per-point loop at n = 1e6 runs at half speed for its first ~20 steps)."""
    run(1)
    _timed(run, seconds, 1)


def steps_per_second(run: Callable[[int], object], budget_s: float) -> float:
    """Rate of ``run(k)`` (which runs ``k`` steps) over at least ``budget_s``.

    Chunks grow until each takes about a quarter of the budget, so a 100 ms step
    (the per-point loop at n = 1e7) and a 40 µs step are both timed for the same
    wall time with little loop overhead.
    """
    steps, elapsed, _ = _timed(run, budget_s, 1)
    return steps / elapsed


def _timed(
    run: Callable[[int], object], budget_s: float, chunk: int
) -> tuple[int, float, int]:
    """Steps run, seconds taken and the chunk size reached."""
    steps = 0
    start = time.perf_counter()
    while True:
        run(chunk)
        steps += chunk
        elapsed = time.perf_counter() - start
        if elapsed >= budget_s:
            return steps, elapsed, chunk
        per_step = elapsed / steps
        chunk = max(1, min(chunk * 4, int(budget_s / 4 / per_step)))


def alternate(
    app: Callable[[], float], baseline: Callable[[], float], repeats: int
) -> tuple[float, float, list[float], list[float]]:
    """Medians of ``repeats`` interleaved measurements (order swapped each repeat,
    so drift in machine speed hits both sides alike)."""
    app_values: list[float] = []
    base_values: list[float] = []
    for i in range(repeats):
        if i % 2 == 0:
            app_values.append(app())
            base_values.append(baseline())
        else:
            base_values.append(baseline())
            app_values.append(app())
    return median(app_values), median(base_values), app_values, base_values


# ------------------------------------------------------------------ the data
def dataset(n: int):
    """The app's generated data (the lesson's line, y = 3x + 8 + noise)."""
    from sgd_viewer.core.data import generate

    return generate(n)


def point_tensors(data) -> tuple[Any, Any]:
    import torch

    return (
        torch.tensor(data.x, dtype=torch.float64),
        torch.tensor(data.y, dtype=torch.float64),
    )


# ------------------------------------------------------------------- sides
def app_stepper(data, optimizer: str, batch_size: int | None) -> Callable[[int], Any]:
    """``trainer.step`` of the app's trainer, as the worker calls it."""
    from sgd_viewer.core.config import TrainingConfig
    from sgd_viewer.core.trainer import Trainer

    trainer = Trainer(
        data,
        TrainingConfig(optimizer=optimizer, lr=LR, batch_size=batch_size),
        START,
    )
    return trainer.step


def lesson_stepper(
    x, y, optimizer: str = "sgd", batch_size: int | None = None, seed: int = 0
) -> Callable[[int], None]:
    """The lesson's per-point autograd loop on float64 tensors ``x``, ``y``.

    SGD is the lesson's code as written. The lesson has no Adam: for Adam the
    same loop hands the update to ``torch.optim.Adam(foreach=False)``. With a
    ``batch_size`` each step gathers ``x[idx]``, ``y[idx]`` for the next slice
    ``idx`` of a torch permutation (a new one each epoch).
    """
    import torch

    a = torch.tensor([START[0]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([START[1]], dtype=torch.float64, requires_grad=True)
    lr = LR
    adam = (
        torch.optim.Adam([a, b], lr=lr, foreach=False) if optimizer == "adam" else None
    )
    n = int(x.shape[0])
    generator = torch.Generator().manual_seed(seed)
    state = {"perm": torch.randperm(n, generator=generator), "pos": 0}

    def batch() -> tuple[Any, Any]:
        if batch_size is None:
            return x, y
        if state["pos"] >= n:
            state["perm"] = torch.randperm(n, generator=generator)
            state["pos"] = 0
        pos = state["pos"]
        idx = state["perm"][pos : pos + batch_size]
        state["pos"] = pos + batch_size
        return x[idx], y[idx]

    def run(count: int) -> None:
        for _ in range(count):
            xb, yb = batch()
            y_pred = xb.mul(a) + b
            loss = (y_pred - yb).pow(2).mean()
            loss.backward()
            if adam is None:
                a.data -= lr * a.grad.data
                b.data -= lr * b.grad.data
            else:
                adam.step()
            a.grad.data.zero_()
            b.grad.data.zero_()

    return run


def _compare_rates(app, base, settings: Settings) -> tuple[float, float]:
    """Median steps/s of the app's stepper and the baseline's, each warmed up
    first and measured in alternation so that drifting load hits both alike."""
    warm_up(app, 2 * settings.budget_s)
    warm_up(base, 2 * settings.budget_s)
    value, baseline, _, _ = alternate(
        lambda: steps_per_second(app, settings.budget_s),
        lambda: steps_per_second(base, settings.budget_s),
        settings.repeats,
    )
    return value, baseline


# --------------------------------------------------------- engine_full_batch
def engine_full_batch(settings: Settings) -> list[dict[str, Any]]:
    """Steps/s of the app's trainer (full batch) against the lesson's loop."""
    sizes = [50, 1_000, 100_000, 1_000_000]
    if not settings.quick:
        sizes.append(10_000_000)
    rows = []
    with single_thread():
        for n in sizes:
            data = dataset(n)
            x, y = point_tensors(data)
            for optimizer in ("sgd", "adam"):
                value, baseline = _compare_rates(
                    app_stepper(data, optimizer, None),
                    lesson_stepper(x, y, optimizer),
                    settings,
                )
                if n <= 1_000:
                    target, minimum = "≥ 0.8×", 0.8
                elif n == 1_000_000:
                    target, minimum = "≥ 10×", 10.0
                else:
                    target, minimum = None, None
                rows.append(
                    row(
                        f"{optimizer} n={n:.0e}" if n > 1000 else f"{optimizer} n={n}",
                        "steps/s",
                        value,
                        baseline,
                        target,
                        None if minimum is None else value / baseline >= minimum,
                        n=n,
                        optimizer=optimizer,
                        repeats=settings.repeats,
                    )
                )
            del data, x, y  # free n = 1e7 before the next size
    return rows


# ---------------------------------------------------------- engine_minibatch
def engine_minibatch(settings: Settings) -> list[dict[str, Any]]:
    """Steps/s at n = 1e6 with mini-batches against a plain index-gather loop."""
    n = 1_000_000
    data = dataset(n)
    x, y = point_tensors(data)
    rows = []
    with single_thread():
        for batch_size in (32, 1024):
            value, baseline = _compare_rates(
                app_stepper(data, "sgd", batch_size),
                lesson_stepper(x, y, "sgd", batch_size),
                settings,
            )
            rows.append(
                row(
                    f"sgd n=1e+06 batch {batch_size}",
                    "steps/s",
                    value,
                    baseline,
                    "≥ 0.8×",
                    value / baseline >= 0.8,
                    n=n,
                    batch_size=batch_size,
                    repeats=settings.repeats,
                )
            )
    return rows


# -------------------------------------------------------------------- memory
MEMORY_STEPS = 1_000_000
MEMORY_CHUNK = 1_000  # about what the worker hands over per message


def rss_bytes() -> int:
    """Resident set size of this process (``VmRSS`` from /proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource  # no /proc: peak RSS is the best available

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def memory_child(steps: int, rows: int) -> dict[str, Any]:
    """Run in a fresh process: RSS before and after ``steps`` headless steps
    (n = 50, full batch, SGD) with every StepBatch kept in a ``History``.

    With ``rows > steps`` the recorded batches are then replayed (step numbers
    shifted) until the history has seen ``rows`` steps: the quick mode's stand-in
    for the rest of a 1e6-step run. Prints and returns one JSON object.
    """
    import torch

    from sgd_viewer.core.history import COLUMNS, History, StepBatch

    torch.set_num_threads(1)
    trainer_step = app_stepper(dataset(50), "sgd", None)
    history = History()
    trainer_step(1)  # the first step builds autograd state: part of setup
    before = rss_bytes()
    t0 = time.perf_counter()
    done = 0
    recorded: list[StepBatch] = []
    while done < steps:
        batch = trainer_step(min(MEMORY_CHUNK, steps - done))
        history.append(batch)
        if rows > steps and len(recorded) < 64:
            recorded.append(batch)
        done += len(batch)
        if batch.diverged or not len(batch):
            break
    real_s = time.perf_counter() - t0
    after_real = rss_bytes()
    seen = history.steps_seen
    while seen < rows and recorded:
        for batch in recorded:
            shifted = {name: getattr(batch, name) for name in COLUMNS}
            shifted["step"] = batch.step - batch.step[0] + seen + 1
            history.append(StepBatch(**shifted))
            seen = history.steps_seen
            if seen >= rows:
                break
    after = rss_bytes()
    result = {
        "rss_before": before,
        "rss_after_steps": after_real,
        "rss_after": after,
        "steps": done,
        "rows": history.steps_seen,
        "history_rows": len(history),
        "history_bytes": history.nbytes(),
        "steps_per_s": done / real_s if real_s > 0 else None,
    }
    print(json.dumps(result), flush=True)
    return result


def run_child(code: str, timeout: float, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter; its stdout (raises on failure)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise RuntimeError(
            f"child process exited {done.returncode}: " + " | ".join(tail)
        )
    return done.stdout


def memory(settings: Settings) -> list[dict[str, Any]]:
    """RSS growth after 1e6 headless steps with the full history kept."""
    steps = 100_000 if settings.quick else MEMORY_STEPS
    code = (
        "from sgd_viewer.bench.engine import memory_child; "
        f"memory_child({steps}, {MEMORY_STEPS})"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    lines = run_child(code, timeout=600, env=env).strip().splitlines()
    result = json.loads(lines[-1])
    mb = 1e6  # decimal megabytes, the stricter reading of "64 MB"
    growth = (result["rss_after"] - result["rss_before"]) / mb
    if result["steps"] < MEMORY_STEPS:
        label = (
            f"{result['steps']:.0e} real steps + "
            f"{result['rows'] - result['steps']:.0e} replayed rows "
            "(projected to 1e6)"
        )
    else:
        label = f"{result['steps']:.0e} steps"
    return [
        row(
            label.replace("e+0", "e"),
            "MB",
            growth,
            result["rss_before"] / mb,
            "≤ 64 MB",
            growth <= 64.0,
            projected=result["steps"] < MEMORY_STEPS,
            steps=result["steps"],
            rows=result["rows"],
            rss_after_steps_mb=(result["rss_after_steps"] - result["rss_before"]) / mb,
            history_rows=result["history_rows"],
            history_mb=result["history_bytes"] / mb,
            steps_per_s=result["steps_per_s"],
        )
    ]
