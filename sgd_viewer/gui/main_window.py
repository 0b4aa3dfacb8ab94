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

import numpy as np
from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtWidgets import QMainWindow, QWidget

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import DataError, Dataset, generate, load_bundled, load_csv
from sgd_viewer.core.history import History, StepBatch
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.race_presets import race_specs
from sgd_viewer.core.recipe import MAX_RUNS, SpecError, parse_spec
from sgd_viewer.core.session import Session
from sgd_viewer.gui import presenter
from sgd_viewer.gui.column_dialog import choose_columns
from sgd_viewer.gui.dialogs import ask_for_csv
from sgd_viewer.gui.dialogs import show_error as _show_error
from sgd_viewer.gui.dialogs import show_shortcuts as _show_shortcuts
from sgd_viewer.gui.engine_link import EngineLink
from sgd_viewer.gui.frame_sync import draw_now
from sgd_viewer.gui.window_layout import build_menus, build_widgets

DEFAULT_START = (-1.0, 1.0)
#: Seconds between readout (and title) updates during a run.
READOUT_INTERVAL = 0.1

#: Windows whose worker thread is running; emptied by :meth:`MainWindow.shutdown`.
#: Lets tests prove that no window leaves a thread behind.
LIVE_WINDOWS: set[MainWindow] = set()


