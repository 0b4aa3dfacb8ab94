"""``sgd-viewer bench``: the command runs and reports every key and field.

No timed assertions: speed is what the command reports, not what tests judge.
The quick run happens once, in a fresh process (as a user would start it), and
every test reads its JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sgd_viewer.bench import KEYS, bench_main, table

FIELDS = ("value", "baseline", "ratio", "target", "met")


@pytest.fixture(scope="module")
def report() -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "sgd_viewer", "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_reports_the_machine(report):
    machine = report["machine"]
    assert machine["cores"] >= 1
    for name in ("torch", "qt", "pyside6", "pyqtgraph", "python"):
        assert machine[name], name
    assert report["quick"] is True


def test_reports_every_key_with_every_field(report):
    assert list(report["results"]) == list(KEYS)
    for key, result in report["results"].items():
        assert result["met"] in (True, False, None), key
        assert result["measurements"], key
        for measurement in result["measurements"]:
            for field in FIELDS:
                assert field in measurement, (key, field)
            assert measurement["met"] in (True, False, None), key
            if measurement["value"] is not None and measurement["baseline"]:
                assert measurement["ratio"] == pytest.approx(
                    measurement["value"] / measurement["baseline"]
                )


def test_engine_rows_cover_sizes_and_optimizers(report):
    rows = report["results"]["engine_full_batch"]["measurements"]
    seen = {(r["detail"]["optimizer"], r["detail"]["n"]) for r in rows}
    sizes = (50, 1_000, 100_000, 1_000_000)  # no 1e7 in --quick
    assert seen == {(opt, n) for opt in ("sgd", "adam") for n in sizes}
    batches = report["results"]["engine_minibatch"]["measurements"]
    assert {r["detail"]["batch_size"] for r in batches} == {32, 1024}


def test_measured_values_are_positive(report):
    for key in ("engine_full_batch", "engine_minibatch", "surface", "memory"):
        for r in report["results"][key]["measurements"]:
            assert r["value"] is not None, key
            assert r["baseline"] > 0, key
    split = report["results"]["surface"]["measurements"][0]["detail"]
    assert {"statistics_ms", "grid_ms", "ellipses_ms"} <= set(split)


def test_race_keys_are_reported_in_quick_mode(report):
    race = report["results"]["engine_race"]["measurements"]
    assert len(race) == 1
    assert race[0]["value"] is not None
    assert race[0]["baseline"] > 0
    assert len(race[0]["detail"]["optimizers"]) == 8
    for key in ("seek", "resume"):
        for r in report["results"][key]["measurements"]:
            assert r["baseline"] is None, key
            assert r["ratio"] is None, key
            assert r["target"], key
    resumed = report["results"]["resume"]["measurements"]
    headless = [r for r in resumed if r["label"].startswith("headless")]
    assert {r["detail"]["optimizer"] for r in headless} == {"momentum", "adam"}
    for r in headless:
        assert r["value"] is not None
        assert "--quick" in r["label"]
    assert "--quick" in report["results"]["seek"]["measurements"][0]["label"]


def test_window_keys_report_numbers_or_say_why_not(report):
    for key in ("gui_run", "gui_race", "seek", "startup"):
        result = report["results"][key]
        for r in result["measurements"]:
            assert r["value"] is not None or result["note"], key
    for key in ("gui_run", "gui_race"):
        _check_window_run(report["results"][key]["measurements"][0])


def _check_window_run(gui_row: dict) -> None:
    if gui_row["value"] is not None:
        detail = gui_row["detail"]
        for field in ("frames_per_s", "lateness_p50_ms", "lateness_p99_ms"):
            assert field in detail
        # Frames are the repaints of the plot repainted most: never more
        # than that plot's own count, and each plot's rate is reported.
        per_plot = detail["repaints_per_s_by_plot"]
        assert set(per_plot) == {"fitPlot", "surfacePlot", "lossPlot"}
        assert detail["frames_per_s"] == max(per_plot.values())


def test_table_names_every_key(report):
    text = table(report)
    for key in KEYS:
        assert key in text
    assert "ratio" in text
    assert "targets met:" in text


def test_unknown_key_is_a_usage_error(capsys):
    assert bench_main(["--only", "nonsense"]) == 2
    assert "unknown key nonsense" in capsys.readouterr().err


def test_help_lists_the_options(capsys):
    assert bench_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--quick" in out
    assert "--json" in out
