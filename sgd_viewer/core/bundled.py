"""The real datasets shipped in ``resources/datasets``: listing and loading them.

This module owns :func:`bundled_dataset_names` and :func:`load_bundled`. The files
are found through :mod:`importlib.resources` (package ``sgd_viewer.resources``), so
they load from a wheel or zip as well as from the repository, and are read by the
same CSV reader as user files (:mod:`sgd_viewer.core.csv_reader`), gzip included.
Import the public names from :mod:`sgd_viewer.core.data`, which re-exports them.

It imports the standard library and the lower data modules (``dataset``,
``csv_source``, ``csv_reader``) only. It must never import PySide6, pyqtgraph, torch
or anything from ``sgd_viewer.gui``, nor ``data`` (which imports it).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from sgd_viewer.core.csv_reader import _load
from sgd_viewer.core.csv_source import _decompressed
from sgd_viewer.core.dataset import DEFAULT_MAX_ROWS, Dataset, _fail

__all__ = ["bundled_dataset_names", "load_bundled"]


def _datasets_dir() -> Any:
    return resources.files("sgd_viewer.resources") / "datasets"


def bundled_dataset_names() -> list[str]:
    """Sorted names of the datasets shipped in ``resources/datasets/*.csv``."""
    return sorted(
        entry.name[: -len(".csv")]
        for entry in _datasets_dir().iterdir()
        if entry.name.endswith(".csv") and entry.is_file()
    )


def load_bundled(
    name: str, x: str | int | None = None, y: str | int | None = None
) -> Dataset:
    """Load a bundled dataset by name (see :func:`bundled_dataset_names`).

    Parameters
    ----------
    name : str
        For example ``"anscombe-1"`` or ``"cars"``.
    x, y : str or int, optional
        Columns, as for :func:`load_csv`.

    Returns
    -------
    Dataset
        ``name`` the dataset name, ``source`` ``"bundled:<name>"``.

    Raises
    ------
    DataError
        For an unknown name (the message lists the available ones) or bad columns.
    """
    names = bundled_dataset_names()
    if name not in names:
        raise _fail(
            str(name), f"no bundled dataset of that name; available: {', '.join(names)}"
        )
    resource = _datasets_dir() / f"{name}.csv"
    label = f"{name}.csv"
    xv, yv, layout, (ix, iy) = _load(
        lambda: _decompressed(resource.open("rb"), label),
        label,
        x,
        y,
        DEFAULT_MAX_ROWS,
    )
    labels = (layout.names[ix], layout.names[iy]) if layout.has_header else ("x", "y")
    return Dataset(
        x=xv,
        y=yv,
        name=name,
        source=f"bundled:{name}",
        x_label=labels[0],
        y_label=labels[1],
    )
