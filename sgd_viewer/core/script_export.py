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
from string import Template
from types import SimpleNamespace

import numpy as np

from sgd_viewer.core.config import TrainingConfig, needs_reset
from sgd_viewer.core.data import DataError, Dataset, generate
from sgd_viewer.core.optimizers import get_optimizer
from sgd_viewer.core.recipe import RunRecipe
from sgd_viewer.core.schedules import get_schedule

_PER_LINE = 4  #: float literals a line of embedded data (about 100 characters)

#: The script, with the generated parts as $-fields. Kept as plain text so
#: that the file reads as written by hand.
_SCRIPT = Template(
    """\
$header
import json
import math

import numpy as np
import torch

STEPS = $steps
START = ($a0, $b0)  # (a, b) at step 0
DTYPE = torch.$dtype
REDUCTION = "$reduction"
SEED = $seed  # seeds the shuffling of mini-batches


$data

def statistics(x, y):
    # Means, centred (co)variances and the mean squared residual at the best
    # line, computed as the app does (in chunks, from a pilot point and line,
    # to keep every digit), so the loss agrees with the app's bit for bit.
    n = len(x)
    size = min(n, 65536)
    ones = np.ones(size)
    x0 = float(np.dot(x[:size], ones)) / size
    y0 = float(np.dot(y[:size], ones)) / size
    dx, dy = x[:size] - x0, y[:size] - y0
    pilot_sxx = float(np.dot(dx, dx))
    slope0 = float(np.dot(dx, dy)) / pilot_sxx if pilot_sxx > 0.0 else 0.0
    sums = [0.0] * 7  # of dx, dy, r, dx·dx, dx·dy, r·r, dx·r
    for begin in range(0, n, size):
        dx = x[begin : begin + size] - x0
        dy = y[begin : begin + size] - y0
        r = dy - dx * slope0
        part = ones[: len(dx)]
        pairs = (dx, part), (dy, part), (r, part), (dx, dx), (dx, dy), (r, r), (dx, r)
        sums = [total + float(np.dot(u, v)) for total, (u, v) in zip(sums, pairs)]
    dx_sum, dy_sum, r_sum, dxx, dxy, rr, xr = sums
    dx_bias, dy_bias, r_bias = dx_sum / n, dy_sum / n, r_sum / n
    cxx = dxx / n - dx_bias * dx_bias
    cxy = dxy / n - dx_bias * dy_bias
    x_mean, y_mean = x0 + dx_bias, y0 + dy_bias
    if pilot_sxx > 0.0:
        cxr = xr / n - dx_bias * r_bias
        residual = (rr / n - r_bias * r_bias) - cxr * cxr / cxx
    else:  # the first chunk's x are all equal: the residuals in a second pass
        residual = 0.0
        for begin in range(0, n, size):
            dx = x[begin : begin + size] - x_mean
            dy = y[begin : begin + size] - y_mean
            dy = dy - dx * (cxy / cxx)
            residual += float(np.dot(dy, dy))
        residual = residual / n
    return x_mean, y_mean, cxx, cxy, max(residual, 0.0)


x_mean, y_mean, cxx, cxy, residual = statistics(x, y)
a_opt = cxy / cxx  # the least-squares slope
scale = 1.0 if REDUCTION == "mean" else float(n)  # mean or sum of squared errors


def full_loss(a, b):
    # The loss on all the data in float64, as the app reports it:
    # Cxx·(a − a*)² + (a·x̄ + b − ȳ)² + R, times n for the sum.
    slope_error = a - a_opt
    centre_error = a * x_mean + b - y_mean
    value = cxx * slope_error * slope_error + centre_error * centre_error
    return (value + residual) * scale


# The parameters, the optimizer and the lr schedule, as the app builds them.
a = torch.tensor(START[0], dtype=DTYPE).requires_grad_()
b = torch.tensor(START[1], dtype=DTYPE).requires_grad_()
$optimizer$schedule
$losses

# The steps. A step's loss is checked as the app checks it: past this
# limit (or not finite) the run has diverged.
LOSS_LIMIT = 1e8 * max(
    full_loss(*START), full_loss(0.0, 0.0), residual * scale, 1e-300
)
${first_batch}last_good = START
every = max(1, STEPS // 10)  # how often to print a line
for done in range(STEPS):
$body
    a_now, b_now = a.item(), b.item()
    loss_now = full_loss(a_now, b_now)
    finite = all(map(math.isfinite, (a_now, b_now, loss.item())))
    if not (finite and loss_now <= LOSS_LIMIT):
        print(
            f"diverged at step {done + 1} (loss {loss_now:.3g}): "
            f"stopped at step {done}, the last finite one"
        )
        break
    last_good = (a_now, b_now)
    if (done + 1) % every == 0:
        print(
            f"step {done + 1}: a = {a_now:.6g}, b = {b_now:.6g}, "
            f"loss = {loss_now:.6g}"
        )


a_final, b_final = last_good
print(json.dumps({"a": a_final, "b": b_final, "loss": full_loss(a_final, b_final)}))
"""
)

_CLOSED_FORM = """
# Full batch: the app computes the same loss in closed form from the
# statistics, |W·(a, b) − c|² + R with W = [[√Cxx, 0], [x̄, 1]] and
# c = W·(a*, b*) (× √n for sum): O(1) per step at any n. R is a constant
# (no gradient), so it is left out of the tensor.
root, sqrt_cxx = math.sqrt(scale), math.sqrt(cxx)
W = torch.tensor([[root * sqrt_cxx, 0.0], [root * x_mean, root]], dtype=DTYPE)
minus_c = -torch.tensor([root * sqrt_cxx * a_opt, root * y_mean], dtype=DTYPE)


def closed_form_loss():
    residuals = torch.addmv(minus_c, W, torch.stack((a, b)))
    return residuals.dot(residuals)
"""

_BATCHES = '''
# Mini-batches as the app draws them: a permutation of the points from
# numpy's generator (seeded once) at the start, at every new epoch and when
# the batch size changes; the batch takes the next batch_size of them.
shuffler = np.random.default_rng(SEED)
order, position = None, 0


def new_order():
    global order, position
    position = 0
    if batch_size is not None:
        order = torch.from_numpy(shuffler.permutation(n))


def next_batch():
    """The points of the next step: None for all of them (the full batch)."""
    global position
    if batch_size is None:
        return None
    if position >= n:  # a new epoch
        new_order()
    indices = order[position : position + batch_size]
    position += batch_size
    return x_t[indices], y_t[indices]
'''

_LESSON_STEP = """
    batch = next_batch()
    loss = loss_on(batch)
    loss.backward()
    opt.step()
    opt.zero_grad()
"""

_CLOSURE_STEP = """
    batch = next_batch()  # one batch per step, however many evaluations

    def closure(batch=batch):
        opt.zero_grad()
        loss = loss_on(batch)
        loss.backward()
        return loss

    loss = opt.step(closure)  # L-BFGS evaluates the loss itself
"""


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
    return _SCRIPT.substitute(
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
        parts.append(_CLOSED_FORM.strip("\n") + "\n")
    full = "closed_form_loss()" if closed else "per_point_loss(x_t, y_t)"
    if mini_batches:
        parts.append(_BATCHES.strip("\n") + "\n")
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
    lines.append((_CLOSURE_STEP if closure else _LESSON_STEP).strip("\n"))
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
