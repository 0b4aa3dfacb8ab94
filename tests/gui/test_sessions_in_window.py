"""Sessions in the window: save → open in a fresh window shows the same thing;
save → ``fit --session`` gives the same numbers; a hostile file changes
nothing; recent sessions, drag and drop, Ctrl+S."""

from __future__ import annotations

import json

import pytest
from bad_sessions import BAD_SESSIONS, EXPECTED_SESSIONS, SESSION_CORPUS, check_refusal
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from sgd_viewer.cli import main


def _wait_steps(window, qtbot, steps: int) -> None:
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] >= steps, timeout=30_000)
    qtbot.waitUntil(lambda: not window.snapshot()["running"], timeout=30_000)


def _busy_window(window, qtbot):
    """Three runs: one with a mid-run lr change and a label of the user's
    own, one hidden, one diverged; a pinned line, squares, a past step."""
    window.add_run("momentum:lr=0.05,momentum=0.9,label=heavy ball")
    window.add_run("sgd:lr=5")  # diverges within a few steps
    window.add_run("adam:lr=0.1")
    window.session.set_visible(3, False)
    window.step(80)
    _wait_steps(window, qtbot, 80)
    window.select_run(2)  # the diverged run: a change after it diverged
    window.apply_config(window.session.run.config.with_changes(lr=0.001))
    window.select_run(1)
    window.apply_config(window.session.run.config.with_changes(lr=0.02))
    window.step(70)
    _wait_steps(window, qtbot, 150)
    window.pin((2.5, 7.5))
    window.set_display(residuals="squares", step_taken=True)
    window.view_step(110)
    return window


def _without_async(snap: dict) -> dict:
    """The snapshot less the update panel's numbers, which the engine
    computes for the shown step a moment later."""
    return {k: v for k, v in snap.items() if k not in ("update", "narration")}


def _open(window, qtbot, path) -> None:
    with qtbot.waitSignal(window.session_opened, timeout=30_000):
        assert window.open_session(str(path))


def test_save_then_open_in_a_fresh_window_shows_the_same(make_window, qtbot, tmp_path):
    saved = _busy_window(make_window(), qtbot)
    path = tmp_path / "busy.json"
    assert saved.save_session(str(path))
    fresh = make_window()
    _open(fresh, qtbot, path)
    assert _without_async(fresh.snapshot()) == _without_async(saved.snapshot())
    assert fresh.snapshot()["step"] == 110
    assert [r["status"] for r in fresh.snapshot()["runs"]][2] == "diverged"
    assert fresh.session.runs[1].changes == saved.session.runs[1].changes
    qtbot.waitUntil(
        lambda: (
            fresh.snapshot()["update"] is not None
            and fresh.snapshot()["update"] == saved.snapshot()["update"]
        ),
        timeout=30_000,
    )
    assert fresh.banner.isVisible()  # the diverged run is named, as it was


