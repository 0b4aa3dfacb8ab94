"""The trainer: gradient descent on ``y = a·x + b`` with torch autograd and
``torch.optim``.

Owns the torch tensors ``a`` and ``b``, the optimizer and the mini-batch order.
:meth:`Trainer.step` runs ``k`` steps and returns them as one numpy
:class:`~sgd_viewer.core.history.StepBatch`; no tensor ever leaves this module,
and neither does a NaN or an infinity: a blow-up stops the batch at the last
finite step with status ``diverged``.

Imports torch (so the GUI imports this module only in its worker thread) but
never Qt.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from sgd_viewer.core.checkpoints import Checkpoint, CheckpointStore
from sgd_viewer.core.closed_form import (
    ClosedFormTerms,
    lockstep_is_exact,
    matrix_form_loss,
)
from sgd_viewer.core.config import TrainingConfig, needs_reset
from sgd_viewer.core.data import Dataset
from sgd_viewer.core.history import StepBatch
from sgd_viewer.core.optimizers import get_optimizer
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.schedules import get_schedule
from sgd_viewer.core.stepping import Stepping
from sgd_viewer.core.torch_state import copied as _copied

#: A run counts as diverged once its loss exceeds this multiple of the largest of
#: the loss at the start, at the origin and at the optimum (or is not finite).
EXPLOSION_FACTOR = 1e8

_TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class Trainer:
    """Fits ``y = a·x + b`` to one dataset, one step at a time.

    Parameters
    ----------
    data
        The points to fit.
    config
        Optimizer and settings; change later with :meth:`configure`.
    start
        The initial guess ``(a0, b0)``; change later with :meth:`reset`.
    problem
        The data's statistics, when the caller has them already (several runs
        on one dataset share them).

    The run is a recipe: the settings at step 0 plus the mid-run changes in
    :attr:`changes` (``(step, config)``: ``config`` took effect after ``step``
    steps). Checkpoints of the exact state are kept as it goes, so that
    :meth:`rewind` can continue from any step exactly as if the run had never
    gone past it.
    """

    def __init__(
        self,
        data: Dataset,
        config: TrainingConfig | None = None,
        start: tuple[float, float] = (-1.0, 1.0),
        problem: Problem | None = None,
    ) -> None:
        self.config = config or TrainingConfig()
        self._check_device(self.config.device)
        self.start = (float(start[0]), float(start[1]))
        self.checkpoints = CheckpointStore()
        self._set_data(data, problem)
        self.reset()

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _check_device(device: str) -> None:
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("device 'cuda' asked for, but CUDA is not available here")

    def _set_data(self, data: Dataset, problem: Problem | None = None) -> None:
        self.data = data
        self.problem = problem or Problem.from_data(data.x, data.y)
        self._point_tensors: tuple[torch.Tensor, torch.Tensor] | None = None
        self._pair_tensor: torch.Tensor | None = None

    def set_data(self, data: Dataset, problem: Problem | None = None) -> None:
        """Fit new data: the run starts again from the current start."""
        self._set_data(data, problem)
        self.reset()

    def configure(self, config: TrainingConfig) -> bool:
        """Apply new settings; returns whether the run had to start again.

        Learning rate, hyperparameters and batch size apply from the next step
        on; anything else (see ``config.needs_reset``) resets the run.
        """
        self._check_device(config.device)  # before anything changes
        old, self.config = self.config, config
        if needs_reset(old, config):
            self._point_tensors = None
            self._pair_tensor = None
            self.reset()
            return True
        if config == old:
            return False
        if self.step_count == 0:
            # Nothing has run: start as a trainer built with these settings
            # would (the same first batch order), so that settings changed
            # before the first step are simply the run's initial settings.
            self.reset()
            return False
        spec = get_optimizer(config.optimizer)
        for group in self.optimizer.param_groups:
            group.update(spec.torch_kwargs(config.hyperparameters))
            if self._schedule is None:
                group["lr"] = config.lr
        if config.optimizer == "rmsprop" and old.hyperparameters.get("momentum") == 0:
            # torch makes RMSprop's momentum buffers only when it starts with
            # momentum: switched on mid-run, they start from zero.
            for param in self.optimizer.param_groups[0]["params"]:
                state = self.optimizer.state[param]
                if state and "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(param)
        if self._schedule is not None and config.lr != old.lr:
            self._schedule.set_base_lr(config.lr)
        if old.effective_batch_size(self.problem.n) != config.effective_batch_size(
            self.problem.n
        ):
            self._new_epoch_order()
        self.changes.append((self.step_count, config))
        return False

    def reset(self, a0: float | None = None, b0: float | None = None) -> None:
        """Back to step 0 at ``(a0, b0)`` (default: the current start)."""
        if a0 is not None and b0 is not None:
            self.start = (float(a0), float(b0))
        if not all(math.isfinite(v) for v in self.start):
            raise ValueError(f"start must be finite numbers, got {self.start}")
        cfg = self.config
        dtype = _TORCH_DTYPES[cfg.dtype]
        # One parameter tensor (a, b): torch.optim's single-tensor updates are
        # element-wise, so each coordinate gets exactly the arithmetic a
        # scalar parameter would, at half the per-parameter cost of two.
        self.params = torch.tensor(self.start, dtype=dtype, device=cfg.device)
        self.params.requires_grad_(True)
        self._prepare_closed_form(dtype, cfg.device)
        spec = get_optimizer(cfg.optimizer)
        self.optimizer = spec.build([self.params], cfg.lr, cfg.hyperparameters)
        self._schedule = get_schedule(cfg.schedule).build(
            self.optimizer, cfg.schedule_options
        )
        self._needs_closure = spec.needs_closure
        self.changes: list[tuple[int, TrainingConfig]] = []
        self.step_count = 0
        self.epoch = 0
        self._last_good = self.start
        self.status = "ready"
        self.message = ""
        self._shuffler = np.random.default_rng(cfg.seed)
        self._new_epoch_order()
        problem = self.problem
        self._loss_limit = EXPLOSION_FACTOR * max(
            problem.loss(*self.start, cfg.reduction),
            problem.loss(0.0, 0.0, cfg.reduction),
            problem.loss_opt(cfg.reduction),
            1e-300,
        )
        self.checkpoints.clear()
        self.checkpoints.add(self._checkpoint(None))

    def _new_epoch_order(self) -> None:
        # The stream's state before this epoch's draw: a checkpoint redraws the
        # same permutation from it instead of storing n indices.
        self._stream_state = self._shuffler.bit_generator.state
        self._batch_position = 0
        batch = self.config.effective_batch_size(self.problem.n)
        self._order = (
            None
            if batch is None
            else torch.from_numpy(self._shuffler.permutation(self.problem.n)).to(
                self.config.device
            )
        )

    def _points(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The data as tensors, made on first use (n = 1e7 costs 160 MB)."""
        if self._point_tensors is None:
            dtype = _TORCH_DTYPES[self.config.dtype]
            device = self.config.device
            self._point_tensors = (
                torch.tensor(self.data.x, dtype=dtype, device=device),
                torch.tensor(self.data.y, dtype=dtype, device=device),
            )
        return self._point_tensors

    def _point_pairs(self) -> torch.Tensor:
        """The data as one (n, 2) tensor of (x, y) rows, made on first use.

        A mini-batch gathers random rows: with x and y side by side one cache
        miss fetches both, which halves the gather's cost at n = 1e6.
        """
        if self._pair_tensor is None:
            self._pair_tensor = torch.tensor(
                np.column_stack([self.data.x, self.data.y]),
                dtype=_TORCH_DTYPES[self.config.dtype],
                device=self.config.device,
            )
        return self._pair_tensor

    # ---------------------------------------------------------------- losses
    def _prepare_closed_form(self, dtype: torch.dtype, device: str) -> None:
        """The constants of the closed-form loss ``|W·(a, b) + c|² + R``
        (``core.closed_form``): ``W = [[√Cxx, 0], [x̄, 1]]`` factors the
        Hessian (``H = 2·WᵀW``), the two residuals are ``√Cxx·(a − a*)`` and
        ``a·x̄ + b − ȳ`` (the centred form of DESIGN.md §4), both × √n for the
        sum reduction; the constant R is added outside the graph."""
        self.closed_form_terms = ClosedFormTerms.of(
            self.problem, self.config.reduction, dtype, device
        )
        self._loss_offset = self.problem.loss_opt(self.config.reduction)

    def _closed_form_loss(self) -> torch.Tensor:
        """Full-data loss less its constant R: O(1) in n (three autograd
        nodes: a step as cheap as the lesson's per-point loop at n = 50)."""
        return matrix_form_loss(self.params, self.closed_form_terms)

    def _per_point_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The lesson's loss: squared errors of every point, summed or averaged."""
        a, b = self.params.unbind()
        squared = (x.mul(a) + b - y).pow(2)
        return squared.sum() if self.config.reduction == "sum" else squared.mean()

    def _loss_function(self, batch: int | None) -> Callable[[], torch.Tensor]:
        """The loss for the next step (drawing the next mini-batch if batched)."""
        if batch is None:
            if self.config.loss_form == "closed":
                return self._closed_form_loss
            x, y = self._points()
            return lambda: self._per_point_loss(x, y)
        if self._batch_position >= self.problem.n:
            self.epoch += 1
            self._new_epoch_order()
        assert self._order is not None
        indices = self._order[self._batch_position : self._batch_position + batch]
        self._batch_position += batch
        xb, yb = self._point_pairs().index_select(0, indices).unbind(1)
        return lambda: self._per_point_loss(xb, yb)

    # ------------------------------------------------------------------ steps
    @property
    def steps_in_lockstep(self) -> bool:
        """Whether a race may compute this run's gradient together with
        others' (one backward pass): a full-batch closed-form loss and an
        optimizer that needs no closure, on a run still going, where the
        lockstep form is exact on this machine (``closed_form``)."""
        return (
            self.config.loss_form == "closed"
            and self.config.effective_batch_size(self.problem.n) is None
            and not self._needs_closure
            and self.status != "diverged"
            and lockstep_is_exact(self.params.dtype, self.config.device)
        )

    def step(self, count: int = 1) -> StepBatch:
        """Run ``count`` optimizer steps and return them.

        After a divergence no further steps run (an empty batch with status
        ``diverged`` comes back) until :meth:`reset`.
        """
        if self.status == "diverged":
            return StepBatch.empty(status="diverged", message=self.message)
        params, optimizer = self.params, self.optimizer
        batch_size = self.config.effective_batch_size(self.problem.n)
        closure_needed = self._needs_closure
        group = optimizer.param_groups[0]
        stepping = Stepping(self, count)
        loss_offset, update, record = (
            stepping.loss_offset,
            stepping.update,
            stepping.record,
        )
        for _ in range(count):
            lr_used = group["lr"]
            loss_fn = self._loss_function(batch_size)
            if closure_needed:

                def closure(loss_fn=loss_fn) -> torch.Tensor:
                    optimizer.zero_grad()
                    value = loss_fn()
                    value.backward()
                    return value

                batch_loss = float(optimizer.step(closure).detach()) + loss_offset
            else:
                # What optimizer.zero_grad() does (set_to_none), without its
                # profiler hooks: 9 µs a step, a sixth of a mini-batch step.
                params.grad = None
                value = loss_fn()
                value.backward()
                update(lr_used)
                batch_loss = value.item() + loss_offset
            if not record(lr_used, batch_loss):
                break
        return stepping.finish(count)

    # ----------------------------------------------------------- checkpoints
    def _checkpoint(self, row: dict[str, float] | None) -> Checkpoint:
        a, b = self.params.tolist()
        return Checkpoint(
            step=self.step_count,
            epoch=self.epoch,
            a=a,
            b=b,
            optimizer_state=_copied(self.optimizer.state_dict()),
            schedule_state=(
                None if self._schedule is None else self._schedule.state_dict()
            ),
            stream_state={
                "rng": self._stream_state,
                "position": self._batch_position,
            },
            config=self.config,
            status=self.status,
            row=row,
        )

    def _restore(self, checkpoint: Checkpoint) -> None:
        self.config = checkpoint.config
        self._set_parameters(checkpoint.a, checkpoint.b)
        self.params.grad = None
        # Copies: the optimizer updates its state tensors in place.
        self.optimizer.load_state_dict(_copied(checkpoint.optimizer_state))
        # torch casts loaded state to the parameters' dtype (NAdam keeps its
        # mu_product in float32): put back what was saved, bit for bit.
        saved = checkpoint.optimizer_state["state"]
        for index, param in enumerate(self.optimizer.param_groups[0]["params"]):
            for key, value in saved.get(index, {}).items():
                current = self.optimizer.state[param].get(key)
                if (
                    isinstance(value, torch.Tensor)
                    and current is not None
                    and current.dtype != value.dtype
                ):
                    self.optimizer.state[param][key] = value.clone()
        if self._schedule is not None:
            self._schedule.load_state_dict(_copied(checkpoint.schedule_state))
        self._shuffler.bit_generator.state = checkpoint.stream_state["rng"]
        self._new_epoch_order()
        self._batch_position = checkpoint.stream_state["position"]
        self.step_count = checkpoint.step
        self.epoch = checkpoint.epoch
        self._last_good = (checkpoint.a, checkpoint.b)
        self.status = checkpoint.status
        self.message = ""

    def rewind(self, step: int) -> None:
        """Go back to the exact state after ``step`` steps, as if the run had
        never gone further: parameters, optimizer and schedule state, the
        position in the mini-batch stream and the settings in effect. Changes
        of settings recorded after ``step`` are forgotten.

        Restores the nearest checkpoint and replays the steps (and settings
        changes) between it and ``step``: the same operations in the same
        order, so the state is bit for bit the one the run had there.
        """
        step = max(int(step), 0)
        if step >= self.step_count:
            return
        checkpoint = self.checkpoints.latest_at(step)
        assert checkpoint is not None  # step 0 is always held
        kept = [change for change in self.changes if change[0] <= step]
        self._restore(checkpoint)
        self.checkpoints.drop_after(checkpoint.step)
        self.changes = [c for c in kept if c[0] < checkpoint.step]
        for at, config in kept[len(self.changes) :]:
            if at > self.step_count:
                self.step(at - self.step_count)
            self.configure(config)
        if step > self.step_count:
            self.step(step - self.step_count)

    def _restore_last_good(self) -> None:
        """Put a and b back at the last finite step, so nothing non-finite shows."""
        self._set_parameters(*self._last_good)

    def _set_parameters(self, a: float, b: float) -> None:
        with torch.no_grad():
            self.params[0] = a
            self.params[1] = b

    def divergence_message(self, step: int, loss: float) -> str:
        """One sentence naming the step, the learning rate and the stable limit."""
        lr_max = self.problem.lr_max(self.config.reduction)
        what = (
            f"the loss reached {loss:.3g}"
            if math.isfinite(loss)
            else "the loss overflowed to infinity"
        )
        return (
            f"Diverged at step {step}: {what} with lr = {self.config.lr:g}; "
            f"full-batch descent is stable only for lr < lr_max = 2/λmax = "
            f"{lr_max:.4g}. Lower the learning rate and reset."
        )

    def twin(self) -> Trainer:
        """A trainer that can go back to any step of this run without
        touching this one: the same data, start, checkpoints and recorded
        changes (checkpoints are never changed in place, so both share them).
        ``twin().rewind(k)`` is this run's exact state after ``k`` steps."""
        first = self.checkpoints.latest_at(0)
        assert first is not None  # step 0 is always held
        twin = Trainer(self.data, first.config, self.start, problem=self.problem)
        twin._point_tensors = self._point_tensors
        twin._pair_tensor = self._pair_tensor
        twin.checkpoints = self.checkpoints.copy()
        twin.changes = list(self.changes)
        twin.step_count = self.step_count
        return twin

    @property
    def parameters(self) -> tuple[float, float]:
        """The current ``(a, b)`` as Python floats."""
        a, b = self.params.tolist()
        return a, b
