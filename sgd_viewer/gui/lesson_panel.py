"""The Lessons menu and the lesson panel: a lesson's pages, Back and Next.

Opening a lesson opens its session file (so it sets up data, start, runs and
view exactly as a session does) and shows its pages in a panel docked at the
right, with the numbers of *these* data filled in (``core.lessons``). File ▸
Save as lesson… writes the window's session and a page template into the
user's lessons folder, and the menu lists those beside the shipped ones.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sgd_viewer.core.lessons import (
    Lesson,
    LessonError,
    check_name,
    fill_numbers,
    find_lesson,
    lesson_pages_template,
    list_lessons,
)
from sgd_viewer.core.session_file import write_session


def user_lessons_folder() -> Path:
    """Where File ▸ Save as lesson… writes (``SGD_VIEWER_CONFIG_DIR/lessons``
    when that is set, as in the tests; else the platform's app-data folder)."""
    folder = os.environ.get("SGD_VIEWER_CONFIG_DIR")
    if folder:
        return Path(folder) / "lessons"
    if QCoreApplication.instance() is None:  # the command line: name the app
        QCoreApplication.setApplicationName("sgd_viewer")
    base = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation
    )
    return Path(base) / "lessons"


class LessonPanel(QDockWidget):
    """A lesson's pages, one at a time (objectName ``lessonPanel``).

    Signals
    -------
    changed()
        Another page, or another lesson (or none).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Lesson", parent)
        self.setObjectName("lessonPanel")
        self.setAllowedAreas(
            Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea
        )
        body = QWidget()
        layout = QVBoxLayout(body)
        self.title = QLabel()
        self.title.setObjectName("lessonTitle")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; font-size: 12pt;")
        self.text = QTextBrowser()
        self.text.setObjectName("lessonText")
        self.text.setOpenExternalLinks(False)
        buttons = QHBoxLayout()
        self.back_button = QPushButton("◀ Back")
        self.back_button.setObjectName("lessonBackButton")
        self.page_label = QLabel()
        self.page_label.setObjectName("lessonPageLabel")
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setObjectName("lessonNextButton")
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.page_label, 1)
        buttons.addWidget(self.next_button)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.setMinimumWidth(260)
        self.back_button.clicked.connect(self.back_page)
        self.next_button.clicked.connect(self.next_page)
        self.lesson: Lesson | None = None
        self.pages: tuple[str, ...] = ()
        self.page = 0
        self.hide()

    def show_lesson(self, lesson: Lesson, pages: tuple[str, ...]) -> None:
        self.lesson, self.pages, self.page = lesson, pages, 0
        self.title.setText(lesson.title)
        self._show_page()
        self.show()

    def close_lesson(self) -> None:
        self.lesson, self.pages, self.page = None, (), 0
        self.hide()
        self.changed.emit()

    def next_page(self) -> None:
        if self.lesson is not None and self.page + 1 < len(self.pages):
            self.page += 1
            self._show_page()

    def back_page(self) -> None:
        if self.lesson is not None and self.page > 0:
            self.page -= 1
            self._show_page()

    def _show_page(self) -> None:
        self.text.setMarkdown(self.pages[self.page])
        self.page_label.setText(f"page {self.page + 1} of {len(self.pages)}")
        self.back_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page + 1 < len(self.pages))
        self.changed.emit()

    def as_dict(self) -> dict | None:
        if self.lesson is None:
            return None
        return {
            "name": self.lesson.name,
            "title": self.lesson.title,
            "page": self.page + 1,
            "pages": len(self.pages),
        }


class Lessons(QObject):
    """The Lessons menu, the panel, and opening and saving lessons."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self.panel = window.lesson_panel = LessonPanel(window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panel)
        self.show_menu()

    def show_menu(self) -> None:
        """The Lessons menu: the shipped lessons, then the user's own."""
        menu = self._window.lessons_menu
        menu.clear()
        lessons = list_lessons(user_lessons_folder())
        for builtin in (True, False):
            group = [lesson for lesson in lessons if lesson.builtin == builtin]
            if group and not builtin:
                menu.addSection("Your lessons")
            for lesson in group:
                action = menu.addAction(lesson.title)
                action.setToolTip(lesson.summary)
                action.setStatusTip(lesson.summary)
                action.setData(lesson.name)
                action.triggered.connect(
                    lambda _=False, name=lesson.name: self.open(name)
                )

    def open(self, name: str) -> bool:
        """Open lesson ``name``: its session, then its pages."""
        window = self._window
        try:
            lesson = find_lesson(name, user_lessons_folder())
        except LessonError as error:
            window.show_error("Cannot open this lesson", str(error))
            return False
        if not window.open_session(str(lesson.session_path)):
            return False
        session = window.session
        pages = tuple(
            fill_numbers(
                page, session.problem, session.run.config.reduction, session.data.n
            )
            for page in lesson.pages
        )
        self.panel.show_lesson(lesson, pages)
        return True

    def save_as_lesson(self, name: str | None = None, title: str = "") -> bool:
        """Write the session and a page template as a lesson of the user's."""
        window = self._window
        if name is None:
            name, ok = QInputDialog.getText(
                window, "Save as lesson", "Lesson name (letters, digits, - and _):"
            )
            if not ok or not name:
                return False
        try:
            check_name(name)
            folder = user_lessons_folder()
            folder.mkdir(parents=True, exist_ok=True)
            write_session(folder / f"{name}.json", window.session_document())
            pages = folder / f"{name}.md"
            if not pages.exists():  # never overwrite a teacher's pages
                pages.write_text(
                    lesson_pages_template(title or name, "A lesson of my own."),
                    encoding="utf-8",
                )
        except (LessonError, ValueError) as error:
            window.show_error("Cannot save this lesson", str(error))
            return False
        except OSError as error:
            window.show_error(
                "Cannot save this lesson", f"{folder}: {error.strerror or error}"
            )
            return False
        self.show_menu()
        window.statusBar().showMessage(
            f"Saved the lesson {name}: edit its pages in {pages}", 8000
        )
        return True
