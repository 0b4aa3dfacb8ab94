"""File ▸ Export figure… and Export animation…, as a mixin of ``MainWindow``:
the dialogs, the file name, the progress dialog with Cancel, and the errors.

The pictures themselves come from ``figure_export`` (a widget as PNG or
SVG) and ``animation_export`` (a replay drawn offscreen, GIF or MP4).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

if TYPE_CHECKING:  # imported when first used: not needed to open the window
    from sgd_viewer.core.animation import AnimationJob, AnimationSettings
    from sgd_viewer.gui.animation_export import AnimationExporter
    from sgd_viewer.gui.figure_export import FigureDialog

#: Seconds between updates of the export's progress dialog.
PROGRESS_INTERVAL = 0.1
ANIMATION_FORMATS = {".gif": "GIF (plays everywhere)", ".mp4": "MP4 video (small)"}
ANIMATION_PARTS = {
    "plots": "The whole plot area",
    "fit": "The data and the fitted line",
    "surface": "The loss surface",
    "loss": "The loss curve",
}


def _filter(formats: dict[str, str], first: str) -> tuple[str, str]:
    """A file dialog's filter list with ``first`` chosen."""
    entries = {suffix: f"{text} (*{suffix})" for suffix, text in formats.items()}
    return ";;".join(entries.values()), entries[first]


