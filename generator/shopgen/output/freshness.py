"""What `shopgen synth --check` computes: a fresh render, in memory, planned against the tree on disk.

synth plans its writes and its --check with these functions, and `shopgen status` reports with
them, so "out of date" means the same thing everywhere. Nothing here writes: the render stays in
memory and make_plan only reads the tree. The renderer and the planner load inside the functions,
so importing this module costs nothing on synth's no-change path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopgen.config import Config
    from shopgen.output.plan import Plan
    from shopgen.render import Resource

# How the tree differs from a fresh render, in the words `synth --check` lists them.
CREATE, UPDATE, REMOVE, HAND_EDIT, FOREIGN = "create", "update", "remove", "hand edit", "not shopgen's"
KINDS = (CREATE, UPDATE, REMOVE, HAND_EDIT, FOREIGN)


@dataclass(frozen=True)
class FreshRender:
    """A render of what synth would write: the active stage, the stages rendered, their files."""

    active: str
    stages: tuple[str, ...]
    files: dict[str, str]
    resources: dict[str, list[Resource]]


def stages_to_render(requested: Sequence[str], active: str) -> tuple[str, ...]:
    """The named stages (all when none) plus the active stage, in story order."""
    from shopgen.render import in_story_order
    from shopgen.story.stages import all_stages, get_stage

    for name in requested:
        get_stage(name)
    return tuple(in_story_order([*(requested or (s.name for s in all_stages())), active]))


def in_scope_for(stages: Sequence[str]) -> Callable[[str], bool]:
    """Which previously generated paths a run over ``stages`` owns (and so may update or remove)."""
    from shopgen.output.owned import SHARED_FILES, SHARED_TREES

    prefixes = tuple(f"environments/{s}/" for s in stages) + SHARED_TREES

    def in_scope(path: str) -> bool:
        return path.startswith(prefixes) or path in SHARED_FILES

    return in_scope


def render_fresh(root: Path, cfg: Config, requested: Sequence[str]) -> FreshRender:
    """Render ``requested`` (all when empty) plus the active stage and the shared trees, in memory."""
    from shopgen.gitops import repo_prefix
    from shopgen.output.state import read_active_stage
    from shopgen.render import render_tree

    active = read_active_stage(root, cfg)
    wanted = stages_to_render(requested, active)
    rendered = render_tree(cfg, wanted, active=active, repo_prefix=repo_prefix(root))
    return FreshRender(active=active, stages=wanted, files=rendered.files, resources=rendered.resources)


def plan_against_tree(
    root: Path, cfg: Config, wanted: Sequence[str], active: str, files: dict[str, str], *, force: bool
) -> tuple[dict[str, str], Plan]:
    """The files a run writes (the render, plus state.json when there is none yet) and their plan.

    Without a state file the config's initial_stage seeds the active stage, so a tree never
    synthesized plans state.json as a file to create.
    """
    from shopgen.gitops import git_ignored
    from shopgen.output.plan import make_plan
    from shopgen.output.state import STATE_FILE, config_hash, read_generated, state_text

    if not (root / STATE_FILE).exists():
        files = {**files, STATE_FILE: state_text(active)}
    plan = make_plan(
        root,
        files,
        read_generated(root),
        in_scope=in_scope_for(wanted),
        config_hash=config_hash(cfg),
        force=force,
        ignored=lambda paths: git_ignored(root, paths),
    )
    return files, plan


def differences(plan: Plan) -> list[tuple[str, str]]:
    """Every way the tree differs from a fresh render, as (kind, path); kinds are ``KINDS``."""
    found = (
        [(CREATE, p) for p in plan.created]
        + [(UPDATE, p) for p in plan.updated]
        + [(REMOVE, p) for p in plan.removes]
        + [(HAND_EDIT, p) for p in plan.hand_edits]
        + [(FOREIGN, p) for p in plan.foreign]
    )
    if plan.writes and not found:  # only .shopgen/ bookkeeping differs (e.g. the config hash)
        found = [(UPDATE, p) for p in plan.writes]
    return found


def check_differences(plan: Plan) -> list[str]:
    """What `synth --check` lists: one line per difference from a fresh render."""
    return [f"{kind} {path}" for kind, path in differences(plan)]
