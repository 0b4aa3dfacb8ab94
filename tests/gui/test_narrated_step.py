"""With Explain on, Step takes one step and tells it in four stages."""

from __future__ import annotations

import pytest


@pytest.fixture
def explaining(window):
    window.narrator.stage_ms = 30  # the stages' pace, not a wait of the test's
    window.explain_box.checks["explain"].setChecked(True)
    assert window.session.display.explain
    return window


def test_step_plays_the_update_in_four_stages(explaining, qtbot):
    window = explaining
    window.controls.step_count_spin.setValue(10)  # Explain steps once anyway
    seen = []
    window.narrator.stage_changed.connect(seen.append)
    window.step_from_keyboard()
    qtbot.waitUntil(lambda: seen[-1:] == [0], timeout=20_000)
    assert seen == [1, 2, 3, 4, 0]
    snap = window.snapshot()
    assert snap["latest_step"] == 1
    assert snap["narration"] is None  # over
    assert not window.narration.isVisible()


def test_each_stage_says_its_numbers(explaining, qtbot):
    window = explaining
    window.narrator.stage_ms = 60_000  # hold each stage until asked
    window.step(1)
    qtbot.waitUntil(lambda: window.snapshot()["narration"] is not None, timeout=20_000)
    narration = window.snapshot()["narration"]
    assert narration["stage"] == 1
    assert narration["of"] == 4
    row = window.history.row_at(1)
    assert f"{row['grad_a']:.4g}" in narration["text"]
    assert narration["text"] in window.narration.text()
    assert window.narrator._arrow.isVisible()
    window.narrator._next()
    window.narrator._next()
    third = window.snapshot()["narration"]
    assert third["title"].startswith("3.")
    assert third["vector"] == pytest.approx([row["a"] + 1.0, row["b"] - 1.0])
    # Stepping again skips the rest and narrates the next step.
    window.step(1)
    qtbot.waitUntil(
        lambda: (
            window.snapshot()["latest_step"] == 2
            and (window.snapshot()["narration"] or {}).get("stage") == 1
        ),
        timeout=20_000,
    )
    assert "Plain gradient descent" not in window.snapshot()["narration"]["text"]
    window.narrator._next()
    assert "Plain gradient descent" in window.snapshot()["narration"]["text"]


def test_momentum_is_told_as_momentum(explaining, qtbot):
    window = explaining
    window.narrator.stage_ms = 60_000
    window.add_run("momentum:lr=0.05,momentum=0.9")
    window.step(1)
    window.step(1)
    qtbot.waitUntil(
        lambda: (
            (window.snapshot()["narration"] or {}).get("stage") == 1
            and window.snapshot()["latest_step"] == 2
        ),
        timeout=20_000,
    )
    window.narrator._next()
    assert "Momentum keeps a velocity" in window.snapshot()["narration"]["text"]


def test_without_explain_step_is_silent(window, qtbot):
    window.step(3)
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] == 3, timeout=20_000)
    assert window.snapshot()["narration"] is None
