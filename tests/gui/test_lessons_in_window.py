"""Lessons in the window: the Lessons menu, opening one (its session and its
pages, with these data's numbers), Back / Next, Save as lesson, --lesson, and
``sgd-viewer lessons``."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu, QPushButton

from sgd_viewer.cli import main
from sgd_viewer.core.lessons import list_lessons


def _open(window, qtbot, name: str) -> None:
    with qtbot.waitSignal(window.session_opened, timeout=30_000):
        assert window.open_lesson(name)


def test_the_menu_lists_every_lesson(window):
    menu = window.findChild(QMenu, "lessonsMenu")
    titles = [a.text() for a in menu.actions() if a.data()]
    assert len(titles) >= 9
    assert titles == [lesson.title for lesson in list_lessons()]


def test_a_lesson_sets_up_its_runs_and_shows_its_pages(window, qtbot):
    _open(window, qtbot, "03-learning-rate-regimes")
    snap = window.snapshot()
    assert snap["lesson"] == {
        "name": "03-learning-rate-regimes",
        "title": "Learning-rate regimes",
        "page": 1,
        "pages": 3,
    }
    assert [r["label"] for r in snap["runs"]] == [
        "smooth: 0.3·lr_max",
        "zig-zag: 0.9·lr_max",
        "diverging: 1.05·lr_max",
    ]
    panel = window.lesson_panel
    assert panel.isVisible()
    lr_max = window.session.problem.lr_max("mean")
    assert f"{lr_max:.4g}" in panel.text.toPlainText()  # these data's number
    assert "{lr_max}" not in panel.text.toPlainText()
    back = window.findChild(QPushButton, "lessonBackButton")
    forward = window.findChild(QPushButton, "lessonNextButton")
    assert not back.isEnabled()
    forward.click()
    forward.click()
    assert window.snapshot()["lesson"]["page"] == 3
    assert not forward.isEnabled()
    back.click()
    assert window.snapshot()["lesson"]["page"] == 2


def test_the_regimes_behave_in_the_window(window, qtbot):
    _open(window, qtbot, "03-learning-rate-regimes")
    window.step(400)
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] >= 400, timeout=30_000)
    statuses = [r["status"] for r in window.snapshot()["runs"]]
    assert statuses[2] == "diverged"
    assert statuses[:2] != ["diverged", "diverged"]
    assert window.banner.isVisible()


def test_opening_another_session_closes_the_lesson(window, qtbot, tmp_path):
    _open(window, qtbot, "06-minibatch-noise")
    path = tmp_path / "mine.json"
    assert window.save_session(str(path))
    with qtbot.waitSignal(window.session_opened, timeout=30_000):
        assert window.open_session(str(path))
    assert window.snapshot()["lesson"] is None
    assert not window.lesson_panel.isVisible()


def test_save_as_lesson_adds_one_of_the_users_own(
    window, qtbot, capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("SGD_VIEWER_CONFIG_DIR", str(tmp_path))
    window.add_run("adam:lr=0.1,label=fast")
    assert window.lessons.save_as_lesson("my-race", "My race")
    titles = [a.text() for a in window.lessons_menu.actions() if a.data()]
    assert "My race" in titles
    capsys.readouterr()
    assert main(["lessons"]) == 0
    listed = capsys.readouterr().out
    assert "my-race" in listed
    assert "(yours)" in listed
    assert (
        (tmp_path / "lessons" / "my-race.md")
        .read_text(encoding="utf-8")
        .startswith("# My race")
    )
    _open(window, qtbot, "my-race")
    assert [r["label"] for r in window.snapshot()["runs"]][-1] == "fast"
    assert not window.lessons.save_as_lesson("../escape")
    assert "not a lesson name" in window.last_error


def test_an_unknown_lesson_is_refused(window):
    assert not window.open_lesson("no-such-lesson")
    assert "no lesson called 'no-such-lesson'" in window.last_error


def test_the_command_line_opens_a_lesson(tmp_path, capsys):
    picture = tmp_path / "lesson.png"
    code = main(["--lesson", "04-narrow-valley", "--screenshot", str(picture),
                 "--size", "1280x720", "--steps", "30"])  # fmt: skip
    assert code == 0
    assert picture.stat().st_size > 10_000
    assert main(["--lesson", "nope", "--screenshot", str(tmp_path / "x.png")]) == 2
    assert "no lesson called 'nope'" in capsys.readouterr().err


def test_lessons_lists_one_line_each(capsys):
    assert main(["lessons"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 9
    assert lines[0].startswith("01-notebook-animation")
    names = [line.split()[0] for line in lines]
    assert names == sorted(names)
    assert all(": " in line for line in lines)  # name, title: summary