class MainWindow(QMainWindow):
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
    """

    engine_ready = Signal()
    state_changed = Signal()

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
        self._preview_id = 0
        self._ready = False
        self._running = False
        self._dragging = False
        self._drag_position = (0.0, 0.0)
        self._readouts_shown_at = 0.0
        self._pick_csv = pick_csv or ask_for_csv
        self.last_error: str | None = None

        build_widgets(self)
        build_menus(self)
        self.statusBar().showMessage("Loading the training engine (torch)…")
        self._plot_scenes = [
            view.scene() for view in (self.fit_view, self.surface_view, self.loss_view)
        ]
        self._connect_widgets()
        runs = [(run.id, run.config) for run in self.session.runs]
        self._engine = EngineLink(
            self, self.session.data, runs, self.session.start, speed
        )
        self._worker = self._engine.worker
        self._thread: QThread | None = self._engine.thread
        self._connect_worker()
        LIVE_WINDOWS.add(self)
        self.controls.set_config(self.session.run.config)
        self.controls.speed_spin.setValue(int(speed))
        self._show_dataset()
        self._refresh_views()

    def _connect_widgets(self) -> None:
        c = self.controls
        c.step_requested.connect(self.step)
        c.run_toggled.connect(self._on_run_toggled)
        c.reset_requested.connect(self.reset)
        c.speed_changed.connect(self._on_speed)
        c.config_changed.connect(self.apply_config)
        c.generate_requested.connect(self._on_generate_requested)
        c.dataset_requested.connect(self.load_dataset)
        c.open_csv_requested.connect(self.open_csv)
        c.residuals_toggled.connect(self.fit_view.set_residuals_visible)
        c.set_ready(False)
        self.surface_view.start_dragging.connect(self._on_start_dragging)
        self.surface_view.start_dropped.connect(self.set_start)
        r = self.runs_panel
        r.add_requested.connect(lambda: self.add_run(self.session.run.config.optimizer))
        r.duplicate_requested.connect(lambda: self.duplicate_run(self.session.selected))
        r.remove_requested.connect(self.remove_run)
        r.selected.connect(self.select_run)
        r.visibility_changed.connect(self._on_visibility)
        r.renamed.connect(self._on_renamed)
        self.timeline.step_chosen.connect(self.view_step)

    def _connect_worker(self) -> None:
        w = self._worker
        w.ready.connect(self._on_engine_ready)
        w.steps_ready.connect(self._on_steps)
        w.change_applied.connect(self._on_change_applied)
        w.run_state_changed.connect(self._on_run_state)
        w.preview_ready.connect(self._on_preview)
        w.errored.connect(self._on_worker_error)

    # --------------------------------------------------------------- runs
    def add_run(self, spec: str) -> int:
        """Add a run from a spec such as ``"momentum:lr=0.05,momentum=0.9"``;
        returns its index, or -1 (with a message) when the spec is bad or the
        session is full."""
        try:
            if len(self.session.runs) >= MAX_RUNS:
                raise ValueError(f"a session holds at most {MAX_RUNS} runs")
            config, label = parse_spec(spec, self.session.run.config)
        except (SpecError, ValueError) as error:
            self.show_error("Cannot add this run", str(error))
            return -1
        index = self.session.add_run(config, label)
        run = self.session.runs[index]
        self._engine.add_run.emit(run.id, run.config)
        self.select_run(index)
        return index

    def duplicate_run(self, index: int) -> int:
        """A copy of run ``index``'s current settings, at step 0 with the rest."""
        run = self.session.runs[index]
        if len(self.session.runs) >= MAX_RUNS:
            self.show_error(
                "Cannot add this run", f"a session holds at most {MAX_RUNS} runs"
            )
            return -1
        new = self.session.add_run(run.config)
        added = self.session.runs[new]
        self._engine.add_run.emit(added.id, added.config)
        self.select_run(new)
        return new

    def remove_run(self, index: int) -> None:
        try:
            run = self.session.remove_run(index)
        except (ValueError, IndexError) as error:
            self.show_error("Cannot remove this run", str(error))
            return
        self._engine.remove_run.emit(run.id)
        self.select_run(self.session.selected)

    def select_run(self, index: int) -> None:
        """Show run ``index``'s settings in the controls; edits apply to it."""
        self.session.select(index)
        self.controls.set_config(self.session.run.config)
        self._show_surface()
        self._refresh_views()

    def race_optimizers(self) -> None:
        """One run per optimizer family, at learning rates for these data."""
        session = self.session
        self.pause()
        while len(session.runs) > 1:
            self.remove_run(len(session.runs) - 1)
        specs = race_specs(session.problem, session.start, self._config.reduction)
        config, label = parse_spec(specs[0], self._config)
        self._configure_run(0, config)
        session.rename(0, label or "")
        for spec in specs[1:]:
            self.add_run(spec)
        self.reset()
        self.select_run(0)

    def _on_visibility(self, index: int, visible: bool) -> None:
        self.session.set_visible(index, visible)
        self._refresh_views()

    def _on_renamed(self, index: int, label: str) -> None:
        self.session.rename(index, label)
        self._refresh_views()

    # ------------------------------------------------------------ commands
    def _continue_from_view(self) -> None:
        """Step or Run while viewing the past: every run goes on from there."""
        step = self.session.cut_at_view()
        if step is not None:
            self._engine.rewind.emit(self.session.generation, step)
            self.banner.setVisible(any(r.diverged for r in self.session.runs))
            self.controls.set_config(self.session.run.config)

    @Slot(int)
    def step(self, count: int = 1) -> None:
        """Take ``count`` steps of every run (pausing a run first)."""
        if not self._ready:
            return
        if self._running:
            self._worker.request_pause()
        self._continue_from_view()
        self._engine.step.emit(int(count))

    def step_from_keyboard(self) -> None:
        self.step(self.controls.step_count_spin.value())

    @Slot()
    def toggle_run(self) -> None:
        """Run if paused, pause if running."""
        self.pause() if self._running else self.run()

    def run(self) -> None:
        self._continue_from_view()
        if not self._ready or not self.session.going():
            return
        self._running = True
        self.controls.set_running(True)
        self._engine.run.emit()
        self._update_status()

    def pause(self) -> None:
        self._engine.pause()
        self._running = False
        self.controls.set_running(False)
        self._update_status()

    def _on_run_toggled(self, checked: bool) -> None:
        if checked:
            self.run()
            if not self._running:  # refused (engine loading or all diverged)
                self.controls.set_running(False)
        else:
            self.pause()

    def _on_speed(self, steps_per_second: float) -> None:
        self._engine.set_speed.emit(steps_per_second)

    @Slot()
    def reset(self) -> None:
        """Every run back to the start (the one the user chose), paths cleared."""
        self.session.restart()
        self.banner.hide()
        self._engine.reset.emit(self.session.generation, *self.session.start)
        self._refresh_views()

    @Slot(float, float)
    def set_start(self, a: float, b: float) -> None:
        """Start descent from ``(a, b)``: every run restarts there, running on
        if it was running."""
        if not (math.isfinite(a) and math.isfinite(b)):
            return
        self._dragging = False
        self.session.start = (float(a), float(b))
        self.surface_view.set_preview(None, None)
        self.surface_view.set_start(a, b)
        self.reset()

    def back(self) -> None:
        """Show the step before the shown one (pausing a run)."""
        if self._running:
            self.pause()
        self.view_step(max(self.session.shown_step - 1, 0))

    def view_step(self, step: int | None) -> None:
        """Show ``step`` in every view; ``None`` (or the latest) follows the run.
        Looking at the past pauses a run, so that what is shown stays put."""
        if step is not None and self._running and step < self.session.latest_step:
            self.pause()
        self.session.view(step)
        self._refresh_views()

    @Slot(object)
    def apply_config(self, config: TrainingConfig) -> None:
        """New settings for the selected run: mid-run for lr, knobs and batch
        size; anything else starts that run again."""
        self._configure_run(self.session.selected, config)
        self._show_surface()
        self._refresh_views()

    def _configure_run(self, index: int, config: TrainingConfig) -> None:
        run = self.session.runs[index]
        old_id = run.id
        new_id = self.session.configure(index, config)
        if new_id is not None:  # a change of meaning: the run starts again
            self._engine.remove_run.emit(old_id)
            self._engine.add_run.emit(new_id, config)
        else:
            self._engine.set_config.emit(run.id, config)

    @Slot(int, int)
    def _on_change_applied(self, run_id: int, step: int) -> None:
        self.session.settle_change(run_id, step)

    # --------------------------------------------------------------- data
    def regenerate(self) -> None:
        self._on_generate_requested(self.controls.generator_values())

    def _on_generate_requested(self, params: dict) -> None:
        self._replace_data(lambda: generate(**params))

    @Slot(str)
    def load_dataset(self, name: str) -> None:
        """Fit a bundled dataset."""
        self._replace_data(lambda: load_bundled(name))

    @Slot()
    def open_csv(self, path: str | None = None, x=None, y=None) -> bool:
        """Fit a CSV file; asks for the file (and columns) unless given."""
        if not path:
            path = self._pick_csv(self)
            if not path:
                return False
            if x is None and y is None:
                chosen = choose_columns(self, path)
                if chosen is None:
                    return False
                x, y = chosen
        return self._replace_data(lambda: load_csv(path, x=x, y=y))

    def _replace_data(self, load: Callable[[], Dataset]) -> bool:
        """Load new data; on bad input say why and keep everything as it was."""
        try:
            data = load()
        except DataError as error:
            self.show_error("Cannot use these data", str(error))
            self.controls.set_data_size(self._data.n, self._dataset_key())
            return False
        self.pause()
        self.session.set_data(data)
        self.banner.hide()
        self._engine.set_data.emit(self.session.generation, data)
        self._show_dataset()
        # Fewer points than the batch size: the box has clamped it to n.
        if self.controls.config() != self.session.run.config:
            self.apply_config(self.controls.config())
        self._refresh_views()
        return True

    def _dataset_key(self) -> str:
        source = self._data.source
        if source.startswith("bundled:"):
            return source.removeprefix("bundled:")
        return "" if self._data.is_generated else self._data.name

    def _show_dataset(self) -> None:
        data = self._data
        self.controls.set_data_size(data.n, self._dataset_key())
        if data.is_generated:
            self.controls.set_generator_values(
                data.n, data.true_a, data.true_b, data.noise, data.seed or 0
            )
        self.fit_view.set_dataset(data)
        self._show_surface()

    def _show_surface(self) -> None:
        reduction = self._config.reduction
        problem = self.session.problem
        if (id(problem), reduction) != getattr(self, "_surface_shown", None):
            self._surface_shown = (id(problem), reduction)
            self.surface_view.set_problem(problem, reduction, self.session.start)
        self.loss_view.set_optimum(problem.loss_opt(reduction))

    # --------------------------------------------------------- from worker
    @Slot(str)
    def _on_engine_ready(self, torch_version: str) -> None:
        self._ready = True
        self.controls.set_ready(True)
        self.statusBar().showMessage(f"Engine ready (torch {torch_version}).", 5000)
        self._update_status()
        self.engine_ready.emit()

    @Slot(int, object)
    def _on_steps(self, generation: int, batches: dict[int, StepBatch]) -> None:
        try:
            self._show_steps(generation, batches)
        finally:
            # The worker waits for this (worker.FRAME_WAIT_SECONDS at most).
            self._worker.frame_shown.set()

    def _show_steps(self, generation: int, batches: dict[int, StepBatch]) -> None:
        if generation != self.session.generation:
            return  # steps of runs the user has since restarted
        diverged = self.session.record(generation, batches)
        if diverged or any(r.diverged for r in self.session.runs):
            names = [r for r in self.session.runs if r.diverged]
            text = "\n".join(
                f"⚠ {r.label}: {r.message}"
                if len(self.session.runs) > 1
                else f"⚠ {r.message}"
                for r in names
            )
            self.banner.setText(text)
            self.banner.show()
            if not self.session.going():
                self._running = False
                self.controls.set_running(False)
        self._refresh_views()
        draw_now(self, self._plot_scenes)

    @Slot(bool)
    def _on_run_state(self, running: bool) -> None:
        self._running = running
        self.controls.set_running(running)
        self._update_status()
        self.state_changed.emit()

    @Slot(int, object)
    def _on_preview(self, request_id: int, batch: StepBatch) -> None:
        if request_id != self._preview_id or not self._dragging:
            return
        a, b = self.surface_view.start_position
        self.surface_view.set_preview(np.r_[a, batch.a], np.r_[b, batch.b])

    @Slot(str)
    def _on_worker_error(self, message: str) -> None:
        self.show_error("The training engine reported a problem", message)

    @Slot(float, float)
    def _on_start_dragging(self, a: float, b: float) -> None:
        """Live feedback while the handle moves: its line and its future path."""
        self._dragging = True
        self._drag_position = (a, b)
        self.fit_view.set_line(a, b)
        self._preview_id += 1
        self._worker.latest_preview_id = self._preview_id
        self._engine.preview.emit(self._preview_id, a, b, self._config)
        self.state_changed.emit()

    # ------------------------------------------------------------ drawing
    def _refresh_views(self) -> None:
        """Push the session's state to every view (at most ~60 times a second)."""
        presenter.draw(
            self.session,
            self.fit_view,
            self.surface_view,
            self.loss_view,
            self._dragging,
        )
        self.timeline.show_steps(self.session.shown_step, self.session.latest_step)
        # While running, numbers change faster than anyone reads them: ten
        # updates a second are plenty and leave the frame to the plots. When
        # the run stops (_on_run_state) they are brought up to date at once.
        now = time.perf_counter()
        if not self._running or now - self._readouts_shown_at >= READOUT_INTERVAL:
            self._readouts_shown_at = now
            self._update_status()
        self.state_changed.emit()

    def _update_status(self) -> None:
        snap = self.snapshot()
        # The title says where the run is, also to scripts and the task bar.
        self.setWindowTitle(
            f"sgd_viewer — {self._data.name} — step {snap['step']:,} ({snap['status']})"
        )
        self.readouts.show_status(
            snap["status"], snap["message"] if snap["status"] == "diverged" else ""
        )
        self.readouts.show_state(
            self.problem,
            self._config.reduction,
            snap["step"],
            snap["epoch"],
            snap["a"],
            snap["b"],
            self._config.lr,
            snap["progress"],
            snap["lr_now"],
        )
        self.runs_panel.show_runs(snap["runs"], self.session.selected)

    # ------------------------------------------------------------ queries
    def status(self) -> str:
        if not self._ready:
            return "loading"
        if self.session.run.diverged:
            return "diverged"
        if self._running:
            return "running"
        return "paused" if self.session.latest_step else "ready"

    def snapshot(self) -> dict:
        """What the window shows now, as plain Python values (the selected
        run's at the shown step, and every run under ``runs``)."""
        session, run, config = self.session, self.session.run, self._config
        a, b = session.shown_parameters(run)
        if self._dragging:
            a, b = self._drag_position
        row = run.row_at(session.shown_step)
        lr_now = row.get("lr", config.lr) if row else config.lr
        return {
            "step": session.shown_step,
            "latest_step": session.latest_step,
            "epoch": int(row["epoch"]) if row else 0,
            "a": float(a),
            "b": float(b),
            "loss": float(self.problem.loss(a, b, config.reduction)),
            "running": self._running,
            "status": self.status(),
            "message": run.message,
            "progress": presenter.progress(run, session),
            "start": tuple(session.start),
            "optimizer": config.optimizer,
            "lr": config.lr,
            "lr_now": float(lr_now),
            "schedule": config.schedule,
            "batch_size": config.batch_size,
            "reduction": config.reduction,
            "n": self._data.n,
            "data": self._data.name,
            "ready": self._ready,
            "selected": session.selected,
            "runs": presenter.run_rows(session, self._running),
        }

    @property
    def history(self) -> History:
        """The selected run's history."""
        return self.session.run.history

    @property
    def problem(self) -> Problem:
        return self.session.problem

    @property
    def _data(self) -> Dataset:
        return self.session.data

    @property
    def _config(self) -> TrainingConfig:
        return self.session.run.config

    @property
    def _generation(self) -> int:
        return self.session.generation

    @property
    def worker_thread(self) -> QThread | None:
        return self._thread

    def show_error(self, title: str, message: str) -> None:
        """Say what went wrong in a dialog that does not block the run."""
        self.last_error = message
        _show_error(self, title, message)

    def show_shortcuts(self) -> None:
        _show_shortcuts(self)

    # ----------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Stop the worker thread and wait for it: the one exit path."""
        if self._thread is None:
            return
        self._engine.shutdown()
        self._thread = None
        LIVE_WINDOWS.discard(self)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
