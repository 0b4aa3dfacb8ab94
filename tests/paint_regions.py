"""A Qt event filter that records where a widget was painted (for tests that
check what a change repaints)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject


class PaintRegions(QObject):
    """Records the region of every Paint event of the widget it watches."""

    def __init__(self) -> None:
        super().__init__()
        self.regions = []

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.regions.append(event.region())
        return False

    def union(self):
        """Everything painted so far, as one region."""
        total = self.regions[0]
        for region in self.regions[1:]:
            total = total.united(region)
        return total
