"""File ▸ Export animation…: GIF and MP4 frames from an offscreen replay of
the recipes, frame i at step i·K; Cancel; the window stays usable; the
dialog; refusals."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image, ImageSequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QProgressDialog,
    QPushButton,
)

from sgd_viewer.core.animation import GifEncoder
from sgd_viewer.core.recipe import play_recipe

SMALL = (320, 240)


def _frames(path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]


def _export(window, qtbot, path, **options) -> None:
    exporter = window.animation_export
    with qtbot.waitSignal(exporter.finished, timeout=60_000) as done:
        assert window.export_animation(str(path), **options)
        assert exporter.running
    assert done.args == [str(path)]


def _offscreen_frames() -> list:
    return [
        w for w in QApplication.topLevelWidgets() if w.objectName() == "animationFrame"
    ]


def test_gif_frame_i_shows_step_i_k_of_a_replay(window, qtbot, tmp_path):
    window.add_run("momentum:lr=0.05,momentum=0.9")
    path = tmp_path / "race.gif"
    _export(window, qtbot, path, frames=4, steps_per_frame=7, size=SMALL)
    frames = _frames(path)
    assert len(frames) == 4
    assert frames[0].shape == (SMALL[1], SMALL[0], 3)
    assert not np.array_equal(frames[0], frames[-1])
    exporter = window.animation_export
    assert exporter.frame_steps == [0, 7, 14, 21]
    # The selected run's line in frame i is where a fresh replay of its
    # recipe is after i·7 steps: bit for bit.
    session = window.session
    recipe = session.run.recipe()
    for step, line in zip(exporter.frame_steps, exporter.frame_lines, strict=True):
        trainer, _ = play_recipe(recipe, session.data, session.start, step)
        assert line == trainer.parameters, step
    qtbot.waitUntil(lambda: not _offscreen_frames())  # the hidden views go


def test_mp4_decodes_to_every_frame_at_an_even_size(window, qtbot, tmp_path):
    path = tmp_path / "run.mp4"
    _export(window, qtbot, path, frames=5, steps_per_frame=10, size=(333, 241))
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        assert stream.codec_context.name in ("h264", "mpeg4")
        decoded = [f.to_ndarray(format="rgb24") for f in video.decode(stream)]
    assert len(decoded) == 5
    assert decoded[0].shape == (240, 332, 3)  # yuv420p: rounded down to even
    assert np.abs(decoded[0].astype(int) - decoded[-1].astype(int)).mean() > 0.5


def test_cancel_stops_and_leaves_no_file(window, qtbot, tmp_path):
    path = tmp_path / "cancelled.gif"
    exporter = window.animation_export
    exporter.progressed.connect(lambda done, total: exporter.cancel())
    with qtbot.waitSignal(exporter.cancelled, timeout=60_000):
        assert window.export_animation(str(path), frames=60, size=SMALL)
    assert not exporter.running
    assert len(exporter.frame_steps) == 1  # it stopped at the first frame
    assert list(tmp_path.iterdir()) == []  # neither the file nor its .part
    qtbot.waitUntil(
        lambda: window.findChild(QProgressDialog, "animationProgressDialog") is None
    )
    qtbot.waitUntil(lambda: not _offscreen_frames())


def test_the_progress_dialogs_cancel_button_cancels(window, qtbot, tmp_path):
    path = tmp_path / "cancelled.mp4"
    exporter = window.animation_export
    assert window.export_animation(str(path), frames=60, size=SMALL)
    progress = window.findChild(QProgressDialog, "animationProgressDialog")
    assert progress.isVisible()
    assert not progress.isModal()  # the window stays usable
    with qtbot.waitSignal(exporter.cancelled, timeout=10_000):
        progress.findChild(QPushButton).click()
    assert list(tmp_path.iterdir()) == []


def test_the_window_steps_while_an_export_runs(window, qtbot, tmp_path):
    path = tmp_path / "meanwhile.gif"
    exporter = window.animation_export
    assert window.export_animation(str(path), frames=40, steps_per_frame=3, size=SMALL)
    window.step(5)
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] == 5, timeout=10_000)
    assert exporter.running  # the step came in between two frames
    with qtbot.waitSignal(exporter.finished, timeout=60_000):
        pass
    # The export replays the recipes as they were when it started.
    assert exporter.frame_steps == [3 * i for i in range(40)]
    assert len(_frames(path)) == 40


def test_closing_the_window_cancels_an_export(window, qtbot, tmp_path):
    path = tmp_path / "closed.gif"
    exporter = window.animation_export
    assert window.export_animation(str(path), frames=60, size=SMALL)
    with qtbot.waitSignal(exporter.cancelled, timeout=10_000):
        window.close()
    assert list(tmp_path.iterdir()) == []


def test_an_encoder_failure_is_reported_and_leaves_no_file(
    window, qtbot, tmp_path, monkeypatch
):
    def full_disk(self, frame):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(GifEncoder, "add", full_disk)
    exporter = window.animation_export
    with qtbot.waitSignal(exporter.failed, timeout=60_000) as failed:
        assert window.export_animation(str(tmp_path / "x.gif"), frames=30, size=SMALL)
    (message,) = failed.args
    assert "No space left on device" in message
    assert message in window.last_error
    assert len(exporter.frame_steps) < 30  # it stopped drawing
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "options", "words"),
    [
        ("x.avi", {}, "'.avi' is not an animation format"),
        ("x.gif", {"frames": 1}, "frames must be between 2 and"),
        ("x.gif", {"steps_per_frame": 0}, "steps per frame must be 1 or more"),
        ("x.gif", {"fps": 60}, "GIF frame rate must be 1 to 50"),
        ("x.mp4", {"size": (100, 100)}, "size 100x100 is outside"),
        ("x.gif", {"what": "window"}, "unknown part 'window'"),
        ("missing/x.gif", {}, "cannot be written (No such file or directory)"),
    ],
)
def test_bad_settings_are_refused_in_one_line(window, tmp_path, name, options, words):
    assert not window.export_animation(str(tmp_path / name), **options)
    assert words in window.last_error
    assert "\n" not in window.last_error
    assert not window.animation_export.running
    assert list(tmp_path.iterdir()) == []


def test_a_second_export_waits_for_the_first(window, qtbot, tmp_path):
    first, second = tmp_path / "first.gif", tmp_path / "second.gif"
    exporter = window.animation_export
    assert window.export_animation(str(first), frames=20, size=SMALL)
    assert not window.export_animation(str(second), frames=3, size=SMALL)
    assert "being exported already" in window.last_error
    with qtbot.waitSignal(exporter.finished, timeout=60_000):
        pass
    assert first.exists()
    assert not second.exists()


def test_the_dialog_exports_what_was_chosen(window, qtbot, tmp_path):
    chosen = tmp_path / "chosen"  # no suffix: the format chosen adds it
    window.pick_path = lambda title, save: str(chosen)
    assert not window.export_animation()  # opens the dialog only
    dialog = window.findChild(QDialog, "exportAnimationDialog")
    assert dialog.frames_spin.value() == 40  # the lesson's 40 × 30 at 10 fps
    assert dialog.steps_spin.value() == 30
    assert dialog.fps_spin.value() == 10
    assert dialog.fps_spin.maximum() == 50  # GIF: browsers slow faster ones
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(".mp4"))
    assert dialog.fps_spin.maximum() == 60
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(".gif"))
    dialog.frames_spin.setValue(3)
    dialog.steps_spin.setValue(4)
    dialog.width_spin.setValue(SMALL[0])
    dialog.height_spin.setValue(SMALL[1])
    dialog.what_combo.setCurrentIndex(dialog.what_combo.findData("surface"))
    assert "Steps 0 to 8" in dialog.summary.text()
    exporter = window.animation_export
    save = dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Save
    )
    with qtbot.waitSignal(exporter.finished, timeout=60_000):
        save.click()
    assert exporter.frame_steps == [0, 4, 8]
    frames = _frames(tmp_path / "chosen.gif")
    assert [f.shape for f in frames] == [(SMALL[1], SMALL[0], 3)] * 3
