"""Animations of the runs, rendered offscreen: a second, hidden set of views
driven by a replay of the recipes, one frame at a time (DESIGN.md §11).

Never grabs of the live window: those would depend on the user's screen,
size and timing, and on whatever else the window shows at that moment. Here
a fresh :class:`~sgd_viewer.core.session.Session` takes each run's replayed
steps up to frame ``i``'s step ``i·K`` (only those: nothing of the future is
drawn, not even faintly), ``presenter.draw`` feeds the hidden views, and the
views' container renders itself into an image of exactly the asked size.

Before the first frame the views are framed once for the whole animation
(every path, every line and the loss curve to the last step) and then kept
still: axes that jumped as the runs went would make the animation shake,
and a still frame keeps the heatmap and the scatter cached between frames.

:class:`AnimationExporter` drives the work from a ``QTimer`` on the GUI
thread, a slice at a time between events (the window stays usable), while
the encoder writes on a thread of its own (``core.animation``);
:func:`render_animation` does the same work in one go, for the command line
and the bench.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QGraphicsView, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from sgd_viewer.core.animation import (
    AnimationError,
    AnimationJob,
    BackgroundEncoder,
    GifEncoder,
    open_encoder,
    replay_chunks,
    rows_between,
)
from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.history import StepBatch
from sgd_viewer.core.session import Session
from sgd_viewer.gui import presenter
from sgd_viewer.gui.fit_view import TRUE_LINE_COLOUR, FitView
from sgd_viewer.gui.loss_view import LossView
from sgd_viewer.gui.lr_strip import LrStrip
from sgd_viewer.gui.surface_view import (
    ARROW_COLOUR,
    OPTIMUM_COLOUR,
    START_COLOUR,
    SurfaceView,
)

#: Colours a GIF's palette holds exactly (besides the runs'): lines and
#: markers thin enough for median cut to merge into the heatmap's colours.
EXACT_COLOURS = (
    "#ffffff",
    "#000000",
    ARROW_COLOUR,
    OPTIMUM_COLOUR,
    START_COLOUR,
    TRUE_LINE_COLOUR,
)
#: Seconds a slice of work may wait for the encoder before giving the
#: window its events back.
WAIT_SLICE_S = 0.02


class OffscreenPlots:
    """The views an animation is drawn with, in a container that is never on
    screen, laid out at the frame's size: the plot area (data and surface
    side by side, the loss curve under them) or one plot, under a header
    that names the step and the runs."""

    def __init__(self, what: str, size: tuple[int, int]) -> None:
        self.size = size
        self.fit_view = FitView()
        self.surface_view = SurfaceView()
        self.loss_view = LossView()
        self.lr_strip = LrStrip(self.loss_view)
        self.views = (self.fit_view, self.surface_view, self.loss_view, self.lr_strip)
        for view in self.views:
            # Frames are taken with render(): a repaint of the hidden views
            # by the event loop after every change (2 ms a frame) is waste.
            view.setViewportUpdateMode(
                QGraphicsView.ViewportUpdateMode.NoViewportUpdate
            )
        self.widget = QWidget()
        self.widget.setObjectName("animationFrame")
        # Laid out and painted like a shown window, but never put on a screen.
        self.widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        palette = self.widget.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("white"))
        self.widget.setPalette(palette)
        self.widget.setAutoFillBackground(True)
        self.header = QLabel()
        self.header.setObjectName("animationHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        # The views left out still get drawn on (presenter.draw feeds all
        # four): they live in a widget that is never shown, so that none of
        # them (the lr strip shows itself) can become a window of its own.
        self._spare = QWidget()
        if what == "plots":
            top = QHBoxLayout()
            top.setSpacing(6)
            # The window's proportions (window_layout: 500 : 600, 600 : 260).
            top.addWidget(self.fit_view, 5)
            top.addWidget(self.surface_view, 6)
            layout.addLayout(top, 7)
            layout.addWidget(self.loss_view, 3)
            # As in the window: the loss curve keeps room for its axes.
            self.loss_view.setMinimumHeight(150)
        else:
            part = {"fit": self.fit_view, "surface": self.surface_view}
            layout.addWidget(part.get(what, self.loss_view), 1)
        # The lr strip shows and hides itself as the lr moves or not; in a
        # holder of its own height the plots above never change size for it.
        self.lr_holder = QWidget()
        self.lr_holder.setFixedHeight(self.lr_strip.height())
        QVBoxLayout(self.lr_holder).setContentsMargins(0, 0, 0, 0)
        self.lr_holder.layout().addWidget(self.lr_strip)
        if what in ("plots", "loss"):
            layout.addWidget(self.lr_holder)
        else:
            self.lr_holder.setParent(self._spare)
        for view in (self.fit_view, self.surface_view, self.loss_view):
            if view.parent() is None:
                view.setParent(self._spare)
        self.widget.resize(*size)
        self.widget.show()

    def settle(self) -> None:
        """Finish the framings and bring every transform and layout up to
        date: the image shows what a paint would (``settle_views`` of the
        window does the same)."""
        self.fit_view.framing.finish()
        self.surface_view.framing.finish()
        for view in self.views:
            view.getPlotItem().getViewBox().updateMatrix()
        # Layouts (legends, axes) change through posted requests: run just
        # those, not a whole processEvents that could deliver other events.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

    def grab(self) -> np.ndarray:
        """The container as a ``height × width × 3`` RGB array."""
        width, height = self.size
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(Qt.GlobalColor.white)
        self.widget.render(image)
        rgb = image.convertToFormat(QImage.Format.Format_RGB888)
        rows = np.frombuffer(rgb.constBits(), np.uint8).reshape(
            height, rgb.bytesPerLine()
        )
        return rows[:, : width * 3].reshape(height, width, 3).copy()

    def close(self) -> None:
        self.widget.close()
        self.widget.deleteLater()
        self._spare.deleteLater()


class FrameSource:
    """A job's runs replayed into a session of its own, drawn offscreen at
    each frame's step."""

    def __init__(self, job: AnimationJob) -> None:
        self.job = job
        self.settings = job.settings
        runs, selected = job.shown_runs()
        self.session = Session(job.data, job.start, [TrainingConfig()])
        # Labels as the window shows them (custom or not, they are the labels).
        self.session.restore(
            job.data,
            job.start,
            [(run.recipe, True, True) for run in runs],
            selected=selected,
            display=job.display,
        )
        self._recipes = {
            run.id: r.recipe for run, r in zip(self.session.runs, runs, strict=True)
        }
        self._steps: dict[int, StepBatch] = {}
        self.plots: OffscreenPlots | None = None
        self._loss_range: tuple[tuple[float, float], tuple[float, float]] | None = None
        #: The frame drawn last (-1: none yet).
        self._shown = -1

    # ------------------------------------------------------------ replay
    def replay(self) -> Iterator[None]:
        """Replay every run to the last frame's step, yielding between
        chunks of steps."""
        from sgd_viewer.core.trainer import Trainer

        total = self.settings.total_steps
        for run in self.session.runs:
            recipe = self._recipes[run.id]
            trainer = Trainer(
                self.job.data, recipe.config, self.job.start, self.session.problem
            )
            batches = []
            for batch in replay_chunks(trainer, recipe, total):
                batches.append(batch)
                yield
            self._steps[run.id] = StepBatch.concatenate(batches)

    def _record(self, after: int, upto: int) -> None:
        self.session.record(
            self.session.generation,
            {
                rid: rows_between(batch, after, upto)
                for rid, batch in self._steps.items()
            },
        )

    def _clear(self) -> None:
        for run in self.session.runs:
            run.history.clear()
            run.message = ""

    # ----------------------------------------------------------- framing
    def prime(self) -> np.ndarray:
        """Build the views, frame them for the whole animation and keep them
        so; returns the last frame (its colours make the GIF's palette)."""
        settings, session = self.settings, self.session
        plots = self.plots = OffscreenPlots(settings.what, self._size())
        display = session.display
        plots.fit_view.set_dataset(session.data)
        if display.residuals != "off":
            plots.fit_view.set_residual_style(display.residuals)
        if display.equal_aspect:
            plots.fit_view.set_equal_aspect(True)
        plots.surface_view.show_field(display.gradient_field)
        presenter.show_surface(plots.surface_view, plots.loss_view, session)
        total = settings.total_steps
        self._record(-1, total)
        self._draw(total)
        # Every run's line at every frame, not only the last ones: the start
        # is often far from the data.
        plots.fit_view.frame_lines(self._lines_of_every_frame())
        plots.settle()
        plots.surface_view.settle()
        plots.fit_view.framing.auto = False
        plots.surface_view.framing.auto = False
        (_, _), y_range = plots.loss_view.getPlotItem().getViewBox().viewRange()
        self._loss_range = ((0.0, float(max(total, 1))), (y_range[0], y_range[1]))
        self._hold_loss_range()
        # The loss view widens its axes as a curve grows, and starts them
        # anew when a curve is short (a reset): frame after frame it would
        # move them, and the axes would be laid out again each time (3 ms a
        # frame). Here they are fixed, so its fitting is switched off.
        plots.loss_view._fit_range = lambda *_: None
        # The lr strip's room stays for the whole animation if the last
        # frame needs it, and goes if it does not.
        plots.lr_holder.setVisible(plots.lr_strip.isVisibleTo(plots.lr_holder))
        plots.settle()
        # The strip's steps under the curve's: its left axis as wide as the
        # curve's, now that the curve's tick labels are known, and the same
        # steps across. Its link to the curve worked its range out while it
        # was hidden, a few pixels off; the range is fixed now: no link.
        loss_plot, strip = plots.loss_view.getPlotItem(), plots.lr_strip.getPlotItem()
        strip.getAxis("left").setWidth(loss_plot.getAxis("left").width())
        strip.setXLink(None)
        strip.setXRange(*loss_plot.getViewBox().viewRange()[0], padding=0)
        plots.settle()
        last = plots.grab()
        self._clear()
        self._shown = -1
        return last

    def _size(self) -> tuple[int, int]:
        return self.settings.frame_size(self.job.format)

    def _lines_of_every_frame(self) -> list[tuple[float, float]]:
        steps = np.asarray(self.settings.frame_steps())
        lines = []
        for batch in self._steps.values():
            at = np.searchsorted(batch.step, steps, side="right") - 1
            for row in at:
                if row < 0:
                    lines.append(self.job.start)
                else:
                    lines.append((float(batch.a[row]), float(batch.b[row])))
        return lines

    def _hold_loss_range(self) -> None:
        """The loss curve's axes as primed: the curve grows into them (the
        view alone would widen them as it goes)."""
        x_range, y_range = self._loss_range
        self.plots.loss_view.getPlotItem().getViewBox().setRange(
            xRange=x_range, yRange=y_range, padding=0.02
        )

    # ------------------------------------------------------------ frames
    def show_frame(self, index: int) -> int:
        """Draw frame ``index`` (its step ``index·K``); returns that step."""
        per_frame = self.settings.steps_per_frame
        step = index * per_frame
        self._record(self._shown * per_frame if self._shown >= 0 else -1, step)
        self._shown = index
        self._draw(step)
        self._hold_loss_range()
        self.plots.settle()
        return step

    def _draw(self, step: int) -> None:
        plots = self.plots
        plots.header.setText(self._header(step))
        presenter.draw(self.session, *plots.views, False)

    def _header(self, step: int) -> str:
        total = self.settings.total_steps
        runs = "&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{run.colour}'>&#9632;</span>&nbsp;"
            f"{html.escape(run.label)}" + (" (diverged)" if run.diverged else "")
            for run in self.session.runs
        )
        return f"<b>step {step:,}</b> of {total:,}&nbsp;&nbsp;&nbsp;&nbsp;{runs}"

    @property
    def shown_line(self) -> tuple[float, float] | None:
        """The selected run's line in the data view now (tests)."""
        return self.plots.fit_view.line_parameters if self.plots else None

    def close(self) -> None:
        if self.plots is not None:
            self.plots.close()
            self.plots = None


