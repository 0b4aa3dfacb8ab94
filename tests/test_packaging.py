"""A non-editable install ships resources/ inside the package and finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("sgd_viewer-*.whl")
    return found


def test_wheel_contains_datasets_icon_and_desktop_entry(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sgd_viewer/resources/datasets/anscombe-1.csv" in names
    assert "sgd_viewer/resources/datasets/anscombe-1.md" in names
    assert "sgd_viewer/resources/icon.svg" in names
    assert "sgd_viewer/resources/lessons/03-learning-rate-regimes.json" in names
    assert "sgd_viewer/resources/lessons/03-learning-rate-regimes.md" in names
    assert "sgd_viewer/resources/sgd-viewer.desktop" in names
    assert not any(name.startswith("resources/") for name in names)


def test_installed_package_loads_bundled_datasets(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    code = (
        "import sgd_viewer, sgd_viewer.core.data as d;"
        f"assert sgd_viewer.__file__.startswith({str(target)!r}), sgd_viewer.__file__;"
        "names = d.bundled_dataset_names(); assert 'anscombe-1' in names, names;"
        "print(d.load_bundled('anscombe-1').n)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "11"
