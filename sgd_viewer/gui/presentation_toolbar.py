"""The compact toolbar that stands in for the side panel in presentation mode:
Step, Run/Pause, Reset, the learning rate, and the open lesson's Next.

Owns its widgets and what they show; acts only through the window's public
commands and its side panel's lr box (so that an lr typed here applies
mid-run exactly as one typed there, and both boxes agree). Follows the window
through :meth:`PresentationToolbar.follow` (the window's ``state_changed``).
"""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QToolBar, QWidget

from sgd_viewer.gui.controls import ScientificSpinBox
from sgd_viewer.gui.plot_scaling import scaled_font

#: How much larger than the window's own text the toolbar's is.
TOOLBAR_FONT_SCALE = 1.6


def _named(widget: QWidget, name: str, tip: str) -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    return widget


class PresentationToolbar(QToolBar):
    """Step, Run/Pause, Reset, lr and Next ▸ for ``window``, in large type."""

    def __init__(self, window) -> None:
        super().__init__("Presentation", window)
        self.setObjectName("presentationToolbar")
        self.setAccessibleName("presentationToolbar")
        self.setMovable(False)
        self.setFloatable(False)
        # Not offered in the window's context menu: presentation mode shows it.
        self.toggleViewAction().setVisible(False)
        self.setFont(scaled_font(window.font(), TOOLBAR_FONT_SCALE))
        self._window = window
        self._lesson_signal_of = None
        self.step_button = _named(
            QPushButton("Step"), "presentationStepButton", "Take steps (→ or S)"
        )
        self.run_button = _named(
            QPushButton("Run"), "presentationRunButton", "Run or pause (Space)"
        )
        self.run_button.setCheckable(True)
        self.reset_button = _named(
            QPushButton("Reset"), "presentationResetButton", "Back to the start (R)"
        )
        lr_spin = window.controls.lr_spin
        self.lr_spin = _named(
            ScientificSpinBox(lr_spin.minimum(), lr_spin.maximum()),
            "presentationLrSpin",
            "Learning rate of the selected run; applies mid-run",
        )
        self.lr_spin.setValue(lr_spin.value())
        self.next_button = _named(
            QPushButton("Next ▸"), "presentationNextButton", "The lesson's next page"
        )
        for widget in (self.step_button, self.run_button, self.reset_button):
            self.addWidget(widget)
        self.addSeparator()
        lr_label = QLabel(" lr ")
        lr_label.setBuddy(self.lr_spin)
        self.addWidget(lr_label)
        self.addWidget(self.lr_spin)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)
        self._next_action = self.addWidget(self.next_button)
        self.step_button.clicked.connect(window.step_from_keyboard)
        self.run_button.toggled.connect(self._on_run_toggled)
        self.reset_button.clicked.connect(window.reset)
        self.lr_spin.valueChanged.connect(self._on_lr)
        self.next_button.clicked.connect(self._next_page)
        self.follow()

    # ----------------------------------------------------------- actions
    def _on_run_toggled(self, checked: bool) -> None:
        self.run_button.setText("Pause" if checked else "Run")
        self._window.playback.toggled(checked)

    def _on_lr(self, lr: float) -> None:
        # Through the side panel's box: one path for an edited lr, mid-run.
        self._window.controls.lr_spin.setValue(lr)

    def _next_page(self) -> None:
        lesson = self.lesson()
        if lesson is not None:
            lesson.next_page()

    # ----------------------------------------------------------- showing
    def lesson(self):
        """The window's lesson panel when a lesson is open, else ``None``."""
        panel = getattr(self._window, "lesson_panel", None)
        if panel is None or not callable(getattr(panel, "next_page", None)):
            return None
        # Hidden on its own, not merely inside the hidden side panel.
        if hasattr(panel, "isHidden") and panel.isHidden():
            return None
        return panel

    def follow(self) -> None:
        """Show the window's state: ready, running, the selected run's lr and
        whether there is a lesson to page through."""
        window = self._window
        playback = window.playback
        for button in (self.step_button, self.run_button):
            button.setEnabled(playback.ready)
        if self.run_button.isChecked() != playback.running:
            self.run_button.blockSignals(True)
            self.run_button.setChecked(playback.running)
            self.run_button.blockSignals(False)
        self.run_button.setText("Pause" if playback.running else "Run")
        self._show_lr(window.session.run.config.lr)
        self._follow_lesson()

    def _show_lr(self, lr: float) -> None:
        box = self.lr_spin
        if math.isclose(box.value(), lr, rel_tol=1e-12, abs_tol=0.0):
            return
        # Not while someone types into the box (its text is not its value yet).
        if box.hasFocus() and box.lineEdit().text() != box.textFromValue(box.value()):
            return
        box.blockSignals(True)
        box.setValue(lr)
        box.blockSignals(False)

    def _follow_lesson(self) -> None:
        lesson = self.lesson()
        self._next_action.setVisible(lesson is not None)
        pages = getattr(lesson, "pages", None)
        at_end = pages is not None and getattr(lesson, "page", 0) + 1 >= len(pages)
        self.next_button.setEnabled(lesson is not None and not at_end)
        panel = getattr(self._window, "lesson_panel", None)
        signal = getattr(panel, "changed", None)
        if signal is not None and panel is not self._lesson_signal_of:
            # A lesson may open after presentation mode: follow its pages.
            signal.connect(lambda *_: self.follow())
            self._lesson_signal_of = panel
