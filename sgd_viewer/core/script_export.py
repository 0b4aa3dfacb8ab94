"""A run as a standalone torch script (issue 11 §4).

:func:`torch_script` writes a Python file that needs numpy and torch only and
replays one run in the lesson's loop (``loss.backward(); opt.step();
opt.zero_grad()``): data, optimizer, lr scheduler, mid-run changes and
mini-batches as the app makes them. Where the trainer computes something its
own way (the data's statistics, the closed-form loss) the script does the same
operations in the same order, so the run is reproduced bit for bit.

numpy and the standard library only (the text is only written here); no Qt.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from sgd_viewer.core.config import TrainingConfig, needs_reset
from sgd_viewer.core.data import DataError, Dataset, generate
from sgd_viewer.core.optimizers import get_optimizer
from sgd_viewer.core.recipe import RunRecipe
from sgd_viewer.core.schedules import get_schedule
from sgd_viewer.core.script_templates import (
    BATCHES,
    CLOSED_FORM,
    CLOSURE_STEP,
    LESSON_STEP,
    SCRIPT,
)

_PER_LINE = 4  #: float literals a line of embedded data (about 100 characters)


def torch_script(
    data: Dataset, start: tuple[float, float], recipe: RunRecipe, steps: int
) -> str:
    """A standalone numpy + torch script that replays ``recipe`` on ``data``
    from ``start`` for ``steps`` steps as ``play_recipe`` does. ``ValueError``
    for negative steps, a start not finite, or a change that restarts the run
    (the app never records one: it starts the run again instead)."""
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be 0 or more, got {steps}")
    a0, b0 = float(start[0]), float(start[1])
    if not (math.isfinite(a0) and math.isfinite(b0)):
        raise ValueError(f"start must be finite numbers, got {start}")
    config, n = recipe.config, data.n
    changes = _applied_changes(recipe, steps)
    sizes = [config.effective_batch_size(n)]
    sizes += [new.effective_batch_size(n) for _, _, new in changes]
    mini_batches = any(size is not None for size in sizes)
    closed_form = config.loss_form == "closed" and None in sizes
    return SCRIPT.substitute(
        header=_header(data, (a0, b0), recipe, steps, changes),
        steps=steps,
        a0=repr(a0),
        b0=repr(b0),
        dtype=config.dtype,
        reduction=config.reduction,
        seed=config.seed,
        data=_data_code(data),
        optimizer=_optimizer_call(config),
        schedule=_schedule_code(config),
        losses=_losses_code(config, mini_batches, closed_form),
        first_batch=f"batch_size = {sizes[0]!r}\nnew_order()\n" * mini_batches,
        body=_loop_body(config, changes, steps, n),
    )


def write_script(
    path, data: Dataset, start: tuple[float, float], recipe: RunRecipe, steps: int
) -> None:
    """Write :func:`torch_script` to ``path`` (UTF-8); ``OSError`` as usual."""
    text = torch_script(data, start, recipe, steps)  # ValueError before any file
    Path(path).write_text(text, encoding="utf-8")


# ----------------------------------------------------------------- the recipe
def _applied_changes(
    recipe: RunRecipe, steps: int
) -> list[tuple[int, TrainingConfig, TrainingConfig]]:
    """``(after step, old, new)`` for each change that ``replay`` applies: up
    to the first one past ``steps``, none before the one above it."""
    applied = []
    at, config = 0, recipe.config
    for change in recipe.changes:
        if change.step > steps:
            break
        at = max(at, change.step)
        new = change.apply(config)
        if needs_reset(config, new):
            raise ValueError(
                f"the change after step {change.step} restarts the run: "
                "a script cannot replay it"
            )
        applied.append((at, config, new))
        config = new
    return applied


def _clean(text: str) -> str:
    """``text`` fit for one comment line: no line breaks, no control characters."""
    return "".join(c if c.isprintable() else " " for c in str(text))


def _kwargs(values) -> list[str]:
    """``key=value`` as Python source (strings in double quotes, as ruff has them)."""
    return [
        f"{key}={json.dumps(v) if isinstance(v, str) else repr(v)}"
        for key, v in values.items()
    ]


def _call(target: str, function: str, args: list[str]) -> str:
    """``target = function(args)``, one argument a line when it is too long."""
    line = f"{target} = {function}({', '.join(args)})"
    if len(line) <= 88:
        return line + "\n"
    return f"{target} = {function}(\n" + "".join(f"    {a},\n" for a in args) + ")\n"


def _change_words(old: TrainingConfig, new: TrainingConfig, n: int) -> str:
    words = [f"lr {old.lr!r} → {new.lr!r}"] if new.lr != old.lr else []
    knobs = old.hyperparameters
    words += [
        f"{k} {knobs[k]!r} → {v!r}"
        for k, v in new.hyperparameters.items()
        if knobs[k] != v
    ]
    before, after = old.effective_batch_size(n), new.effective_batch_size(n)
    if before != after:
        words.append(f"batch {before or 'full'} → {after or 'full'}")
    return ", ".join(words) or "nothing that matters"


def _header(data, start, recipe, steps, changes) -> str:
    c = recipe.config
    optimizer = get_optimizer(c.optimizer)
    batch = c.effective_batch_size(data.n)
    batches = f"{batch} points, reshuffled every epoch (seed {c.seed})"
    loss_form = "closed form" if c.loss_form == "closed" else "per point"
    lines = [
        "Gradient descent on y = a·x + b: one run of the sgd_viewer app as a",
        "standalone script (numpy and torch only). The same data, torch.optim",
        "optimizer, lr scheduler, mini-batches and mid-run changes, trained in the",
        "lesson's loop (loss.backward(); opt.step(); opt.zero_grad()): its numbers",
        "are the app's.",
        "",
        f"Run:        {_clean(recipe.label)}",
        f"Optimizer:  torch.optim.{optimizer.torch_class} ({optimizer.label}), "
        f"lr = {c.lr!r}",
        f"Knobs:      {', '.join(_kwargs(c.hyperparameters)) or 'none'}",
        f"Schedule:   {c.schedule} {', '.join(_kwargs(c.schedule_options))}".rstrip(),
        f"Batches:    {batches if batch else 'the full batch, every step'}",
        f"Loss:       {c.reduction} of squared errors in {c.dtype}; full batch: "
        f"{loss_form}",
        f"Start:      a = {start[0]!r}, b = {start[1]!r}; {steps} steps",
        f"Data:       {_clean(data.name)} ({data.n} points)",
    ]
    for at, old, new in changes:
        when = f"after step {at}" + (" (the end: no effect)" if at >= steps else "")
        lines.append(f"Changed:    {when}: {_change_words(old, new, data.n)}")
    lines += [
        "",
        'Its last line of output is {"a": ..., "b": ..., "loss": ...}: the final',
        "parameters and the loss on all the data. A run that blows up (the loss",
        "past 1e8 times the largest of its values at the start, at (0, 0) and at",
        "the optimum, or anything inf/NaN) stops there as in the app, says so and",
        "reports the last finite parameters.",
        "",
        "The recipe, as sgd_viewer saves it:",
        json.dumps(recipe.to_json()),  # ASCII on one line: safe in a comment
    ]
    return "\n".join(f"# {line}".rstrip() for line in lines) + "\n"


# ------------------------------------------------------------------- the data
def _regenerates(data: Dataset) -> bool:
    """Whether ``generate`` with the data's own fields gives these very points."""
    fields = (data.true_a, data.true_b, data.noise, data.seed)
    if data.source != "generated" or any(v is None for v in fields):
        return False
    try:
        again = generate(data.n, data.true_a, data.true_b, data.noise, data.seed)
    except DataError:
        return False
    return np.array_equal(again.x, data.x) and np.array_equal(again.y, data.y)