#: What a slice of work yields after a frame: ``(done, total, step, line)``,
#: ``line`` the selected run's ``(a, b)`` as drawn; ``None`` after others.
Progress = tuple[int, int, int, "tuple[float, float] | None"]


def _work(job: AnimationJob, wait_s: float | None) -> Iterator[Progress | None]:
    """The export as slices of work: replay, framing, one frame a slice, the
    file. ``wait_s`` bounds each wait for the encoder (``None``: as long as
    it takes). Closing the generator cancels: the part file goes."""
    settings = job.settings
    source = FrameSource(job)  # before the encoder's thread: nothing to undo
    encoder = open_encoder(job.path, settings.fps, settings.frame_size(job.format))
    background = BackgroundEncoder(encoder)
    try:
        yield from source.replay()
        last = source.prime()
        yield None
        for index in range(settings.frames):
            while not background.has_room(wait_s or 0.05):
                yield None
            if background.error:  # no use drawing frames nobody will write
                raise AnimationError(background.error)
            step = source.show_frame(index)
            frame = source.plots.grab()
            if index == 0 and isinstance(encoder, GifEncoder):
                runs = [run.recipe.colour for run in job.runs]
                encoder.use_palette_of([frame, last], [*runs, *EXACT_COLOURS])
            background.put(frame)
            yield index + 1, settings.frames, step, source.shown_line
        background.finish()
        while not background.wait(wait_s):
            yield None
        if background.error:
            raise AnimationError(background.error)
    except GeneratorExit:
        # Cancelled: after the file was complete too, it goes.
        if background.done and not background.error:
            Path(job.path).unlink(missing_ok=True)
        raise
    finally:
        source.close()
        background.abort()


