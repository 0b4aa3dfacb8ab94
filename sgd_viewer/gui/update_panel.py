"""The Update panel: the selected run's optimizer rule with the numbers of
the step shown, taken from the torch optimizer's own state.

:class:`UpdatePanel` is the widget (objectName ``updatePanel``); it shows a
plain dict from ``core.update_terms``. :class:`UpdateFeed` asks the engine
for the update behind the shown step of the selected run whenever that
changes (at most ten times a second while a run goes, and only while the
panel is on screen then), and keeps the answer for ``snapshot()["update"]``.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from sgd_viewer.core.session import Session

#: Seconds between requests while a run goes (the readouts' pace).
REQUEST_INTERVAL = 0.1


class UpdatePanel(QWidget):
    """The rule of the last step, in math notation with its numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("updatePanel")
        self.setAccessibleName("updatePanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.heading = QLabel()
        self.heading.setObjectName("updateHeading")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.rule = QPlainTextEdit()
        self.rule.setObjectName("updateRule")
        self.rule.setReadOnly(True)
        self.rule.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.rule.setFont(font)
        layout.addWidget(self.rule, 1)
        self.show_update(None, "", 0)

    def show_update(
        self, update: dict | None, label: str, step: int, schedule: str = "constant"
    ) -> None:
        """``update`` of run ``label``'s step ``step`` (``None``: nothing to
        show yet); a ``schedule`` other than constant is named (it set η)."""
        if update is None:
            self.heading.setText(
                "No update yet: the start is step 0. Step (→) to see the numbers."
                if step == 0
                else f"Working out the update of step {step:,}…"
            )
            self.rule.setPlainText("")
            return
        self.heading.setText(
            f"<b>{label}</b>, the update that made step {update['step']:,}: "
            f"(a, b) = ({update['a_before']:.6g}, {update['b_before']:.6g}) → "
            f"({update['a_after']:.6g}, {update['b_after']:.6g})"
            + (
                f"; η = {update['terms']['lr']:.4g} from the {schedule} schedule"
                if schedule != "constant"
                else ""
            )
        )
        self.rule.setPlainText(update["rule"])


class UpdateFeed(QObject):
    """Keeps the panel showing the update behind the selected run's shown
    step, asking the engine (``request(run_id, step)``) when it changes.

    Signals
    -------
    arrived(int, int, object)
        Run id, step and update (a dict, or ``None``) as the engine answered.
    """

    arrived = Signal(int, int, object)

    def __init__(self, session: Session, panel: UpdatePanel, request) -> None:
        super().__init__(panel)
        self._session = session
        self._panel = panel
        self._request = request
        self._asked: tuple[int, int] | None = None
        self._asked_at = 0.0
        self._answer: tuple[int, int, dict | None] | None = None

    def _wanted(self) -> tuple[int, int]:
        session = self._session
        return session.run.id, session.shown_step

    def refresh(self, running: bool) -> None:
        """Ask for the shown step's update if it is not the one held."""
        wanted = self._wanted()
        if self._answer is not None and self._answer[:2] == wanted:
            return
        now = time.perf_counter()
        if wanted == self._asked and now - self._asked_at < 1.0:
            return  # asked already; its answer is on the way
        if running and (
            not self._panel.isVisible() or now - self._asked_at < REQUEST_INTERVAL
        ):
            return
        self._asked, self._asked_at = wanted, now
        if wanted[1] == 0:  # nothing before the start
            self.explained(wanted[0], 0, None)
            return
        self._request(*wanted)
        self._panel.show_update(None, self._session.run.label, wanted[1])

    @Slot(int, int, object)
    def explained(self, run_id: int, step: int, update) -> None:
        """The engine's answer (queued from its thread)."""
        self._answer = (run_id, step, update)
        self.arrived.emit(run_id, step, update)
        if (run_id, step) == self._wanted():
            run = self._session.run
            self._panel.show_update(update, run.label, step, run.config.schedule)

    @property
    def current(self) -> dict | None:
        """The update behind the shown step of the selected run, once known."""
        if self._answer is None or self._answer[:2] != self._wanted():
            return None
        return self._answer[2]
