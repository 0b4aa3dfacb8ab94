"""Presentation mode (View ▸ Presentation mode, F11; Escape leaves it).

Owns :class:`Presentation`, a controller attached to the main window: full
screen, the side panel swapped for a compact toolbar
(:mod:`~sgd_viewer.gui.presentation_toolbar`), and the plots' text, lines and
markers 1.6× larger (:mod:`~sgd_viewer.gui.plot_scaling`). Leaving puts back
the window's state and geometry, the side panel and every size exactly.

Uses the window's public parts only (``side_panel``, ``splitters``,
``state_changed``, the plots); the views know nothing of it.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut

from sgd_viewer.gui.plot_scaling import PlotScaler
from sgd_viewer.gui.presentation_toolbar import PresentationToolbar

#: How much larger the plots' text, lines and markers are (issue 12: ≥ 1.6×).
SCALE = 1.6
#: The upper plots' share of the height in presentation mode (the loss curve
#: has the rest): at 1280×720 the usual 70 % left its ticks overlapping.
PLOTS_SHARE = 0.62
_SIZED_BY_SCREEN = Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen


class Presentation(QObject):
    """Presentation mode of ``window``.

    Signals
    -------
    toggled(bool)
        Presentation mode was entered (``True``) or left (``False``).
    """

    toggled = Signal(bool)

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self.toolbar = PresentationToolbar(window)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.toolbar.hide()
        self.scaler = PlotScaler(lambda: window.findChildren(pg.GraphicsView), SCALE)
        for tab in (window.slices_tab, window.stability_tab):  # built later
            tab.built.connect(
                lambda _view: self.scaler.watch(window.findChildren(pg.GraphicsView))
            )
        # Escape leaves only: it must not enter presentation mode, and it
        # means nothing to the window otherwise.
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
        self._escape.setContext(Qt.ShortcutContext.WindowShortcut)
        self._escape.activated.connect(self.leave)
        self._escape.setEnabled(False)
        self.action: QAction | None = window.findChild(QAction, "presentationAction")
        if self.action is not None:
            self.action.setCheckable(True)
            self.action.setChecked(False)
        self._saved: dict | None = None
        # Closing in presentation mode leaves it first, so the geometry and
        # splitters remembered for the next launch are the normal ones.
        window.installEventFilter(self)

    @property
    def active(self) -> bool:
        """Whether presentation mode is on."""
        return self._saved is not None

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self, fullscreen: bool = True) -> None:
        """Full screen (unless ``fullscreen`` is false: screenshots keep
        their size), the toolbar for the side panel, larger plots."""
        if self.active:
            return
        window = self._window
        self._saved = {
            "fullscreen": fullscreen,
            "state": window.windowState(),
            "geometry": window.geometry(),
            "side_hidden": window.side_panel.isHidden(),
            "splitters": [splitter.sizes() for splitter in window.splitters],
        }
        window.side_panel.hide()
        # Larger type takes room from the loss curve's plot: give it more.
        plots = window.plot_area
        total = sum(plots.sizes())
        plots.setSizes([round(total * PLOTS_SHARE), total - round(total * PLOTS_SHARE)])
        self.toolbar.follow()
        self.toolbar.show()
        window.state_changed.connect(self.toolbar.follow)
        self.scaler.apply()
        self._window.surface_view.level_labels.text_scale = SCALE
        self._escape.setEnabled(True)
        if fullscreen:
            window.showFullScreen()
        self._show_checked(True)
        self.toggled.emit(True)

    def leave(self) -> None:
        """Back to the window as it was before :meth:`enter`."""
        if not self.active:
            return
        window = self._window
        saved, self._saved = self._saved, None
        self._escape.setEnabled(False)
        window.state_changed.disconnect(self.toolbar.follow)
        self.scaler.restore()
        self._window.surface_view.level_labels.text_scale = 1.0
        self.toolbar.hide()
        window.side_panel.setHidden(saved["side_hidden"])
        if saved["fullscreen"]:
            window.setWindowState(saved["state"])
            if not saved["state"] & _SIZED_BY_SCREEN:
                # Not restoreGeometry: it shrinks a window larger than the
                # screen, and the window was as it was.
                window.setGeometry(saved["geometry"])
        for splitter, sizes in zip(window.splitters, saved["splitters"], strict=True):
            splitter.setSizes(sizes)
        # Lay the plots out for their old sizes now, not at some later turn
        # of the event loop (by then a closing window's items may be gone).
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self._show_checked(False)
        self.toggled.emit(False)

    def _show_checked(self, on: bool) -> None:
        if self.action is not None and self.action.isChecked() != on:
            self.action.setChecked(on)

    def eventFilter(self, watched, event) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Close:
            self.leave()
        return False
