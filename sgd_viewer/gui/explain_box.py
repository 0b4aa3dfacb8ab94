"""The Explain options: how residuals are drawn, equal aspect, the loss
written as a sum.

A thin widget: it reports choices through signals and knows nothing of the
views it changes (the window wires them).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QWidget

#: The residual drawings offered, as (data, label).
RESIDUAL_STYLES = (
    ("off", "off"),
    ("segments", "segments (point to line)"),
    ("squares", "squares (the squared errors)"),
)


def _named(widget, name: str, tip: str):
    widget.setObjectName(name)
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    return widget


class ExplainBox(QGroupBox):
    """Signals: ``residual_style_changed(str)`` (``off``, ``segments``,
    ``squares``), ``equal_aspect_toggled(bool)``, ``equation_toggled(bool)``."""

    residual_style_changed = Signal(str)
    equal_aspect_toggled = Signal(bool)
    equation_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Explain", parent)
        form = QFormLayout(self)
        self.residual_combo = _named(
            QComboBox(),
            "residualStyleCombo",
            "Draw each point's residual: a segment to the line, or its square "
            "(the loss is the mean of the squares' areas)",
        )
        for data, label in RESIDUAL_STYLES:
            self.residual_combo.addItem(label, data)
        form.addRow("Residuals", self.residual_combo)
        self.equal_aspect_check = _named(
            QCheckBox("Equal aspect (squares in data units)"),
            "equalAspectCheck",
            "One unit of x as long as one unit of y on the data plot; without "
            "it the squares are still drawn square on screen",
        )
        form.addRow(self.equal_aspect_check)
        self.equation_check = _named(
            QCheckBox("The loss as a sum, with its numbers"),
            "lossEquationCheck",
            "MSE = (1/n)(r₁² + r₂² + …) for the selected run, under the data plot",
        )
        form.addRow(self.equation_check)
        self.residual_combo.currentIndexChanged.connect(
            lambda _: self.residual_style_changed.emit(self.residual_style)
        )
        self.equal_aspect_check.toggled.connect(self.equal_aspect_toggled)
        self.equation_check.toggled.connect(self.equation_toggled)

    @property
    def residual_style(self) -> str:
        return self.residual_combo.currentData()

    def set_residual_style(self, style: str) -> None:
        self.residual_combo.setCurrentIndex(self.residual_combo.findData(style))
