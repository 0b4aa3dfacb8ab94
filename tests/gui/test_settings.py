"""What a launch remembers (QSettings, in the test run's own folder): geometry,
splitter sizes, the data and the runs; the command line wins; ``--fresh`` and
File ▸ Reset settings forget."""

from __future__ import annotations

import os

import pytest

from sgd_viewer.cli import build_parser
from sgd_viewer.core.config import TrainingConfig
from sgd_viewer.gui import app as gui_app
from sgd_viewer.gui import main_window, settings
from sgd_viewer.gui.startup import restore_last


@pytest.fixture(autouse=True)
def _clean_settings():
    assert os.environ["SGD_VIEWER_CONFIG_DIR"] in settings.app_settings().fileName()
    settings.clear()
    yield
    settings.clear()


def _args(*argv: str):
    return build_parser().parse_args(list(argv))


def _remembering(make_window):
    window = make_window()
    window.load_dataset("anscombe-2")
    window.add_run("adam:lr=0.1,label=my adam")
    window.set_start(2.0, 3.0)
    window.resize(1111, 777)
    window.splitters[1].setSizes([700, 300])  # data plot wider
    window.remember_on_close = True
    window.close()
    return window


def test_the_next_launch_comes_back_as_it_was(make_window, qtbot):
    _remembering(make_window)
    window = make_window()
    assert restore_last(window, _args())
    qtbot.waitUntil(lambda: window.snapshot()["data"] == "anscombe-2", timeout=10_000)
    snap = window.snapshot()
    assert [r["label"] for r in snap["runs"]] == ["sgd lr=0.01", "my adam"]
    assert snap["start"] == (2.0, 3.0)
    # Restored (the offscreen screen is small, so Qt fits it on the screen).
    assert (window.width(), window.height()) != (1300, 850)
    wide, narrow = window.splitters[1].sizes()
    assert wide > narrow  # by default the surface is the wider


def test_the_command_line_wins(make_window):
    _remembering(make_window)
    window = make_window()
    restore_last(window, _args("--dataset", "cars", "--optimizer", "rmsprop"))
    snap = window.snapshot()
    assert snap["data"] != "anscombe-2"  # the data option wins ...
    assert len(snap["runs"]) == 1  # ... and so do the training options


def test_reset_settings_forgets(make_window):
    _remembering(make_window)
    window = make_window()
    window.findChild(
        type(window.recent_menu.menuAction()), "resetSettingsAction"
    ).trigger()
    assert settings.last_data() is None
    assert settings.last_runs() == []
    fresh = make_window()
    restore_last(fresh, _args())
    assert len(fresh.snapshot()["runs"]) == 1
    fresh.remember_on_close = True
    fresh.close()
    assert settings.last_runs() == [(TrainingConfig(), "")]


def test_every_setting_of_a_run_comes_back(make_window):
    window = make_window()
    config = TrainingConfig(
        optimizer="adam", lr=0.03, reduction="sum", dtype="float32", seed=4,
        batch_size=8, schedule="cosine", schedule_options={"t_max": 200},
    )  # fmt: skip
    window.apply_config(config)
    window.remember_on_close = True
    window.close()
    again = make_window()
    restore_last(again, _args())
    assert again.session.run.config == config


def test_remembered_nonsense_is_ignored(make_window):
    store = settings.app_settings()
    store.setValue("last/data", "{not json")
    store.setValue("last/runs", '[{"optimizer": "warp", "lr": 9}, 7, {"lr": "x"}]')
    store.setValue("last/start", "[1e400, 2]")
    store.setValue("window/splitters", "[[1, 2, 3]]")
    store.sync()
    window = make_window()
    restore_last(window, _args())
    assert window.snapshot()["start"] == (-1.0, 1.0)
    assert len(window.snapshot()["runs"]) == 1
    assert window.last_error is None


def test_a_remembered_file_that_went_away_is_passed_over(make_window, tmp_path):
    csv = tmp_path / "gone.csv"
    csv.write_text("x,y\n0,1\n1,2\n2,4\n", encoding="utf-8")
    window = make_window()
    assert window.open_csv(str(csv))
    window.remember_on_close = True
    window.close()
    csv.unlink()
    again = make_window()
    restore_last(again, _args())
    assert again.last_error is None
    assert again.snapshot()["data"] != "gone.csv"


def test_fresh_starts_without_the_last_launch(make_window, monkeypatch):
    _remembering(make_window)
    shown = []

    class NoLoop:
        def exec(self):
            shown.extend(main_window.LIVE_WINDOWS)
            return 0

    real = gui_app.ensure_application
    monkeypatch.setattr(gui_app, "ensure_application", lambda: real() and NoLoop())
    for argv, runs in ((["--fresh"], 1), ([], 2)):
        shown.clear()
        assert gui_app.gui_main(_args(*argv)) == 0
        (window,) = shown
        assert len(window.snapshot()["runs"]) == runs, argv
        window.remember_on_close = False
        window.close()
