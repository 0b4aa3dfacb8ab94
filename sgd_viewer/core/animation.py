"""Animations without Qt: what an animation shows (the frame schedule and the
runs, as recipes), the replay that feeds it, and the GIF and MP4 encoders.

Frame ``i`` shows step ``i·K`` (frame 0 the start), so an animation of ``N``
frames replays every run for ``(N - 1)·K`` steps, in chunks, from its recipe
(DESIGN.md §10): the pictures come from the recipes, never from the screen.

The encoders take ``height × width × 3`` uint8 RGB frames and write
``FILE.part``, renamed to ``FILE`` when complete: a cancelled or failed export
leaves no broken file. GIF: Pillow, frame by frame, on one palette. MP4: PyAV
(its wheel carries FFmpeg), H.264 (libx264) where the wheel has it, else
MPEG-4 part 2; yuv420p, so sizes are even. :class:`BackgroundEncoder` runs
an encoder on a thread of its own, beside the drawing.

numpy, Pillow, PyAV (imported when an MP4 is written), the stdlib. Never Qt;
never torch either (a replay steps the trainer it is given).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from sgd_viewer.core.data import Dataset
from sgd_viewer.core.display import DisplayOptions
from sgd_viewer.core.history import COLUMNS, StepBatch
from sgd_viewer.core.recipe import RunRecipe

FORMATS = {".gif": "gif", ".mp4": "mp4"}
#: What an animation can show: the plot area, or one plot.
PARTS = ("plots", "fit", "surface", "loss")
DEFAULT_FRAMES, DEFAULT_STEPS_PER_FRAME, DEFAULT_FPS = 40, 30, 10
DEFAULT_SIZE = (1200, 800)
MAX_FRAMES = 2000
#: Most steps a replay runs (a session file's limit too).
MAX_STEPS = 1_000_000
MIN_SIZE, MAX_SIZE = (320, 240), (3840, 2160)
MAX_FPS = 60
#: Browsers slow GIF frames shorter than 20 ms down to 100 ms.
MAX_GIF_FPS = 50
#: The GIF palette's index for "as in the frame before".
TRANSPARENT = 255
#: Steps a replay runs before letting the window have its events again.
REPLAY_CHUNK = 5_000


class AnimationError(ValueError):
    """Settings or a file an animation cannot use; the message is one line."""


def format_of(path: str) -> str:
    """``"gif"`` or ``"mp4"`` from the file name (``AnimationError`` else)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = f"'{suffix}'" if suffix else "no suffix"
        raise AnimationError(
            f"{path}: {shown} is not an animation format (use .gif or .mp4)"
        )
    return FORMATS[suffix]


@dataclass(frozen=True)
class AnimationSettings:
    """How many frames, how many steps apart, how fast, how big, of what."""

    frames: int = DEFAULT_FRAMES
    steps_per_frame: int = DEFAULT_STEPS_PER_FRAME
    fps: int = DEFAULT_FPS
    size: tuple[int, int] = DEFAULT_SIZE
    what: str = "plots"

    @property
    def total_steps(self) -> int:
        """The step the last frame shows."""
        return (self.frames - 1) * self.steps_per_frame

    def frame_steps(self) -> list[int]:
        """The step each frame shows: ``[0, K, 2K, …, (N - 1)·K]``."""
        return [i * self.steps_per_frame for i in range(self.frames)]

    def frame_size(self, fmt: str) -> tuple[int, int]:
        """The frames' pixel size: MP4's yuv420p wants even numbers."""
        width, height = self.size
        if fmt == "mp4":
            return width - width % 2, height - height % 2
        return width, height

    def check(self, fmt: str) -> None:
        """``AnimationError`` naming the first setting out of range."""
        if not 2 <= self.frames <= MAX_FRAMES:
            raise AnimationError(
                f"frames must be between 2 and {MAX_FRAMES}, got {self.frames}"
            )
        if self.steps_per_frame < 1:
            raise AnimationError(
                f"steps per frame must be 1 or more, got {self.steps_per_frame}"
            )
        if self.total_steps > MAX_STEPS:
            raise AnimationError(
                f"{self.frames} frames × {self.steps_per_frame} steps is "
                f"{self.total_steps:,} steps; at most {MAX_STEPS:,}"
            )
        top = MAX_GIF_FPS if fmt == "gif" else MAX_FPS
        if not 1 <= self.fps <= top:
            raise AnimationError(
                f"{fmt.upper()} frame rate must be 1 to {top} frames a second, "
                f"got {self.fps}"
            )
        width, height = self.size
        if not (
            MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]
        ):
            raise AnimationError(
                f"size {width}x{height} is outside "
                f"{MIN_SIZE[0]}x{MIN_SIZE[1]} … {MAX_SIZE[0]}x{MAX_SIZE[1]}"
            )
        if self.what not in PARTS:
            raise AnimationError(
                f"unknown part {self.what!r} (choose one of: {', '.join(PARTS)})"
            )


