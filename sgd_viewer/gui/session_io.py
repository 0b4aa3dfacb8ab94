"""Big session files read and written off the window's thread.

:class:`SessionFileJob` is the data loader's one-job-at-a-time worker thread
with a busy dialog (``gui.data_loader``), for session files: the thread hands
the work to a helper process (``core.helper_process``), because ``json``'s
encoder and decoder hold the GIL for the whole second a million points take.
"""

from __future__ import annotations

from sgd_viewer.core.session_checks import SessionFileError
from sgd_viewer.gui.data_loader import DataLoader


class SessionFileJob(DataLoader):
    """Reads or writes one session file at a time (``finished``: ``"loaded"``
    when done, ``"failed"`` with the error shown, or ``"cancelled"``)."""

    TITLE = "Session file"
    DIALOG_NAME = "sessionFileDialog"
    EXPECTED = (SessionFileError,)
