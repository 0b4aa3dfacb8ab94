"""Registry of the ``torch.optim`` optimizers the app offers, with their knobs.

Each entry describes its hyperparameters (name, default, range, log scale) so the
GUI can build controls and the CLI can validate ``--opt KEY=VALUE`` from one
source. The registry itself never imports torch: the window builds its controls
before torch has loaded; :meth:`OptimizerSpec.build` imports it on first use.

No Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HyperParameter:
    """One numeric knob of an optimizer, as the user sees it."""

    name: str
    label: str
    default: float
    minimum: float
    maximum: float
    log_scale: bool = False
    integer: bool = False
    help: str = ""
    #: Changing it mid-run starts the run again (torch sizes state by it).
    restarts: bool = False

    def validate(self, value: float) -> float:
        """``value`` as a float (or int) inside the range, else ``ValueError``."""
        number = float(value)
        if not math.isfinite(number) or not self.minimum <= number <= self.maximum:
            raise ValueError(
                f"{self.name} must be between {self.minimum:g} and {self.maximum:g}, "
                f"got {value!r}"
            )
        if self.integer:
            if number != int(number):
                raise ValueError(f"{self.name} must be a whole number, got {value!r}")
            return int(number)
        return number


def _beta(name: str, default: float, what: str) -> HyperParameter:
    return HyperParameter(
        name, name.replace("beta", "β"), default, 0.0, 0.9999, help=what
    )


_BETA1 = _beta("beta1", 0.9, "decay of the running mean of gradients (momentum)")
_BETA2 = _beta("beta2", 0.999, "decay of the running mean of squared gradients")
_EPS = HyperParameter(
    "eps", "ε", 1e-8, 1e-12, 1.0, log_scale=True, help="added to the denominator"
)
_MOMENTUM = HyperParameter(
    "momentum", "momentum", 0.9, 0.0, 0.999, help="fraction of the last step kept"
)
# torch's Nesterov needs some momentum: at 0 the look-ahead is undefined.
_NESTEROV_MOMENTUM = HyperParameter(
    "momentum", "momentum", 0.9, 0.01, 0.999, help="fraction of the last step kept"
)
_WEIGHT_DECAY = HyperParameter(
    "weight_decay", "weight decay", 0.0, 0.0, 1.0, help="L2 pull of a and b toward 0"
)

# Hyperparameters that torch groups into one tuple.
_TUPLES = {"betas": ("beta1", "beta2")}


@dataclass(frozen=True)
class OptimizerSpec:
    """How to build one ``torch.optim`` optimizer and what its knobs are.

    ``scales_with_gradient`` is true when a step is proportional to the gradient
    (SGD and its momentum variants): such optimizers diverge above the stable
    learning rate, while adaptive ones (Adam, Adagrad …) normalise the gradient
    away and stay bounded at any learning rate.
    """

    name: str
    label: str
    torch_class: str
    suggested_lr: float
    hyperparameters: tuple[HyperParameter, ...] = ()
    fixed: Mapping[str, Any] = field(default_factory=dict)
    scales_with_gradient: bool = False
    needs_closure: bool = False
    description: str = ""

    def defaults(self) -> dict[str, float]:
        """The default value of every hyperparameter, by name."""
        return {h.name: h.default for h in self.hyperparameters}

    def hyperparameter(self, name: str) -> HyperParameter:
        for hyper in self.hyperparameters:
            if hyper.name == name:
                return hyper
        known = ", ".join(h.name for h in self.hyperparameters) or "none"
        raise KeyError(f"{self.label} has no hyperparameter {name!r} (it has: {known})")

    def resolve(self, values: Mapping[str, float] | None = None) -> dict[str, float]:
        """Defaults overlaid with validated ``values``; unknown names raise."""
        resolved = self.defaults()
        for name, value in (values or {}).items():
            resolved[name] = self.hyperparameter(name).validate(value)
        return resolved

    def torch_kwargs(self, values: Mapping[str, float]) -> dict[str, Any]:
        """Keyword arguments for the torch class (``beta1``/``beta2`` → ``betas``)."""
        kwargs: dict[str, Any] = dict(self.fixed)
        flat = dict(values)
        for group_key, members in _TUPLES.items():
            if all(m in flat for m in members):
                kwargs[group_key] = tuple(flat.pop(m) for m in members)
        kwargs.update(flat)
        return kwargs

    def build(self, params, lr: float, values: Mapping[str, float] | None = None):
        """A new ``torch.optim`` optimizer over ``params``."""
        import torch.optim  # deferred: the GUI reads the registry before torch loads

        cls = getattr(torch.optim, self.torch_class)
        kwargs = self.torch_kwargs(self.resolve(values))
        if self.torch_class != "LBFGS":
            # One code path on every machine: the per-tensor loop is the fastest
            # for two scalar parameters and never switches kernels mid-run.
            kwargs["foreach"] = False
        return cls(params, lr=lr, **kwargs)


def _spec(name, label, torch_class, lr, hypers=(), **extra) -> OptimizerSpec:
    return OptimizerSpec(name, label, torch_class, lr, tuple(hypers), **extra)


OPTIMIZERS: dict[str, OptimizerSpec] = {
    s.name: s
    for s in (
        _spec(
            "sgd",
            "SGD",
            "SGD",
            0.01,
            [_WEIGHT_DECAY],
            scales_with_gradient=True,
            description="plain gradient descent: step = −lr·∇L",
        ),
        _spec(
            "momentum",
            "SGD + momentum",
            "SGD",
            0.01,
            [_MOMENTUM, _WEIGHT_DECAY],
            scales_with_gradient=True,
            description="heavy ball: keeps a fraction of the previous step",
        ),
        _spec(
            "nesterov",
            "Nesterov",
            "SGD",
            0.01,
            [_NESTEROV_MOMENTUM, _WEIGHT_DECAY],
            fixed={"nesterov": True},
            scales_with_gradient=True,
            description="momentum with the gradient looked up ahead",
        ),
        _spec(
            "adagrad",
            "Adagrad",
            "Adagrad",
            0.5,
            [
                HyperParameter(
                    "lr_decay", "lr decay", 0.0, 0.0, 1.0, help="lr /= 1 + step·decay"
                ),
                HyperParameter("eps", "ε", 1e-10, 1e-12, 1.0, log_scale=True),
            ],
            description="divides by the root of all squared gradients so far",
        ),
        _spec(
            "rmsprop",
            "RMSprop",
            "RMSprop",
            0.01,
            [
                HyperParameter(
                    "alpha", "α", 0.99, 0.0, 0.9999, help="decay of squared gradients"
                ),
                HyperParameter("momentum", "momentum", 0.0, 0.0, 0.999),
                _EPS,
            ],
            description="divides by a running root-mean-square of gradients",
        ),
        _spec(
            "adadelta",
            "Adadelta",
            "Adadelta",
            1.0,
            [
                HyperParameter("rho", "ρ", 0.9, 0.0, 0.9999, help="running-mean decay"),
                HyperParameter("eps", "ε", 1e-6, 1e-12, 1.0, log_scale=True),
            ],
            description="unit-corrected RMSprop; lr 1 is its natural setting",
        ),
        _spec(
            "adam",
            "Adam",
            "Adam",
            0.05,
            [_BETA1, _BETA2, _EPS],
            description="momentum and RMSprop with bias correction",
        ),
        _spec(
            "adamw",
            "AdamW",
            "AdamW",
            0.05,
            [_BETA1, _BETA2, _EPS, _WEIGHT_DECAY],
            description="Adam with decoupled weight decay",
        ),
        _spec(
            "adamax",
            "Adamax",
            "Adamax",
            0.05,
            [_BETA1, _BETA2, _EPS],
            description="Adam with an infinity-norm denominator",
        ),
        _spec(
            "nadam",
            "NAdam",
            "NAdam",
            0.05,
            [_BETA1, _BETA2, _EPS],
            description="Adam with Nesterov momentum",
        ),
        _spec(
            "radam",
            "RAdam",
            "RAdam",
            0.05,
            [_BETA1, _BETA2, _EPS],
            # Its first steps (until the variance estimate is trusted) are plain
            # momentum steps of size lr·m̂: those blow up above the stable lr.
            scales_with_gradient=True,
            description="Adam with a warm-up that rectifies early variance",
        ),
        _spec(
            "lbfgs",
            "L-BFGS",
            "LBFGS",
            0.5,
            [
                HyperParameter(
                    "history_size",
                    "history",
                    10,
                    1,
                    100,
                    integer=True,
                    help="how many past steps estimate the curvature",
                    restarts=True,
                ),
                HyperParameter(
                    "max_iter",
                    "inner iterations",
                    1,
                    1,
                    50,
                    integer=True,
                    help="quasi-Newton iterations per step",
                ),
            ],
            needs_closure=True,
            description="quasi-Newton: learns the curvature from past gradients",
        ),
    )
}


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry for ``name`` (case-insensitive), else ``KeyError``."""
    spec = OPTIMIZERS.get(name.lower())
    if spec is None:
        raise KeyError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}"
        )
    return spec