@dataclass(frozen=True)
class AnimatedRun:
    """One run to animate: its recipe and whether it is shown."""

    recipe: RunRecipe
    visible: bool = True


@dataclass(frozen=True)
class AnimationJob:
    """Everything an animation needs, as plain data: taken when it starts,
    so that what the window does meanwhile changes nothing in it."""

    data: Dataset
    start: tuple[float, float]
    runs: tuple[AnimatedRun, ...]
    path: str
    settings: AnimationSettings = field(default_factory=AnimationSettings)
    selected: int = 0
    display: DisplayOptions = field(default_factory=DisplayOptions)

    @property
    def format(self) -> str:
        return format_of(self.path)

    def shown_runs(self) -> tuple[list[AnimatedRun], int]:
        """The runs drawn (the visible ones; the selected one when none is)
        and the index of the selected one among them."""
        runs = [run for run in self.runs if run.visible]
        if not runs:
            return [self.runs[self.selected]], 0
        chosen = self.runs[self.selected]
        return runs, runs.index(chosen) if chosen in runs else 0

    def check(self) -> None:
        """``AnimationError`` for settings out of range or a bad file name."""
        if not self.runs:
            raise AnimationError("there is no run to animate")
        self.settings.check(self.format)


def job_from_session(session, path: str, settings: AnimationSettings):
    """The job that animates a :class:`~sgd_viewer.core.session.Session`'s
    runs as their recipes say (however far each has run)."""
    runs = tuple(AnimatedRun(run.recipe(), run.visible) for run in session.runs)
    job = AnimationJob(session.data, session.start, runs, path, settings)
    return dataclasses.replace(job, selected=session.selected, display=session.display)


# -------------------------------------------------------------------- replay
def replay_chunks(
    trainer, recipe: RunRecipe, steps: int, chunk: int = REPLAY_CHUNK
) -> Iterator[StepBatch]:
    """Run ``recipe`` on ``trainer`` (fresh, at step 0, built with
    ``recipe.config``) to ``steps`` steps, ``chunk`` steps a batch, its
    changes applied where they were made (as ``recipe.replay`` does, in
    pieces). Stops at a divergence."""
    config = recipe.config
    changes = [(c.step, c) for c in recipe.changes if c.step <= steps]
    for stop, change in [*changes, (steps, None)]:
        while trainer.step_count < stop:
            batch = trainer.step(min(chunk, stop - trainer.step_count))
            yield batch
            if trainer.status == "diverged" or not len(batch):
                return
        if change is not None:
            config = change.apply(config)
            trainer.configure(config)


def rows_between(batch: StepBatch, after: int, upto: int) -> StepBatch:
    """The rows of ``batch`` with ``after < step <= upto``; a divergence
    only goes with the rows that end the batch."""
    first, last = np.searchsorted(batch.step, [after, upto], side="right")
    columns = {name: getattr(batch, name)[first:last] for name in COLUMNS}
    ends = last == len(batch)
    return dataclasses.replace(
        batch,
        **columns,
        status=batch.status if ends else "ok",
        message=batch.message if ends else "",
        diverged_step=batch.diverged_step if ends else None,
    )


# ------------------------------------------------------------------ encoders
class _Encoder:
    """Writes ``FILE.part``, renamed to ``FILE`` by :meth:`close`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.part = Path(path).with_name(Path(path).name + ".part")
        self.frames = 0
        try:
            # Fails now, with the reason, if the folder is missing or locked.
            self.part.open("wb").close()
        except OSError as error:
            raise AnimationError(
                f"{path}: cannot be written ({error.strerror or error})"
            ) from None

    def add(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file and put it in place."""
        try:
            self._finish()
            os.replace(self.part, self.path)
        except OSError as error:
            self.abort()
            raise AnimationError(
                f"{self.path}: cannot be written ({error.strerror or error})"
            ) from None

    def abort(self) -> None:
        """Drop what was written."""
        self.part.unlink(missing_ok=True)


