"""Feature scaling in the window: the runs fit standardized data, the
readouts give the line in the original units too, the surface is round, and
a session keeps the scaling."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox

from sgd_viewer.core.data import load_bundled


def test_standardizing_x_rounds_the_surface_and_maps_back(window, qtbot):
    window.load_dataset("cars")
    raw_kappa = window.snapshot()["scaling"]["condition_number"]
    combo = window.findChild(QComboBox, "scaleXCombo")
    combo.setCurrentIndex(combo.findData("standardize"))
    combo.activated.emit(combo.currentIndex())
    scaled = window.snapshot()["scaling"]
    assert (scaled["x"], scaled["y"]) == ("standardize", "none")
    assert scaled["condition_number"] == pytest.approx(1.0)
    assert scaled["raw_condition_number"] == pytest.approx(raw_kappa)
    assert raw_kappa > 100
    window.apply_config(window.session.run.config.with_changes(lr=0.5))
    window.step(300)
    qtbot.waitUntil(lambda: window.snapshot()["step"] == 300, timeout=30_000)
    snap = window.snapshot()
    data = load_bundled("cars")
    slope, intercept = np.polyfit(data.x, data.y, 1)
    assert snap["scaling"]["a_original"] == pytest.approx(slope, rel=1e-6)
    assert snap["scaling"]["b_original"] == pytest.approx(intercept, rel=1e-6)
    assert "κ = 1" in window.readouts.labels["scaling"].text()
    assert "κ = 1 (raw: 2.57e+03)" in window.surface_view._title.full_text
    # The runs fit the scaled data: x has mean 0 and standard deviation 1.
    assert window.session.data.x.mean() == pytest.approx(0, abs=1e-12)
    assert window.session.raw_data.x.std() == pytest.approx(data.x.std())


def test_a_session_keeps_the_scaling(make_window, qtbot, tmp_path):
    saved = make_window()
    saved.load_dataset("forbes")
    saved.set_scaling("standardize", "standardize")
    saved.step(50)
    qtbot.waitUntil(lambda: saved.snapshot()["step"] == 50, timeout=30_000)
    path = tmp_path / "scaled.json"
    assert saved.save_session(str(path))
    fresh = make_window()
    with qtbot.waitSignal(fresh.session_opened, timeout=30_000):
        assert fresh.open_session(str(path))
    for key in ("a", "b", "scaling", "step", "n"):
        assert fresh.snapshot()[key] == saved.snapshot()[key], key
    assert fresh.findChild(QCheckBox, "standardizeYCheck").isChecked()


def test_data_that_cannot_be_scaled_are_refused(window, tmp_path):
    flat = tmp_path / "flat.csv"
    flat.write_text("x,y\n1,5\n2,5\n3,5\n", encoding="utf-8")
    assert window.open_csv(str(flat))
    before = window.snapshot()
    window.set_scaling("none", "standardize")
    assert "every value is the same" in window.last_error
    assert window.snapshot()["scaling"] == before["scaling"]
    assert not window.findChild(QCheckBox, "standardizeYCheck").isChecked()