def _floats(name: str, values: np.ndarray) -> str:
    items = [repr(v) for v in values.tolist()]  # Python floats: exact repr
    rows = (
        "    " + ", ".join(items[i : i + _PER_LINE]) + ","
        for i in range(0, len(items), _PER_LINE)
    )
    return f"{name} = np.array([\n" + "\n".join(rows) + "\n])"


def _data_code(data: Dataset) -> str:
    if _regenerates(data):
        a, b, noise = float(data.true_a), float(data.true_b), float(data.noise)
        return (
            f"\n# The data: the app's generated points, x ~ U(0, 1) and\n"
            f"# y = {a!r}·x + {b!r} + {noise!r}·N(0, 1), drawn with seed "
            f"{data.seed}\n# (the same numpy calls in the same order).\n"
            f"rng = np.random.default_rng({int(data.seed)})\n"
            f"x = rng.uniform(0.0, 1.0, {data.n})\n"
            f"y = {a!r} * x + {b!r} + {noise!r} * rng.normal(0.0, 1.0, {data.n})\n"
            "n = len(x)\n"
        )
    return (
        f"\n# The data: {data.n} points of {_clean(data.name)},"
        "\n# every float written out exactly.\n"
        f"{_floats('x', data.x)}\n{_floats('y', data.y)}\nn = len(x)\n"
    )


# ------------------------------------------------------------ torch objects
def _optimizer_call(config: TrainingConfig) -> str:
    spec = get_optimizer(config.optimizer)
    kwargs = spec.torch_kwargs(config.hyperparameters)
    if spec.torch_class != "LBFGS":
        kwargs["foreach"] = False  # the app's one code path on every machine
    args = ["[a, b]", f"lr={config.lr!r}", *_kwargs(kwargs)]
    return _call("opt", f"torch.optim.{spec.torch_class}", args)


