"""`shopgen stages`: the stages of the story, in order, as text or JSON (with their contracts)."""

from __future__ import annotations

import json

from shopgen.commands.outcome import Outcome
from shopgen.story.stages import all_stages


def run(*, fmt: str) -> Outcome:
    if fmt == "json":
        data = [
            {
                "number": s.number,
                "name": s.name,
                "title": s.title,
                "story": s.story,
                "fix": s.fix,
                "why": s.why,
                "contract": {
                    "adds": list(s.contract.adds),
                    "changes": [{"kind": k, "path": p} for k, p in s.contract.changes],
                },
            }
            for s in all_stages()
        ]
        return Outcome(out=json.dumps(data, indent=2) + "\n")
    return Outcome(out="".join(f"{s.number}  {s.name:<17} {s.story}\n" for s in all_stages()))
