"""``core.helper_process.run_in_helper``: a function computed in another
process, with its result or its exception, and in place where no process can
start."""

from __future__ import annotations

import os

import numpy as np
import pytest

from sgd_viewer.core import helper_process
from sgd_viewer.core.data import generate
from sgd_viewer.core.session_checks import SessionFileError
from sgd_viewer.core.session_file import read_session


def test_the_result_comes_from_another_process() -> None:
    assert helper_process.run_in_helper(os.getpid) != os.getpid()


def test_a_session_read_there_equals_one_read_here(tmp_path) -> None:
    from sgd_viewer.core.config import TrainingConfig
    from sgd_viewer.core.recipe import RunRecipe
    from sgd_viewer.core.session_file import RunEntry, session_document
    from sgd_viewer.core.session_io import save

    data = generate(n=500, seed=4)
    recipe = RunRecipe(TrainingConfig(optimizer="adam", lr=0.1), "mine", "#0072b2", ())
    path = str(tmp_path / "s.json")
    save(path, session_document(data, (-1.0, 1.0), [RunEntry(recipe, 30)]))
    there = helper_process.run_in_helper(read_session, path)
    here = read_session(path)
    assert np.array_equal(there.data.x, here.data.x)
    assert np.array_equal(there.data.y, here.data.y)
    assert there.runs[0].recipe == here.runs[0].recipe
    assert there.runs[0].recipe.config.hyperparameters["beta1"] == 0.9


def test_an_exception_comes_back_as_itself(tmp_path) -> None:
    missing = str(tmp_path / "missing.json")
    with pytest.raises(SessionFileError, match=r"missing\.json: file not found"):
        helper_process.run_in_helper(read_session, missing)


def test_without_a_process_it_runs_in_place(monkeypatch) -> None:
    def cannot_start():
        raise OSError("no processes here")

    monkeypatch.setattr(helper_process, "_helper", cannot_start)
    assert helper_process.run_in_helper(os.getpid) == os.getpid()


def _die_unless_in(pid: int) -> str:
    if os.getpid() != pid:
        os._exit(1)  # the helper dies, as one killed would
    return "computed in place"


def test_a_helper_that_dies_is_replaced_and_the_call_still_answers() -> None:
    here = os.getpid()
    assert helper_process.run_in_helper(_die_unless_in, here) == "computed in place"
    assert helper_process.run_in_helper(os.getpid) != here  # a new helper
