"""Feature scaling in the Data controls: fit x as it is, centred or
standardized, and y as it is or standardized (``core.scaling``)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QWidget

X_CHOICES = (
    ("as is", "none"),
    ("centred", "center"),
    ("standardized", "standardize"),
)


class ScalingBox(QWidget):
    """``changed(x_mode, y_mode)`` when the user picks another scaling."""

    changed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.x_combo = QComboBox()
        self.x_combo.setObjectName("scaleXCombo")
        self.x_combo.setToolTip(
            "Fit x as it is, centred (x − mean) or standardized ((x − mean)/std): "
            "standardizing makes the loss surface round"
        )
        for text, mode in X_CHOICES:
            self.x_combo.addItem(f"x {text}", mode)
        self.y_check = QCheckBox("standardize y")
        self.y_check.setObjectName("standardizeYCheck")
        self.y_check.setToolTip(
            "Fit (y − mean)/std; a and b are also given in y's units"
        )
        layout.addWidget(self.x_combo, 1)
        layout.addWidget(self.y_check)
        self.x_combo.activated.connect(self._emit)
        self.y_check.clicked.connect(self._emit)

    def modes(self) -> tuple[str, str]:
        return (
            self.x_combo.currentData(),
            "standardize" if self.y_check.isChecked() else "none",
        )

    def set_modes(self, x: str, y: str) -> None:
        """Show ``(x, y)`` without emitting anything."""
        self.x_combo.blockSignals(True)
        self.y_check.blockSignals(True)
        self.x_combo.setCurrentIndex(max(self.x_combo.findData(x), 0))
        self.y_check.setChecked(y != "none")
        self.x_combo.blockSignals(False)
        self.y_check.blockSignals(False)

    def _emit(self, *_) -> None:
        self.changed.emit(*self.modes())