class GifEncoder(_Encoder):
    """Frames into a looping GIF on one palette, each encoded as it comes
    (Pillow's ``GifImagePlugin.getheader``/``getdata``), only the rectangle
    that changed: memory stays one frame, nothing is left to encode at the
    end. (``Image.save(save_all=True)`` holds every frame, encodes them all
    after the last, and merges equal neighbours into one frame.)"""

    def __init__(self, path: str, fps: int) -> None:
        super().__init__(path)
        self.duration = round(1000 / fps)
        self._samples: list[np.ndarray] = []
        self._colours: list[str] = []
        self._palette = None
        self._previous: np.ndarray | None = None
        self._file = self.part.open("wb")

    def use_palette_of(
        self, frames: Sequence[np.ndarray], colours: Sequence[str] = ()
    ) -> None:
        """Take the palette from these frames, with these ``#rrggbb`` colours
        exactly (before the first :meth:`add`)."""
        self._samples = list(frames)
        self._colours = list(colours)

    def add(self, frame: np.ndarray) -> None:
        from PIL import GifImagePlugin, Image

        if self._palette is None:
            self._palette = gif_palette(self._samples or [frame], self._colours)
            self._samples = []
        # No dithering: dots that differ from frame to frame would shimmer,
        # and compress worse.
        image = Image.fromarray(frame, "RGB").quantize(
            palette=self._palette, dither=Image.Dither.NONE
        )
        indices = np.asarray(image)
        # Every frame but the first: the rectangle that changed, its
        # unchanged pixels transparent over the frame before (kept: disposal
        # 1). Long runs of one index compress far better than the heatmap.
        info = {"duration": self.duration, "disposal": 1}
        if self._previous is None:
            header, _ = GifImagePlugin.getheader(image, None, {"loop": 0, **info})
            self._file.write(b"".join(header))
            box = (0, 0, *image.size)
        else:
            box = _changed_box(self._previous, indices)
            left, top, right, bottom = box
            delta = indices[top:bottom, left:right].copy()
            delta[delta == self._previous[top:bottom, left:right]] = TRANSPARENT
            image = Image.frombytes("P", (right - left, bottom - top), delta.tobytes())
            info["transparency"] = TRANSPARENT
        self._previous = indices
        data = GifImagePlugin.getdata(image, offset=box[:2], **info)
        self._file.write(b"".join(data))
        self.frames += 1

    def _finish(self) -> None:
        if self._previous is None:
            raise AnimationError(f"{self.path}: no frame to write")
        self._file.write(b";")  # the GIF trailer
        self._file.close()

    def abort(self) -> None:
        self._file.close()
        super().abort()


