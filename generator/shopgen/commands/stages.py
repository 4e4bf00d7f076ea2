"""`shopgen stages`: the stages of the story, in order, as text or JSON (with their contracts).

The prose is filled from the config, so the list names the user's own services and values.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from shopgen.commands.outcome import Outcome
from shopgen.config import load_profile
from shopgen.story.stages import all_stages

if TYPE_CHECKING:
    from shopgen.config import Config


def run(*, fmt: str, cfg: Config) -> Outcome:
    """List the stages; ``cfg`` fills their prose and names the profile."""
    profile = load_profile(cfg.app.profile)
    if fmt == "json":
        data = [
            {
                "profile": profile.name,
                "number": s.number,
                "name": s.name,
                "title": s.text("title", cfg),
                "story": s.text("story", cfg),
                "fix": s.text("fix", cfg),
                "why": s.text("why", cfg),
                "contract": {
                    "adds": list(s.contract.adds),
                    "changes": [{"kind": k, "path": p} for k, p in s.contract.changes],
                },
            }
            for s in all_stages()
        ]
        return Outcome(out=json.dumps(data, indent=2) + "\n")
    return Outcome(
        out="".join(f"{s.number}  {s.name:<17} {s.text('story', cfg)}\n" for s in all_stages()),
        err=[f"profile {profile.name}: {profile.description}"],
    )
