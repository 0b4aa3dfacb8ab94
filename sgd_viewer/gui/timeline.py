"""The timeline: a slider over steps 0 … latest with Back, Home and End.

Moving it asks to show that step in every view (a signal); while a run goes
the window keeps it at the latest step. Knows nothing of runs or views.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget


class Timeline(QWidget):
    """Scrub through the steps taken so far.

    Signals
    -------
    step_chosen(int)
        Show this step (the latest step means: follow the run).
    """

    step_chosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.home_button = self._button("|◀", "homeButton", "First step (Home)")
        self.back_button = self._button("◀", "backButton", "Back one step (←)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timelineSlider")
        self.slider.setAccessibleName("timelineSlider")
        self.slider.setToolTip(
            "Show any step so far; Step or Run from a past step continues from "
            "there (the later steps are discarded)"
        )
        self.slider.setRange(0, 0)
        self.end_button = self._button("▶|", "endButton", "Latest step (End)")
        self.label = QLabel("step 0 of 0")
        self.label.setObjectName("timelineLabel")
        # Room for "step 1,000,000 of 1,000,000 (past)" without a jump as it grows,
        # yet the slider keeps most of a narrow window.
        self.label.setMinimumWidth(
            self.label.fontMetrics().horizontalAdvance("step 000,000 of 000,000")
        )
        self.slider.setMinimumWidth(160)
        for widget in (self.home_button, self.back_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.end_button)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._on_slider)
        self.home_button.clicked.connect(lambda: self.step_chosen.emit(0))
        self.back_button.clicked.connect(self.back)
        self.end_button.clicked.connect(
            lambda: self.step_chosen.emit(self.slider.maximum())
        )
        self._updating = False

    def _button(self, text: str, name: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.setFixedWidth(36)
        return button

    def back(self) -> None:
        """One step before the shown one."""
        self.step_chosen.emit(max(self.slider.value() - 1, 0))

    def show_steps(self, shown: int, latest: int) -> None:
        """Reflect the session: ``shown`` of ``latest`` steps."""
        self._updating = True
        try:
            # A slider's range is an int: long runs fit (2³¹ steps).
            if self.slider.maximum() != latest:
                self.slider.setRange(0, latest)
            if self.slider.value() != shown:
                self.slider.setValue(shown)
        finally:
            self._updating = False
        past = "" if shown >= latest else " (past)"
        self.label.setText(f"step {shown:,} of {latest:,}{past}")
        self.back_button.setEnabled(shown > 0)
        self.home_button.setEnabled(shown > 0)
        self.end_button.setEnabled(shown < latest)

    def _on_slider(self, value: int) -> None:
        if not self._updating:
            self.step_chosen.emit(value)
