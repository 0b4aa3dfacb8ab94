"""The Explain options: residuals, equal aspect, the loss as a sum, the
surface's arrows and the narrated step.

A thin widget over ``core.display.DisplayOptions``: it shows the options it
is given and reports a change as ``changed({name: value})``; the window puts
it into the session, which the views follow.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QWidget

from sgd_viewer.core.display import DisplayOptions

#: The residual drawings offered, as (option value, label).
RESIDUAL_STYLES = (
    ("off", "off"),
    ("segments", "segments (point to line)"),
    ("squares", "squares (the squared errors)"),
)

#: The check boxes: option name, objectName, text, tooltip.
CHECKS = (
    (
        "equal_aspect",
        "equalAspectCheck",
        "Equal aspect on the data plot",
        "One unit of x as long as one of y, so the squares are squares in data "
        "units too (without it they are still drawn square on screen)",
    ),
    (
        "loss_equation",
        "lossEquationCheck",
        "The loss as a sum, with its numbers",
        "MSE = (1/n)(r₁² + r₂² + …) for the selected run, under the data plot",
    ),
    (
        "gradient_field",
        "gradientFieldCheck",
        "Gradient field on the surface",
        "−∇L on a grid: downhill everywhere (length grows with √|∇L|)",
    ),
    (
        "step_taken",
        "stepTakenCheck",
        "Step taken, per run",
        "Each visible run's last step as an arrow: momentum and Adam do not "
        "step along −∇L",
    ),
    (
        "momentum",
        "velocityCheck",
        "Momentum carried, per run",
        "What SGD + momentum and Nesterov runs carry into their next step: "
        "μ × the step taken (dashed); with the −η∇L arrow it makes the next step",
    ),
    (
        "explain",
        "explainCheck",
        "Explain each step (Step narrates it)",
        "Step plays one update in stages: the gradient, the optimizer's "
        "transform, the scaled step, the move; each with one sentence",
    ),
)


class ExplainBox(QGroupBox):
    """Signals: ``changed(dict)``, the options changed by the user."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Explain", parent)
        form = QFormLayout(self)
        self.residual_combo = QComboBox()
        self.residual_combo.setObjectName("residualStyleCombo")
        self.residual_combo.setAccessibleName("residualStyleCombo")
        self.residual_combo.setToolTip(
            "Draw each point's residual: a segment to the line, or its square "
            "(the loss is the mean of the squares' areas)"
        )
        for data, label in RESIDUAL_STYLES:
            self.residual_combo.addItem(label, data)
        form.addRow("Residuals", self.residual_combo)
        self.residual_combo.currentIndexChanged.connect(
            lambda _: self.changed.emit(
                {"residuals": self.residual_combo.currentData()}
            )
        )
        self.checks: dict[str, QCheckBox] = {}
        for option, name, text, tip in CHECKS:
            check = QCheckBox(text)
            check.setObjectName(name)
            check.setAccessibleName(name)
            check.setToolTip(tip)
            check.toggled.connect(
                lambda on, option=option: self.changed.emit({option: bool(on)})
            )
            form.addRow(check)
            self.checks[option] = check

    def show_options(self, display: DisplayOptions) -> None:
        """Show ``display`` without reporting it back."""
        self.blockSignals(True)
        try:
            for widget in (self.residual_combo, *self.checks.values()):
                widget.blockSignals(True)
            self.residual_combo.setCurrentIndex(
                self.residual_combo.findData(display.residuals)
            )
            for option, check in self.checks.items():
                check.setChecked(getattr(display, option))
        finally:
            for widget in (self.residual_combo, *self.checks.values()):
                widget.blockSignals(False)
            self.blockSignals(False)

    # Conveniences for tests and scripts: act as the user would.
    def set_residual_style(self, style: str) -> None:
        self.residual_combo.setCurrentIndex(self.residual_combo.findData(style))

    @property
    def equation_check(self) -> QCheckBox:
        return self.checks["loss_equation"]

    @property
    def equal_aspect_check(self) -> QCheckBox:
        return self.checks["equal_aspect"]
