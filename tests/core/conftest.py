"""Fixtures of the core tests (helpers live in core_reference.py)."""

from __future__ import annotations

import pytest

from sgd_viewer.core.data import Dataset, generate


@pytest.fixture
def lesson_data() -> Dataset:
    """The animation's data: 50 generated points (seed 0)."""
    return generate(50)
