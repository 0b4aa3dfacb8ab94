"""The Stability tab: the selected run's stability map, kept in step with the
session, with the run's (lr, knob) marked and a click setting them.

SGD, momentum and Nesterov get the analytic (lr, momentum) rate map; Adam,
RMSprop and Adagrad the empirical one (steps to converge, run batched); other
optimizers are named as not covered. A map is computed only while the tab is
shown and only when what it depends on changed (the data, the reduction, the
optimizer or its other knobs); moving the marker costs nothing.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.stability import (
    ANALYTIC_OPTIMIZERS,
    DEFAULT_KNOBS,
    EMPIRICAL_OPTIMIZERS,
    analytic_map,
    optimizer_lr_range,
)

#: Cells a side of the empirical map in the window (0.1 s here for Adam).
EMPIRICAL_SIZE = 48


def _map_kind(optimizer: str) -> str | None:
    if optimizer == "sgd" or optimizer in ANALYTIC_OPTIMIZERS:
        return "analytic"
    if optimizer in EMPIRICAL_OPTIMIZERS:
        return "empirical"
    return None


class StabilityPanel(QObject):
    """Feeds ``window.stability_view`` from ``window.session``."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self._tab = window.stability_tab
        self._key: tuple | None = None
        self._marker: tuple[float, float] | None = None
        self._tab.built.connect(lambda view: view.picked.connect(self._picked))
        window.session.subscribe(self._on_session)
        # Shown (its tab chosen, or the window shown on it): draw it then.
        self._tab.installEventFilter(self)

    @property
    def view(self):
        """The Stability tab's view (built when the tab is first shown)."""
        return self._tab.view()

    def eventFilter(self, watched, event) -> bool:
        if watched is self._tab and event.type() == QEvent.Type.Show:
            self.refresh()
        return False

    def _on_session(self, what: str) -> None:
        if what in ("data", "runs", "selection"):
            self.refresh()

    def _knob_name(self, config: TrainingConfig) -> str | None:
        if _map_kind(config.optimizer) == "analytic":
            return "momentum"
        return DEFAULT_KNOBS.get(config.optimizer)

    def _knob_value(self, config: TrainingConfig) -> float:
        name = self._knob_name(config)
        if name is None:
            return math.nan
        return float(config.hyperparameters.get(name, 0.0))  # plain SGD: μ = 0

    def refresh(self) -> None:
        """Bring the map and the marker up to date (nothing while hidden)."""
        if not self._tab.isVisible():
            return
        session = self._window.session
        config = session.run.config
        knob = self._knob_name(config)
        others = tuple(
            sorted((k, v) for k, v in config.hyperparameters.items() if k != knob)
        )
        key = (id(session.problem), config.reduction, config.optimizer, others)
        if key != self._key:
            self._key = key
            self._marker = None
            self._show_map(config)
        marker = (config.lr, self._knob_value(config))
        if marker != self._marker and _map_kind(config.optimizer):
            self._marker = marker
            self.view.set_marker(*marker)

    def _show_map(self, config: TrainingConfig) -> None:
        session = self._window.session
        kind = _map_kind(config.optimizer)
        problem, reduction = session.problem, config.reduction
        if kind == "analytic":
            optimizer = "momentum" if config.optimizer == "sgd" else config.optimizer
            result = analytic_map(
                problem,
                reduction,
                optimizer=optimizer,
                weight_decay=float(config.hyperparameters.get("weight_decay", 0.0)),
            )
        elif kind == "empirical":
            from sgd_viewer.core.stability_empirical import empirical_map

            lrs = optimizer_lr_range(
                problem, config.optimizer, reduction, EMPIRICAL_SIZE
            )
            knob = DEFAULT_KNOBS.get(config.optimizer)
            result = empirical_map(
                problem,
                config.optimizer,
                lrs,
                knob="default" if knob else None,
                hyperparameters=dict(config.hyperparameters),
                reduction=reduction,
                start=session.start,
            )
        else:
            self.view.show_message(
                "The stability map covers SGD, momentum, Nesterov, Adam, "
                "RMSprop and Adagrad: pick one of them"
            )
            return
        self.view.set_map(result)

    def _picked(self, lr: float, knob: float) -> None:
        """A click on the map: the selected run takes that lr (and knob)."""
        window = self._window
        config = window.session.run.config
        name = self._knob_name(config)
        try:
            if config.optimizer == "sgd" and knob > 0:
                # Momentum above 0 is the heavy ball: SGD + momentum.
                config = config.with_changes(
                    optimizer="momentum", hyperparameters={"momentum": knob}
                )
            elif name is not None and not math.isnan(knob):
                knobs = dict(config.hyperparameters) | {name: knob}
                config = config.with_changes(hyperparameters=knobs)
            config = config.with_changes(lr=lr)
        except ValueError as error:
            window.show_error("Cannot use this point", str(error))
            return
        window.controls.set_config(config)
        window.apply_config(config)
        self.refresh()
