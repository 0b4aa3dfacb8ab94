"""The learning-rate schedule controls: a schedule and its knobs.

Built from the registry in ``core.schedules`` (a new schedule there needs no
code here). Emits ``changed`` on the user's edits only.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from sgd_viewer.core.schedules import SCHEDULES, get_schedule


class ScheduleBox(QWidget):
    """A schedule combo (``scheduleCombo``) and one box per knob."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setObjectName("scheduleCombo")
        self.combo.setAccessibleName("scheduleCombo")
        for spec in SCHEDULES.values():
            self.combo.addItem(spec.label, spec.name)
            self.combo.setItemData(self.combo.count() - 1, spec.description, 3)
        self.combo.setToolTip(
            "How the learning rate changes step by step (torch.optim.lr_scheduler); "
            "changing it starts the run again"
        )
        self._form.addRow("lr schedule", self.combo)
        self._knobs: dict[str, QWidget] = {}
        self.combo.currentIndexChanged.connect(self._on_schedule)

    def values(self) -> tuple[str, dict[str, float]]:
        return self.combo.currentData(), {k: w.value() for k, w in self._knobs.items()}

    def set_values(self, name: str, options: Mapping[str, float]) -> None:
        """Show a run's schedule without emitting ``changed``."""
        blocked = self.combo.blockSignals(True)
        try:
            self.combo.setCurrentIndex(self.combo.findData(name))
        finally:
            self.combo.blockSignals(blocked)
        self._build_knobs(name, options)

    def _on_schedule(self, _index: int) -> None:
        self._build_knobs(self.combo.currentData(), {})
        self.changed.emit()

    def _build_knobs(self, name: str, options: Mapping[str, float]) -> None:
        while self._form.rowCount() > 1:
            self._form.removeRow(1)
        self._knobs = {}
        spec = get_schedule(name)
        values = spec.resolve(options)
        for knob in spec.knobs:
            if knob.integer:
                box: QSpinBox | QDoubleSpinBox = QSpinBox()
                box.setRange(int(knob.minimum), int(min(knob.maximum, 2**31 - 1)))
            else:
                box = QDoubleSpinBox()
                box.setDecimals(5)
                box.setSingleStep(0.01)
                box.setRange(knob.minimum, knob.maximum)
            box.setKeyboardTracking(False)
            box.setValue(values[knob.name])
            box.setObjectName(f"{knob.name}ScheduleSpin")
            box.setAccessibleName(f"{knob.name}ScheduleSpin")
            box.setToolTip(knob.help)
            box.valueChanged.connect(self.changed)
            self._knobs[knob.name] = box
            self._form.addRow(knob.label, box)
