"""Lessons: a session file plus a short Markdown file of pages.

A lesson named ``NAME`` is two files side by side: ``NAME.json``, a session
file (``core.session_file``) that sets up the data, the start, the runs and
the view, and ``NAME.md``, its pages::

    # The title
    One line that says what the lesson is about.

    ---
    The first page: what to do, what to look for.

    ---
    The next page …

Pages may quote the numbers of *these* data in braces — ``{lr_max}``,
``{condition_number}``, ``{a_opt}``, ``{b_opt}``, ``{loss_opt}``, ``{n}`` —
filled in when the lesson opens (:func:`fill_numbers`), so a page stays right
whatever the data. The lessons shipped with the app live in
``resources/lessons``; teachers' own in a folder of theirs (File ▸ Save as
lesson…), listed the same way.

stdlib and the core only: no Qt, no torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sgd_viewer.core.problem import Problem

#: A lesson's name: a file stem that is safe on every platform.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_NUMBER = re.compile(r"\{(lr_max|condition_number|a_opt|b_opt|loss_opt|n)\}")


class LessonError(ValueError):
    """A lesson that cannot be found, read or written; one line."""


@dataclass(frozen=True)
class Lesson:
    """A lesson on disk: its name, where it is, and what its pages say."""

    name: str
    folder: Path
    title: str
    summary: str
    pages: tuple[str, ...]
    builtin: bool

    @property
    def session_path(self) -> Path:
        return self.folder / f"{self.name}.json"

    @property
    def pages_path(self) -> Path:
        return self.folder / f"{self.name}.md"


def builtin_folder() -> Path:
    """Where the shipped lessons are (inside the package)."""
    return Path(str(resources.files("sgd_viewer.resources") / "lessons"))


def parse_pages(text: str, name: str) -> tuple[str, str, tuple[str, ...]]:
    """``(title, summary, pages)`` of a lesson's Markdown (``LessonError``
    when it has no title or no page)."""
    head, *pages = re.split(r"^---[ \t]*$", text, flags=re.MULTILINE)
    lines = [line.strip() for line in head.strip().splitlines() if line.strip()]
    if not lines or not lines[0].startswith("# "):
        raise LessonError(f"{name}.md: the first line must be '# Title'")
    pages = tuple(page.strip() for page in pages if page.strip())
    if not pages:
        raise LessonError(f"{name}.md: has no pages (separate pages with '---')")
    return lines[0][2:].strip(), " ".join(lines[1:]), pages


def read_lesson(folder: Path, name: str, builtin: bool = False) -> Lesson:
    path = folder / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LessonError(f"{path}: cannot be read ({error})") from None
    if not (folder / f"{name}.json").is_file():
        raise LessonError(f"{path}: its session file {name}.json is missing")
    title, summary, pages = parse_pages(text, name)
    return Lesson(name, folder, title, summary, pages, builtin)


def list_lessons(user_folder: Path | None = None) -> list[Lesson]:
    """The shipped lessons, then the user's (a user lesson with a shipped
    one's name is listed too: it lives elsewhere). Unreadable ones are left
    out (a teacher's half-written lesson must not hide the others)."""
    found = []
    for folder, builtin in ((builtin_folder(), True), (user_folder, False)):
        if folder is None or not folder.is_dir():
            continue
        for pages in sorted(folder.glob("*.md")):
            if not NAME_PATTERN.match(pages.stem):
                continue
            try:
                found.append(read_lesson(folder, pages.stem, builtin))
            except LessonError:
                continue
    return found


def find_lesson(name: str, user_folder: Path | None = None) -> Lesson:
    """The lesson called ``name`` (the user's own first, so a teacher can
    adapt a shipped one); ``LessonError`` naming the lessons there are."""
    lessons = list_lessons(user_folder)
    for lesson in sorted(lessons, key=lambda lesson: lesson.builtin):
        if lesson.name == name:
            return lesson
    names = ", ".join(lesson.name for lesson in lessons) or "none"
    raise LessonError(f"no lesson called {name!r}; there are: {names}")


def fill_numbers(text: str, problem: Problem, reduction: str, n: int) -> str:
    """``text`` with ``{lr_max}``, ``{condition_number}``, ``{a_opt}``,
    ``{b_opt}``, ``{loss_opt}`` and ``{n}`` replaced by these data's values."""
    values = {
        "lr_max": f"{problem.lr_max(reduction):.4g}",
        "condition_number": f"{problem.condition_number():.4g}",
        "a_opt": f"{problem.a_opt:.4g}",
        "b_opt": f"{problem.b_opt:.4g}",
        "loss_opt": f"{problem.loss_opt(reduction):.4g}",
        "n": f"{n:,}",
    }
    return _NUMBER.sub(lambda match: values[match.group(1)], text)


def lesson_pages_template(title: str, summary: str) -> str:
    """The pages a saved lesson starts with, for the teacher to edit."""
    return (
        f"# {title}\n{summary}\n\n---\n"
        "What to do first, and what to look for.\n\n"
        "These data: lr_max = {lr_max}, condition number {condition_number}, "
        "optimum a = {a_opt}, b = {b_opt}.\n\n---\n"
        "What the learner should have seen.\n"
    )


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise LessonError(
            f"{name!r} is not a lesson name: use letters, digits, '-' and '_' "
            "(at most 64)"
        )
    return name
