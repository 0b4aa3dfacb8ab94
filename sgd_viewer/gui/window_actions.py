"""The window's data and view actions, as mixins of ``MainWindow``.

Split from ``main_window`` (which wires the rest) to keep each module to one
job and a readable size; they use the window's session, controls, views and
commands, and are not meant to stand alone.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Slot

from sgd_viewer.core.data import DataError, Dataset, generate, load_bundled, load_csv
from sgd_viewer.gui import presenter
from sgd_viewer.gui.dialogs import choose_csv


class DataActions:
    """New data: generated, bundled or from a CSV file."""

    def regenerate(self, params: dict | None = None) -> None:
        params = params or self.controls.generator_values()
        self._replace_data(lambda: generate(**params))

    @Slot(str)
    def load_dataset(self, name: str) -> None:
        """Fit a bundled dataset."""
        self._replace_data(lambda: load_bundled(name))

    @Slot()
    def open_csv(self, path: str | None = None, x=None, y=None) -> bool:
        """Fit a CSV file; asks for the file (and columns) unless given."""
        if not path:
            chosen = choose_csv(self, self._pick_csv, x, y)
            if chosen is None:
                return False
            path, x, y = chosen
        return self._replace_data(lambda: load_csv(path, x=x, y=y))

    def _replace_data(self, load: Callable[[], Dataset]) -> bool:
        """Load new data; on bad input say why and keep everything as it was."""
        try:
            data = load()
        except DataError as error:
            self.show_error("Cannot use these data", str(error))
            presenter.show_data_size(self.controls, self.session.data)
            return False
        self.pause()
        self._commands.set_data(data)
        self.banner.hide()
        self._show_dataset()
        # Fewer points than the batch size: the box has clamped it to n.
        if self.controls.config() != self.session.run.config:
            self.apply_config(self.controls.config())
        self._refresh_views()
        return True

    def _show_dataset(self) -> None:
        presenter.show_dataset(self.controls, self.fit_view, self.session.data)
        self._show_surface()

    def _show_surface(self) -> None:
        presenter.show_surface(self.surface_view, self.loss_view, self.session)
        self.slices_view.set_problem(
            self.session.problem, self.session.run.config.reduction
        )


class ViewActions:
    """Display options, pinning a guess and framing the views."""

    def _on_visibility(self, index: int, visible: bool) -> None:
        self.session.set_visible(index, visible)
        self._refresh_views()

    def _on_renamed(self, index: int, label: str) -> None:
        self.session.rename(index, label)
        self._refresh_views()

    def set_display(self, **changes) -> None:
        """Change display options by name (``residuals``, ``equal_aspect``,
        ``loss_equation``, ``gradient_field``, ``step_taken``, ``momentum``,
        ``explain``; see ``core.display``); the views follow."""
        self.session.set_display(**changes)
        presenter.show_display(self.session, self)
        self._update_status()
        self._refresh_views()

    def pin(self, guess: tuple[float, float] | None) -> None:
        """Pin ``(a, b)`` as "my line" to compare with the runs (``None``
        unpins)."""
        self.guesses.pin(guess)

    def frame_views(self) -> None:
        """Frame start, paths and optimum on the surface and every line on
        the data (View ▸ Frame, F); both follow the runs again."""
        self.surface_view.frame_all()
        self.fit_view.framing.auto = True
        self._refresh_views()

    def settle_views(self) -> None:
        """Finish eased framings at once and bring every plot's transform up
        to date (pyqtgraph defers it to the next paint): screenshots and tests
        see what the next paint will show."""
        self.fit_view.framing.finish()
        self.surface_view.settle()
        for view in self.plot_views:
            view.getPlotItem().getViewBox().updateMatrix()
