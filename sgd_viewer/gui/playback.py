"""Step, Run, Pause and the timeline: what the engine does next, and whether
it is running.

Stepping or running while the timeline shows an earlier step first continues
from there (every run forgets its later steps). Looking at the past pauses a
run, so that what is shown stays put. Knows the controls only to show the
Run/Pause state; tells the window through ``changed`` and ``continued``.
"""

from __future__ import annotations

from collections.abc import Callable

from sgd_viewer.core.session import Session
from sgd_viewer.gui.engine_link import EngineLink
from sgd_viewer.gui.session_commands import SessionCommands


class Playback:
    """The run controls' logic for one window."""

    def __init__(
        self,
        session: Session,
        engine: EngineLink,
        commands: SessionCommands,
        show_running: Callable[[bool], None],
        changed: Callable[[], None],
        continued: Callable[[], None],
    ) -> None:
        self._session = session
        self._engine = engine
        self._commands = commands
        self._show_running = show_running
        self._changed = changed
        self._continued = continued
        #: torch has loaded (Step and Run work).
        self.ready = False
        #: The engine's loop is running (as it last said, or as last asked).
        self.running = False

    def _continue_from_view(self) -> None:
        if self._commands.continue_from_view():
            self._continued()

    def step(self, count: int) -> None:
        """``count`` steps of every run (pausing a run first)."""
        if not self.ready:
            return
        if self.running:
            self._engine.worker.request_pause()
        self._continue_from_view()
        self._engine.step.emit(int(count))

    def run(self) -> None:
        self._continue_from_view()
        if not self.ready or not self._session.going():
            return
        self.set_running(True)
        self._engine.run.emit()
        self._changed()

    def pause(self) -> None:
        self._engine.pause()
        self.set_running(False)
        self._changed()

    def toggle(self) -> None:
        self.pause() if self.running else self.run()

    def toggled(self, checked: bool) -> None:
        """The Run/Pause button was pressed into ``checked``."""
        if not checked:
            self.pause()
            return
        self.run()
        if not self.running:  # refused (engine loading or every run diverged)
            self._show_running(False)

    def set_running(self, running: bool) -> None:
        self.running = running
        self._show_running(running)

    def back(self) -> None:
        """Show the step before the shown one (pausing a run)."""
        if self.running:
            self.pause()
        self.view(max(self._session.shown_step - 1, 0))

    def view(self, step: int | None) -> None:
        """Show ``step`` everywhere; ``None`` (or the latest) follows the run."""
        if step is not None and self.running and step < self._session.latest_step:
            self.pause()
        self._session.view(step)
        self._changed()
