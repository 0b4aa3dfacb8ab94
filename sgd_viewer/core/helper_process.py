"""Running one long, pure function in a helper process: :func:`run_in_helper`.

Reading or writing a session file with a million points takes about a second
in ``json``, whose C encoder and decoder hold Python's interpreter lock (GIL)
from start to end: on a thread of the window's process they would freeze the
window as surely as on its own thread. In a process of their own they do not.

The helper is started with ``spawn`` (forking a process that runs Qt threads
is unsafe) when first needed, imports what the function needs (numpy, not
torch), and is kept for the next call. Where no process can start, the
function runs in the calling thread instead: slower for the window, never
wrong.

stdlib only; never imports Qt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Result = TypeVar("Result")

_lock = threading.Lock()
_executor: ProcessPoolExecutor | None = None


def _helper() -> ProcessPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            import multiprocessing

            _executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return _executor


def _forget(broken: ProcessPoolExecutor) -> None:
    global _executor
    with _lock:
        if _executor is broken:
            _executor = None
    broken.shutdown(wait=False, cancel_futures=True)


def run_in_helper(function: Callable[..., Result], *args: Any) -> Result:
    """``function(*args)``, computed in the helper process; blocks the
    calling thread (not holding the GIL) until it is done. ``function`` must
    be a module-level function, its arguments and result picklable.
    Exceptions come back as themselves."""
    try:
        executor = _helper()
        future = executor.submit(function, *args)
    except (OSError, RuntimeError):  # no process here: compute it in place
        return function(*args)
    try:
        return future.result()
    except BrokenProcessPool:  # the helper died (killed, out of memory)
        _forget(executor)
        return function(*args)
