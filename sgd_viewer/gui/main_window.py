"""The main window: wires the session (the model), the engine and the views.

Wiring only: the state lives in the Qt-free :class:`~sgd_viewer.core.session.
Session` (data, start, runs, the shown step); the steps come from the worker
on its own thread through :class:`~sgd_viewer.gui.engine_link.EngineLink`; the
pixels from the views, fed by ``presenter``. The window turns gestures into
session commands and engine requests, and stops the thread on the one
shutdown path (:meth:`MainWindow.shutdown`) that closing and tests share.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtWidgets import QMainWindow, QWidget

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import Dataset, generate
from sgd_viewer.core.history import History, StepBatch
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.session import Session
from sgd_viewer.gui import long_lived, presenter, settings
from sgd_viewer.gui.dialogs import ask_for_csv
from sgd_viewer.gui.dialogs import show_error as _show_error
from sgd_viewer.gui.drag_preview import DragPreview
from sgd_viewer.gui.engine_link import EngineLink
from sgd_viewer.gui.export_actions import ExportActions
from sgd_viewer.gui.frame_sync import draw_now
from sgd_viewer.gui.guesses import Guesses
from sgd_viewer.gui.narrator import Narrator
from sgd_viewer.gui.playback import Playback
from sgd_viewer.gui.session_actions import SessionActions
from sgd_viewer.gui.session_commands import SessionCommands
from sgd_viewer.gui.update_panel import UpdateFeed
from sgd_viewer.gui.window_actions import DataActions, ViewActions
from sgd_viewer.gui.window_layout import build_menus, build_widgets, connect_widgets

DEFAULT_START = (-1.0, 1.0)
#: Seconds between readout (and title) updates during a run.
READOUT_INTERVAL = 0.1

#: Windows whose worker thread is running; emptied by :meth:`MainWindow.shutdown`.
#: Lets tests prove that no window leaves a thread behind.
LIVE_WINDOWS: set[MainWindow] = set()


class MainWindow(DataActions, ViewActions, SessionActions, ExportActions, QMainWindow):
    """The sgd_viewer window.

    Parameters
    ----------
    data, config, start
        What to fit, how (the first run's settings), and from where (defaults:
        the lesson's data, SGD with lr 0.01 on the mean squared error, (-1, 1)).
    speed
        Steps per second of Run; 0 for as fast as possible.

    Signals
    -------
    engine_ready()
        torch has loaded; Step and Run work from now on.
    state_changed()
        What :meth:`snapshot` returns has changed.
    session_opened()
        An opened session has replayed and shows what it showed when saved.
    """

    engine_ready = Signal()
    state_changed = Signal()
    session_opened = Signal()
    #: Remember geometry, data and runs on close (the app sets it; tests don't).
    remember_on_close = False

    def __init__(
        self,
        data: Dataset | None = None,
        config: TrainingConfig | None = None,
        start: tuple[float, float] | None = None,
        speed: float = 300.0,
        *,
        pick_csv: Callable[[QWidget], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("sgd_viewer: gradient descent, made visible")
        self.session = Session(
            data if data is not None else generate(),
            tuple(float(v) for v in (start or DEFAULT_START)),
            [config or TrainingConfig()],
        )
        self._readouts_shown_at = 0.0
        self._pick_csv = pick_csv or ask_for_csv
        self.last_error: str | None = None
        build_widgets(self)
        build_menus(self)
        self.statusBar().showMessage("Loading the training engine (torch)…")
        self._plot_scenes = [view.scene() for view in self.plot_views]
        runs = [(run.id, run.config) for run in self.session.runs]
        self._engine = EngineLink(
            self, self.session.data, runs, self.session.start, speed
        )
        self._worker = self._engine.worker
        self._thread: QThread | None = self._engine.thread
        self._commands = SessionCommands(self.session, self._engine)
        self._drag = DragPreview(self._engine, self.fit_view, self.surface_view)
        self.update_feed = UpdateFeed(
            self.session, self.update_panel, self._engine.explain.emit
        )
        self.narrator = Narrator(self.session, self.narration, self.surface_view)
        self.update_feed.arrived.connect(self.narrator.on_update)
        self.guesses = Guesses(
            self.session,
            self.fit_view,
            self.surface_view,
            self._refresh_views,
            self.state_changed.emit,
        )
        self.playback = Playback(
            self.session,
            self._engine,
            self._commands,
            self.controls.set_running,
            self._refresh_views,
            self._on_continued,
        )
        connect_widgets(self)
        self._connect_worker()
        LIVE_WINDOWS.add(self)
        self.controls.set_config(self.session.run.config)
        self.controls.speed_spin.setValue(int(speed))
        self._show_dataset()
        self._refresh_views()
        self.setAcceptDrops(True)
        self.show_recent()

    def _connect_worker(self) -> None:
        w = self._worker
        w.ready.connect(self._on_engine_ready)
        w.steps_ready.connect(self._on_steps)
        w.change_applied.connect(self._on_change_applied)
        w.run_state_changed.connect(self._on_run_state)
        w.preview_ready.connect(self._drag.show)
        w.update_explained.connect(self.update_feed.explained)
        w.loaded.connect(self._on_loaded)
        w.errored.connect(self._on_worker_error)
        w.engine_lost.connect(self.replay_into_new_engine)

    # --------------------------------------------------------------- runs
    def _attempt(self, title: str, command: Callable, *args) -> bool:
        """Run a session command; a refusal is shown, and changes nothing."""
        try:
            command(*args)
        except (ValueError, IndexError) as error:  # SpecError is a ValueError
            self.show_error(title, str(error))
            return False
        return True

    def add_run(self, spec: str) -> int:
        """Add a run from a spec such as ``"momentum:lr=0.05,momentum=0.9"``;
        returns its index, or -1 (with a message) when the spec is bad or the
        session is full."""
        if not self._attempt("Cannot add this run", self._commands.add_spec, spec):
            return -1
        self.select_run(len(self.session.runs) - 1)
        return self.session.selected

    def duplicate_run(self, index: int) -> int:
        """A copy of run ``index``'s current settings, at step 0 with the rest."""
        return self.add_configured_run(self.session.runs[index].config)

    def add_configured_run(self, config: TrainingConfig, label: str = "") -> int:
        """Add a run with these settings (and label); its index, or -1."""
        add = self._commands.add_run
        if not self._attempt("Cannot add this run", add, config, label or None):
            return -1
        self.select_run(len(self.session.runs) - 1)
        return self.session.selected

    def remove_run(self, index: int) -> None:
        if self._attempt("Cannot remove this run", self._commands.remove_run, index):
            self.select_run(self.session.selected)

    def select_run(self, index: int) -> None:
        """Show run ``index``'s settings in the controls; edits apply to it."""
        self.session.select(index)
        self.controls.set_config(self._config)
        self._show_surface()
        self._refresh_views()

    def race_optimizers(self) -> None:
        """One run per optimizer family, at learning rates for these data."""
        self.pause()
        self._commands.race()
        self.banner.hide()
        self.select_run(0)

    # ------------------------------------------------------------ commands
    def _on_continued(self) -> None:
        """Went on from a past step: its divergences and settings are back,
        and the later steps are gone (the timeline's end among them)."""
        self.banner.setVisible(any(r.diverged for r in self.session.runs))
        self.controls.set_config(self._config)
        self._refresh_views()

    @Slot(int)
    def step(self, count: int = 1) -> None:
        """Take ``count`` steps of every run (pausing a run first); with
        Explain on, one step, told in stages."""
        if self.session.display.explain and self.playback.ready:
            count = 1
            self.narrator.expect(self.session.run.id, self.session.shown_step + 1)
        self.playback.step(count)

    def step_from_keyboard(self) -> None:
        self.step(self.controls.step_count_spin.value())

    @Slot()
    def toggle_run(self) -> None:
        """Run if paused, pause if running."""
        self.playback.toggle()

    def run(self) -> None:
        self.playback.run()

    def pause(self) -> None:
        self.playback.pause()

    @Slot()
    def reset(self) -> None:
        """Every run back to the start (the one the user chose), paths cleared."""
        self._commands.restart()
        self.narrator.stop()
        self.banner.hide()
        self._refresh_views()

    @Slot(float, float)
    def set_start(self, a: float, b: float) -> None:
        """Start descent from ``(a, b)``: every run restarts there, running on
        if it was running."""
        if not (math.isfinite(a) and math.isfinite(b)):
            return
        self._drag.stop()
        self.surface_view.set_start(a, b)
        self._commands.set_start(a, b)
        self.banner.hide()
        self._refresh_views()

    def back(self) -> None:
        """Show the step before the shown one (pausing a run)."""
        self.playback.back()

    def view_step(self, step: int | None) -> None:
        """Show ``step`` in every view; ``None`` (or the latest) follows the run.
        Looking at the past pauses a run, so that what is shown stays put."""
        self.playback.view(step)

    @Slot(object)
    def apply_config(self, config: TrainingConfig) -> None:
        """New settings for the selected run: mid-run for lr, knobs and batch
        size; anything else starts that run again."""
        self._commands.configure(self.session.selected, config)
        self._show_surface()
        self._refresh_views()

    @Slot(int, int)
    def _on_change_applied(self, run_id: int, step: int) -> None:
        self.session.settle_change(run_id, step)

    # --------------------------------------------------------- from worker
    @Slot(str)
    def _on_engine_ready(self, torch_version: str) -> None:
        self.playback.ready = True
        self.controls.set_ready(True)
        self.statusBar().showMessage(f"Engine ready (torch {torch_version}).", 5000)
        self._refresh_views()
        self.engine_ready.emit()

    @Slot(int, object)
    def _on_steps(self, generation: int, batches: dict[int, StepBatch]) -> None:
        try:
            self._show_steps(generation, batches)
        finally:
            # The worker waits for this (chunk_loop.FRAME_WAIT_SECONDS at most).
            self._worker.frame_shown.set()

    def _show_steps(self, generation: int, batches: dict[int, StepBatch]) -> None:
        if generation != self.session.generation:
            return  # steps of runs the user has since restarted
        diverged = self.session.record(generation, batches)
        if diverged or any(r.diverged for r in self.session.runs):
            self.banner.setText(presenter.divergence_text(self.session))
            self.banner.show()
            if not self.session.going():
                self.playback.set_running(False)
        self._refresh_views()
        draw_now(self, self._plot_scenes)

    @Slot(bool)
    def _on_run_state(self, running: bool) -> None:
        self.playback.set_running(running)
        self._update_status()
        self.state_changed.emit()

    @Slot(int)
    def _on_loaded(self, generation: int) -> None:
        self.show_opened(generation)

    @Slot(str)
    def _on_worker_error(self, message: str) -> None:
        self.show_error("The training engine reported a problem", message)

    @Slot(float, float)
    def _on_start_dragging(self, a: float, b: float) -> None:
        """Live feedback while the handle moves: its line and its future path."""
        self._drag.moved(a, b, self._config)
        self.state_changed.emit()

    # ------------------------------------------------------------ drawing
    def _refresh_views(self) -> None:
        """Push the session's state to every view (at most ~60 times a second)."""
        presenter.draw(self.session, *self.plot_views, self._drag.dragging)
        if self.slices_tab.isVisible():  # costs nothing while its tab is hidden
            presenter.draw_slices(self.session, self.slices_view)
        if self.playback.ready:
            self.update_feed.refresh(self.playback.running)
        # While running, ten updates a second of the readouts, the timeline and
        # the Runs panel are plenty and leave the frame to the plots; a stopped
        # run's are brought up to date at once.
        now = time.perf_counter()
        if (
            not self.playback.running
            or now - self._readouts_shown_at >= READOUT_INTERVAL
        ):
            self._readouts_shown_at = now
            self._update_status()
        self.state_changed.emit()

    def _update_status(self) -> None:
        snap = self.snapshot()
        # The title says where the run is, also to scripts and the task bar.
        self.setWindowTitle(presenter.window_title(snap))
        presenter.show_readouts(self.readouts, self.session, snap)
        self.timeline.show_steps(snap["step"], snap["latest_step"])
        self.key_readout.setText(presenter.key_numbers(snap))
        if self.loss_equation.isVisible():
            self.loss_equation.setText(presenter.loss_equation(self.session))
        self.runs_panel.show_runs(snap["runs"], self.session.selected)

    # ------------------------------------------------------------ queries
    def snapshot(self) -> dict:
        """What the window shows now, as plain Python values (the selected
        run's at the shown step, and every run under ``runs``; ``hover``,
        ``pinned`` and ``update`` as the README describes)."""
        playback = self.playback
        snap = presenter.snapshot(
            self.session, ready=playback.ready, running=playback.running,
            drag=self._drag.position,
        )  # fmt: skip
        return snap | self.snapshot_extras()

    @property
    def history(self) -> History:
        """The selected run's history."""
        return self.session.run.history

    @property
    def problem(self) -> Problem:
        return self.session.problem

    @property
    def _config(self) -> TrainingConfig:
        return self.session.run.config

    @property
    def worker_thread(self) -> QThread | None:
        return self._thread

    def show_error(self, title: str, message: str) -> None:
        """Say what went wrong in a dialog that does not block the run."""
        self.last_error = message
        _show_error(self, title, message)

    # ----------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Stop the worker thread and wait for it: the one exit path."""
        if self._thread is None:
            return
        self._engine.shutdown()
        self._thread = None
        LIVE_WINDOWS.discard(self)
        long_lived.release()  # what the window leaves behind can be collected

    def closeEvent(self, event) -> None:
        if self.remember_on_close:
            settings.save_window(self)
        self.shutdown()
        super().closeEvent(event)