def test_the_window_and_fit_session_agree(window, qtbot, tmp_path, capsys):
    window.add_run("nesterov:lr=0.05,momentum=0.8")
    window.add_run("sgd:lr=0.05,batch=8")
    window.step(120)
    _wait_steps(window, qtbot, 120)
    path = tmp_path / "race.json"
    assert window.save_session(str(path))
    capsys.readouterr()
    assert main(["fit", "--session", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for shown, replayed in zip(window.snapshot()["runs"], report["runs"], strict=True):
        assert (shown["a"], shown["b"]) == (replayed["a"], replayed["b"])
        assert shown["label"] == replayed["label"]


def test_hand_zoomed_views_come_back(make_window, qtbot, tmp_path):
    saved = make_window()
    box = saved.surface_view.getPlotItem().getViewBox()
    box.setRange(xRange=(1.0, 4.0), yRange=(5.0, 9.0), padding=0)
    saved.surface_view.framing.auto = False  # as a zoom by hand leaves it
    path = tmp_path / "zoomed.json"
    assert saved.save_session(str(path))
    fresh = make_window()
    _open(fresh, qtbot, path)
    (x0, x1), (y0, y1) = fresh.surface_view.getPlotItem().getViewBox().viewRange()
    assert (x0, x1, y0, y1) == pytest.approx((1.0, 4.0, 5.0, 9.0))
    assert not fresh.surface_view.framing.auto
    assert fresh.fit_view.framing.auto


def test_hostile_sessions_change_nothing(window, qtbot):
    window.add_run("adam:lr=0.1")
    window.step(20)
    _wait_steps(window, qtbot, 20)
    before = _without_async(window.snapshot())
    for name in SESSION_CORPUS:
        window.last_error = None
        assert not window.open_session(str(BAD_SESSIONS / name)), name
        check_refusal(window.last_error, BAD_SESSIONS / name, EXPECTED_SESSIONS[name])
    assert _without_async(window.snapshot()) == before
    assert window.session_path is None  # a refused file is not remembered


def test_recent_sessions_reopen(window, qtbot, tmp_path):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert window.save_session(str(first))
    window.add_run("adam:lr=0.1")
    assert window.save_session(str(second))
    names = [a.text() for a in window.recent_menu.actions()]
    assert names[:2] == ["&1 second.json", "&2 first.json"]
    with qtbot.waitSignal(window.session_opened, timeout=30_000):
        window.recent_menu.actions()[1].trigger()
    assert len(window.snapshot()["runs"]) == 1


def test_save_asks_once_then_saves_in_place(window, tmp_path):
    asked = []

    def pick(title, save):
        asked.append((title, save))
        return str(tmp_path / "picked")

    window.pick_path = pick
    assert window.save_session()
    assert asked == [("Save session", True)]
    assert (tmp_path / "picked.json").is_file()
    window.add_run("adam:lr=0.1")
    assert window.save_session()  # Ctrl+S: no question the second time
    assert len(asked) == 1
    saved = json.loads((tmp_path / "picked.json").read_text(encoding="utf-8"))
    assert len(saved["runs"]) == 2


def test_a_cancelled_open_changes_nothing(window):
    window.pick_path = lambda title, save: None
    assert not window.open_session()
    assert window.last_error is None


def _drop(window, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_dropping_a_session_or_a_csv_opens_it(make_window, qtbot, tmp_path):
    source = make_window()
    source.add_run("adam:lr=0.1")
    path = tmp_path / "dropped.json"
    assert source.save_session(str(path))
    target = make_window()
    assert target.acceptDrops()
    with qtbot.waitSignal(target.session_opened, timeout=30_000):
        _drop(target, path)
    assert len(target.snapshot()["runs"]) == 2
    csv = tmp_path / "points.csv"
    csv.write_text("x,y\n0,1\n1,3\n2,5.5\n3,7\n", encoding="utf-8")
    _drop(target, csv)
    assert target.snapshot()["n"] == 4
    assert target.snapshot()["data"] == "points.csv"


def test_opening_while_running_replaces_the_run(make_window, qtbot, tmp_path):
    source = make_window()
    path = tmp_path / "calm.json"
    assert source.save_session(str(path))
    busy = make_window()
    busy.run()
    qtbot.waitUntil(lambda: busy.snapshot()["latest_step"] > 50, timeout=30_000)
    _open(busy, qtbot, path)
    qtbot.waitUntil(lambda: not busy.snapshot()["running"], timeout=10_000)
    assert busy.snapshot()["latest_step"] == 0


def test_the_command_line_opens_a_session(window, qtbot, tmp_path, capsys):
    window.add_run("adam:lr=0.1")
    window.step(40)
    _wait_steps(window, qtbot, 40)
    window.view_step(25)
    path = tmp_path / "shown.json"
    assert window.save_session(str(path))
    picture = tmp_path / "shown.png"
    assert main([str(path), "--screenshot", str(picture), "--size", "1024x768"]) == 0
    assert picture.stat().st_size > 10_000
    bad = BAD_SESSIONS / "newer-version.json"
    assert main([str(bad), "--screenshot", str(tmp_path / "no.png")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith(f"sgd-viewer: error: {bad}: was saved by a newer")
    assert not (tmp_path / "no.png").exists()


def test_export_torch_script_writes_the_selected_run(window, qtbot, tmp_path):
    import subprocess
    import sys

    window.add_run("adam:lr=0.1")
    window.step(60)
    _wait_steps(window, qtbot, 60)
    window.select_run(1)
    window.pick_path = lambda title, save: str(tmp_path / "adam.py")
    assert window.findChild(type(window.recent_menu.menuAction()), "exportScriptAction")
    assert window.export_script()
    done = subprocess.run(
        [sys.executable, str(tmp_path / "adam.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    shown = window.snapshot()["runs"][1]
    assert printed["a"] == pytest.approx(shown["a"], rel=1e-12, abs=0)
    assert printed["b"] == pytest.approx(shown["b"], rel=1e-12, abs=0)
    assert window.export_script(str(tmp_path / "missing" / "x.py")) is False
    assert "cannot be written" in window.last_error
