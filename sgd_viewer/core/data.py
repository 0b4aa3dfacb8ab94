"""Data for the line fit: the public API of the data layer, and synthetic data.

This is the module the rest of the program imports for everything about getting
``(x, y)`` points into the program. It defines :func:`generate`, seeded synthetic
data ``y = a·x + b + noise·N(0, 1)``, and re-exports the rest from the modules that
own it:

* :class:`Dataset`, :func:`validate_xy`, :class:`DataError`,
  :data:`DEFAULT_MAX_ROWS`, :data:`MAX_ABS_VALUE` from :mod:`sgd_viewer.core.dataset`
  (the validated value, and the one exception every bad input turns into: one line
  that starts with the file name, or ``name``, and says what is wrong);
* :func:`load_csv` / :func:`csv_columns`, a forgiving but strict CSV reader, from
  :mod:`sgd_viewer.core.csv_reader` (built on :mod:`~sgd_viewer.core.csv_source`:
  regular files only, gzip undone; :mod:`~sgd_viewer.core.csv_lines`: bytes,
  encoding, lines; :mod:`~sgd_viewer.core.csv_layout`: delimiter, decimal mark,
  header, columns; :mod:`~sgd_viewer.core.csv_rows`: the careful per-row parse and
  its precise messages; :mod:`~sgd_viewer.core.csv_bulk`: the bulk parse of big
  files by pandas' C engine; each module states its decisions);
* :func:`bundled_dataset_names` / :func:`load_bundled`, the real datasets shipped in
  ``resources/datasets`` (package ``sgd_viewer.resources``), from
  :mod:`sgd_viewer.core.bundled`.

Layering, lowest first: ``dataset`` < ``csv_source``, ``csv_lines``, ``csv_layout``
< ``csv_rows``, ``csv_bulk`` < ``csv_reader`` < ``bundled`` < ``data``. None of them
imports a module above it.

It imports numpy, the standard library and those modules only (pandas only when a
big file is parsed, never on import). It must never import PySide6, pyqtgraph, torch
or anything from ``sgd_viewer.gui``.
"""

from __future__ import annotations

import math
import sys
import types
from importlib import resources as resources  # re-exported: tests spy on .files
from typing import Any

import numpy as np

from sgd_viewer.core import csv_lines
from sgd_viewer.core.bundled import bundled_dataset_names, load_bundled
from sgd_viewer.core.csv_reader import csv_columns, load_csv
from sgd_viewer.core.dataset import (
    DEFAULT_MAX_ROWS,
    MAX_ABS_VALUE,
    DataError,
    Dataset,
    _fail,
    validate_xy,
)

__all__ = [
    "DEFAULT_MAX_ROWS",
    "MAX_ABS_VALUE",
    "DataError",
    "Dataset",
    "bundled_dataset_names",
    "csv_columns",
    "generate",
    "load_bundled",
    "load_csv",
    "validate_xy",
]


# ------------------------------------------------------------------------ generate


def _finite_float(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise _fail("generate", f"{what} must be a number, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise _fail("generate", f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(f):
        raise _fail("generate", f"{what} must be finite, got {f}")
    return f


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _fail("generate", f"{what} must be an integer, got {value!r}")
    return int(value)


def generate(
    n: int = 50, a: float = 3.0, b: float = 8.0, noise: float = 0.3, seed: int = 0
) -> Dataset:
    """Make ``n`` noisy points on the line ``y = a·x + b``.

    ``x ~ U(0, 1)`` and ``y = a·x + b + noise·N(0, 1)``, drawn from
    ``numpy.random.default_rng(seed)``: first ``rng.uniform(0, 1, n)`` for x, then
    ``rng.normal(0, 1, n)`` for the noise. The same arguments give the same data on
    every machine.

    Parameters
    ----------
    n : int
        Number of points, ``2 <= n <= DEFAULT_MAX_ROWS``.
    a, b : float
        True slope and intercept (finite).
    noise : float
        Standard deviation of the Gaussian noise (finite, ``>= 0``).
    seed : int
        Seed for ``numpy.random.default_rng`` (``>= 0``).

    Returns
    -------
    Dataset
        With ``true_a``, ``true_b``, ``noise`` and ``seed`` set and
        ``source == "generated"``.

    Raises
    ------
    DataError
        For an invalid argument.
    """
    n = _integer(n, "n")
    if not 2 <= n <= DEFAULT_MAX_ROWS:
        raise _fail(
            "generate", f"n must be between 2 and {DEFAULT_MAX_ROWS:,}, got {n:,}"
        )
    a = _finite_float(a, "a")
    b = _finite_float(b, "b")
    noise = _finite_float(noise, "noise")
    if noise < 0:
        raise _fail("generate", f"noise must be >= 0, got {noise:g}")
    seed = _integer(seed, "seed")
    if seed < 0:
        raise _fail("generate", f"seed must be >= 0, got {seed}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, n)
    y = a * x + b + noise * rng.normal(0.0, 1.0, n)
    name = f"generated (n={n}, a={a:g}, b={b:g}, σ={noise:g}, seed {seed})"
    return Dataset(
        x=x,
        y=y,
        name=name,
        true_a=a,
        true_b=b,
        noise=noise,
        seed=seed,
        source="generated",
    )


# -------------------------------------------------------------- reader settings


class _DataModule(types.ModuleType):
    """This module, plus the CSV reader's settings that used to be its globals.

    The read size ``_CHUNK_BYTES`` now belongs to :mod:`csv_lines`, which reads it,
    but tests still shrink it here (``monkeypatch.setattr(data, "_CHUNK_BYTES", 7)``).
    The property reads and writes the owner's value: one value, changed from either.
    """

    @property
    def _CHUNK_BYTES(self) -> int:
        return csv_lines._CHUNK_BYTES

    @_CHUNK_BYTES.setter
    def _CHUNK_BYTES(self, value: int) -> None:
        csv_lines._CHUNK_BYTES = value


sys.modules[__name__].__class__ = _DataModule
