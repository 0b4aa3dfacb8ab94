"""File ▸ Export figure…: PNG at 1× and 2×, SVG drawn through QSvgGenerator,
one plot or the whole plot area, refusals, the dialog and ``--screenshot``."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox

from sgd_viewer.cli import main

SVG = "{http://www.w3.org/2000/svg}"


def _stepped(window, qtbot, steps: int = 60):
    window.add_run("adam:lr=0.1")
    window.step(steps)
    qtbot.waitUntil(lambda: window.snapshot()["latest_step"] >= steps, timeout=30_000)
    qtbot.waitUntil(lambda: not window.snapshot()["running"], timeout=10_000)
    return window


def _colours(path) -> int:
    """How many different colours a picture has (a blank one has one)."""
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    return len(np.unique(pixels, axis=0))


def test_png_at_2x_has_twice_the_pixels_of_1x(window, qtbot, tmp_path):
    _stepped(window, qtbot)
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    assert window.export_figure(str(one))
    assert window.export_figure(str(two), scale=2.0)
    area = window.plot_area.size()
    with Image.open(one) as first, Image.open(two) as second:
        assert first.size == (area.width(), area.height())
        assert second.size == (2 * area.width(), 2 * area.height())
    assert _colours(one) > 50  # the heatmap, paths, text: drawn, not blank


def test_one_plot_is_that_plot_only(window, qtbot, tmp_path):
    _stepped(window, qtbot)
    sizes = {}
    for what, widget in (
        ("fit", window.fit_view),
        ("surface", window.surface_view),
        ("loss", window.loss_view.parentWidget()),
        ("plots", window.plot_area),
        ("window", window),
    ):
        path = tmp_path / f"{what}.png"
        assert window.export_figure(str(path), what=what)
        with Image.open(path) as picture:
            sizes[what] = picture.size
        assert sizes[what] == (widget.width(), widget.height()), what
    fit_w, fit_h = sizes["fit"]
    plots_w, plots_h = sizes["plots"]
    assert fit_w < plots_w
    assert fit_h < plots_h
    # Each run's line is in the data view; the surface is a heatmap.
    fit = np.asarray(Image.open(tmp_path / "fit.png").convert("RGB"))
    for run in window.session.runs:
        rgb = [int(run.colour[i : i + 2], 16) for i in (1, 3, 5)]
        assert (fit == rgb).all(axis=2).sum() > 100, run.label
    assert _colours(tmp_path / "surface.png") > 2 * _colours(tmp_path / "fit.png")


def test_svg_is_a_drawing_with_the_runs_colours(window, qtbot, tmp_path):
    _stepped(window, qtbot)
    path = tmp_path / "surface.svg"
    assert window.export_figure(str(path), what="surface")
    root = ET.parse(path).getroot()  # valid XML, or this raises
    assert root.tag == f"{SVG}svg"
    view = window.surface_view
    assert root.get("viewBox") == f"0 0 {view.width()} {view.height()}"
    assert root.get("version") == "1.1"  # QSvgGenerator's SVG 1.1, which clips
    assert "sgd_viewer" in root.find(f"{SVG}desc").text
    drawn = [e for e in root.iter() if e.tag in (f"{SVG}path", f"{SVG}polyline")]
    assert len(drawn) > 20
    # Vectors, not cached pixmaps: no path is empty, and only the heatmap
    # (and the colour bar) are images.
    assert all(e.get("d") for e in root.iter(f"{SVG}path"))
    assert len(list(root.iter(f"{SVG}image"))) <= 3
    strokes = {e.get("stroke", "").lower() for e in root.iter()}
    for run in window.session.runs:
        assert run.colour.lower() in strokes, run.label
    text = path.read_text(encoding="utf-8")
    assert "clip-path" in text  # SVG 1.1: the ellipses stay inside the plot


def test_an_unwritable_path_is_refused_in_one_line(window, tmp_path):
    missing = tmp_path / "no such folder" / "figure.png"
    assert not window.export_figure(str(missing))
    assert str(missing) in window.last_error
    assert "cannot be written" in window.last_error
    assert "\n" not in window.last_error
    assert window.findChild(QMessageBox, "errorDialog") is not None
    assert not missing.exists()
    window.last_error = None
    assert not window.export_figure(str(tmp_path / "figure.jpg"))
    assert "'.jpg' is not a figure format" in window.last_error
    assert not (tmp_path / "figure.jpg").exists()
    window.last_error = None
    assert not window.export_figure(str(tmp_path / "x.png"), what="timeline")
    assert "timeline" in window.last_error


def test_the_dialog_writes_what_was_chosen(window, qtbot, tmp_path):
    chosen = tmp_path / "chosen"  # no suffix: the format chosen adds it
    window.pick_path = lambda title, save: str(chosen)
    assert not window.export_figure()  # opens the dialog, writes nothing yet
    dialog = window.findChild(QDialog, "exportFigureDialog")
    assert dialog is not None
    assert dialog.isVisible()
    dialog.what_combo.setCurrentIndex(dialog.what_combo.findData("fit"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(".svg"))
    assert not dialog.scale_combo.isEnabled()  # an SVG has no pixels to scale
    save = dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Save
    )
    save.click()
    written = tmp_path / "chosen.svg"
    qtbot.waitUntil(written.exists)
    root = ET.parse(written).getroot()
    assert root.get("viewBox") == (
        f"0 0 {window.fit_view.width()} {window.fit_view.height()}"
    )


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_screenshot_writes_svg_or_png(qapp, tmp_path, suffix, capsys):
    path = tmp_path / f"shot{suffix}"
    assert main(["--screenshot", str(path), "--size", "1200x800"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {path}"
    if suffix == ".svg":
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg"
        assert root.get("viewBox") == "0 0 1200 800"
        assert len(list(root.iter(f"{SVG}path"))) > 20
    else:
        with Image.open(path) as picture:
            assert picture.size == (1200, 800)


def test_screenshot_to_a_missing_folder_fails_in_one_line(qapp, tmp_path, capsys):
    path = tmp_path / "missing" / "shot.svg"
    assert main(["--screenshot", str(path), "--size", "800x600"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith(f"sgd-viewer: error: {path}: cannot be written")
