"""The hostile session corpus in tests/data/bad_sessions/: its files and what
each refusal must say. Shared by the core, CLI and window suites."""

from __future__ import annotations

import json
from pathlib import Path

BAD_SESSIONS = Path(__file__).resolve().parent / "data" / "bad_sessions"
NOT_SESSIONS = {"README.md", "expected.json"}
EXPECTED_SESSIONS: dict[str, list[str]] = json.loads(
    (BAD_SESSIONS / "expected.json").read_text(encoding="utf-8")
)
SESSION_CORPUS = sorted(
    p.name for p in BAD_SESSIONS.iterdir() if p.name not in NOT_SESSIONS
)


def check_refusal(message: str, path: Path, fragments: list[str]) -> None:
    """One line that starts with the file's name and holds every fragment
    (looked for after the name, which may hold a fragment itself)."""
    assert message.splitlines() == [message], f"not one line: {message!r}"
    assert message.startswith(str(path)), message
    said = message[len(str(path)) :].lower()
    missing = [f for f in fragments if f not in said]
    assert not missing, f"{message!r} lacks {missing}"
