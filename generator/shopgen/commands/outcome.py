"""What a command hands back to the CLI: text for stdout, lines for stderr, and the exit status."""

from __future__ import annotations

from dataclasses import dataclass, field

OK = 0
DIFFERENT = 1  # a check found differences, findings or kept hand edits


@dataclass
class Outcome:
    out: str = ""  # printed to stdout as is (reports, diffs, JSON)
    err: list[str] = field(default_factory=list)  # progress and summary lines, to stderr
    code: int = OK
