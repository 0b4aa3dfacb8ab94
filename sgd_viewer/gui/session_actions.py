"""Keeping and sharing a session, as a mixin of ``MainWindow``: File ▸ Save
session, Open session…, Recent sessions, Export torch script…, Reset
settings, and sessions or CSV files dropped on the window.

Saving writes the session model (``core.session_file``) and the views'
ranges; opening checks the file, replaces the session and has the engine
replay the recipes; when the replay arrives (``TrainerWorker.loaded``) the
saved step and view ranges are shown and ``session_opened`` is emitted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from sgd_viewer.core import session_io
from sgd_viewer.core.helper_process import run_in_helper
from sgd_viewer.core.session_file import (
    RunEntry,
    SessionFile,
    SessionFileError,
    parse_session,
    read_session,
    session_document,
)
from sgd_viewer.gui import presenter, settings
from sgd_viewer.gui.session_io import SessionFileJob

SESSION_FILTER = "sgd-viewer sessions (*.json *.sgd.json);;All files (*)"
SCRIPT_FILTER = "Python scripts (*.py)"
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".gz")


def _ask_path(window, title: str, name_filter: str, save: bool) -> str | None:
    """A file chosen by the user (tests replace ``window.pick_path``)."""
    if window.pick_path is not None:
        return window.pick_path(title, save)
    folder = str(Path(window.session_path).parent) if window.session_path else ""
    dialog = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
    path, _ = dialog(window, title, folder, name_filter)
    return path or None


class SessionActions:
    """Sessions, the torch script and settings."""

    #: The session file last saved or opened (Ctrl+S saves there).
    session_path: str | None = None
    #: ``(title, save) -> path | None``; ``None`` asks with a file dialog.
    pick_path = None
    _opening: tuple[int, SessionFile] | None = None
    _session_job: SessionFileJob | None = None

    @property
    def session_job(self) -> SessionFileJob:
        """Reads and writes big session files off the window's thread: its
        ``finished`` says when one ends."""
        if self._session_job is None:
            self._session_job = SessionFileJob(self)
        return self._session_job

    # ------------------------------------------------------------- saving
    def session_document(self) -> dict:
        """The session as the JSON a session file holds."""
        session = self.session
        views = {
            name: {"range": list(view.framing.target), "auto": view.framing.auto}
            for name, view in (("fit", self.fit_view), ("surface", self.surface_view))
        }
        return session_document(
            session.raw_data,
            session.start,
            [
                RunEntry(
                    run.recipe(),
                    run.latest_step,
                    run.visible,
                    run.custom_label,
                    run.diverged,
                )
                for run in session.runs
            ],
            selected=session.selected,
            viewed_step=session.viewed_step,
            display=session.display,
            pinned=session.pinned,
            views=views,
            scale_modes=session.scale_modes,
        )

    def save_session(self, path: str | None = None) -> bool:
        """Save the session (to ``path``, else where it was last saved or
        opened, else where the user says); whether it was written. Data of
        ``session_io.BACKGROUND_POINTS`` points or more are written in a
        helper process while the window goes on: then whether writing
        started, and :attr:`session_job` says when it ends."""
        path = path or self.session_path
        if not path:
            return self.save_session_as()
        title = "Cannot save the session"
        try:
            document = self.session_document()
        except ValueError as error:  # data too big to embed
            self.show_error(title, f"{path}: {error}")
            return False
        if self.session.raw_data.n >= session_io.BACKGROUND_POINTS:
            self.session_job.start(
                lambda: run_in_helper(session_io.save, path, document),
                f"Saving {Path(path).name}…",
                lambda _: self._saved(path),
                lambda message: self.show_error(title, message),
            )
            return True
        try:
            session_io.save(path, document)
        except SessionFileError as error:
            self.show_error(title, str(error))
            return False
        self._saved(path)
        return True

    def _saved(self, path: str) -> None:
        self._remember(path)
        self.statusBar().showMessage(f"Saved the session to {path}", 5000)

    def save_session_as(self) -> bool:
        path = _ask_path(self, "Save session", SESSION_FILTER, save=True)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".json"
        return self.save_session(path)

    # ------------------------------------------------------------ opening
    def open_session(self, path: str | None = None) -> bool:
        """Open a session file: the window then shows what it showed when
        saved (the runs replay; ``session_opened`` says when they have).
        A bad file is refused with its reason, and nothing changes. A file of
        ``session_io.BACKGROUND_FILE_BYTES`` or more is read in a helper
        process while the window goes on (:attr:`session_job`); then the
        answer is whether reading started."""
        path = path or _ask_path(self, "Open session", SESSION_FILTER, save=False)
        if not path:
            return False
        title = "Cannot open this session"
        if session_io.reads_in_background(path):
            self.session_job.start(
                lambda: run_in_helper(read_session, path),
                f"Reading {Path(path).name}…",
                lambda saved: self._opened(saved, path),
                lambda message: self.show_error(title, message),
            )
            return True
        try:
            saved = read_session(path)
        except SessionFileError as error:
            self.show_error(title, str(error))
            return False
        self._opened(saved, path)
        return True

    def _opened(self, saved: SessionFile, path: str) -> None:
        self._open_saved(saved)
        self._remember(path)

    def _open_saved(self, saved: SessionFile) -> None:
        """Replace the session by ``saved``; the engine replays its runs."""
        self.pause()
        self._drag.stop()
        self.narrator.stop()
        self.lesson_panel.close_lesson()  # a lesson opening shows its own again
        self._commands.load(saved)
        self._opening = (self.session.generation, saved)
        self.banner.hide()
        self.surface_view.set_start(*saved.start)
        self._show_dataset()
        self.controls.set_config(self.session.run.config)
        presenter.show_display(self.session, self)
        self._refresh_views()

    def replay_into_new_engine(self, reason: str) -> None:
        """The engine's process died and another has started, every run at
        step 0 (``TrainerWorker.engine_lost``): replay each run into it up to
        its latest step, as opening the session would, and show the step the
        user was on. Nothing is lost."""
        title = "The training engine stopped"
        try:
            text = json.dumps(self.session_document(), allow_nan=False)
            saved = parse_session(text)
        except (SessionFileError, ValueError) as error:  # data too big to embed
            self.reset()  # the runs and the new engine agree again, at step 0
            self.show_error(
                title,
                f"The training engine stopped unexpectedly ({reason}). It has "
                f"started again, but the runs could not be replayed ({error}), "
                "so they start again from the start.",
            )
            return
        self._open_saved(saved)
        self.show_error(
            title,
            f"The training engine stopped unexpectedly ({reason}). It has "
            "started again, and every run was replayed to where it was.",
        )

    def show_opened(self, generation: int) -> None:
        """The engine has replayed an opened session: show its step and views
        (called from ``MainWindow._on_loaded``: a slot of a QObject class, so
        that the worker's signal queues into the GUI thread)."""
        if self._opening is None or self._opening[0] != generation:
            return
        saved = self._opening[1]
        self._opening = None
        self.session.view(saved.viewed_step)
        for name, view in (("fit", self.fit_view), ("surface", self.surface_view)):
            shown = saved.views.get(name)
            if shown is not None and not shown["auto"]:
                view.framing.auto = False
                view.framing.go_to(tuple(shown["range"]), eased=False)
        self._refresh_views()
        self.session_opened.emit()

    def open_lesson(self, name: str) -> bool:
        """Open a lesson (shipped or the user's) by name: its session, then
        its pages in the lesson panel."""
        return self.lessons.open(name)

    @property
    def opening(self) -> bool:
        """Whether an opened session is still being replayed."""
        return self._opening is not None

    def open_file(self, path: str) -> bool:
        """A session or a CSV file, by what it holds (drag and drop,
        ``sgd-viewer FILE``)."""
        if path.lower().endswith(CSV_SUFFIXES):
            return self.open_csv(path)
        return self.open_session(path)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(
            url.isLocalFile() for url in event.mimeData().urls()
        ):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_file(files[0])

    # ------------------------------------------------------ recent sessions
    def _remember(self, path: str) -> None:
        self.session_path = path
        self.show_recent(settings.remember_session(path))

    def show_recent(self, paths: list[str] | None = None) -> None:
        """The Recent sessions menu, newest first."""
        paths = settings.recent_sessions() if paths is None else paths
        menu = self.recent_menu
        menu.clear()
        for number, path in enumerate(paths, 1):
            action = menu.addAction(f"&{number} {Path(path).name}")
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda _=False, p=path: self._open_recent(p))
        menu.setEnabled(bool(paths))

    def _open_recent(self, path: str) -> None:
        if not os.path.exists(path):
            self.show_recent(settings.forget_session(path))
        self.open_session(path)

    # -------------------------------------------------------- torch script
    def export_script(self, path: str | None = None) -> bool:
        """Write the selected run as a standalone torch script."""
        from sgd_viewer.core.script_export import write_script

        path = path or _ask_path(self, "Export torch script", SCRIPT_FILTER, save=True)
        if not path:
            return False
        run = self.session.run
        try:
            write_script(
                path,
                self.session.data,
                self.session.start,
                run.recipe(),
                run.latest_step,
            )
        except OSError as error:
            self.show_error(
                "Cannot export the script",
                f"{path}: cannot be written ({error.strerror or error})",
            )
            return False
        self.statusBar().showMessage(f"Wrote {path}: run it with python", 5000)
        return True

    # ------------------------------------------------------------ settings
    def reset_settings(self) -> None:
        """Forget the remembered geometry, data, runs and recent sessions."""
        settings.clear()
        self.show_recent([])
        self.remember_on_close = False
        self.statusBar().showMessage(
            "Settings reset: the next launch starts fresh", 5000
        )
