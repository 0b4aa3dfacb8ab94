"""``sgd-viewer animate``, and the Qt-free pieces under it (the frame
schedule, the chunked replay, the encoders)."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image, ImageSequence

from sgd_viewer.core.animation import (
    AnimationSettings,
    GifEncoder,
    Mp4Encoder,
    replay_chunks,
    rows_between,
)
from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.core.data import generate
from sgd_viewer.core.history import StepBatch
from sgd_viewer.core.recipe import RunRecipe, SettingChange, play_recipe
from sgd_viewer.core.trainer import Trainer

SMALL = ("--size", "320x240")


def _gif_frames(path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]


def _has_colour(frame: np.ndarray, colour: str) -> bool:
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return bool((frame == rgb).all(axis=2).any())


# ------------------------------------------------------------- Qt-free core
def test_frame_i_shows_step_i_k():
    settings = AnimationSettings(frames=5, steps_per_frame=30)
    assert settings.frame_steps() == [0, 30, 60, 90, 120]
    assert settings.total_steps == 120
    assert AnimationSettings().frame_steps()[-1] == 39 * 30  # the lesson's


def test_chunked_replay_is_the_recipes_replay_bit_for_bit():
    data = generate()
    config = TrainingConfig(optimizer="momentum", lr=0.02, batch_size=8)
    change = SettingChange(37, 0.05, {"momentum": 0.5, "weight_decay": 0.0}, 16)
    recipe = RunRecipe(config, "x", "#000000", (change,))
    trainer = Trainer(data, recipe.config, (-1.0, 1.0))
    chunked = StepBatch.concatenate(list(replay_chunks(trainer, recipe, 100, 9)))
    _, batches = play_recipe(recipe, data, (-1.0, 1.0), 100)
    whole = StepBatch.concatenate(batches)
    np.testing.assert_array_equal(chunked.step, np.arange(1, 101))
    np.testing.assert_array_equal(chunked.a, whole.a)
    np.testing.assert_array_equal(chunked.b, whole.b)
    np.testing.assert_array_equal(chunked.lr, whole.lr)


def test_rows_between_keeps_a_divergence_with_the_last_rows():
    rows = {name: list(range(1, 7)) for name in ("step", "epoch")}
    rows |= {n: [0.0] * 6 for n in ("a", "b", "loss", "batch_loss")}
    rows |= {n: [0.0] * 6 for n in ("grad_a", "grad_b", "lr")}
    batch = StepBatch.from_rows(rows, status="diverged", message="blew up")
    early = rows_between(batch, 0, 3)
    assert list(early.step) == [1, 2, 3]
    assert not early.diverged
    late = rows_between(batch, 3, 10)
    assert list(late.step) == [4, 5, 6]
    assert late.diverged
    assert late.message == "blew up"


def test_gif_encoder_keeps_exact_colours_and_every_frame(tmp_path):
    path = tmp_path / "x.gif"
    ramp = np.linspace(0, 255, 320 * 240 * 3).astype(np.uint8).reshape(240, 320, 3)
    frames = []
    for i in range(3):
        frame = ramp.copy()
        frame[100:104, 10 + 20 * i : 30 + 20 * i] = (192, 0, 192)  # a thin arrow
        frames.append(frame)
    encoder = GifEncoder(str(path), 10)
    encoder.use_palette_of([frames[0]], ["#c000c0"])
    for frame in frames:
        encoder.add(frame)
    assert not path.exists()  # only the .part until it is complete
    encoder.close()
    decoded = _gif_frames(path)
    assert len(decoded) == 3
    assert all(_has_colour(f, "#c000c0") for f in decoded)
    assert not (tmp_path / "x.gif.part").exists()


def test_mp4_encoder_abort_leaves_nothing(tmp_path):
    encoder = Mp4Encoder(str(tmp_path / "x.mp4"), 10, (320, 240))
    encoder.add(np.zeros((240, 320, 3), np.uint8))
    encoder.abort()
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------- the command
def test_animate_writes_n_frames_from_step_0(cli, tmp_path):
    path = tmp_path / "lesson.gif"
    done = cli(
        "animate", "--out", path, "--frames", "4", "--steps-per-frame", "5", *SMALL
    )
    assert done.code == 0, done.err
    assert done.out.startswith(f"wrote {path}: 4 frames (steps 0 to 15, 5 a frame)")
    frames = _gif_frames(path)
    assert len(frames) == 4
    assert frames[0].shape == (240, 320, 3)
    assert not np.array_equal(frames[0], frames[-1])
    with Image.open(path) as gif:
        assert gif.info["duration"] == 100  # 10 frames a second
        assert gif.info["loop"] == 0


def test_animate_compare_draws_every_run(cli, tmp_path):
    path = tmp_path / "race.gif"
    done = cli(
        "animate",
        "--compare",
        "sgd:lr=0.1",
        "momentum:lr=0.05,momentum=0.9",
        "--out",
        path,
        "--frames",
        "3",
        "--what",
        "surface",
        *SMALL,
    )
    assert done.code == 0, done.err
    last = _gif_frames(path)[-1]
    assert _has_colour(last, "#d55e00")  # the first run's colour
    assert _has_colour(last, "#0072b2")  # the second's


def test_animate_mp4_decodes_to_n_frames(cli, tmp_path):
    path = tmp_path / "run.mp4"
    done = cli("animate", "--out", path, "--frames", "6", "--fps", "25", *SMALL)
    assert done.code == 0, done.err
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        assert stream.average_rate == 25
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(stream)]
    assert len(frames) == 6
    assert frames[0].shape == (240, 320, 3)


def test_animate_a_saved_session(cli, tmp_path):
    session = tmp_path / "race.json"
    saved = cli(
        "fit",
        "--compare",
        "sgd:lr=0.05",
        "adam:lr=0.1",
        "--steps",
        "40",
        "--save-session",
        session,
    )
    assert saved.code == 0, saved.err
    path = tmp_path / "race.gif"
    done = cli("animate", "--session", session, "--out", path, "--frames", "5", *SMALL)
    assert done.code == 0, done.err
    # Without --steps-per-frame the last frame reaches the runs' saved step.
    assert "(steps 0 to 40, 10 a frame)" in done.out
    assert len(_gif_frames(path)) == 5


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--size", "10x10"), "--size 10x10 is outside"),
        (("--size", "big"), "--size expects WIDTHxHEIGHT"),
        (("--frames", "1"), "frames must be between 2 and"),
        (("--frames", "many"), "argument --frames: invalid int value"),
        (("--steps-per-frame", "0"), "steps per frame must be 1 or more"),
        (("--fps", "0"), "frame rate must be 1 to 50"),
        (("--lr", "abc"), "argument --lr: invalid float value"),
        (("--compare", "nope:lr=1"), "unknown optimizer 'nope'"),
        (("--size", "4000x3000"), "size 4000x3000 is outside"),
    ],
)
def test_animate_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, words):
    path = tmp_path / "x.gif"
    done = cli("animate", "--out", path, *args)
    assert done.code == 2
    (line,) = done.err_lines
    assert line.startswith("sgd-viewer animate: error: ")
    assert words in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("x.avi", "'.avi' is not an animation format (use .gif or .mp4)"),
        ("x", "no suffix is not an animation format"),
        ("missing/x.gif", "cannot be written (No such file or directory)"),
    ],
)
def test_animate_bad_out_is_one_line_and_exit_2(cli, tmp_path, out, words):
    done = cli("animate", "--out", tmp_path / out, "--frames", "2", *SMALL)
    assert done.code == 2
    (line,) = done.err_lines
    assert words in line
    assert list(tmp_path.iterdir()) == []


def test_animate_session_refusals(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something else"}), encoding="utf-8")
    done = cli("animate", "--session", bad, "--out", tmp_path / "x.gif")
    assert done.code == 2
    (line,) = done.err_lines
    assert str(bad) in line
    done = cli("animate", "--session", bad, "--lr", "0.1", "--out", tmp_path / "x.gif")
    assert done.code == 2
    assert "drop --lr" in done.err
    assert not (tmp_path / "x.gif").exists()
