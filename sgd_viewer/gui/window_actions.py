"""The window's data and view actions, as mixins of ``MainWindow``.

Split from ``main_window`` (which wires the rest) to keep each module to one
job and a readable size; they use the window's session, controls, views and
commands, and are not meant to stand alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Slot

from sgd_viewer.core.data import DataError, Dataset, generate, load_bundled, load_csv
from sgd_viewer.gui import presenter
from sgd_viewer.gui.data_loader import (
    BACKGROUND_POINTS,
    DataLoader,
    file_loads_in_background,
)
from sgd_viewer.gui.dialogs import choose_csv


class DataActions:
    """New data: generated, bundled or from a CSV file.

    Small data load at once. Big ones (a large file, more than a million generated
    points) load on a worker thread through :attr:`data_loader`, behind a busy
    dialog with Cancel; the window keeps its data, and Step and Run keep working
    on them, until the new data are valid.
    """

    @property
    def data_loader(self) -> DataLoader:
        """Runs the big loads; its ``finished`` signal says when one has ended."""
        loader = getattr(self, "_data_loader", None)
        if loader is None:
            loader = self._data_loader = DataLoader(self)
        return loader

    def regenerate(self, params: dict | None = None) -> None:
        params = params or self.controls.generator_values()
        n = params.get("n")
        big = isinstance(n, int) and not isinstance(n, bool) and n > BACKGROUND_POINTS
        what = f"Generating {n:,} points…" if big else ""
        self._replace_data(lambda: generate(**params), background=big, what=what)

    @Slot(str)
    def load_dataset(self, name: str) -> None:
        """Fit a bundled dataset (they are small: loaded at once)."""
        self._replace_data(lambda: load_bundled(name))

    @Slot()
    def open_csv(self, path: str | None = None, x=None, y=None) -> bool:
        """Fit a CSV file; asks for the file (and columns) unless given.

        Returns whether the data are (or, for a big file loading in the
        background, may become) the window's: a big file returns True at once,
        and its data or its error come when ``data_loader.finished`` fires."""
        if not path:
            chosen = choose_csv(self, self._pick_csv, x, y)
            if chosen is None:
                return False
            path, x, y = chosen
        max_rows = load_csv.__kwdefaults__["max_rows"]
        return self._replace_data(
            lambda: load_csv(path, x=x, y=y),
            background=file_loads_in_background(path, max_rows),
            what=f"Loading {Path(path).name}…",
        )

    def _replace_data(
        self, load: Callable[[], Dataset], *, background: bool = False, what: str = ""
    ) -> bool:
        """Load new data; on bad input say why and keep everything as it was.

        With ``background`` the load runs on the data loader's thread and this
        returns True at once. Any load still under way is cancelled first: the
        newest choice of data wins."""
        self.data_loader.cancel()
        if background:
            self.data_loader.start(
                load, what, self._use_loaded_data, self._refuse_loaded_data
            )
            return True
        try:
            data = load()
        except DataError as error:
            self._refuse_data(str(error))
            return False
        self._use_data(data)
        return True

    # From the data loader. A window that has shut down (no worker thread) has
    # nothing left to show new data or their error in.
    def _use_loaded_data(self, data: Dataset) -> None:
        if self.worker_thread is not None:
            self._use_data(data)

    def _refuse_loaded_data(self, message: str) -> None:
        if self.worker_thread is not None:
            self._refuse_data(message)

    def _refuse_data(self, message: str) -> None:
        self.show_error("Cannot use these data", message)
        presenter.show_data_size(self.controls, self.session.data)

    def _use_data(self, data: Dataset) -> None:
        self.pause()
        self._commands.set_data(data)
        self.banner.hide()
        self._show_dataset()
        # Fewer points than the batch size: the box has clamped it to n.
        if self.controls.config() != self.session.run.config:
            self.apply_config(self.controls.config())
        self._refresh_views()

    def set_scaling(self, x: str, y: str) -> None:
        """Fit the data centred or standardized (``x``: none, center or
        standardize; ``y``: none or standardize); every run starts again.
        Data that cannot be scaled so are refused with a message."""
        try:
            self._commands.set_scaling(x, y)
        except ValueError as error:
            self.show_error("Cannot scale these data", str(error))
            self.controls.scaling_box.set_modes(*self.session.scale_modes)
            return
        self.pause()
        self.banner.hide()
        self._show_dataset()
        self._refresh_views()

    def _show_dataset(self) -> None:
        session = self.session
        presenter.show_dataset(
            self.controls, self.fit_view, session.raw_data, session.data
        )
        self.controls.scaling_box.set_modes(*session.scale_modes)
        self._show_surface()

    def _show_surface(self) -> None:
        presenter.show_surface(self.surface_view, self.loss_view, self.session)
        if self.slices_tab.is_built:
            self.show_slices_problem(self.slices_view)

    def show_slices_problem(self, view) -> None:
        """The Slices view cuts through the session's loss surface."""
        view.set_problem(self.session.problem, self.session.run.config.reduction)

    @property
    def slices_view(self):
        """The Slices tab's view (built on first use, see ``lazy_tab``)."""
        return self.slices_tab.view()

    @property
    def stability_view(self):
        """The Stability tab's view (built on first use)."""
        return self.stability_tab.view()


class ViewActions:
    """Display options, pinning a guess and framing the views."""

    def snapshot_extras(self) -> dict:
        """What :meth:`snapshot` adds to the session's numbers: hover and
        pin, the update and narration, the lesson, presentation and editing
        (the last two once their controllers exist)."""
        presentation = getattr(self, "presentation", None)
        editor = getattr(self, "data_editor", None)
        return self.guesses.as_dicts() | {
            "update": self.update_feed.current,
            "narration": self.narrator.as_dict(),
            "lesson": self.lesson_panel.as_dict(),
            "presentation": bool(presentation and presentation.active),
            "editing": editor.as_dict() if editor is not None else None,
        }

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
