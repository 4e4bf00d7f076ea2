"""`shopgen status`: where an output root stands, in one look.

The config and profile in use, the active stage, whether the trees equal a fresh render (what
`synth --check` computes, from output/freshness.py), the hand edits, an interrupted run's journal
and the last promotion commit. It only reads: no file, lock, journal, cache entry or state is
written, an interrupted run is reported and never completed, and a stale tree is a report, not a
failure (exit 0). Bad input (a config, a state file) is an error as in every other command.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopgen.commands.outcome import Outcome
from shopgen.output.freshness import CREATE, FOREIGN, HAND_EDIT, KINDS, REMOVE, UPDATE
from shopgen.workspace import output_root

if TYPE_CHECKING:
    from shopgen.config import Config

# The JSON name of each kind of difference `synth --check` lists (its counts sum to its total).
COUNT_KEYS = {CREATE: "created", UPDATE: "updated", REMOVE: "removed", HAND_EDIT: "hand_edited", FOREIGN: "foreign"}
_WORDS = {CREATE: "to create", UPDATE: "to update", REMOVE: "to remove", HAND_EDIT: "edited by hand"}
_WORDS[FOREIGN] = "not shopgen's"


@dataclass(frozen=True)
class Promotion:
    """The newest commit carrying promote's trailer; stage and subject are the repository's words."""

    sha: str
    stage: str
    subject: str


@dataclass(frozen=True)
class Status:
    """Everything `status` reports, gathered before anything is printed (one shape, two formats)."""

    root: Path
    config: str  # where the config came from: a path, or "embedded defaults"
    profile: str
    profile_description: str
    active_stage: str | None  # None: no state file yet (nothing synthesized or promoted)
    differences: dict[str, int]  # kind (freshness.KINDS) -> how many files differ that way
    hand_edits: tuple[str, ...]
    journal: Path | None  # the pending journal of an interrupted run
    last_promotion: Promotion | None

    @property
    def fresh(self) -> bool:
        return not any(self.differences.values())


def status(*, out: Path | None, config_path: Path | None, before_render: Callable[[], None] = lambda: None) -> Status:
    """Gather the status of the output root; ``before_render`` runs only when a render is needed.

    The journal is looked up first: a journal inside the tree is refused here as everywhere (no
    command reads past one), while a pending one outside it is only reported.
    """
    from shopgen import gitops
    from shopgen.config import load_config, load_profile
    from shopgen.output import journal
    from shopgen.output.state import STATE_FILE, read_active_stage

    root = output_root(out)
    pending = journal.path_for(root) if journal.pending(root) else None
    cfg, description = load_config(config_path, out_root=root)
    profile = load_profile(cfg.app.profile)
    state = root / STATE_FILE
    # Without a state file read_active_stage answers the config's initial stage: that is no stage yet.
    active = read_active_stage(root, cfg) if state.exists() or state.is_symlink() else None
    counts, hand_edits = compare_with_render(root, cfg, config_path, before_render)
    found = gitops.last_promotion(root)
    return Status(
        root=root,
        config=description,
        profile=profile.name,
        profile_description=profile.description,
        active_stage=active,
        differences=counts,
        hand_edits=hand_edits,
        journal=pending,
        last_promotion=Promotion(*found) if found else None,
    )


def compare_with_render(
    root: Path, cfg: Config, config_path: Path | None, before_render: Callable[[], None]
) -> tuple[dict[str, int], tuple[str, ...]]:
    """What `synth --check` (all stages) would list, counted by kind, and the hand-edited files.

    Its no-change path first, as synth's: when the cache proves the tree equals the render, nothing
    differs and nothing needs rendering. Only synth remembers a render there, never status.
    """
    from shopgen.gitops import repo_prefix
    from shopgen.output import cache
    from shopgen.output.freshness import differences, plan_against_tree, render_fresh

    counts = dict.fromkeys(KINDS, 0)
    no_render = cache.enabled(force=False, crd_dir=None)
    if no_render and cache.try_unchanged(root, config_path, (), repo_prefix(root), checked=True) is not None:
        return counts, ()
    before_render()
    fresh = render_fresh(root, cfg, ())
    _, plan = plan_against_tree(root, cfg, fresh.stages, fresh.active, fresh.files, force=False)
    for kind, _path in differences(plan):
        counts[kind] += 1
    return counts, plan.hand_edits


def as_json(found: Status) -> dict[str, Any]:
    """The JSON object of `status --format json` (a stable shape for scripts and CI)."""
    promotion = found.last_promotion
    return {
        "root": str(found.root),
        "config": found.config,
        "profile": found.profile,
        "profile_description": found.profile_description,
        "active_stage": found.active_stage,
        "fresh": found.fresh,
        "differences": {COUNT_KEYS[kind]: n for kind, n in found.differences.items()},
        "hand_edits": list(found.hand_edits),
        "pending_journal": found.journal is not None,
        "last_promotion": None
        if promotion is None
        else {"sha": promotion.sha, "stage": promotion.stage, "subject": promotion.subject},
    }


def _visible(text: str) -> str:
    """A repository's words as a terminal shows them: escaped when they hold control characters."""
    from shopgen.config import shown

    return text if text.isprintable() else shown(text, limit=200)


def as_text(found: Status) -> str:
    """Aligned ``key: value`` lines; a list continues on lines of its own under the value column."""
    if found.fresh:
        fresh = "yes"
    else:
        parts = [f"{n} {_WORDS[kind]}" for kind, n in found.differences.items() if n]
        fresh = f"no: {', '.join(parts)} (`shopgen synth --check` lists them; `shopgen synth` updates)"
    if found.journal is None:
        pending = "no"
    else:
        pending = f"yes, an interrupted run ({found.journal}): `shopgen synth` completes it"
    promotion = found.last_promotion
    last = "none"
    if promotion is not None:
        last = f"{promotion.sha[:12]} {_visible(promotion.stage)}: {_visible(promotion.subject)}"
    rows: list[tuple[str, list[str]]] = [
        ("root", [str(found.root)]),
        ("config", [found.config]),
        ("profile", [f"{found.profile} ({found.profile_description})"]),
        ("active stage", [found.active_stage or "none (nothing synthesized or promoted yet)"]),
        ("fresh", [fresh]),
        ("hand edits", list(found.hand_edits) or ["none"]),
        ("pending journal", [pending]),
        ("last promotion", [last]),
    ]
    width = max(len(key) for key, _ in rows) + 2
    lines = []
    for key, values in rows:
        lines.append(f"{key + ':':<{width}}{values[0]}")
        lines += [f"{'':<{width}}{value}" for value in values[1:]]
    return "\n".join(lines) + "\n"


def run(
    *, fmt: str, out: Path | None, config_path: Path | None, before_render: Callable[[], None] = lambda: None
) -> Outcome:
    """The whole command: always exit 0 once the status is known (a stale tree is reported, not failed)."""
    from shopgen.errors import ConfigError

    if fmt not in ("text", "json"):
        raise ConfigError(f"--format {fmt!r}: not a format; formats: text, json")
    found = status(out=out, config_path=config_path, before_render=before_render)
    if fmt == "json":
        return Outcome(out=json.dumps(as_json(found), indent=2) + "\n")
    return Outcome(out=as_text(found))
