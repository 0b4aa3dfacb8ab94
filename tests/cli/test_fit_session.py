"""``fit --save-session FILE`` and ``fit --session FILE [--steps N]``: a saved
run reports exactly what the run did; hostile files exit 2 with one line."""

from __future__ import annotations

import json

import pytest
from bad_sessions import BAD_SESSIONS, EXPECTED_SESSIONS, SESSION_CORPUS, check_refusal

from sgd_viewer.core.session_file import read_session

RUN = ["--optimizer", "momentum", "--lr", "0.05", "--momentum", "0.9"]
SAME = ("a", "b", "loss", "steps", "status", "optimizer", "lr", "hyperparameters")


def test_a_saved_fit_reports_the_same_numbers(cli, tmp_path) -> None:
    path = tmp_path / "run.json"
    fit = cli("fit", *RUN, "--steps", "250", "--json", "--save-session", path)
    assert fit.code == 0, fit.err
    again = cli("fit", "--session", path, "--json")
    assert again.code == 0, again.err
    for key in SAME:
        assert again.json[key] == fit.json[key], key
    assert read_session(path).runs[0].steps == 250


def test_steps_override_the_saved_number(cli, tmp_path) -> None:
    path = tmp_path / "run.json"
    assert cli("fit", *RUN, "--steps", "250", "--save-session", path).code == 0
    shorter = cli("fit", "--session", path, "--steps", "90", "--json")
    direct = cli("fit", *RUN, "--steps", "90", "--json")
    assert shorter.json["steps"] == 90
    assert (shorter.json["a"], shorter.json["b"]) == (
        direct.json["a"],
        direct.json["b"],
    )


def test_a_saved_race_reports_every_run(cli, tmp_path) -> None:
    path = tmp_path / "race.json"
    specs = ["sgd:lr=0.1", "adam:lr=0.1,label=fast adam", "sgd:lr=0.05,batch=8"]
    race = cli("fit", "--compare", *specs, "--steps", "200", "--json",
               "--save-session", path)  # fmt: skip
    assert race.code == 0, race.err
    again = cli("fit", "--session", path, "--json")
    assert again.code == 0, again.err
    assert [r["label"] for r in again.json["runs"]] == [
        r["label"] for r in race.json["runs"]
    ]
    for saved, replayed in zip(race.json["runs"], again.json["runs"], strict=True):
        assert (replayed["a"], replayed["b"], replayed["loss"]) == (
            saved["a"],
            saved["b"],
            saved["loss"],
        )
    assert read_session(path).runs[1].custom_label


def test_a_diverged_session_run_exits_3(cli, tmp_path) -> None:
    path = tmp_path / "gone.json"
    assert cli("fit", "--lr", "5", "--steps", "100", "--save-session", path).code == 3
    replayed = cli("fit", "--session", path, "--json")
    assert replayed.code == 3
    assert replayed.json["status"] == "diverged"


@pytest.mark.parametrize("name", SESSION_CORPUS)
def test_hostile_sessions_exit_2_with_one_line(cli, name) -> None:
    path = BAD_SESSIONS / name
    result = cli("fit", "--session", path)
    assert result.code == 2
    assert len(result.err_lines) == 1
    line = result.err_lines[0]
    prefix = "sgd-viewer fit: error: "
    assert line.startswith(prefix)
    check_refusal(line[len(prefix) :], path, EXPECTED_SESSIONS[name])
    assert result.out == ""


def test_session_and_what_it_replaces_exit_2(cli, tmp_path) -> None:
    path = tmp_path / "run.json"
    assert cli("fit", "--steps", "5", "--save-session", path).code == 0
    result = cli("fit", "--session", path, "--lr", "0.3")
    assert result.code == 2
    assert result.err_lines == [
        "sgd-viewer fit: error: --session gives the data and the runs; drop --lr"
    ]


def test_an_unwritable_session_path_exits_2(cli, tmp_path) -> None:
    target = tmp_path / "no-such-folder" / "run.json"
    result = cli("fit", "--steps", "5", "--save-session", target)
    assert result.code == 2
    assert result.err_lines[-1].startswith(
        f"sgd-viewer fit: error: cannot write {target}"
    )


def test_a_saved_session_is_plain_json(cli, tmp_path) -> None:
    path = tmp_path / "run.json"
    assert cli("fit", "--dataset", "anscombe-2", "--steps", "3",
               "--save-session", path).code == 0  # fmt: skip
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "sgd-viewer-session"
    assert document["data"] == {
        "kind": "bundled",
        "name": "anscombe-2",
        "x": "x",
        "y": "y",
    }


def _run_script(path) -> dict:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_fit_script_reproduces_the_fit(cli, tmp_path) -> None:
    script = tmp_path / "run.py"
    fit = cli("fit", *RUN, "--batch-size", "8", "--steps", "120", "--json",
              "--script", script)  # fmt: skip
    assert fit.code == 0, fit.err
    printed = _run_script(script)
    for key in ("a", "b", "loss"):
        assert printed[key] == pytest.approx(fit.json[key], rel=1e-12, abs=0), key


def test_fit_script_refuses_a_race(cli, tmp_path) -> None:
    result = cli("fit", "--compare", "sgd", "adam", "--script", tmp_path / "x.py")
    assert result.code == 2
    assert "--script writes one run" in result.err
    assert not (tmp_path / "x.py").exists()
