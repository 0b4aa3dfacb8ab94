"""End to end: the real ``sgd-viewer`` process on an X server, driven by keys.

Starts Xvfb, launches the app on the xcb platform (not offscreen), presses Space
with xdotool, waits for the title to report progress, presses Ctrl+Q and checks
a clean exit. Skipped only where Xvfb or xdotool is missing (.ci/run installs
both).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.e2e

NEEDED = ("Xvfb", "xdotool")


def _poll(condition, timeout: float, what: str):
    """Poll an outside process (no signal to wait on across processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def x_display():
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (installed by .ci/run)")
    for number in range(90, 140):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(
            f"/tmp/.X{number}-lock"
        ):
            break
    display = f":{number}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _poll(lambda: os.path.exists(f"/tmp/.X11-unix/X{number}"), 20, "Xvfb")
    yield display
    server.terminate()
    server.wait(10)


def _xdotool(display, *args) -> str:
    env = {**os.environ, "DISPLAY": display}
    done = subprocess.run(
        ["xdotool", *args], env=env, capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def test_space_runs_and_ctrl_q_quits_cleanly(x_display):
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb"}
    app = subprocess.Popen(
        [sys.executable, "-m", "sgd_viewer"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        window = _poll(
            lambda: _xdotool(x_display, "search", "--name", "^sgd_viewer").split("\n")[
                0
            ],
            60,
            "the window",
        )

        def title() -> str:
            return _xdotool(x_display, "getwindowname", window)

        _poll(lambda: "(ready)" in title(), 60, "the engine to load")
        _xdotool(x_display, "windowfocus", "--sync", window)
        _xdotool(x_display, "key", "space")
        _poll(lambda: "(running)" in title(), 20, "Space to start the run")

        def steps() -> int:
            found = re.search(r"step ([\d,]+)", title())
            return int(found.group(1).replace(",", "")) if found else 0

        _poll(lambda: steps() > 100, 30, "progress")
        _xdotool(x_display, "key", "ctrl+q")
        _out, err = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, err
    assert "QThread: Destroyed" not in err
    assert "Traceback" not in err
    assert "Fatal" not in err
    assert err.strip() == "", err
