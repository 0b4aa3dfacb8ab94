"""The training engine in a process of its own, so that training and drawing
stop taking turns on one GIL.

A race's steps are short Python and torch calls on two-number tensors: the
trainer needs the GIL nearly all the time, and so does pyqtgraph while it
draws. In one process the two can only alternate (the worker's turn-taking),
and eight racing runs got about 60 % of their headless speed. Here the
:class:`~sgd_viewer.core.engine.Engine` runs in a child process and computes
the next chunk while the window draws the last one.

:class:`EngineProcess` has the engine's methods; each sends one command down
a pipe and waits for the answer (the wait releases the GIL). Exceptions come
back as themselves where they are ``ValueError``, ``KeyError`` or
``RuntimeError``; a child that dies raises :class:`EngineLost`.

Children are kept in a pool: a window that closes hands its child back, and
the next window (a test suite opens hundreds) starts at once instead of
paying for a new process and a torch import. Started with ``spawn``: forking
a process that runs Qt threads is unsafe.

Never imports Qt; imports torch only in the child.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
import traceback
from typing import Any

from sgd_viewer.core.engine import Chunk

#: The commands a child answers: the engine's public methods.
COMMANDS = frozenset(
    {
        "step",
        "going",
        "add",
        "remove",
        "configure",
        "reset",
        "rewind",
        "set_data",
        "load",
        "preview",
        "explain",
        "trainer_state",
    }
)
_RAISED_AS_THEMSELVES = {"ValueError": ValueError, "KeyError": KeyError}


class EngineLost(RuntimeError):
    """The engine's process ended or cannot be reached."""


def serve(connection) -> None:
    """A child's loop: answer commands until the pipe closes or ``quit``.

    ``open`` builds a fresh engine (a window's), ``release`` drops it (the
    child goes back to the pool); every other command is an engine method.
    """
    # Ctrl+C in a terminal reaches the whole process group: the window
    # decides when to stop, and closing the pipe ends this loop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = None
    while True:
        try:
            name, args = connection.recv()
        except (EOFError, OSError):
            return
        if name == "quit":
            return
        try:
            if name == "open":
                from sgd_viewer.core.engine import Engine

                engine = Engine(*args)
                result: Any = engine.torch_version
            elif name == "release":
                engine, result = None, None
            elif name in COMMANDS and engine is not None:
                result = getattr(engine, name)(*args)
            else:
                raise RuntimeError(f"the engine cannot {name!r} now")
            reply: tuple = ("ok", result)
        except Exception as error:  # sent back and raised in the window's worker
            reply = ("error", type(error).__name__, str(error), traceback.format_exc())
        try:
            connection.send(reply)
        except (OSError, ValueError):  # the window went away mid-answer
            return


class EngineProcess:
    """An :class:`~sgd_viewer.core.engine.Engine` in a child process, with
    the same methods. Used from one thread at a time (the worker's)."""

    overlaps = True

    def __init__(self) -> None:
        import multiprocessing  # here, not at the top: the window imports this

        context = multiprocessing.get_context("spawn")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=serve, args=(child_end,), name="sgd-viewer engine", daemon=True
        )
        self._process.start()
        child_end.close()  # so that the child's death reads as end of file
        self._in_flight = False
        self.torch_version = ""

    # --------------------------------------------------------------- calls
    def _send(self, name: str, args: tuple) -> None:
        try:
            self._connection.send((name, args))
        except (OSError, ValueError) as error:
            raise EngineLost(f"the training engine has stopped ({error})") from None

    def _receive(self) -> Any:
        try:
            reply = self._connection.recv()
        except (EOFError, OSError) as error:
            raise EngineLost(
                f"the training engine has stopped ({error or 'it exited'})"
            ) from None
        if reply[0] == "ok":
            return reply[1]
        _, kind, message, trace = reply
        error = _RAISED_AS_THEMSELVES.get(kind, RuntimeError)(message)
        error.add_note(f"In the engine's process:\n{trace}")
        raise error

    def call(self, name: str, *args: Any) -> Any:
        if self._in_flight:
            raise RuntimeError("collect the chunk in flight first")
        self._send(name, args)
        return self._receive()

    def __getattr__(self, name: str):
        if name in COMMANDS:
            return lambda *args: self.call(name, *args)
        raise AttributeError(name)

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    # ------------------------------------------------------------- stepping
    @property
    def in_flight(self) -> bool:
        return self._in_flight

    def request_step(self, count: int) -> None:
        """Start ``count`` steps in the child; :meth:`collect` them later."""
        if self._in_flight:
            raise RuntimeError("a chunk is already in flight")
        self._send("step", (count,))
        self._in_flight = True

    def collect(self) -> Chunk:
        if not self._in_flight:
            raise RuntimeError("no chunk was requested")
        self._in_flight = False
        return self._receive()

    # ------------------------------------------------------------ life cycle
    def open(self, data, runs, start) -> None:
        self.torch_version = self.call("open", data, runs, start)

    def close(self) -> None:
        """Drop this window's engine and hand the child back to the pool."""
        try:
            if self._in_flight:
                self.collect()
            self.call("release")
        except (EngineLost, RuntimeError, ValueError, KeyError):
            self.terminate()
            return
        _POOL.give_back(self)

    def terminate(self) -> None:
        with contextlib.suppress(EngineLost):
            self._send("quit", ())
        self._connection.close()
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.kill()


class _Pool:
    """Idle engine processes, reused by the next window (thread-safe)."""

    def __init__(self) -> None:
        self._idle: list[EngineProcess] = []
        self._lock = threading.Lock()

    def take(self) -> EngineProcess:
        with self._lock:
            while self._idle:
                process = self._idle.pop()
                if process.alive:
                    return process
        return EngineProcess()

    def give_back(self, process: EngineProcess) -> None:
        with self._lock:
            self._idle.append(process)

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.terminate()


_POOL = _Pool()
atexit.register(_POOL.close_all)


def open_engine(data, runs, start) -> EngineProcess:
    """An engine for a window's data, runs and start, in a child process
    (a pooled one where there is one). Raises what building it raised."""
    process = _POOL.take()
    try:
        process.open(data, runs, start)
    except EngineLost:
        process.terminate()
        raise
    except Exception:
        _POOL.give_back(process)
        raise
    return process


#: Set to ``thread`` to keep the engine in the worker's thread (where a
#: process cannot start, or to compare the two).
ENGINE_VARIABLE = "SGD_VIEWER_ENGINE"


def start_engine(data, runs, start):
    """The engine for a window: in a process of its own, or in the calling
    thread where ``SGD_VIEWER_ENGINE=thread`` asks for it or a process
    cannot start (the app still works, only races draw slower)."""
    from sgd_viewer.core.engine import Engine

    if os.environ.get(ENGINE_VARIABLE, "process") == "thread":
        return Engine(data, runs, start)
    try:
        return open_engine(data, runs, start)
    except (EngineLost, OSError):
        traceback.print_exc()
        return Engine(data, runs, start)
