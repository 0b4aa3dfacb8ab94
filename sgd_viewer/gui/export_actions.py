"""File ▸ Export figure… and Export animation…, as a mixin of ``MainWindow``.

(Being written: the figure and animation exports fill these in.)
"""

from __future__ import annotations


class ExportActions:
    """Pictures of the window: figures (PNG, SVG) and animations (GIF, MP4)."""

    def export_figure(self, path: str | None = None) -> bool:
        self.show_error("Export figure", "figure export is not built yet")
        return False

    def export_animation(self, path: str | None = None) -> bool:
        self.show_error("Export animation", "animation export is not built yet")
        return False