def _schedule_code(config: TrainingConfig) -> str:
    spec = get_schedule(config.schedule)
    if spec.torch_class is None:
        return "sched = None  # a constant learning rate\n"
    # What ScheduleSpec.build passes (max_lr read off a stand-in: no torch here).
    stand_in = SimpleNamespace(param_groups=[{"lr": config.lr}])
    kwargs = spec.torch_kwargs(config.schedule_options, stand_in)
    function = f"torch.optim.lr_scheduler.{spec.torch_class}"
    nudged = kwargs.get("pct_start") != config.schedule_options.get("pct_start")
    note = "# pct_start is one ulp up, as in the app: torch fails at 1/total_steps\n"
    return note * nudged + _call("sched", function, ["opt", *_kwargs(kwargs)])


def _losses_code(config: TrainingConfig, mini_batches: bool, closed: bool) -> str:
    parts = []
    if mini_batches or config.loss_form == "per_point":
        reduce = config.reduction  # "mean" or "sum": torch's method names too
        parts.append(
            "x_t = torch.tensor(x, dtype=DTYPE)\ny_t = torch.tensor(y, dtype=DTYPE)\n"
            "\n\ndef per_point_loss(xs, ys):\n"
            "    # The lesson's loss: the squared error of every point, "
            f"{'summed' if reduce == 'sum' else 'averaged'}.\n"
            f"    return ((xs * a + b - ys) ** 2).{reduce}()\n"
        )
    if closed:
        parts.append(CLOSED_FORM.strip("\n") + "\n")
    full = "closed_form_loss()" if closed else "per_point_loss(x_t, y_t)"
    if mini_batches:
        parts.append(BATCHES.strip("\n") + "\n")
        full += " if batch is None else per_point_loss(*batch)"
    else:
        parts.append("def next_batch():\n    return None  # the full batch\n")
    parts.append(f"def loss_on(batch):\n    return {full}\n")
    return "\n" + "\n\n".join(parts)


# ------------------------------------------------------------------- the loop
def _change_code(old: TrainingConfig, new: TrainingConfig, n: int) -> list[str]:
    """The statements :meth:`Trainer.configure` amounts to, for ``old → new``."""
    if new == old:
        return ["pass  # the same settings again: nothing to do"]
    spec = get_optimizer(new.optimizer)
    before, after = (spec.torch_kwargs(c.hyperparameters) for c in (old, new))
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    scheduled = get_schedule(new.schedule).torch_class is not None
    lines = []
    if changed or (not scheduled and new.lr != old.lr):
        lines.append("for group in opt.param_groups:")
        if changed:
            lines.append(f"    group.update({', '.join(_kwargs(changed))})")
        if not scheduled and new.lr != old.lr:
            lines.append(f'    group["lr"] = {new.lr!r}')
    momenta = old.hyperparameters.get("momentum"), new.hyperparameters.get("momentum")
    if new.optimizer == "rmsprop" and momenta[0] == 0 < momenta[1]:
        lines += [
            "# torch gives RMSprop momentum buffers only when it starts with",
            "# momentum: switched on mid-run (as in the app) they start at zero.",
            "for p in (a, b):",
            '    if opt.state[p] and "momentum_buffer" not in opt.state[p]:',
            '        opt.state[p]["momentum_buffer"] = torch.zeros_like(p)',
        ]
    if scheduled and new.lr != old.lr:
        lines += [
            "# A new lr under a schedule scales the whole curve, as in the app:",
            "# from here on the lr is what it would be had the run begun there.",
            f"ratio = {new.lr!r} / {old.lr!r}",
            "for group in opt.param_groups:",
            '    for key in ("lr", "initial_lr", "max_lr", "min_lr"):',
            "        if key in group:",
            "            group[key] = group[key] * ratio",
            "sched.base_lrs = [base * ratio for base in sched.base_lrs]",
        ]
    before, after = old.effective_batch_size(n), new.effective_batch_size(n)
    if before != after:
        lines += [f"batch_size = {after!r}", "new_order()  # a fresh permutation"]
    return lines or ["pass  # nothing the steps read has changed"]


def _loop_body(config: TrainingConfig, changes, steps: int, n: int) -> str:
    lines = []
    by_step: dict[int, list] = {}
    for at, old, new in changes:
        if at < steps:  # one at the very end changes nothing that is reported
            by_step.setdefault(at, []).append((old, new))
    for at, pairs in sorted(by_step.items()):
        lines.append(f"    if done == {at}:  # the settings changed after {at} steps")
        for old, new in pairs:
            lines += ["        " + line for line in _change_code(old, new, n)]
    closure = get_optimizer(config.optimizer).needs_closure
    lines.append((CLOSURE_STEP if closure else LESSON_STEP).strip("\n"))
    schedule = get_schedule(config.schedule)
    if schedule.holds_at_end:
        lines.append(
            "    # The app holds the lr at the cycle's end: torch's would rise again."
        )
        lines.append("    if sched.last_epoch < sched.total_steps - 1:")
        lines.append("        sched.step()")
    elif schedule.torch_class is not None:
        lines.append("    sched.step()")
    return "\n".join(lines)