def _changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` around the pixels that differ; one
    pixel when none does, so that the frame is still a frame of its own."""
    changed = before != after
    rows = np.flatnonzero(changed.any(axis=1))
    if not rows.size:
        return 0, 0, 1, 1
    columns = np.flatnonzero(changed[rows[0] : rows[-1] + 1].any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def gif_palette(frames: Sequence[np.ndarray], colours: Sequence[str] = ()):
    """A palette image of 255 colours (the 256th is :data:`TRANSPARENT`):
    ``colours`` exactly, the rest by median cut of ``frames``. Why both:
    median cut splits by how many pixels share a colour, so the heatmap's
    gradient takes every entry and a thin run path or arrow (a few hundred
    pixels) would be drawn in a heatmap colour."""
    from PIL import Image

    exact = list(dict.fromkeys(c.lower() for c in colours))[:128]
    # Every other pixel each way: the same colours, a quarter of median
    # cut's work (35 ms instead of 130 for two 1200×800 frames).
    pixels = np.concatenate([frame[::2, ::2] for frame in frames], axis=0)
    sample = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    room = TRANSPARENT - len(exact)
    cut = sample.quantize(room, method=Image.Quantize.MEDIANCUT)
    entries = cut.getpalette()[: 3 * room]
    entries += [0] * (3 * room - len(entries))
    for colour in exact:
        entries += [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    palette = Image.new("P", (1, 1))
    palette.putpalette(entries)  # 255 entries: no pixel maps to the 256th
    return palette


def mp4_codec() -> str:
    """``libx264`` (H.264, played everywhere) if the PyAV wheel has it, else
    ``mpeg4`` (always in FFmpeg)."""
    import av

    try:
        av.codec.Codec("libx264", "w")
    except Exception:  # PyAV raises its own error types for a missing codec
        return "mpeg4"
    return "libx264"


class Mp4Encoder(_Encoder):
    """Frames into an MP4 through PyAV (yuv420p: even sizes only)."""

    def __init__(self, path: str, fps: int, size: tuple[int, int]) -> None:
        import av

        width, height = size
        if width % 2 or height % 2:
            raise AnimationError(f"MP4 needs an even size, got {width}x{height}")
        super().__init__(path)
        self.codec = mp4_codec()
        try:
            self._container = av.open(str(self.part), mode="w", format="mp4")
        except Exception as error:  # PyAV's own error types
            super().abort()
            raise AnimationError(f"{path}: cannot be written ({error})") from None
        stream = self._container.add_stream(self.codec, rate=Fraction(fps))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if self.codec == "libx264":
            # Plots are flat colours and thin lines: CRF 20 keeps them clean
            # at 3-4 kB a 1200×800 frame; "fast" takes two thirds of the
            # time of "medium" (10 ms a frame against 15 here), same size.
            stream.options = {"crf": "20", "preset": "fast"}
        else:
            stream.bit_rate = 4_000_000
        self._stream = stream

    def add(self, frame: np.ndarray) -> None:
        import av

        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.frames += 1

    def _finish(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    def abort(self) -> None:
        # Already closed, or broken: the file goes anyway.
        with contextlib.suppress(Exception):
            self._container.close()
        super().abort()


def open_encoder(path: str, fps: int, size: tuple[int, int]) -> _Encoder:
    """The encoder for ``path``'s format (``AnimationError`` if it cannot)."""
    if format_of(path) == "gif":
        return GifEncoder(path, fps)
    return Mp4Encoder(path, fps, size)


class BackgroundEncoder:
    """Runs ``encoder`` on a thread of its own: :meth:`put` frames, then
    :meth:`finish`; :attr:`done` once written, :attr:`error` if it failed.
    At most ``backlog`` frames wait for it (memory)."""

    def __init__(self, encoder: _Encoder, backlog: int = 4) -> None:
        self.encoder = encoder
        self._queue: queue.Queue = queue.Queue(maxsize=backlog)
        self._stop = threading.Event()
        self._finished = threading.Event()
        self.error: str | None = None
        self._thread = threading.Thread(
            target=self._work, name="animationEncoder", daemon=True
        )
        self._thread.start()

    def _work(self) -> None:
        try:
            while True:
                frame = self._queue.get()
                if self._stop.is_set():
                    return
                if frame is None:
                    self.encoder.close()
                    return
                self.encoder.add(frame)
        except Exception as error:  # reported to the caller, never lost
            if isinstance(error, AnimationError):
                self.error = str(error)
            else:
                self.error = f"{self.encoder.path}: {type(error).__name__}: {error}"
            self.encoder.abort()
        finally:
            self._finished.set()

    def has_room(self, timeout: float = 0.0) -> bool:
        """Whether a frame can be put without waiting; waits up to
        ``timeout`` s for the thread to take one (a timed wait, not a spin)."""
        if self._queue.full() and not self._finished.is_set():
            with self._queue.not_full:
                self._queue.not_full.wait(timeout)
        return not self._queue.full() or self._finished.is_set()

    def put(self, frame: np.ndarray) -> None:
        if not self._finished.is_set():
            self._queue.put(frame)

    def finish(self) -> None:
        """No more frames: write the file."""
        if not self._finished.is_set():
            self._queue.put(None)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` s for the file; whether it is done."""
        return self._finished.wait(timeout)

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def abort(self) -> None:
        """Stop and drop the file (after the frame being encoded, if any)."""
        if not self._finished.is_set():
            self._stop.set()
            while True:  # make room for the wake-up below
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put(None)
            self._thread.join()
            self.encoder.abort()
