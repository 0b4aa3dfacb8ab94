"""The window is built with the garbage collector paused and its objects
frozen until it closes (``gui.long_lived``)."""

from __future__ import annotations

import gc

import pytest

from sgd_viewer.gui import long_lived


@pytest.fixture(autouse=True)
def _nothing_frozen_before_or_after():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_window_is_frozen_while_open_and_released_on_close(make_window):
    window = make_window()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the window's objects, not a handful
    assert gc.isenabled()
    window.close()
    assert gc.get_freeze_count() == 0


def test_no_collection_runs_while_building(qtbot):
    from sgd_viewer.gui import create_main_window

    collections = []
    gc.collect()

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        window = create_main_window()
    finally:
        gc.callbacks.remove(count)
    qtbot.addWidget(window)
    assert collections == []
    window.shutdown()


def _fail_to_build(seen: list[bool]) -> None:
    with long_lived.building():
        seen.append(gc.isenabled())
        raise RuntimeError("the window could not be built")


def test_a_block_that_raises_freezes_nothing_and_restores_the_collector():
    seen: list[bool] = []
    with pytest.raises(RuntimeError):
        _fail_to_build(seen)
    assert seen == [False]  # paused inside
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_a_paused_collector_stays_paused():
    gc.disable()
    try:
        with long_lived.building():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
