"""The bad-input corpus in tests/data/bad/: its files and what each message must say.

``expected.json`` maps each file name to the lower-case fragments its error
message must hold. Shared by the core, CLI and reliability suites.
"""

from __future__ import annotations

import json
from pathlib import Path

BAD_DIR = Path(__file__).resolve().parent / "data" / "bad"
NOT_INPUTS = {"README.md", "expected.json"}
EXPECTED: dict[str, list[str]] = json.loads(
    (BAD_DIR / "expected.json").read_text(encoding="utf-8")
)
CORPUS = sorted(p.name for p in BAD_DIR.iterdir() if p.name not in NOT_INPUTS)
