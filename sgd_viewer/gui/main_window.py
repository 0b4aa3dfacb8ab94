"""The main window: composes the views and controls and wires them to the worker.

Wiring only: the numbers come from ``core`` (the problem, the history), the
steps from the :class:`~sgd_viewer.gui.worker.TrainerWorker` on its own thread,
the pixels from the views. The window owns that thread and stops it on the one
shutdown path (:meth:`MainWindow.shutdown`) that closing and tests share.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sgd_viewer.core.config import TrainingConfig, needs_reset
from sgd_viewer.core.data import (
    DataError,
    Dataset,
    bundled_dataset_names,
    generate,
    load_bundled,
    load_csv,
)
from sgd_viewer.core.history import History, StepBatch
from sgd_viewer.core.problem import Problem
from sgd_viewer.core.progress import assess_progress
from sgd_viewer.gui.column_dialog import choose_columns
from sgd_viewer.gui.controls import ControlPanel
from sgd_viewer.gui.fit_view import FitView
from sgd_viewer.gui.frame_sync import draw_now
from sgd_viewer.gui.loss_view import LossView
from sgd_viewer.gui.readouts import ReadoutPanel
from sgd_viewer.gui.surface_view import MAX_PATH_VERTICES, SurfaceView
from sgd_viewer.gui.worker import TrainerWorker

DEFAULT_START = (-1.0, 1.0)
#: Seconds between readout (and title) updates during a run.
READOUT_INTERVAL = 0.1

#: Windows whose worker thread is running; emptied by :meth:`MainWindow.shutdown`.
#: Lets tests prove that no window leaves a thread behind.
LIVE_WINDOWS: set[MainWindow] = set()

SHORTCUTS = (
    ("Run / pause", "Space"),
    ("Step", "→ or S"),
    ("Reset to the start", "R"),
    ("Regenerate data", "G"),
    ("Open a CSV file", "Ctrl+O"),
    ("Keyboard shortcuts", "F1"),
    ("Quit", "Ctrl+Q"),
)


class MainWindow(QMainWindow):
    """The sgd_viewer window.

    Parameters
    ----------
    data, config, start
        What to fit, how, and from where (defaults: the lesson's data, SGD with
        lr 0.01 on the mean squared error, from (-1, 1)).
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

    # Requests to the worker: queued, since it lives on another thread.
    _step_requested = Signal(int)
    _run_requested = Signal()
    _pause_requested = Signal()
    _reset_requested = Signal(int, float, float)
    _config_requested = Signal(int, object)
    _data_requested = Signal(int, object)
    _speed_requested = Signal(float)
    _preview_requested = Signal(int, float, float)

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
        self._data = data if data is not None else generate()
        self._config = config or TrainingConfig()
        self._start = tuple(float(v) for v in (start or DEFAULT_START))
        self._problem = Problem.from_data(self._data.x, self._data.y)
        self._history = History()
        self._generation = 0
        self._preview_id = 0
        self._ready = False
        self._running = False
        self._dragging = False
        self._message = ""
        self._shown = self._start
        self._readouts_shown_at = 0.0
        self._pick_csv = pick_csv or _ask_for_csv
        self.last_error: str | None = None

        self._build_widgets()
        self._build_actions()
        self._start_worker(speed)
        self.controls.set_config(self._config)
        self.controls.speed_spin.setValue(int(speed))
        self._show_dataset()
        self._refresh_views()

    # ------------------------------------------------------------ building
    def _build_widgets(self) -> None:
        self.fit_view = FitView()
        self.surface_view = SurfaceView()
        self.loss_view = LossView()
        self.controls = ControlPanel(bundled_dataset_names())
        self.readouts = ReadoutPanel()
        self.banner = QLabel()
        self.banner.setObjectName("divergenceBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "background: #fde7e9; color: #8c1d18; border: 1px solid #b3261e;"
            "padding: 6px; font-weight: bold;"
        )
        self.banner.hide()

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.controls)
        side_layout.addWidget(self.readouts)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        # As wide as the controls want plus a scrollbar, so a short screen
        # scrolls the panel instead of cropping its right edge.
        scroll.setMinimumWidth(
            side.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4
        )
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.fit_view)
        top.addWidget(self.surface_view)
        top.setSizes([500, 600])
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(top)
        plots.addWidget(self.loss_view)
        plots.setSizes([600, 260])
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(plots, 1)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(scroll)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([360, 1040])
        self.setCentralWidget(main)
        self.statusBar().showMessage("Loading the training engine (torch)…")
        self._plot_scenes = [
            view.scene() for view in (self.fit_view, self.surface_view, self.loss_view)
        ]

        c = self.controls
        c.step_requested.connect(self.step)
        c.run_toggled.connect(self._on_run_toggled)
        c.reset_requested.connect(self.reset)
        c.speed_changed.connect(self._speed_requested)
        c.config_changed.connect(self.apply_config)
        c.generate_requested.connect(self._on_generate_requested)
        c.dataset_requested.connect(self.load_dataset)
        c.open_csv_requested.connect(self.open_csv)
        c.residuals_toggled.connect(self.fit_view.set_residuals_visible)
        self.surface_view.start_dragging.connect(self._on_start_dragging)
        self.surface_view.start_dropped.connect(self.set_start)
        self.controls.set_ready(False)

    def _build_actions(self) -> None:
        def action(text, shortcuts, slot, menu, name):
            act = QAction(text, self)
            act.setObjectName(name)
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            menu.addAction(act)
            self.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        action("&Open CSV…", ["Ctrl+O"], self.open_csv, file_menu, "openAction")
        action(
            "&Regenerate data", ["G"], self._regenerate, file_menu, "regenerateAction"
        )
        file_menu.addSeparator()
        action("&Quit", ["Ctrl+Q"], self.close, file_menu, "quitAction")
        run_menu = self.menuBar().addMenu("&Run")
        self.run_action = action(
            "Run / &pause", ["Space"], self.toggle_run, run_menu, "runAction"
        )
        self.step_action = action(
            "&Step", ["Right", "S"], self._step_from_keyboard, run_menu, "stepAction"
        )
        action("R&eset", ["R"], self.reset, run_menu, "resetAction")
        help_menu = self.menuBar().addMenu("&Help")
        action(
            "&Keyboard shortcuts", ["F1"], self.show_shortcuts, help_menu, "helpAction"
        )
        action("&About sgd_viewer", [], self._show_about, help_menu, "aboutAction")

    def _start_worker(self, speed: float) -> None:
        self._thread = QThread()
        self._thread.setObjectName("trainerThread")
        self._worker = TrainerWorker(self._data, self._config, self._start)
        self._worker.set_speed(speed)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.initialize)
        # Runs in the worker thread after its event loop ends: the worker's
        # timer must be stopped by its own thread.
        self._thread.finished.connect(
            self._worker.shutdown, Qt.ConnectionType.DirectConnection
        )
        self._step_requested.connect(self._worker.step)
        self._run_requested.connect(self._worker.run)
        self._pause_requested.connect(self._worker.pause)
        self._reset_requested.connect(self._worker.reset)
        self._config_requested.connect(self._worker.set_config)
        self._data_requested.connect(self._worker.set_data)
        self._speed_requested.connect(self._worker.set_speed)
        self._preview_requested.connect(self._worker.preview)
        self._worker.ready.connect(self._on_engine_ready)
        self._worker.steps_ready.connect(self._on_steps)
        self._worker.run_state_changed.connect(self._on_run_state)
        self._worker.preview_ready.connect(self._on_preview)
        self._worker.errored.connect(self._on_worker_error)
        LIVE_WINDOWS.add(self)
        # torch's import (1.5 s of Python) would fight the first paint for the
        # GIL: the thread starts once the window has painted, or after a second
        # if it is never shown (a script driving an unshown window).
        self._first_paint_watch = _FirstPaint(self, self._thread.start)
        self.installEventFilter(self._first_paint_watch)
        QTimer.singleShot(1000, self._first_paint_watch.fire)

    # ------------------------------------------------------------ commands
    @Slot(int)
    def step(self, count: int = 1) -> None:
        """Take ``count`` steps (pausing a run first)."""
        if not self._ready:
            return
        if self._running:
            self._worker.request_pause()
        self._step_requested.emit(int(count))

    def _step_from_keyboard(self) -> None:
        self.step(self.controls.step_count_spin.value())

    @Slot()
    def toggle_run(self) -> None:
        """Run if paused, pause if running."""
        if self._running:
            self.pause()
        else:
            self.run()

    def run(self) -> None:
        if not self._ready or self._message:
            return
        self._running = True
        self.controls.set_running(True)
        self._run_requested.emit()
        self._update_status()

    def pause(self) -> None:
        self._worker.request_pause()
        # The event stops a running loop at once; the queued request, behind
        # any run request still in flight, makes sure that run stops too.
        self._pause_requested.emit()
        self._running = False
        self.controls.set_running(False)
        self._update_status()

    def _on_run_toggled(self, checked: bool) -> None:
        if checked:
            self.run()
            if not self._running:  # refused (engine loading or diverged)
                self.controls.set_running(False)
        else:
            self.pause()

    @Slot()
    def reset(self) -> None:
        """Back to the start (the one the user chose), path cleared."""
        self._restart_run()
        self._reset_requested.emit(self._generation, *self._start)

    @Slot(float, float)
    def set_start(self, a: float, b: float) -> None:
        """Start descent from ``(a, b)``: the run restarts there, running on if
        it was running."""
        if not (math.isfinite(a) and math.isfinite(b)):
            return
        self._dragging = False
        self._start = (float(a), float(b))
        self.surface_view.set_preview(None, None)
        self.surface_view.set_start(a, b)
        self.reset()

    def _restart_run(self) -> None:
        self._generation += 1
        self._history.clear()
        self._message = ""
        self.banner.hide()
        self._shown = self._start
        self._refresh_views()

    @Slot(object)
    def apply_config(self, config: TrainingConfig) -> None:
        """New optimizer settings: mid-run for lr and knobs, a restart otherwise."""
        old, self._config = self._config, config
        if needs_reset(old, config):
            self._restart_run()
        if old.reduction != config.reduction:
            self._show_surface()
        self._config_requested.emit(self._generation, config)
        self._refresh_views()

    # --------------------------------------------------------------- data
    def _regenerate(self) -> None:
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
        self._data = data
        self._problem = Problem.from_data(data.x, data.y)
        self.pause()
        self._restart_run()
        self._data_requested.emit(self._generation, data)
        self._show_dataset()
        # Fewer points than the batch size: the box has clamped it to n.
        if self.controls.config() != self._config:
            self.apply_config(self.controls.config())
        self._refresh_views()
        return True

    def _dataset_key(self) -> str:
        source = self._data.source
        return (
            source.removeprefix("bundled:")
            if source.startswith("bundled:")
            else ("" if self._data.is_generated else self._data.name)
        )

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
        self.surface_view.set_problem(self._problem, reduction, self._start)
        self.loss_view.set_optimum(self._problem.loss_opt(reduction))

    # --------------------------------------------------------- from worker
    @Slot(str)
    def _on_engine_ready(self, torch_version: str) -> None:
        self._ready = True
        self.controls.set_ready(True)
        self.statusBar().showMessage(f"Engine ready (torch {torch_version}).", 5000)
        self._update_status()
        self.engine_ready.emit()

    @Slot(int, object)
    def _on_steps(self, generation: int, batch: StepBatch) -> None:
        try:
            self._show_steps(generation, batch)
        finally:
            # The worker waits for this (worker.FRAME_WAIT_SECONDS at most).
            self._worker.frame_shown.set()

    def _show_steps(self, generation: int, batch: StepBatch) -> None:
        if generation != self._generation:
            return  # steps of a run the user has since restarted
        self._history.append(batch)
        if batch.diverged:
            self._message = batch.message
            self.banner.setText(f"⚠ {batch.message}")
            self.banner.show()
            self._running = False
            self.controls.set_running(False)
        last = self._history.last()
        if last is not None and not self._dragging:
            self._shown = (float(last["a"]), float(last["b"]))
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

    # -------------------------------------------------------------- drag
    @Slot(float, float)
    def _on_start_dragging(self, a: float, b: float) -> None:
        """Live feedback while the handle moves: its line and its future path."""
        self._dragging = True
        self._shown = (a, b)
        self.fit_view.set_line(a, b)
        self._preview_id += 1
        self._worker.latest_preview_id = self._preview_id
        self._preview_requested.emit(self._preview_id, a, b)
        self.state_changed.emit()

    # ------------------------------------------------------------ drawing
    def _refresh_views(self) -> None:
        """Push the history's state to every view (at most ~60 times a second)."""
        a0, b0 = self._start
        history = self._history
        if len(history):
            idx = history.display_indices(MAX_PATH_VERTICES)
            cols = {n: history.take(n, idx) for n in ("step", "a", "b", "loss")}
            path_a, path_b = np.r_[a0, cols["a"]], np.r_[b0, cols["b"]]
            steps = np.r_[0, cols["step"]]
            losses = np.r_[
                self._problem.loss(a0, b0, self._config.reduction), cols["loss"]
            ]
            batch_losses = None
            if self._config.effective_batch_size(self._problem.n) is not None:
                batch_losses = np.r_[losses[0], history.take("batch_loss", idx)]
        else:
            path_a, path_b = np.array([a0]), np.array([b0])
            steps = np.array([0])
            losses = np.array([self._problem.loss(a0, b0, self._config.reduction)])
            batch_losses = None
        self.surface_view.set_path(path_a, path_b)
        a, b = self._shown
        if not self._dragging:
            self.surface_view.set_current(path_a[-1], path_b[-1])
            self.fit_view.set_line(a, b)
        self.loss_view.set_curve(steps, losses, batch_losses)
        # While running, numbers change faster than anyone reads them: ten
        # updates a second are plenty and leave the frame to the plots. When
        # the run stops (_on_run_state) they are brought up to date at once.
        now = time.perf_counter()
        if not self._running or now - self._readouts_shown_at >= READOUT_INTERVAL:
            self._readouts_shown_at = now
            self._update_status()
        self.state_changed.emit()

    def _progress(self) -> str:
        if self._message:
            return "diverged"
        reduction = self._config.reduction
        tail = self._history.tail("loss", 200)
        start_loss = float(self._problem.loss(*self._start, reduction))
        return assess_progress(tail, self._problem.loss_opt(reduction), start_loss)

    def _update_status(self) -> None:
        snap = self.snapshot()
        # The title says where the run is, also to scripts and the task bar.
        self.setWindowTitle(
            f"sgd_viewer — {self._data.name} — step {snap['step']:,} ({snap['status']})"
        )
        self.readouts.show_status(
            snap["status"], self._message if snap["status"] == "diverged" else ""
        )
        a, b = snap["a"], snap["b"]
        self.readouts.show_state(
            self._problem,
            self._config.reduction,
            snap["step"],
            snap["epoch"],
            a,
            b,
            self._config.lr,
            snap["progress"],
        )

    # ------------------------------------------------------------ queries
    def status(self) -> str:
        if not self._ready:
            return "loading"
        if self._message:
            return "diverged"
        if self._running:
            return "running"
        return "paused" if len(self._history) else "ready"

    def snapshot(self) -> dict:
        """What the window shows now, as plain Python values."""
        last = self._history.last()
        step = int(last["step"]) if last else 0
        epoch = int(last["epoch"]) if last else 0
        a, b = self._shown
        return {
            "step": step,
            "epoch": epoch,
            "a": float(a),
            "b": float(b),
            "loss": float(self._problem.loss(a, b, self._config.reduction)),
            "running": self._running,
            "status": self.status(),
            "message": self._message,
            "progress": self._progress(),
            "start": tuple(self._start),
            "optimizer": self._config.optimizer,
            "lr": self._config.lr,
            "batch_size": self._config.batch_size,
            "reduction": self._config.reduction,
            "n": self._data.n,
            "data": self._data.name,
            "ready": self._ready,
        }

    @property
    def history(self) -> History:
        return self._history

    @property
    def problem(self) -> Problem:
        return self._problem

    @property
    def worker_thread(self) -> QThread:
        return self._thread

    # ------------------------------------------------------------ dialogs
    def show_error(self, title: str, message: str) -> None:
        """Say what went wrong in a dialog that does not block the run."""
        self.last_error = message
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        box.setObjectName("errorDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td>{what}</td><td><b>{keys}</b></td></tr>"
            for what, keys in SHORTCUTS
        )
        box = QMessageBox(self)
        box.setObjectName("shortcutsDialog")
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table cellspacing='6'>{rows}</table>")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _show_about(self) -> None:
        box = QMessageBox(self)
        box.setObjectName("aboutDialog")
        box.setWindowTitle("About sgd_viewer")
        box.setText(
            "sgd_viewer fits a line y = a·x + b by gradient descent (torch autograd "
            "and torch.optim) and shows every step: the line on the data, the path "
            "on the loss surface L(a, b), and the loss curve.\n\nDrag the orange "
            "start handle on the surface to choose where descent begins."
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ----------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Stop the worker thread and wait for it: the one exit path."""
        if self._thread is None:
            return
        self._first_paint_watch.cancel()  # a thread not yet started stays so
        self._worker.request_pause()
        self._thread.quit()
        self._thread.wait()
        self._thread = None
        LIVE_WINDOWS.discard(self)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)


def _ask_for_csv(parent: QWidget) -> str | None:
    path, _ = QFileDialog.getOpenFileName(
        parent,
        "Open a CSV file",
        "",
        "CSV and text files (*.csv *.txt *.tsv);;All files (*)",
    )
    return path or None


class _FirstPaint(QObject):
    """Calls ``action`` once, after the watched widget's first paint."""

    def __init__(self, parent: QWidget, action: Callable[[], None]) -> None:
        super().__init__(parent)
        self._action: Callable[[], None] | None = action

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and self._action is not None:
            # After this paint has finished, not in the middle of it.
            QTimer.singleShot(0, self.fire)
        return False

    def cancel(self) -> None:
        self._action = None

    def fire(self) -> None:
        action, self._action = self._action, None
        # Done watching: every later event of the window would pass through
        # this Python filter for nothing.
        self.parent().removeEventFilter(self)
        if action is not None:
            action()