def render_animation(job: AnimationJob, progress: Callable | None = None) -> None:
    """Write ``job``'s animation now (blocking; the command line and the
    bench); ``progress(done, total, step, line)`` after each frame. Raises
    :class:`AnimationError` with a one-line reason."""
    job.check()
    for report in _work(job, None):
        if report is not None and progress is not None:
            progress(*report)


def _one_line(error: Exception) -> str:
    if isinstance(error, AnimationError):
        return str(error)
    return f"{type(error).__name__}: {error}".splitlines()[0]


class AnimationExporter(QObject):
    """Exports one animation at a time, a slice of work per turn of the
    event loop.

    Signals
    -------
    progressed(int, int)
        Frames rendered so far, and in all.
    finished(str)
        The file is written (its path).
    failed(str)
        It could not be: the reason, in one line.
    cancelled()
        :meth:`cancel` stopped it; no file was left.
    """

    progressed = Signal(int, int)
    finished = Signal(str)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        self._work: Iterator[None] | None = None
        self.job: AnimationJob | None = None
        #: The step each frame of the current (or last) export showed, and
        #: the selected run's line drawn in it (for tests and scripts).
        self.frame_steps: list[int] = []
        self.frame_lines: list[tuple[float, float] | None] = []
        if isinstance(parent, QWidget):
            # Closing the window stops an export under way.
            parent.installEventFilter(self)

    @property
    def running(self) -> bool:
        return self._work is not None

    def start(self, job: AnimationJob) -> None:
        """Begin exporting ``job`` (``AnimationError`` when its settings or
        file cannot be used, or an export is under way)."""
        if self.running:
            raise AnimationError("an animation is being exported already")
        job.check()
        self.job = job
        self.frame_steps, self.frame_lines = [], []
        work = _work(job, WAIT_SLICE_S)
        try:
            next(work)  # opens the file now: a bad path fails here, not later
        except AnimationError:
            raise
        except Exception as error:  # the work cleaned up after itself
            raise AnimationError(_one_line(error)) from error
        self._work = work
        self._timer.start()

    def _tick(self) -> None:
        assert self._work is not None
        try:
            report = next(self._work)
            if report is not None:
                # Emitted outside the work: a slot may cancel it.
                done, total, step, line = report
                self.frame_steps.append(step)
                self.frame_lines.append(line)
                self.progressed.emit(done, total)
        except StopIteration:
            self._stop()
            self.finished.emit(self.job.path)
        except Exception as error:  # one line to the user, never a crash
            self._stop()
            self.failed.emit(_one_line(error))

    def cancel(self) -> None:
        """Stop the export under way; its file is not written."""
        if not self.running:
            return
        self._work.close()  # the work's cleanup drops the part file
        self._stop()
        self.cancelled.emit()

    def _stop(self) -> None:
        self._timer.stop()
        self._work = None

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Close and self.running:
            self.cancel()
        return False
