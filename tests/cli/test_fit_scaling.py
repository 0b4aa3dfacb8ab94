"""``fit --center | --standardize [--standardize-y]``: the runs train on scaled
data; a, b and the optimum come back in the original units (equal to numpy's
least squares on the raw data), the scaled numbers under ``scaled``."""

from __future__ import annotations

import numpy as np
import pytest

from sgd_viewer.core.data import generate, load_bundled
from sgd_viewer.core.scaling import Scaling, scale


@pytest.mark.parametrize("dataset", ["cars", "forbes", "anscombe-4"])
@pytest.mark.parametrize("y", [[], ["--standardize-y"]], ids=["x", "x-and-y"])
def test_the_optimum_mapped_back_is_least_squares(cli, dataset, y) -> None:
    result = cli("fit", "--dataset", dataset, "--standardize", *y, "--lr", "0.5",
                 "--steps", "400", "--json")  # fmt: skip
    assert result.code == 0, result.err
    report = result.json
    data = load_bundled(dataset)
    slope, intercept = np.polyfit(data.x, data.y, 1)
    assert report["optimum"]["a"] == pytest.approx(slope, rel=1e-9, abs=1e-9)
    assert report["optimum"]["b"] == pytest.approx(intercept, rel=1e-9, abs=1e-9)
    # 400 steps at lr 0.5 on a round surface: converged, in the original units.
    assert report["a"] == pytest.approx(slope, rel=1e-6)
    assert report["b"] == pytest.approx(intercept, rel=1e-6, abs=1e-6)
    scaled = report["scaled"]
    assert scaled["condition_number"] == pytest.approx(1.0)
    assert report["condition_number"] > 10 * scaled["condition_number"]


def test_centering_alone_leaves_the_slope_and_makes_b_the_mean(cli) -> None:
    result = cli("fit", "--dataset", "cars", "--center", "--lr", "0.001",
                 "--steps", "20000", "--json")  # fmt: skip
    assert result.code == 0, result.err
    data = load_bundled("cars")
    scaled = result.json["scaled"]
    assert scaled["optimum"]["b"] == pytest.approx(data.y.mean(), rel=1e-12)
    assert scaled["optimum"]["a"] == pytest.approx(result.json["optimum"]["a"])


def test_a_scaled_race_reports_original_units(cli) -> None:
    result = cli("fit", "--dataset", "cars", "--standardize", "--steps", "300",
                 "--compare", "sgd:lr=0.5", "adam:lr=0.1", "--json")  # fmt: skip
    assert result.code == 0, result.err
    data = load_bundled("cars")
    slope, _ = np.polyfit(data.x, data.y, 1)
    assert result.json["optimum"]["a"] == pytest.approx(slope, rel=1e-9)
    assert result.json["runs"][0]["a"] == pytest.approx(slope, rel=1e-6)
    assert result.json["scaled"]["condition_number"] == pytest.approx(1.0)


def test_scaling_that_cannot_be_done_exits_2(cli, tmp_path) -> None:
    flat = tmp_path / "flat.csv"
    flat.write_text("x,y\n1,5\n2,5\n3,5\n", encoding="utf-8")
    result = cli("fit", "--data", flat, "--standardize-y")
    assert result.code == 2
    assert result.err_lines == [
        f"sgd-viewer fit: error: {flat.name}: cannot standardize: every value is "
        "the same"
    ]
    saved = cli("fit", "--standardize", "--save-session", tmp_path / "s.json")
    assert saved.code == 2
    assert "drop the scaling" in saved.err


def test_scaling_maps_lines_both_ways() -> None:
    data = generate(n=40, a=-2.0, b=30.0, noise=1.0, seed=2)
    scaled, scaling = scale(data, "standardize", "standardize")
    assert scaled.x.mean() == pytest.approx(0, abs=1e-12)
    assert scaled.y.std() == pytest.approx(1)
    line = (1.5, -0.25)
    assert scaling.to_scaled(*scaling.to_original(*line)) == pytest.approx(line)
    # A point on the scaled line maps onto the original line.
    x0 = 0.7
    a, b = scaling.to_original(*line)
    y_scaled = line[0] * (x0 - scaling.x_shift) / scaling.x_scale + line[1]
    assert a * x0 + b == pytest.approx(y_scaled * scaling.y_scale + scaling.y_shift)
    same, identity = scale(data)
    assert same is data
    assert identity == Scaling()
    with pytest.raises(ValueError, match="x scaling must be one of"):
        scale(data, "log")
