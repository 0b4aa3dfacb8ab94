"""Guesses by hand: the cursor over the surface and the pinned "my line".

The session holds both (``Session.hover``, ``Session.pinned``); this wires
the surface's reports into it and draws them back on the surface (crosshair,
pinned diamond) and the fit view (ghost line, my line), with their losses
from the closed form. The window builds one and forwards P and its API.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot

from sgd_viewer.core.session import Session


class Guesses(QObject):
    """Hover and pin for one window."""

    def __init__(
        self,
        session: Session,
        fit_view,
        surface_view,
        changed: Callable[[], None],
        hovered: Callable[[], None],
    ) -> None:
        super().__init__(surface_view)
        self._session = session
        self._fit_view = fit_view
        self._surface = surface_view.guesses
        self._changed = changed
        # A mouse move redraws only what it changes: the crosshair and ghost.
        self._hovered = hovered
        self._surface.hovered.connect(self._on_hovered)
        self._surface.pin_requested.connect(self._on_pin_requested)

    def loss(self, guess: tuple[float, float] | None) -> float:
        if guess is None:
            return float("nan")
        session = self._session
        return float(session.problem.loss(*guess, session.run.config.reduction))

    @Slot(object)
    def _on_hovered(self, at) -> None:
        session = self._session
        session.set_hover(at)
        self._surface.show_hover(session.hover, self.loss(session.hover))
        self._fit_view.set_guesses(session.hover, session.pinned)
        self._hovered()

    @Slot(object)
    def _on_pin_requested(self, at) -> None:
        self.pin(at)

    def pin(self, guess: tuple[float, float] | None) -> None:
        """Pin ``guess`` as my line (``None`` unpins)."""
        self._session.pin(guess)
        self.draw()

    def pin_under_cursor(self) -> None:
        """P: pin the guess under the cursor, else the selected run's shown
        point."""
        session = self._session
        self.pin(session.hover or session.shown_parameters(session.run))

    def draw(self) -> None:
        session = self._session
        self._surface.show_hover(session.hover, self.loss(session.hover))
        self._surface.show_pinned(session.pinned, self.loss(session.pinned))
        self._fit_view.set_guesses(session.hover, session.pinned)
        self._changed()

    def as_dicts(self) -> dict:
        """``snapshot()``'s ``hover`` and ``pinned``: ``{a, b, loss}`` or None."""
        session = self._session
        return {
            key: None
            if guess is None
            else {"a": guess[0], "b": guess[1], "loss": self.loss(guess)}
            for key, guess in (("hover", session.hover), ("pinned", session.pinned))
        }
