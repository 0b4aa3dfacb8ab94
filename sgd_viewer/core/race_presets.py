"""Run ▸ Race optimizers: one run per optimizer family at a learning rate that
makes sense for *these* data and this start.

Learning rates come from the data, not from a table: the methods whose step
is proportional to the gradient get a fraction of the stable bound
``lr_max = 2/λmax``; the adaptive ones, whose steps are about ``lr`` long
whatever the gradient, get a fraction of the distance from the start to the
optimum. Each label says which.

numpy/stdlib only; no torch, no Qt.
"""

from __future__ import annotations

import math

from sgd_viewer.core.problem import Problem

#: (optimizer, how its lr is found, factor, extra spec keys)
_FAMILIES = (
    ("sgd", "lr_max", 0.5, ""),
    ("momentum", "lr_max", 0.1, ",momentum=0.9"),
    ("nesterov", "lr_max", 0.1, ",momentum=0.9"),
    ("adagrad", "distance", 0.2, ""),
    ("rmsprop", "distance", 0.005, ""),
    ("adam", "distance", 0.01, ""),
    ("nadam", "distance", 0.01, ""),
    ("lbfgs", "fixed", 1.0, ""),
)


def race_specs(
    problem: Problem, start: tuple[float, float], reduction: str
) -> list[str]:
    """Eight run specs, one per optimizer family, labelled with their lr's origin."""
    lr_max = problem.lr_max(reduction)
    distance = math.hypot(start[0] - problem.a_opt, start[1] - problem.b_opt)
    distance = max(distance, 1e-6)
    specs = []
    for name, basis, factor, extra in _FAMILIES:
        if basis == "lr_max":
            lr = factor * lr_max
            why = f"{factor:g}·lr_max"
        elif basis == "distance":
            lr = factor * distance
            why = f"{factor:g}·distance to optimum"
        else:
            lr = factor
            why = "quasi-Newton"
        lr = float(f"{min(max(lr, 1e-9), 1e3):.3g}")
        specs.append(f"{name}:lr={lr!r}{extra},label={name} lr={lr:g} ({why})")
    return specs
