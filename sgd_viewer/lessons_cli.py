"""``sgd-viewer lessons``: the lessons there are, one line each (the shipped
ones, then the user's own from File ▸ Save as lesson…)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sgd_viewer.options import EXIT_BAD_INPUT, EXIT_OK, Parser


def lessons_main(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="sgd-viewer lessons",
        description="List the lessons; open one with 'sgd-viewer --lesson NAME'.",
    )
    parser.parse_args(list(argv))
    from sgd_viewer.core.lessons import list_lessons
    from sgd_viewer.gui.lesson_panel import user_lessons_folder

    lessons = list_lessons(user_lessons_folder())
    if not lessons:
        print("sgd-viewer lessons: error: no lessons found", file=sys.stderr)
        return EXIT_BAD_INPUT
    width = max(len(lesson.name) for lesson in lessons)
    for lesson in lessons:
        mine = "" if lesson.builtin else "  (yours)"
        print(f"{lesson.name:<{width}}  {lesson.title}: {lesson.summary}{mine}")
    return EXIT_OK
