"""`shopgen stages`: the stages of the story, in order, as text or JSON (with their contracts).

The prose is filled from the config, so the list names the user's own services and values. The active
stage (.shopgen/state.json, else gitops.initial_stage) is marked: a ``*`` before its number in the text
(the name stays the second field of every line), ``"active": true`` in its JSON entry.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from shopgen.commands.outcome import Outcome
from shopgen.config import load_profile
from shopgen.story.stages import all_stages

if TYPE_CHECKING:
    from pathlib import Path

    from shopgen.config import Config


def run(*, fmt: str, cfg: Config, root: Path | None = None) -> Outcome:
    """List the stages; ``cfg`` fills their prose and names the profile, ``root``'s state the active one
    (no root: none is marked)."""
    from shopgen.output.state import read_active_stage
    from shopgen.render.extensions import extension_summary

    profile = load_profile(cfg.app.profile)
    active = read_active_stage(root, cfg) if root is not None else None
    loaded = cfg.loaded_extensions()
    # The user's extensions, apart from the stage's own fix (its contract); nothing without extensions.
    notes = {s.name: extension_summary(loaded, s.name) for s in all_stages()}
    if fmt == "json":
        data = [
            {
                "profile": profile.name,
                "number": s.number,
                "name": s.name,
                "active": s.name == active,
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
        if loaded is not None:
            for entry in data:
                entry["extensions"] = notes[str(entry["name"])]
        return Outcome(out=json.dumps(data, indent=2) + "\n")
    return Outcome(
        out="".join(
            f"{'*' if s.name == active else ' '}{s.number}  {s.name:<17} {s.text('story', cfg)}\n"
            + (f"    {notes[s.name]}\n" if notes[s.name] else "")
            for s in all_stages()
        ),
        err=[f"profile {profile.name}: {profile.description}"],
    )
