"""What a launch brings back: the last geometry, splitter sizes, data and runs
(unless ``--fresh`` or the command line says otherwise), and the file named on
the command line (``sgd-viewer FILE``).

The command line always wins: data options replace the remembered data, and
training options or ``--compare`` replace the remembered runs.
"""

from __future__ import annotations

import os
from argparse import Namespace

from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.gui import settings

#: Options that name the data, and options that name the runs.
DATA_OPTIONS = ("data", "dataset", "n", "true_a", "true_b", "noise", "seed", "preset")
RUN_OPTIONS = (
    "preset",
    "optimizer",
    "lr",
    "momentum",
    "betas",
    "opt",
    "batch_size",
    "schedule",
    "sched_opt",
    "loss",
    "init",
    "dtype",
    "loss_form",
    "compare",
)


def _given(args: Namespace, names: tuple[str, ...]) -> bool:
    return any(getattr(args, name, None) for name in names)


def restore_last(window, args: Namespace) -> bool:
    """Bring back what the last launch left (geometry, splitters, data, runs);
    returns whether a geometry was restored (the caller sizes the window
    otherwise)."""
    restored = settings.restore_geometry(window)
    if not _given(args, DATA_OPTIONS):
        _restore_data(window, settings.last_data())
    if not _given(args, RUN_OPTIONS):
        _restore_runs(window, settings.last_runs(), settings.last_start())
    return restored


def _restore_data(window, reference: dict | None) -> None:
    """The remembered data, when they can still be had (a file that has gone
    is passed over quietly: the launch must not start with an error)."""
    if not reference:
        return
    kind = reference.get("kind")
    if kind == "generated":
        params = {k: reference.get(k) for k in ("n", "a", "b", "noise", "seed")}
        if all(isinstance(v, int | float) for v in params.values()):
            window.regenerate(params)
    elif kind == "bundled" and isinstance(reference.get("name"), str):
        window.load_dataset(reference["name"])
    elif kind == "file" and isinstance(reference.get("path"), str):
        path = reference["path"]
        if os.path.isfile(path):
            x, y = reference.get("x"), reference.get("y")
            window.open_csv(
                path,
                x if x not in (None, "x") else None,
                y if y not in (None, "y") else None,
            )


def _restore_runs(
    window, runs: list[tuple[TrainingConfig, str]], start: tuple[float, float] | None
) -> None:
    if runs:
        window.apply_config(runs[0][0])
        if runs[0][1]:
            window.session.rename(0, runs[0][1])
        for config, label in runs[1:]:
            window.add_configured_run(config, label)
        window.select_run(0)
    if start is not None:
        window.set_start(*start)
