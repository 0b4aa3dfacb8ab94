"""Loading new data off the GUI thread: :class:`DataLoader`.

One job: run a load (a callable that returns a :class:`Dataset`, such as reading a
large CSV file or generating 1e7 points) on a worker thread, show a busy dialog
with a Cancel button when it takes more than a moment, and hand the result to the
window on the GUI thread. Until then the window keeps its data and keeps working
(Step and Run go on with the old points). A cancelled or superseded load may run
to its end on its thread, but what it returns is dropped.

Which loads are worth a thread is decided here too (:func:`file_loads_in_background`,
:data:`BACKGROUND_POINTS`): small ones stay synchronous, so that what the user sees
right after choosing small data (and what scripts and tests see right after
``open_csv``) is already the new data or the error.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import stat
import threading
from collections.abc import Callable
from os import PathLike

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from sgd_viewer.core.data import DataError, Dataset

#: Files at least this big (some 1e5 rows of two numbers) load on a worker thread;
#: smaller ones take a few hundredths of a second, less than the dialog waits.
BACKGROUND_FILE_BYTES = 4 << 20
#: More points than this are generated on a worker thread (1e6 take ~0.05 s,
#: 1e7 more than half a second).
BACKGROUND_POINTS = 1_000_000
#: The busy dialog shows only for loads that last longer than this.
SHOW_AFTER_MS = 300

_COUNT_BYTES = 1 << 22
_SAMPLE_BYTES = 1 << 20
# The shortest data row a file can hold: two one-digit numbers, a delimiter and
# a line break ("1,2\n").
_MIN_ROW_BYTES = 4

Loaded = Callable[[Dataset], None]
Failed = Callable[[str], None]


def _line_breaks(block: np.ndarray) -> int:
    return int(np.count_nonzero(block == 10) or np.count_nonzero(block == 13))


def _more_lines_than(path: str | PathLike[str], size: int, lines: int) -> bool:
    """Whether the file has more than ``lines`` line breaks (LF, or CR alone)."""
    with open(path, "rb") as fh:
        head = np.frombuffer(fh.read(_SAMPLE_BYTES), dtype=np.uint8)
        in_head = _line_breaks(head)
        if in_head and size / len(head) * in_head < lines / 2:
            return False  # by its first lines, it is nowhere near that long
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = np.frombuffer(mapped, dtype=np.uint8)
            try:
                seen = 0
                for start in range(0, size, _COUNT_BYTES):
                    seen += _line_breaks(view[start : start + _COUNT_BYTES])
                    if seen > lines:
                        return True
                return False
            finally:
                del view  # the map cannot close while numpy holds it


def file_loads_in_background(path: str | PathLike[str], max_rows: int) -> bool:
    """Whether loading the CSV file at ``path`` is worth a worker thread.

    Small files load at once, and so does anything that is not a regular file
    (the loader refuses it at once, naming the problem). A file with more lines
    than ``max_rows`` (plus a header) is loaded at once too: the loader will almost
    surely refuse it for its size, and it stops reading at the limit, so the user
    gets the refusal where they asked rather than later. Counting costs little (a
    fifth of a millisecond a megabyte), and only files that might be that long
    are counted.
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size < BACKGROUND_FILE_BYTES:
            return False
        if (info.st_size + 1) // _MIN_ROW_BYTES <= max_rows:
            return True  # too short to hold more rows than the limit
        return not _more_lines_than(path, info.st_size, max_rows + 1)
    except (OSError, ValueError):
        return False  # the loader reports it, at once


class DataLoader(QObject):
    """Runs one data load at a time on a worker thread, with a busy dialog.

    Signals
    -------
    finished(str)
        A load has ended: ``"loaded"`` (the window has the new data),
        ``"failed"`` (the error has been shown) or ``"cancelled"`` (by the user,
        or by newer data chosen meanwhile).
    """

    finished = Signal(str)
    # From the worker thread: ticket, the data (or None), the error (or None).
    _delivered = Signal(int, object, object)

    #: The busy dialog's title and object name.
    TITLE = "Loading data"
    DIALOG_NAME = "loadingDialog"
    #: Errors whose message is shown as it is (others name their type too).
    EXPECTED: tuple[type[Exception], ...] = (DataError,)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._ticket = 0
        self._pending: tuple[int, Loaded, Failed] | None = None
        self._thread: threading.Thread | None = None
        self._what = ""
        self._dialog: QProgressDialog | None = None
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.setInterval(SHOW_AFTER_MS)
        self._show_timer.timeout.connect(self._show_dialog)
        self._delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        """Whether a load is under way (and its result still wanted)."""
        return self._pending is not None

    @property
    def dialog(self) -> QProgressDialog | None:
        """The busy dialog while it shows."""
        return self._dialog

    def start(
        self, load: Callable[[], Dataset], what: str, loaded: Loaded, failed: Failed
    ) -> None:
        """Run ``load`` on a worker thread; then ``loaded(data)`` or
        ``failed(message)`` on the GUI thread. A load still under way is
        cancelled: the newest choice of data wins."""
        self.cancel()
        self._ticket += 1
        self._pending = (self._ticket, loaded, failed)
        self._what = what
        self._thread = threading.Thread(
            target=self._run,
            args=(self._ticket, load),
            name="sgd-viewer data loader",
            daemon=True,  # quitting must not wait for a file nobody wants now
        )
        self._thread.start()
        self._show_timer.start()

    @Slot()
    def cancel(self) -> None:
        """Drop the load under way (its thread may finish, unheard)."""
        if self._pending is None:
            return
        self._pending = None
        self._close_dialog()
        self.finished.emit("cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker thread to end (cancelled ones too); whether it
        has. For tests and shutdown; the result still arrives through the
        event loop."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # ------------------------------------------------------------ worker side
    def _run(self, ticket: int, load: Callable[[], Dataset]) -> None:
        data: Dataset | None = None
        error: str | None = None
        try:
            data = load()
        except self.EXPECTED as exc:
            error = str(exc)
        except MemoryError:
            error = "not enough memory for these data"
        except Exception as exc:  # a thread must say why, never fail unheard
            error = f"{type(exc).__name__}: {exc}"
        # RuntimeError: the window has gone, and nobody waits for these data.
        with contextlib.suppress(RuntimeError):
            self._delivered.emit(ticket, data, error)

    # --------------------------------------------------------------- GUI side
    @Slot(int, object, object)
    def _on_delivered(self, ticket: int, data: object, error: object) -> None:
        if self._pending is None or self._pending[0] != ticket:
            return  # cancelled, or superseded by newer data
        _, loaded, failed = self._pending
        self._pending = None
        self._close_dialog()
        if error is None:
            loaded(data)  # type: ignore[arg-type]
            self.finished.emit("loaded")
        else:
            failed(str(error))
            self.finished.emit("failed")

    @Slot()
    def _show_dialog(self) -> None:
        if self._pending is None:
            return
        dialog = QProgressDialog(self._what, "Cancel", 0, 0, self._parent)
        dialog.setObjectName(self.DIALOG_NAME)
        dialog.setWindowTitle(self.TITLE)
        # Not modal: the window stays usable on its old data meanwhile.
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(self.cancel)
        self._dialog = dialog
        dialog.show()

    def _close_dialog(self) -> None:
        self._show_timer.stop()
        dialog, self._dialog = self._dialog, None
        if dialog is not None:
            dialog.canceled.disconnect(self.cancel)
            dialog.close()
            dialog.deleteLater()
