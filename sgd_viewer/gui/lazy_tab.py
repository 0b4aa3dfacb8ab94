"""A tab page that builds its view when it is first shown.

The Slices and Stability tabs are hidden when the window opens, and their
plots took about a quarter of the window's build (about 25 ms of the time to
first paint). Each is now built the first time its tab is shown, or the first
time something asks for it (``view()``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyTab(QWidget):
    """Holds the view that ``factory`` makes, once made.

    Signals
    -------
    built(object)
        The view has just been made (and added to this page).
    """

    built = Signal(object)

    def __init__(self, factory: Callable[[], QWidget]) -> None:
        super().__init__()
        self._factory = factory
        self._view: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    @property
    def is_built(self) -> bool:
        return self._view is not None

    def view(self) -> QWidget:
        """The view, made now if it was not yet."""
        if self._view is None:
            self._view = self._factory()
            self.layout().addWidget(self._view)
            if self.isVisible():
                self._view.show()
            self.built.emit(self._view)
        return self._view

    def showEvent(self, event) -> None:
        self.view()
        super().showEvent(event)
