"""A small dialog to choose which columns of a CSV file are x and y.

Shown only when the file has more than two columns; reads the column names
through ``core.data.csv_columns`` (a bad file is reported by the caller's load).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QWidget

from sgd_viewer.core.data import DataError, csv_columns


def choose_columns(parent: QWidget, path: str) -> tuple[str | None, str | None] | None:
    """``(x, y)`` column names, ``(None, None)`` for the defaults, or ``None``
    if the user cancelled."""
    try:
        columns = csv_columns(path)
    except DataError:
        return None, None  # let the loader report the problem in full
    if len(columns) <= 2:
        return None, None
    dialog = QDialog(parent)
    dialog.setObjectName("columnDialog")
    dialog.setWindowTitle(f"Columns of {Path(path).name}")
    form = QFormLayout(dialog)
    x_combo, y_combo = QComboBox(), QComboBox()
    x_combo.setObjectName("xColumnCombo")
    y_combo.setObjectName("yColumnCombo")
    for combo in (x_combo, y_combo):
        combo.addItems(columns)
    y_combo.setCurrentIndex(1)
    form.addRow("x (horizontal)", x_combo)
    form.addRow("y (to predict)", y_combo)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return x_combo.currentText(), y_combo.currentText()
