"""The empirical stability map: every cell of a (learning rate, knob) grid run
as its own full-batch fit, all cells at once.

Owns the batched form of ``torch.optim``'s update rules (SGD, momentum,
Nesterov, Adam, RMSprop, Adagrad) for many independent fits of ``(a, b)``
stacked in one ``(2, cells)`` tensor, and the map built from it: the steps
each cell takes to reach ``L* + tolerance·(L0 − L*)``. A cell is one fit of
the app's ``Trainer``: the same closed-form gradient (residuals
``W·(a, b) − c`` of the centred statistics, gradient ``2·Wᵀ·r``) and the same
formulas in the same order as torch's single-tensor kernels (where ``eps``
goes, bias correction, ``lerp``, ``addcdiv``'s ``value·t1/t2``, the fused
multiply-adds of ``add(alpha=)`` and ``addcmul``), with each cell's learning
rate and knob in a tensor instead of a Python float: on this machine the
cells' trajectories equal single runs' bit for bit. One step of 4,096 cells
costs about what one step of one fit costs in Python.

Imports torch, so the window may import it only once torch has loaded (after
its first paint); never Qt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sgd_viewer.core.closed_form import closed_form_constants
from sgd_viewer.core.optimizers import get_optimizer
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.stability import (
    CONVERGED,
    DEFAULT_BUDGET,
    DEFAULT_KNOBS,
    DEFAULT_START,
    DEFAULT_TOLERANCE,
    DIVERGING,
    OUTCOMES,
    UNFINISHED,
    check_empirical,
    default_knob_range,
)
from sgd_viewer.core.trainer import EXPLOSION_FACTOR

#: Steps between checks whether every cell is settled (a check costs a sync
#: of Python with the tensors; every step would cost a tenth of the run).
_CHECK_EVERY = 16


# ------------------------------------------------------------- the updates
class BatchedOptimizer:
    """One ``torch.optim`` optimizer stepping many fits at once.

    ``params`` is a ``(2, cells)`` tensor (row 0 the slopes, row 1 the
    intercepts); ``lr`` and any hyperparameter may be a ``(cells,)`` tensor
    (one value per fit) or a float. :meth:`step` applies torch's formulas to
    ``params`` in place, given the gradient of the same shape.
    """

    def __init__(
        self,
        optimizer: str,
        params: torch.Tensor,
        lr: torch.Tensor | float,
        hyperparameters: Mapping[str, torch.Tensor | float],
    ) -> None:
        self.name = check_empirical(optimizer)
        self.params = params
        self.lr = lr
        self.hyper = dict(hyperparameters)
        self.steps = 0  # torch's state["step"]
        self._distinct: dict[str, tuple[list[float], torch.Tensor]] = {}
        self._momentum_buffer: torch.Tensor | None = None
        zeros = torch.zeros_like(params)
        # Adam's exp_avg / exp_avg_sq, RMSprop's square_avg, Adagrad's sum
        # (initial_accumulator_value 0): all start at zero, as torch's do.
        self._first = zeros.clone()
        self._second = zeros

    def step(self, grad: torch.Tensor) -> None:
        self.steps += 1
        getattr(self, f"_{self.name}")(grad)

    def _in_python(self, name: str, formula):
        """``formula(value)`` of hyperparameter ``name`` evaluated on Python
        floats, as torch evaluates it (its bias corrections are Python
        ``**``: torch's vectorised ``pow`` differs in the last bit), then
        spread over the cells of a knob. A knob has few distinct values."""
        value = self.hyper[name]
        if not isinstance(value, torch.Tensor):
            return formula(value)
        if name not in self._distinct:
            distinct, where = torch.unique(value, return_inverse=True)
            self._distinct[name] = (distinct.tolist(), where)
        distinct, where = self._distinct[name]
        results = [formula(v) for v in distinct]
        return torch.tensor(results, dtype=value.dtype)[where]

    def _with_decay(self, grad: torch.Tensor) -> torch.Tensor:
        decay = self.hyper.get("weight_decay", 0.0)
        if isinstance(decay, float) and decay == 0.0:
            return grad
        return _plus_scaled(grad.clone(), decay, self.params)  # add(param, alpha=wd)

    def _sgd(self, grad: torch.Tensor, nesterov: bool = False) -> None:
        grad = self._with_decay(grad)
        momentum = self.hyper.get("momentum", 0.0)
        if not (isinstance(momentum, float) and momentum == 0.0):
            # torch's first step copies the gradient into the buffer. Cells
            # with μ = 0 (a knob tensor) keep buffer = 0·buffer + gradient =
            # gradient: the plain step torch takes when momentum is 0.
            if self._momentum_buffer is None:
                self._momentum_buffer = grad.clone()
            else:
                self._momentum_buffer.mul_(momentum).add_(grad)
            buffer = self._momentum_buffer
            grad = _plus_scaled(grad.clone(), momentum, buffer) if nesterov else buffer
        _plus_scaled(self.params, -self.lr, grad)  # param.add_(grad, alpha=-lr)

    _momentum = _sgd

    def _nesterov(self, grad: torch.Tensor) -> None:
        self._sgd(grad, nesterov=True)

    def _adam(self, grad: torch.Tensor) -> None:
        beta1, beta2 = self.hyper["beta1"], self.hyper["beta2"]
        eps = self.hyper["eps"]
        t = float(self.steps)
        self._first.lerp_(grad, 1 - beta1)  # exp_avg.lerp_(grad, 1 − β1)
        _decayed_square(self._second, beta2, grad)
        correction1 = self._in_python("beta1", lambda beta: 1 - beta**t)
        correction2_root = self._in_python("beta2", lambda beta: (1 - beta**t) ** 0.5)
        step_size = self.lr / correction1
        denom = (self._second.sqrt() / correction2_root).add_(eps)
        # param.addcdiv_(exp_avg, denom, value=−step_size): value·t1/t2.
        self.params.add_((-step_size) * self._first / denom)

    def _rmsprop(self, grad: torch.Tensor) -> None:
        alpha, eps = self.hyper["alpha"], self.hyper["eps"]
        momentum = self.hyper.get("momentum", 0.0)
        _decayed_square(self._second, alpha, grad)
        avg = self._second.sqrt().add_(eps)
        plain = self.params + (-self.lr) * grad / avg  # addcdiv_(value=−lr)
        if isinstance(momentum, float) and momentum == 0.0:
            self.params.copy_(plain)
            return
        # buf.mul_(μ).addcdiv_(grad, avg); param.add_(buf, alpha=−lr)
        self._first.mul_(momentum).add_(grad / avg)
        moved = _plus_scaled(self.params.clone(), -self.lr, self._first)
        # torch steps plainly where momentum is 0 (a knob's first row).
        self.params.copy_(torch.where(torch.as_tensor(momentum) > 0, moved, plain))

    def _adagrad(self, grad: torch.Tensor) -> None:
        decay, eps = self.hyper["lr_decay"], self.hyper["eps"]
        clr = self.lr / (1 + (self.steps - 1) * decay)
        self._second.addcmul_(grad, grad)  # state_sum.addcmul_(grad, grad, value=1)
        std = self._second.sqrt().add_(eps)
        self.params.add_((-clr) * grad / std)  # addcdiv_(grad, std, value=−clr)


# torch's fused kernels round once where separate ops round twice: ``add(x,
# alpha=s)`` is fma(s, x, self) and ``addcmul(t1, t2, value=v)`` is
# fma(v·t1, t2, self), on one value as on many. Written as two ops, a
# quarter of the cells came out a bit apart from torch's own runs.
def _plus_scaled(target: torch.Tensor, scale, other: torch.Tensor) -> torch.Tensor:
    """``target.add_(other, alpha=scale)`` for a float or per-cell ``scale``."""
    if isinstance(scale, torch.Tensor):
        return target.addcmul_(scale, other)  # fma(1·scale, other, target)
    return target.add_(other, alpha=scale)


def _decayed_square(average: torch.Tensor, decay, grad: torch.Tensor) -> None:
    """``average.mul_(decay).addcmul_(grad, grad, value=1 − decay)``, torch's
    running mean of squared gradients, for a float or per-cell ``decay``."""
    average.mul_(decay)
    if isinstance(decay, torch.Tensor):
        average.addcmul_((1 - decay) * grad, grad)  # fma((1 − d)·g, g, avg)
    else:
        average.addcmul_(grad, grad, value=1 - decay)


class ClosedFormLoss:
    """The Trainer's closed-form loss ``|W·(a, b) + c|² + R`` of many fits.

    ``W = √scale·[[√Cxx, 0], [x̄, 1]]`` and ``c = −W·(a*, b*)`` as in
    ``core.closed_form``. The residuals and the gradient ``2·Wᵀ·r`` are
    written out element by element in autograd's order (its ``addmv``
    forward, ``dot`` and ``mv`` backward): one batched ``mm`` gave the same
    numbers but for the last bit in a quarter of the cells (BLAS fuses
    multiply-adds), and a chaotic cell (RMSprop at a large lr) grows such a
    bit into a visible difference within a few dozen steps.
    """

    def __init__(self, problem: Problem, reduction: str) -> None:
        constants = closed_form_constants(problem, reduction)
        self.w_aa, self.w_ba, self.w_bb, self.c_a, self.c_b = constants

    def residuals(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = params[0], params[1]
        return a * self.w_aa + self.c_a, (a * self.w_ba + b * self.w_bb) + self.c_b

    def gradient(self, residuals: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        twice_a, twice_b = residuals[0] * 2.0, residuals[1] * 2.0
        grad_a = twice_a * self.w_aa + twice_b * self.w_ba
        return torch.stack((grad_a, twice_b * self.w_bb))


def _cell_tensors(
    spec_name: str,
    lr: np.ndarray,
    knob: str | None,
    knob_cells: np.ndarray | None,
    hyperparameters: Mapping[str, float] | None,
    dtype,
) -> tuple[torch.Tensor, dict[str, Any]]:
    spec = get_optimizer(spec_name)
    values: dict[str, Any] = dict(spec.resolve(hyperparameters))
    if knob is not None:
        assert knob_cells is not None
        hyper = spec.hyperparameter(knob)
        for bound in (float(np.min(knob_cells)), float(np.max(knob_cells))):
            hyper.validate(bound)
        values[knob] = torch.as_tensor(knob_cells, dtype=dtype)
    if not (np.all(np.isfinite(lr)) and np.all(lr > 0)):
        raise ValueError("learning rates must be finite and above 0")
    return torch.as_tensor(lr, dtype=dtype), values


def run_cells(
    problem: Problem,
    optimizer: str,
    lr_cells,
    knob: str | None = None,
    knob_cells=None,
    *,
    hyperparameters: Mapping[str, float] | None = None,
    reduction: str = "mean",
    start: tuple[float, float] = DEFAULT_START,
    steps: int = DEFAULT_BUDGET,
    tolerance: float = DEFAULT_TOLERANCE,
    record: bool = False,
) -> dict[str, np.ndarray]:
    """Run one full-batch fit per cell for up to ``steps`` steps.

    Parameters
    ----------
    lr_cells, knob_cells
        1-D arrays, one entry per cell: its learning rate and its value of the
        hyperparameter ``knob``. Other hyperparameters: ``hyperparameters``
        overlaid on the registry's defaults, the same in every cell.
    record
        Keep every step's ``a`` and ``b`` (``(steps + 1, cells)`` arrays, row
        0 the start), for comparison with single runs. Without it the run
        stops early once every cell has converged or diverged.

    Returns
    -------
    dict
        ``steps``: the first step whose loss is at most ``L* + tolerance·(L0 −
        L*)`` (``inf`` if none), ``outcome``: the codes of :data:`OUTCOMES`,
        and with ``record`` ``a`` and ``b``. A cell diverges where the
        Trainer's would: a loss over ``EXPLOSION_FACTOR`` times the largest of
        the start's, the origin's and the optimum's, or not finite.
    """
    name = check_empirical(optimizer)
    dtype = torch.float64
    lr_np = np.asarray(lr_cells, dtype=np.float64).ravel()
    knob_np = None if knob is None else np.asarray(knob_cells, np.float64).ravel()
    if knob_np is not None and knob_np.shape != lr_np.shape:
        raise ValueError("need one knob value per learning rate")
    lr, hyper = _cell_tensors(name, lr_np, knob, knob_np, hyperparameters, dtype)
    cells = lr_np.shape[0]
    loss = ClosedFormLoss(problem, reduction)
    params = torch.tensor([[start[0]], [start[1]]], dtype=dtype).repeat(1, cells)
    stepper = BatchedOptimizer(name, params, lr, hyper)
    loss_opt = problem.loss_opt(reduction)
    limit = EXPLOSION_FACTOR * max(
        float(problem.loss(*start, reduction)),
        float(problem.loss(0.0, 0.0, reduction)),
        loss_opt,
        1e-300,
    )
    excess_start = float(problem.loss(*start, reduction)) - loss_opt
    threshold = tolerance * max(excess_start, 0.0)
    never = torch.tensor(math.inf, dtype=dtype)
    first = torch.full((cells,), math.inf, dtype=dtype)
    diverged = torch.zeros(cells, dtype=torch.bool)
    trail_a, trail_b = [params[0].clone()], [params[1].clone()]
    if excess_start <= threshold:
        first.fill_(0.0)  # the start is the optimum: nothing to run
        steps = 0
    residuals = loss.residuals(params)
    for step in range(1, steps + 1):
        stepper.step(loss.gradient(residuals))
        residuals = loss.residuals(params)
        # Loss less R as the Trainer computes it (Cxx·(a − a*)² + centre²):
        # the two residuals squared.
        excess = residuals[0].square() + residuals[1].square()
        reached = (excess <= threshold) & ~diverged & torch.isinf(first)
        first = torch.where(reached, torch.tensor(float(step), dtype=dtype), first)
        diverged |= ~(excess + loss_opt <= limit) & torch.isinf(first)
        if record:
            trail_a.append(params[0].clone())
            trail_b.append(params[1].clone())
        elif step % _CHECK_EVERY == 0 and bool(
            (torch.isfinite(first) | diverged).all()
        ):
            break
    first = torch.where(diverged, never, first)
    outcome = np.full(cells, UNFINISHED, dtype=np.int8)
    first_np = first.numpy().copy()
    outcome[np.isfinite(first_np)] = CONVERGED
    outcome[diverged.numpy()] = DIVERGING
    result = {"steps": first_np, "outcome": outcome}
    if record:
        result["a"] = torch.stack(trail_a).numpy()
        result["b"] = torch.stack(trail_b).numpy()
    return result


# ------------------------------------------------------------------ the map
@dataclass(frozen=True, eq=False)
class EmpiricalMap:
    """Steps to converge on a grid of (knob, learning rate), or along lr alone.

    With a knob, ``steps[i, j]`` and ``outcome[i, j]`` belong to
    ``knob[i]`` and ``lr[j]`` (rows knob values, columns learning rates, as
    the analytic map); without one (``knob_name is None``) they are 1-D over
    ``lr``. ``steps`` is ``inf`` where the cell never got there within
    ``budget`` steps (outcome ``unfinished``) or blew up (``diverged``).
    """

    optimizer: str
    knob_name: str | None
    lr: np.ndarray
    knob: np.ndarray | None
    steps: np.ndarray
    outcome: np.ndarray
    budget: int
    tolerance: float
    reduction: str
    start: tuple[float, float]
    #: Plain gradient descent's stable limit ``2/λmax`` on these data.
    lr_max: float
    #: The other hyperparameters, the same in every cell.
    hyperparameters: Mapping[str, float]

    regime_names = OUTCOMES

    @property
    def regime(self) -> np.ndarray:
        """The outcome codes, under the name the analytic map uses."""
        return self.outcome

    @property
    def is_sweep(self) -> bool:
        """Whether this is a curve over lr alone (no second knob)."""
        return self.knob_name is None

    def share(self, outcome: str) -> float:
        """Fraction of the cells with ``outcome``."""
        return float(np.mean(self.outcome == OUTCOMES.index(outcome)))

    def best(self) -> tuple[int, ...]:
        """Index of the cell that converged in the fewest steps."""
        flat = int(np.argmin(self.steps))
        return tuple(int(k) for k in np.unravel_index(flat, self.steps.shape))

    def to_json(self) -> dict[str, Any]:
        """Plain data: ``lr``, the knob's values under its name, ``steps``
        (``None`` where not converged within the budget) and the outcomes."""

        def steps_of(values: np.ndarray):
            return [int(v) if math.isfinite(v) else None for v in values]

        data: dict[str, Any] = {"lr": self.lr.tolist()}
        if self.knob_name is None:
            data["steps"] = steps_of(self.steps)
        else:
            assert self.knob is not None
            data[self.knob_name] = self.knob.tolist()
            data["steps"] = [steps_of(row) for row in self.steps]
        data.update(
            outcome=self.outcome.tolist(),
            outcomes=list(OUTCOMES),
            optimizer=self.optimizer,
            budget=self.budget,
            tolerance=self.tolerance,
            reduction=self.reduction,
            start=list(self.start),
            lr_max=self.lr_max,
            hyperparameters=dict(self.hyperparameters),
        )
        return data


def empirical_map(
    problem: Problem,
    optimizer: str,
    lrs,
    knob_values=None,
    *,
    knob: str | None = "default",
    hyperparameters: Mapping[str, float] | None = None,
    reduction: str = "mean",
    start: tuple[float, float] = DEFAULT_START,
    budget: int = DEFAULT_BUDGET,
    tolerance: float = DEFAULT_TOLERANCE,
) -> EmpiricalMap:
    """Steps to ``L* + tolerance·(L0 − L*)`` for every (knob, lr) cell, all
    run as one batched computation (:func:`run_cells`).

    Parameters
    ----------
    optimizer
        One of ``stability.EMPIRICAL_OPTIMIZERS``.
    lrs
        The learning rates (columns).
    knob_values
        The knob's values (rows); default :func:`default_knob_range` with as
        many values as ``lrs``. Ignored for a sweep.
    knob
        The hyperparameter on the second axis: ``"default"`` for the
        optimizer's natural one (:data:`DEFAULT_KNOBS`), ``None`` for a sweep
        over lr alone.
    hyperparameters
        Fixed values of the other hyperparameters (registry defaults else).
    """
    name = check_empirical(optimizer)
    if knob == "default":
        knob = DEFAULT_KNOBS[name]
    if knob is not None:
        get_optimizer(name).hyperparameter(knob)  # KeyError naming the known
    if budget < 0:
        raise ValueError(f"the step budget must be 0 or more, got {budget}")
    if not 0.0 <= tolerance < 1.0:
        raise ValueError(f"the tolerance must be in [0, 1), got {tolerance}")
    if not all(math.isfinite(v) for v in start):
        raise ValueError(f"the start must be two finite numbers, got {start}")
    lr = np.asarray(lrs, dtype=np.float64).ravel()
    fixed = dict(hyperparameters or {})
    if knob is None:
        values = None
        lr_cells, knob_cells = lr, None
    else:
        fixed.pop(knob, None)
        if knob_values is None:
            knob_values = default_knob_range(name, knob, lr.shape[0])
        values = np.asarray(knob_values, dtype=np.float64).ravel()
        knob_grid, lr_grid = np.meshgrid(values, lr, indexing="ij")
        lr_cells, knob_cells = lr_grid.ravel(), knob_grid.ravel()
    result = run_cells(
        problem,
        name,
        lr_cells,
        knob,
        knob_cells,
        hyperparameters=fixed,
        reduction=reduction,
        start=start,
        steps=budget,
        tolerance=tolerance,
    )
    shape = lr.shape if values is None else (values.shape[0], lr.shape[0])
    resolved = get_optimizer(name).resolve(fixed)
    if knob is not None:
        resolved.pop(knob)
    return EmpiricalMap(
        optimizer=name,
        knob_name=knob,
        lr=lr,
        knob=values,
        steps=result["steps"].reshape(shape),
        outcome=result["outcome"].reshape(shape),
        budget=int(budget),
        tolerance=float(tolerance),
        reduction=reduction,
        start=(float(start[0]), float(start[1])),
        lr_max=problem.lr_max(reduction),
        hyperparameters=resolved,
    )
