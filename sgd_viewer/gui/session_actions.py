"""Sessions, the torch script and settings, as a mixin of ``MainWindow``."""

from __future__ import annotations


class SessionActions:
    """File ▸ Save / Open session, Recent sessions, Export torch script…"""

    def save_session(self, path: str | None = None) -> bool:
        return False

    def save_session_as(self) -> bool:
        return False

    def open_session(self, path: str | None = None) -> bool:
        return False

    def export_script(self, path: str | None = None) -> bool:
        return False

    def reset_settings(self) -> None:
        pass
