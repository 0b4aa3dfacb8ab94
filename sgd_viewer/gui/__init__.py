"""Everything Qt: the main window, its views, controls and the trainer worker.

``create_main_window`` is the entry for tests and interactive sessions.
"""

from __future__ import annotations


def create_main_window(**options):
    """Build the main window without entering the event loop (see ``gui.app``)."""
    from sgd_viewer.gui.app import create_main_window as create

    return create(**options)


__all__ = ["create_main_window"]
