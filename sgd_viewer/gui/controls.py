"""The control panel: run controls, optimizer settings, data settings.

Owns the widgets a user acts on and turns their edits into intents (signals).
Optimizer knobs are built from the registry in ``core.optimizers``, so a new
optimizer there needs no code here. Knows nothing of the worker or the views.
Every widget has a stable objectName (DESIGN.md §9).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.optimizers import OPTIMIZERS, HyperParameter, get_optimizer
from sgd_viewer.gui.scaling_box import ScalingBox
from sgd_viewer.gui.schedule_box import ScheduleBox

LR_MIN, LR_MAX = 1e-6, 10.0
#: The learning-rate slider moves in steps of 1/100 decade.
_SLIDER_STEPS_PER_DECADE = 100


def _named(widget: QWidget, name: str, tip: str = "") -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(name)
    if tip:
        widget.setToolTip(tip)
    return widget


class ScientificSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades: shows ``%g``, steps ×10^(1/4).

    Qt's fixed decimals would show 1e-6 as 0.000001 and step it linearly.
    """

    def __init__(self, minimum: float, maximum: float, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator

        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            if stripped in ("", "-", "+", ".") or stripped.lower().endswith(
                ("e", "e-")
            ):
                return QValidator.State.Intermediate, text, pos
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value() * 10 ** (steps / 4)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


class ControlPanel(QWidget):
    """All controls of the window, grouped; emits what the user asked for.

    Signals
    -------
    step_requested(int)
        Run this many steps.
    run_toggled(bool)
        Run (True) or pause (False).
    reset_requested()
        Back to the start.
    speed_changed(float)
        Steps per second; 0 for as fast as possible.
    config_changed(object)
        A new :class:`TrainingConfig` from the optimizer settings.
    generate_requested(dict)
        New generated data with keys n, a, b, noise, seed.
    dataset_requested(str)
        A bundled dataset by name.
    open_csv_requested()
        The user wants to pick a CSV file.
    """

    step_requested = Signal(int)
    run_toggled = Signal(bool)
    reset_requested = Signal()
    speed_changed = Signal(float)
    config_changed = Signal(object)
    generate_requested = Signal(dict)
    dataset_requested = Signal(str)
    open_csv_requested = Signal()

    def __init__(self, dataset_names: list[str], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("controlPanel")
        self._hyper_widgets: dict[str, QDoubleSpinBox | QSpinBox] = {}
        self._base_config = TrainingConfig()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._build_run_group())
        layout.addWidget(self._build_optimizer_group())
        layout.addWidget(self._build_data_group(dataset_names))
        layout.addStretch(1)

    # ------------------------------------------------------------ building
    def _build_run_group(self) -> QGroupBox:
        group = QGroupBox("Run")
        grid = QVBoxLayout(group)
        row = QHBoxLayout()
        self.step_button = _named(
            QPushButton("Step"),
            "stepButton",
            "Take the number of steps beside (→ or S)",
        )
        self.step_count_spin = _named(
            QSpinBox(), "stepCountSpin", "How many steps one press of Step takes"
        )
        self.step_count_spin.setRange(1, 1_000_000)
        self.step_count_spin.setValue(1)
        self.run_button = _named(
            QPushButton("Run"), "runButton", "Run or pause gradient descent (Space)"
        )
        self.run_button.setCheckable(True)
        self.reset_button = _named(
            QPushButton("Reset"), "resetButton", "Back to the start, path cleared (R)"
        )
        for widget in (self.step_button, self.step_count_spin, self.run_button):
            row.addWidget(widget)
        row.addWidget(self.reset_button)
        grid.addLayout(row)
        speed_row = QHBoxLayout()
        speed_row.addWidget(QLabel("Steps per second"))
        self.speed_spin = _named(
            QSpinBox(),
            "stepsPerSecondSpin",
            "Pace of Run; 'max' runs as fast as the engine goes. The lesson's "
            "animation ran 300 steps/s (30 per frame, 10 frames/s).",
        )
        self.speed_spin.setRange(0, 100_000)
        self.speed_spin.setSpecialValueText("max")
        self.speed_spin.setValue(300)
        speed_row.addWidget(self.speed_spin, 1)
        grid.addLayout(speed_row)
        self.step_button.clicked.connect(
            lambda: self.step_requested.emit(self.step_count_spin.value())
        )
        self.run_button.toggled.connect(self._on_run_toggled)
        self.reset_button.clicked.connect(self.reset_requested)
        self.speed_spin.valueChanged.connect(
            lambda value: self.speed_changed.emit(float(value))
        )
        return group

    def _build_optimizer_group(self) -> QGroupBox:
        group = QGroupBox("Optimizer")
        form = QFormLayout(group)
        self.optimizer_combo = _named(
            QComboBox(), "optimizerCombo", "A new optimizer starts the run again"
        )
        for spec in OPTIMIZERS.values():
            self.optimizer_combo.addItem(spec.label, spec.name)
            index = self.optimizer_combo.count() - 1
            self.optimizer_combo.setItemData(
                index, spec.description, Qt.ItemDataRole.ToolTipRole
            )
        form.addRow("Method", self.optimizer_combo)
        lr_row = QHBoxLayout()
        self.lr_slider = _named(
            QSlider(Qt.Orientation.Horizontal),
            "lrSlider",
            "Learning rate on a log scale; applies mid-run",
        )
        self.lr_slider.setRange(
            round(math.log10(LR_MIN) * _SLIDER_STEPS_PER_DECADE),
            round(math.log10(LR_MAX) * _SLIDER_STEPS_PER_DECADE),
        )
        self.lr_spin = _named(
            ScientificSpinBox(LR_MIN, LR_MAX),
            "lrSpin",
            "Learning rate (1e-6 … 10); applies mid-run",
        )
        lr_row.addWidget(self.lr_slider, 1)
        lr_row.addWidget(self.lr_spin)
        form.addRow("Learning rate", lr_row)
        self._hyper_form = QFormLayout()
        form.addRow(self._hyper_form)
        self.batch_spin = _named(
            QSpinBox(),
            "batchSizeSpin",
            "Points per step: 'full' uses every point (gradient descent); "
            "fewer makes it stochastic",
        )
        self.batch_spin.setRange(0, 50)
        self.batch_spin.setSpecialValueText("full")
        form.addRow("Batch size", self.batch_spin)
        self.loss_combo = _named(
            QComboBox(), "lossReductionCombo", "Mean or sum of squared errors"
        )
        self.loss_combo.addItem("mean squared error", "mean")
        self.loss_combo.addItem("sum of squared errors", "sum")
        form.addRow("Loss", self.loss_combo)
        self.schedule_box = ScheduleBox()
        form.addRow(self.schedule_box)
        self.schedule_box.changed.connect(self._emit_config)
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer_changed)
        self.lr_slider.valueChanged.connect(self._on_lr_slider)
        self.lr_spin.valueChanged.connect(self._on_lr_spin)
        self.batch_spin.valueChanged.connect(self._emit_config)
        self.loss_combo.currentIndexChanged.connect(self._emit_config)
        return group

    def _build_data_group(self, dataset_names: list[str]) -> QGroupBox:
        group = QGroupBox("Data")
        form = QFormLayout(group)
        self.dataset_combo = _named(
            QComboBox(), "datasetCombo", "Generated points or a bundled dataset"
        )
        self.dataset_combo.addItem("generated", "")
        for name in dataset_names:
            self.dataset_combo.addItem(name, name)
        form.addRow("Dataset", self.dataset_combo)
        self.n_spin = _named(QSpinBox(), "nSpin", "Number of generated points")
        self.n_spin.setRange(2, 10_000_000)
        self.true_a_spin = _named(QDoubleSpinBox(), "trueASpin", "True slope")
        self.true_b_spin = _named(QDoubleSpinBox(), "trueBSpin", "True intercept")
        for spin in (self.true_a_spin, self.true_b_spin):
            spin.setRange(-1e6, 1e6)
            spin.setDecimals(3)
        self.noise_spin = _named(QDoubleSpinBox(), "noiseSpin", "Noise σ of y")
        self.noise_spin.setRange(0.0, 1e6)
        self.noise_spin.setDecimals(3)
        self.noise_spin.setSingleStep(0.1)
        self.seed_spin = _named(QSpinBox(), "seedSpin", "Seed: same seed, same data")
        self.seed_spin.setRange(0, 2**31 - 1)
        form.addRow("Points n", self.n_spin)
        form.addRow("True a", self.true_a_spin)
        form.addRow("True b", self.true_b_spin)
        form.addRow("Noise σ", self.noise_spin)
        form.addRow("Seed", self.seed_spin)
        self.scaling_box = ScalingBox()
        form.addRow("Scale", self.scaling_box)
        buttons = QHBoxLayout()
        self.regenerate_button = _named(
            QPushButton("Regenerate"), "regenerateButton", "Draw new points (G)"
        )
        self.open_button = _named(
            QPushButton("Open CSV…"), "openCsvButton", "Fit your own data (Ctrl+O)"
        )
        buttons.addWidget(self.regenerate_button)
        buttons.addWidget(self.open_button)
        form.addRow(buttons)
        self.regenerate_button.clicked.connect(self._on_regenerate)
        self.open_button.clicked.connect(self.open_csv_requested)
        self.dataset_combo.activated.connect(self._on_dataset_chosen)
        return group

    # ------------------------------------------------------------- state in
    def set_config(self, config: TrainingConfig) -> None:
        """Show ``config`` without emitting anything."""
        self._base_config = config
        with _SignalsBlocked(self._config_widgets()):
            index = self.optimizer_combo.findData(config.optimizer)
            self.optimizer_combo.setCurrentIndex(index)
            self._rebuild_hyper_widgets(config)
            self._show_lr(config.lr)
            self.batch_spin.setValue(config.batch_size or 0)
            self.loss_combo.setCurrentIndex(self.loss_combo.findData(config.reduction))
            self.schedule_box.set_values(config.schedule, config.schedule_options)

    def set_generator_values(self, n: int, a: float, b: float, noise: float, seed: int):
        for spin, value in (
            (self.n_spin, n),
            (self.true_a_spin, a),
            (self.true_b_spin, b),
            (self.noise_spin, noise),
            (self.seed_spin, seed),
        ):
            spin.setValue(value)

    def set_data_size(self, n: int, dataset_name: str = "") -> None:
        """Limit the batch size to ``n`` and show which dataset is loaded."""
        with _SignalsBlocked([self.batch_spin, self.dataset_combo]):
            self.batch_spin.setMaximum(n)
            index = self.dataset_combo.findData(dataset_name)
            if index < 0:
                label = f"file: {dataset_name}"
                self._drop_file_entries()
                self.dataset_combo.addItem(label, dataset_name)
                index = self.dataset_combo.count() - 1
            self.dataset_combo.setCurrentIndex(index)

    def _drop_file_entries(self) -> None:
        for index in reversed(range(self.dataset_combo.count())):
            if self.dataset_combo.itemText(index).startswith("file: "):
                self.dataset_combo.removeItem(index)

    def set_running(self, running: bool) -> None:
        """Reflect the worker's run state on the Run/Pause toggle."""
        with _SignalsBlocked([self.run_button]):
            self.run_button.setChecked(running)
            self.run_button.setText("Pause" if running else "Run")

    def set_ready(self, ready: bool) -> None:
        """Step and Run work only once the engine has loaded."""
        for widget in (self.step_button, self.run_button):
            widget.setEnabled(ready)

    # ------------------------------------------------------------ state out
    def config(self) -> TrainingConfig:
        """The configuration the widgets show."""
        values = {name: w.value() for name, w in self._hyper_widgets.items()}
        schedule, options = self.schedule_box.values()
        return self._base_config.with_changes(
            optimizer=self.optimizer_combo.currentData(),
            lr=self.lr_spin.value(),
            hyperparameters=values,
            batch_size=self.batch_spin.value() or None,
            reduction=self.loss_combo.currentData(),
            schedule=schedule,
            schedule_options=options,
        )

    def generator_values(self) -> dict:
        return {
            "n": self.n_spin.value(),
            "a": self.true_a_spin.value(),
            "b": self.true_b_spin.value(),
            "noise": self.noise_spin.value(),
            "seed": self.seed_spin.value(),
        }

    # -------------------------------------------------------------- reacting
    def _config_widgets(self) -> list[QWidget]:
        """The long-lived config widgets (knob widgets are rebuilt silently)."""
        return [
            self.optimizer_combo,
            self.lr_slider,
            self.lr_spin,
            self.batch_spin,
            self.loss_combo,
        ]

    def _emit_config(self, *_args) -> None:
        self.config_changed.emit(self.config())

    def _on_run_toggled(self, checked: bool) -> None:
        self.run_button.setText("Pause" if checked else "Run")
        self.run_toggled.emit(checked)

    def _on_optimizer_changed(self, _index: int) -> None:
        spec = get_optimizer(self.optimizer_combo.currentData())
        # The old optimizer's knob widgets don't apply: start from its defaults.
        fresh = self._base_config.with_changes(
            optimizer=spec.name,
            lr=spec.suggested_lr,
            hyperparameters={},
            batch_size=self.batch_spin.value() or None,
            reduction=self.loss_combo.currentData(),
        )
        self._rebuild_hyper_widgets(fresh)
        self._show_lr(fresh.lr)
        self._emit_config()

    def _show_lr(self, lr: float) -> None:
        with _SignalsBlocked([self.lr_slider, self.lr_spin]):
            self.lr_spin.setValue(lr)
            self.lr_slider.setValue(
                round(
                    math.log10(min(max(lr, LR_MIN), LR_MAX)) * _SLIDER_STEPS_PER_DECADE
                )
            )

    def _on_lr_slider(self, position: int) -> None:
        lr = float(f"{10 ** (position / _SLIDER_STEPS_PER_DECADE):.3g}")
        with _SignalsBlocked([self.lr_spin]):
            self.lr_spin.setValue(lr)
        self._emit_config()

    def _on_lr_spin(self, lr: float) -> None:
        with _SignalsBlocked([self.lr_slider]):
            self.lr_slider.setValue(round(math.log10(lr) * _SLIDER_STEPS_PER_DECADE))
        self._emit_config()

    def _rebuild_hyper_widgets(self, config: TrainingConfig) -> None:
        """Knob widgets for ``config``'s optimizer; they emit only on user edits
        (each is connected after its value is set)."""
        while self._hyper_form.rowCount():
            self._hyper_form.removeRow(0)
        self._hyper_widgets = {}
        spec = get_optimizer(config.optimizer)
        for hyper in spec.hyperparameters:
            widget = self._hyper_widget(hyper, config.hyperparameters[hyper.name])
            self._hyper_widgets[hyper.name] = widget
            self._hyper_form.addRow(hyper.label, widget)

    def _hyper_widget(self, hyper: HyperParameter, value: float) -> QWidget:
        tip = f"{hyper.help} ({hyper.minimum:g} … {hyper.maximum:g}); applies mid-run"
        if hyper.integer:
            widget = QSpinBox()
            widget.setRange(int(hyper.minimum), int(hyper.maximum))
        elif hyper.log_scale:
            widget = ScientificSpinBox(hyper.minimum, hyper.maximum)
        else:
            widget = QDoubleSpinBox()
            widget.setDecimals(4)
            widget.setSingleStep(0.01)
            widget.setRange(hyper.minimum, hyper.maximum)
            widget.setKeyboardTracking(False)
        widget.setValue(value)
        _named(widget, f"{hyper.name}Spin", tip)
        widget.valueChanged.connect(self._emit_config)
        return widget

    def _on_regenerate(self) -> None:
        self.generate_requested.emit(self.generator_values())

    def _on_dataset_chosen(self, index: int) -> None:
        name = self.dataset_combo.itemData(index)
        if name == "":
            self._on_regenerate()
        elif not self.dataset_combo.itemText(index).startswith("file: "):
            self.dataset_requested.emit(name)


class _SignalsBlocked:
    """Block the signals of several widgets for the length of a ``with``."""

    def __init__(self, widgets) -> None:
        self._widgets = list(widgets)

    def __enter__(self) -> None:
        self._previous = [w.blockSignals(True) for w in self._widgets]

    def __exit__(self, *exc) -> None:
        for widget, previous in zip(self._widgets, self._previous, strict=True):
            widget.blockSignals(previous)
