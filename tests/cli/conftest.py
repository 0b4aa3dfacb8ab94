"""Helpers of the CLI tests: run ``sgd_viewer.cli.main`` in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from sgd_viewer.cli import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()

    @property
    def json(self) -> dict:
        """The ``--json`` summary: everything from the first line that is ``{``."""
        lines = self.out.splitlines()
        start = lines.index("{")
        return json.loads("\n".join(lines[start:]))

    @property
    def log(self) -> list[dict[str, float]]:
        """The ``--log-every`` lines as numbers."""
        rows = []
        for line in self.out.splitlines():
            if line.startswith("step "):
                words = line.split()
                rows.append(
                    {words[i]: float(words[i + 1]) for i in range(0, len(words), 2)}
                )
        return rows


@pytest.fixture
def cli(capsys) -> Callable[..., CliResult]:
    """Run ``sgd-viewer ARGS`` in this process; argparse's exits become codes."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
