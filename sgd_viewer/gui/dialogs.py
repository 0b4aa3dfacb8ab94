"""The window's small dialogs: errors, keyboard shortcuts, About, file picking.

Each opens without blocking the run (``open()``, never ``exec()``), carries a
stable objectName, and deletes itself on close.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from sgd_viewer.gui.column_dialog import choose_columns

SHORTCUTS = (
    ("Run / pause", "Space"),
    ("Step", "→ or S"),
    ("Back one step", "←"),
    ("First / latest step", "Home / End"),
    ("Reset to the start", "R"),
    ("Regenerate data", "G"),
    ("Open a CSV file", "Ctrl+O"),
    ("Open a session / save it / save it as", "Ctrl+Shift+O / Ctrl+S / Ctrl+Shift+S"),
    ("Frame the views", "F"),
    ("Pin the guess under the cursor as my line", "P"),
    ("Show or hide the side panel", "F9"),
    ("Presentation mode (Escape leaves it)", "F11"),
    ("Undo / redo a data edit", "Ctrl+Z / Ctrl+Shift+Z"),
    ("Keyboard shortcuts", "F1"),
    ("Quit", "Ctrl+Q"),
)


def _box(parent: QWidget, name: str, title: str) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setWindowTitle(title)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return box


def show_error(parent: QWidget, title: str, message: str) -> None:
    """Say what went wrong in a dialog that does not block the run."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=parent)
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def show_shortcuts(parent: QWidget) -> None:
    rows = "".join(
        f"<tr><td>{what}</td><td><b>{keys}</b></td></tr>" for what, keys in SHORTCUTS
    )
    box = _box(parent, "shortcutsDialog", "Keyboard shortcuts")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"<table cellspacing='6'>{rows}</table>")
    box.open()


def show_about(parent: QWidget) -> None:
    box = _box(parent, "aboutDialog", "About sgd_viewer")
    box.setText(
        "sgd_viewer fits a line y = a·x + b by gradient descent (torch autograd "
        "and torch.optim) and shows every step: the line on the data, the path "
        "on the loss surface L(a, b), and the loss curve.\n\nDrag the orange "
        "start handle on the surface to choose where descent begins. Add runs "
        "in the Runs panel to race optimizers; the timeline goes back to any "
        "step, and Step or Run continues from there."
    )
    box.open()


def choose_csv(parent: QWidget, pick, x=None, y=None):
    """``(path, x, y)`` of a CSV file the user picks with ``pick`` (and, unless
    given, its columns), or ``None`` if they cancel."""
    path = pick(parent)
    if not path:
        return None
    if x is None and y is None:
        chosen = choose_columns(parent, path)
        if chosen is None:
            return None
        x, y = chosen
    return path, x, y


def ask_for_csv(parent: QWidget) -> str | None:
    path, _ = QFileDialog.getOpenFileName(
        parent,
        "Open a CSV file",
        "",
        "CSV and text files (*.csv *.txt *.tsv);;All files (*)",
    )
    return path or None
