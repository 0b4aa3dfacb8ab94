"""Writing a session file as one job, every failure a one-line
:class:`SessionFileError` (as reading one is: ``session_file.read_session``),
and which files are big enough to read or write in a helper process
(``core.helper_process``). Module-level functions, so that a helper process
can run them. No Qt.
"""

from __future__ import annotations

import os
from typing import Any

from sgd_viewer.core.session_checks import SessionFileError
from sgd_viewer.core.session_file import write_session

#: Session files at least this big (some 100,000 points) are read in a helper
#: process: ``json`` takes about a second for a million points.
BACKGROUND_FILE_BYTES = 4 << 20
#: Sessions with at least this many points are written in a helper process.
BACKGROUND_POINTS = 100_000


def save(path: str, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` (atomically)."""
    try:
        write_session(path, document)
    except ValueError as error:  # a number JSON cannot hold
        raise SessionFileError(f"{path}: {error}") from None
    except OSError as error:
        raise SessionFileError(
            f"{path}: cannot be written ({error.strerror or error})"
        ) from None


def reads_in_background(path: str) -> bool:
    """Whether the file at ``path`` is big enough to read in a helper
    (anything that is not a big regular file is refused or read at once)."""
    try:
        return os.stat(path).st_size >= BACKGROUND_FILE_BYTES
    except OSError:
        return False
