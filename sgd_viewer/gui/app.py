"""Application start-up: the QApplication, pyqtgraph's settings, ``main()``,
and the offscreen screenshot mode.

Owns process-wide Qt set-up only; the window itself lives in ``main_window``.
"""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from importlib import resources

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from sgd_viewer.gui import long_lived

APP_NAME = "sgd_viewer"


def ensure_application() -> QApplication:
    """The running QApplication, created (and configured) if there is none."""
    import pyqtgraph as pg

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName(APP_NAME)
        app.setApplicationDisplayName("sgd_viewer")
        app.setDesktopFileName("sgd-viewer")
        icon = resources.files("sgd_viewer.resources") / "icon.svg"
        if icon.is_file():
            app.setWindowIcon(QIcon(str(icon)))
    # A light theme reads best on a projector.
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    return app


def create_main_window(**options):
    """Build the main window without entering the event loop.

    For tests and for an IPython session with ``%gui qt``. ``options`` are those
    of :class:`~sgd_viewer.gui.main_window.MainWindow` (data, config, start,
    speed).
    """
    ensure_application()
    with long_lived.building():
        from sgd_viewer.gui.main_window import MainWindow

        return MainWindow(**options)


def _wait_for(condition, timeout_ms: int) -> bool:
    """Spin the event loop until ``condition()`` or the timeout (no sleeping)."""
    loop = QEventLoop()
    check = QTimer()
    check.timeout.connect(lambda: condition() and loop.quit())
    check.start(10)
    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)
    limit.start(timeout_ms)
    if not condition():
        loop.exec()
    check.stop()
    limit.stop()
    return bool(condition())


def gui_main(args: Namespace) -> int:
    """Open the window (or, with ``--screenshot``, render it and exit)."""
    from sgd_viewer.core.data import DataError
    from sgd_viewer.options import (
        EXIT_BAD_INPUT,
        UsageError,
        parse_size,
        resolve_compare,
        resolve_config,
        resolve_data,
        resolve_display,
        resolve_start,
    )

    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        data = resolve_data(args)
        config = resolve_config(args)
        start = tuple(args.init) if args.init else resolve_start(args)
        size = parse_size(args.size)
        runs = resolve_compare(args.compare, config) if args.compare else []
        display = resolve_display(args.display)
    except (DataError, UsageError) as error:
        print(f"sgd-viewer: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from sgd_viewer.gui.startup import restore_last

    app = ensure_application()
    window = create_main_window(
        data=data, config=runs[0][0] if runs else config, start=start
    )
    _set_up(window, runs, args.tab, display)
    if args.screenshot or args.fresh or not restore_last(window, args):
        window.resize(*size)
    # A screenshot is a throwaway window: it neither reads nor writes settings.
    window.remember_on_close = not args.screenshot
    window.show()
    if getattr(args, "presentation", False):  # a screenshot keeps its --size
        window.presentation.enter(fullscreen=not args.screenshot)
    opened = not args.file or window.open_file(args.file)
    if opened and args.lesson:
        opened = window.open_lesson(args.lesson)
    if not opened and args.screenshot:
        print(f"sgd-viewer: error: {window.last_error}", file=sys.stderr)
        window.close()
        return EXIT_BAD_INPUT
    if args.screenshot:
        # A big file is read in the background: the picture waits for it.
        asked = window.last_error
        _wait_for(lambda: not _reading(window), 120_000)
        if window.last_error is not asked:  # refused once read
            print(f"sgd-viewer: error: {window.last_error}", file=sys.stderr)
            window.close()
            return EXIT_BAD_INPUT
        return _screenshot(window, args.screenshot, args.steps or 0)
    return app.exec()


def _reading(window) -> bool:
    """Whether a file opened is still being read or replayed."""
    return window.opening or window.data_loader.busy or window.session_job.busy


def _set_up(window, runs: list, tab: str, display: dict) -> None:
    """The runs of ``--compare`` (the first one is the window's own), the
    tab under the plots and the display options."""
    for config, label in runs[1:]:
        window.add_configured_run(config, label or "")
    if runs and runs[0][1]:
        window.session.rename(0, runs[0][1])
    window.select_run(0)
    widgets = {
        "loss": window.loss_view.parentWidget(),
        "slices": window.slices_tab,
        "update": window.update_panel,
        "stability": window.stability_tab,
    }
    window.curve_tabs.setCurrentWidget(widgets[tab])
    if display:
        window.set_display(**display)


def _screenshot(window, path: str, steps: int) -> int:
    if not _wait_for(lambda: window.snapshot()["ready"], 120_000):
        print("sgd-viewer: error: the engine did not start", file=sys.stderr)
        window.close()
        return 1
    if steps > 0:
        window.step(steps)
        _wait_for(
            lambda: (
                window.snapshot()["step"] >= steps
                or window.snapshot()["status"] == "diverged"
            ),
            120_000,
        )
    window.settle_views()
    _wait_for(lambda: False, 100)  # let the last frame paint
    from sgd_viewer.gui.figure_export import FigureError, write_screenshot

    try:
        # .svg a drawing of the window, .png (or another image suffix) pixels.
        write_screenshot(window, path)
    except FigureError as error:
        window.close()
        print(f"sgd-viewer: error: {error}", file=sys.stderr)
        return 1
    window.close()
    print(f"wrote {path}")
    return 0
