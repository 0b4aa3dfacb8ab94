"""The Runs panel: one row per run of the session, with Add, Duplicate, Remove.

Shows each run's colour, label (editable), visibility, step, loss and status,
and turns the user's edits into intents (signals). Knows nothing of the
worker or the views; the window hands it the session's runs to show.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from sgd_viewer.core.recipe import MAX_RUNS

_COLUMNS = ("Run", "Step", "Loss", "Status")


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class RunsPanel(QGroupBox):
    """The runs racing on the surface.

    Signals
    -------
    add_requested(), duplicate_requested(), remove_requested(int)
    selected(int)
        A row was chosen: its settings go to the Optimizer controls.
    visibility_changed(int, bool), renamed(int, str)
    """

    add_requested = Signal()
    duplicate_requested = Signal()
    remove_requested = Signal(int)
    selected = Signal(int)
    visibility_changed = Signal(int, bool)
    renamed = Signal(int, str)

    def __init__(self, parent=None) -> None:
        super().__init__("Runs", parent)
        self.setObjectName("runsPanel")
        self.setAccessibleName("runsPanel")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("runsTable")
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed widths: fitting columns to their contents re-measured the table
        # at every update of a step count (0.3 ms a cell while racing).
        metrics = self.table.fontMetrics()
        for column, sample in ((1, "10,000,000"), (2, "0.00000"), (3, "diverged")):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 12)
        self.table.setToolTip(
            "Tick to show a run; double-click its name to rename it; select a "
            "row to edit its settings below"
        )
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.add_button = self._button("Add", "addRunButton", "Add a run (SGD)")
        self.duplicate_button = self._button(
            "Duplicate", "duplicateRunButton", "Add a copy of the selected run"
        )
        self.remove_button = self._button(
            "Remove", "removeRunButton", "Remove the selected run"
        )
        for button in (self.add_button, self.duplicate_button, self.remove_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add_requested)
        self.duplicate_button.clicked.connect(self.duplicate_requested)
        self.remove_button.clicked.connect(
            lambda: self.remove_requested.emit(self.table.currentRow())
        )
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemChanged.connect(self._on_item_changed)
        self._filling = False
        self._labels: list[str] = []

    def _button(self, text: str, name: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        return button

    def show_runs(self, rows: list[dict], selected: int) -> None:
        """Rows of ``label, colour, visible, step, loss, status`` dicts."""
        self._filling = True
        try:
            table = self.table
            if table.rowCount() != len(rows):
                table.setRowCount(len(rows))
            self._labels = [row["label"] for row in rows]
            for index, row in enumerate(rows):
                name = table.item(index, 0)
                if name is None:
                    name = QTableWidgetItem()
                    name.setFlags(
                        Qt.ItemFlag.ItemIsSelectable
                        | Qt.ItemFlag.ItemIsEnabled
                        | Qt.ItemFlag.ItemIsEditable
                        | Qt.ItemFlag.ItemIsUserCheckable
                    )
                    table.setItem(index, 0, name)
                if name.text() != row["label"]:
                    name.setText(row["label"])
                    name.setToolTip(row["label"])
                if name.data(Qt.ItemDataRole.UserRole) != row["colour"]:
                    name.setIcon(_swatch(row["colour"]))
                    name.setData(Qt.ItemDataRole.UserRole, row["colour"])
                state = (
                    Qt.CheckState.Checked if row["visible"] else Qt.CheckState.Unchecked
                )
                if name.checkState() != state:
                    name.setCheckState(state)
                for column, text in (
                    (1, f"{row['step']:,}"),
                    (2, f"{row['loss']:.4g}"),
                    (3, row["status"]),
                ):
                    cell = table.item(index, column)
                    if cell is None:
                        cell = QTableWidgetItem()
                        cell.setFlags(
                            Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
                        )
                        table.setItem(index, column, cell)
                    if cell.text() != text:
                        cell.setText(text)
                    diverged = row["status"] == "diverged"
                    cell.setForeground(QColor("#b3261e" if diverged else "#202020"))
            self._fit_height(len(rows))
            if table.currentRow() != selected:
                table.selectRow(selected)
            self.add_button.setEnabled(len(rows) < MAX_RUNS)
            self.duplicate_button.setEnabled(len(rows) < MAX_RUNS)
            self.remove_button.setEnabled(len(rows) > 1)
        finally:
            self._filling = False

    def _fit_height(self, rows: int) -> None:
        """As tall as its rows (two at least, all eight at most): one run
        should not cost the controls below half the panel."""
        table = self.table
        row_height = table.verticalHeader().defaultSectionSize()
        height = (
            table.horizontalHeader().height()
            + row_height * min(max(rows, 2), 8)
            + 2 * table.frameWidth()
        )
        if table.height() != height:
            table.setFixedHeight(height)

    def _on_selection(self) -> None:
        if not self._filling and self.table.currentRow() >= 0:
            self.selected.emit(self.table.currentRow())

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        index = item.row()
        visible = item.checkState() == Qt.CheckState.Checked
        self.visibility_changed.emit(index, visible)
        if index < len(self._labels) and item.text() != self._labels[index]:
            self.renamed.emit(index, item.text())