def _spin(name: str, low: int, high: int, value: int, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setAccessibleName(name)
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSuffix(suffix)
    spin.setGroupSeparatorShown(True)
    return spin


class AnimationDialog(QDialog):
    """Frames, steps per frame, frame rate, size, what and format of an
    animation; the file name is asked for after."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("exportAnimationDialog")
        self.setWindowTitle("Export animation")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        from sgd_viewer.core import animation
        from sgd_viewer.gui.figure_export import save_buttons

        self.frames_spin = _spin(
            "animationFramesSpin", 2, animation.MAX_FRAMES, animation.DEFAULT_FRAMES
        )
        self.steps_spin = _spin(
            "animationStepsSpin",
            1,
            animation.MAX_STEPS,
            animation.DEFAULT_STEPS_PER_FRAME,
        )
        self.fps_spin = _spin(
            "animationFpsSpin", 1, animation.MAX_FPS, animation.DEFAULT_FPS, " fps"
        )
        low, high = animation.MIN_SIZE, animation.MAX_SIZE
        width, height = animation.DEFAULT_SIZE
        self.width_spin = _spin("animationWidthSpin", low[0], high[0], width, " px")
        self.height_spin = _spin("animationHeightSpin", low[1], high[1], height, " px")
        self.what_combo = _combo("animationWhatCombo", ANIMATION_PARTS)
        self.format_combo = _combo("animationFormatCombo", ANIMATION_FORMATS)
        self.summary = QLabel()
        self.summary.setObjectName("animationSummary")
        size = QHBoxLayout()
        size.addWidget(self.width_spin)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_spin)
        form = QFormLayout(self)
        form.addRow("Frames", self.frames_spin)
        form.addRow("Steps per frame", self.steps_spin)
        form.addRow("Frame rate", self.fps_spin)
        form.addRow("Size", size)
        form.addRow("Show", self.what_combo)
        form.addRow("Format", self.format_combo)
        form.addRow(self.summary)
        form.addRow(save_buttons(self, "animationButtons"))
        for spin in (self.frames_spin, self.steps_spin, self.fps_spin):
            spin.valueChanged.connect(self._summarise)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    def _format_changed(self) -> None:
        # Browsers slow GIF frames shorter than 20 ms down: at most 50 fps.
        from sgd_viewer.core import animation

        gif = self.suffix == ".gif"
        self.fps_spin.setMaximum(animation.MAX_GIF_FPS if gif else animation.MAX_FPS)
        self._summarise()

    def _summarise(self) -> None:
        settings = self.settings
        seconds = settings.frames / settings.fps
        self.summary.setText(
            f"Steps 0 to {settings.total_steps:,}, {seconds:.1f} s at "
            f"{settings.fps} frames a second"
        )

    @property
    def settings(self) -> AnimationSettings:
        from sgd_viewer.core.animation import AnimationSettings

        return AnimationSettings(
            self.frames_spin.value(),
            self.steps_spin.value(),
            self.fps_spin.value(),
            (self.width_spin.value(), self.height_spin.value()),
            self.what_combo.currentData(),
        )

    @property
    def suffix(self) -> str:
        return self.format_combo.currentData()


def _combo(name: str, choices: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(name)
    for value, text in choices.items():
        combo.addItem(text, value)
    return combo


class ExportActions:
    """Pictures of the window: figures (PNG, SVG) and animations (GIF, MP4)."""

    _animation_export: AnimationExporter | None = None
    _animation_progress: QProgressDialog | None = None
    _animation_progress_shown = 0.0

    # ------------------------------------------------------------- figures
    def export_figure(
        self, path: str | None = None, *, what: str = "plots", scale: float = 1.0
    ) -> bool:
        """Write a figure of ``what`` (``"plots"``, ``"fit"``, ``"surface"``,
        ``"loss"`` or ``"window"``): PNG at ``scale`` device pixels a pixel,
        or SVG, by ``path``'s suffix. Without a path, the Export figure
        dialog opens (and nothing is written yet: ``False``). Whether the
        file was written; a failure is shown, in one line."""
        from sgd_viewer.gui.figure_export import FigureDialog, FigureError, write_figure

        if path is None:
            dialog = FigureDialog(self, what)
            dialog.accepted.connect(lambda: self._figure_chosen(dialog))
            dialog.open()
            return False
        parts = {
            "plots": self.plot_area,
            "fit": self.fit_view,
            "surface": self.surface_view,
            # The loss curve with the lr strip under it, when it shows.
            "loss": self.loss_view.parentWidget(),
            "window": self,
        }
        if what not in parts:
            self.show_error(
                "Cannot export the figure",
                f"unknown part {what!r} (choose one of: {', '.join(parts)})",
            )
            return False
        self.settle_views()
        try:
            write_figure(parts[what], path, scale)
        except FigureError as error:
            self.show_error("Cannot export the figure", str(error))
            return False
        self.statusBar().showMessage(f"Wrote {path}", 5000)
        return True

    def _figure_chosen(self, dialog: FigureDialog) -> None:
        from sgd_viewer.gui.figure_export import FORMATS

        suffix = dialog.suffix
        path = self._ask_export_path("Export figure", FORMATS, suffix, dialog.what)
        if path:
            self.export_figure(path, what=dialog.what, scale=dialog.scale)

    def _ask_export_path(
        self, title: str, formats: dict[str, str], suffix: str, what: str
    ) -> str | None:
        """A file name to write (``pick_path`` in tests); a name without a
        suffix gets the chosen format's."""
        if self.pick_path is not None:
            path = self.pick_path(title, True)
        else:
            folder = Path(self.session_path).parent if self.session_path else Path()
            name = str(folder / f"sgd-viewer-{what}{suffix}")
            filters, chosen = _filter(formats, suffix)
            path, _ = QFileDialog.getSaveFileName(self, title, name, filters, chosen)
        if path and not Path(path).suffix:
            path += suffix
        return path or None

    # ---------------------------------------------------------- animations
    @property
    def animation_export(self) -> AnimationExporter:
        """The exporter: its signals (``progressed``, ``finished``,
        ``failed``, ``cancelled``) say how an export goes."""
        if self._animation_export is None:
            from sgd_viewer.gui.animation_export import AnimationExporter

            self._animation_export = AnimationExporter(self)
            exporter = self._animation_export
            exporter.progressed.connect(self._animation_progressed)
            exporter.finished.connect(self._animation_finished)
            exporter.failed.connect(self._animation_failed)
            exporter.cancelled.connect(self._close_animation_progress)
        return self._animation_export

    def export_animation(
        self,
        path: str | None = None,
        *,
        frames: int | None = None,
        steps_per_frame: int | None = None,
        fps: int | None = None,
        size: tuple[int, int] | None = None,
        what: str = "plots",
    ) -> bool:
        """Export the runs as a GIF or MP4 (by ``path``'s suffix): ``frames``
        frames, frame ``i`` at step ``i·steps_per_frame``, replayed from the
        recipes and drawn offscreen while the window goes on. Without a path
        the Export animation dialog opens (``False``). With one, whether the
        export started: :attr:`animation_export` says when it ends; a
        refusal is shown, in one line. Settings left ``None`` take
        ``core.animation.AnimationSettings``' defaults."""
        if path is None:
            dialog = AnimationDialog(self)
            dialog.accepted.connect(lambda: self._animation_chosen(dialog))
            dialog.open()
            return False
        from sgd_viewer.core import animation

        given = {
            "frames": frames,
            "steps_per_frame": steps_per_frame,
            "fps": fps,
            "size": None if size is None else tuple(size),
        }
        settings = animation.AnimationSettings(
            what=what,
            **{key: value for key, value in given.items() if value is not None},
        )
        job = animation.job_from_session(self.session, path, settings)
        try:
            self.animation_export.start(job)
        except animation.AnimationError as error:
            self.show_error("Cannot export the animation", str(error))
            return False
        self._show_animation_progress(job)
        return True

    def _animation_chosen(self, dialog: AnimationDialog) -> None:
        settings = dialog.settings
        path = self._ask_export_path(
            "Export animation", ANIMATION_FORMATS, dialog.suffix, settings.what
        )
        if path:
            self.export_animation(
                path,
                frames=settings.frames,
                steps_per_frame=settings.steps_per_frame,
                fps=settings.fps,
                size=settings.size,
                what=settings.what,
            )

    def cancel_animation_export(self) -> None:
        """Stop the export under way (its file is not written)."""
        self.animation_export.cancel()

    def _show_animation_progress(self, job: AnimationJob) -> None:
        self._close_animation_progress()
        frames = job.settings.frames
        progress = QProgressDialog(
            f"Drawing {frames} frames for {Path(job.path).name}…",
            "Cancel",
            0,
            frames,
            self,
        )
        progress.setObjectName("animationProgressDialog")
        progress.setWindowTitle("Export animation")
        # Not modal: the window stays usable while the frames are drawn.
        progress.setWindowModality(Qt.WindowModality.NonModal)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setMinimumDuration(0)
        progress.canceled.connect(self.cancel_animation_export)
        progress.show()
        self._animation_progress = progress

    def _animation_progressed(self, done: int, total: int) -> None:
        progress = self._animation_progress
        if progress is None:
            return
        # Ten updates a second are plenty, and each is a repaint between two
        # frames of the export.
        now = time.monotonic()
        if done < total and now - self._animation_progress_shown < PROGRESS_INTERVAL:
            return
        self._animation_progress_shown = now
        progress.setValue(done)
        if done == total:
            progress.setLabelText("Writing the file…")

    def _animation_finished(self, path: str) -> None:
        self._close_animation_progress()
        self.statusBar().showMessage(f"Wrote {path}", 5000)

    def _animation_failed(self, message: str) -> None:
        self._close_animation_progress()
        self.show_error("Cannot export the animation", message)

    def _close_animation_progress(self) -> None:
        progress, self._animation_progress = self._animation_progress, None
        if progress is not None:
            progress.canceled.disconnect(self.cancel_animation_export)
            progress.close()
            progress.deleteLater()
