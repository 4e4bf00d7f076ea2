"""`shopgen promote STAGE`: point Argo CD at another stage with one commit per stage.

Renders the stage and argocd/, updates .shopgen/, and commits only those paths. It refuses —
changing nothing — on hand edits to generated files, uncommitted changes in the paths it owns, an
unknown stage, a rollback without --allow-rollback, or a folder outside git.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopgen import gitops
from shopgen.commands.outcome import Outcome
from shopgen.config import CONFIG_FILENAME, Config, load_config
from shopgen.diff import ResourceKey, count_line, diff_resources
from shopgen.errors import ConfigError, GitError, StageError
from shopgen.gitops import PROMOTION_TRAILER, git_ignored, repo_prefix
from shopgen.output import journal
from shopgen.output.plan import make_plan
from shopgen.output.recovery import complete_interrupted
from shopgen.output.state import (
    GENERATED_FILE,
    STATE_FILE,
    config_hash,
    hand_edited,
    read_active_stage,
    read_generated,
    state_text,
)
from shopgen.output.writer import apply, locked, undo
from shopgen.render import render_tree
from shopgen.story.stages import Stage, all_stages, get_stage
from shopgen.workspace import output_root

TRAILER = PROMOTION_TRAILER  # status finds promotions by it


@dataclass(frozen=True)
class Step:
    stage: str
    previous: str
    commit: str | None  # None with --no-commit
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Promotion:
    steps: list[Step]
    completed: str | None = None  # what an interrupted run left and this one completed first


def walk(active: str, target: str, *, through: bool) -> list[str]:
    """The stages to promote to, in order: just the target, or every stage on the way with --through."""
    order = [s.name for s in all_stages()]
    a, t = order.index(active), order.index(target)
    if not through:
        return [target]
    step = 1 if t > a else -1
    return order[a + step : t + step : step]


def promote(
    *,
    stage: str,
    out: Path | None,
    config_path: Path | None,
    through: bool,
    allow_rollback: bool,
    commit: bool,
    message: str | None,
) -> Promotion:
    target = get_stage(stage)
    root = output_root(out)
    top = gitops.toplevel(root) if root.exists() else None
    if top is None:
        raise GitError(f"{root}: not in a git repository (promote commits; run `git init` first)")
    cfg, _ = load_config(config_path, out_root=root)
    if commit:
        refuse_uncommitted_config(top, config_path or root / CONFIG_FILENAME)
    with locked(root):
        completed = complete_interrupted(root)
        steps = _promote(
            root, top, cfg, target, through=through, allow_rollback=allow_rollback, commit=commit, message=message
        )
        return Promotion(steps, completed)


def refuse_uncommitted_config(top: Path, config: Path) -> None:
    """A promotion commit must match the config committed with it, or `synth --check` on it fails.

    shopgen does not commit the config for you: a config change is a decision of its own, reviewed
    on its own. A config outside the repository (``--config``) is the caller's to keep.
    """
    try:
        rel = config.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return
    if config.is_file() and not gitops.is_tracked(top, rel):
        raise ConfigError(
            f"{config}: is not committed (untracked or ignored by git); a promotion commit must match the "
            f"committed config: commit {rel} first"
        )
    if gitops.dirty_paths(top, [rel]):
        raise ConfigError(
            f"{config}: has uncommitted changes; a promotion commit must match the committed config "
            f"(`shopgen synth --check` on it would fail): commit {rel} first, or stash the change"
        )


def _promote(
    root: Path,
    top: Path,
    cfg: Config,
    target: Stage,
    *,
    through: bool,
    allow_rollback: bool,
    commit: bool,
    message: str | None,
) -> list[Step]:
    active = read_active_stage(root, cfg)
    if target.name == active:
        return []
    order = [s.name for s in all_stages()]
    if order.index(target.name) < order.index(active) and not allow_rollback:
        raise StageError(f"{target.name} comes before the active stage {active}; pass --allow-rollback to go back")
    edited = hand_edited(root)
    if edited:
        raise StageError(
            "generated files were edited by hand; commit them elsewhere or run `shopgen synth --force`:\n"
            + "\n".join(f"  {p}" for p in edited)
        )
    prefix = repo_prefix(root)
    stages = walk(active, target.name, through=through)
    owned = [f"{prefix}{STATE_FILE}", f"{prefix}{GENERATED_FILE}", f"{prefix}argocd"]
    owned += [f"{prefix}environments/{s}" for s in stages]
    dirty = gitops.dirty_paths(top, owned)
    if dirty and commit:
        raise GitError(
            "uncommitted changes in paths promote commits; commit or stash them first:\n"
            + "\n".join(f"  {p}" for p in dirty)
        )
    lock = gitops.index_lock(top) if commit else None
    if lock is not None:
        raise GitError(
            f"{lock}: exists: another git command is running, or one was killed; "
            "remove the file if none is running, then rerun"
        )
    if commit:
        gitops.can_commit(top)
    steps: list[Step] = []
    previous = active
    for name in stages:
        try:
            step = _promote_one(root, top, prefix, cfg, previous, get_stage(name), commit=commit, message=message)
        except GitError as failed:
            if not steps:
                raise
            done = "; ".join(promotion_summary(steps))
            raise GitError(f"{done}; then {previous} -> {name} failed: {failed}") from None
        steps.append(step)
        previous = name
    return steps


def _promote_one(
    root: Path, top: Path, prefix: str, cfg: Config, previous: str, stage: Stage, *, commit: bool, message: str | None
) -> Step:
    # One render serves the files and the commit message's diff from the previous stage.
    result = render_tree(cfg, [previous, stage.name], active=stage.name, repo_prefix=prefix)
    files, rendered = result.files, result.resources
    files = {p: t for p, t in files.items() if p.startswith((f"environments/{stage.name}/", "argocd/"))}
    files[STATE_FILE] = state_text(stage.name)

    def in_scope(path: str) -> bool:
        return path.startswith((f"environments/{stage.name}/", "argocd/")) or path == STATE_FILE

    plan = make_plan(
        root,
        files,
        read_generated(root),
        in_scope=in_scope,
        config_hash=config_hash(cfg),
        force=False,
        ignored=lambda paths: git_ignored(root, paths),
    )
    changed = sorted({*plan.writes, *plan.removes})
    repo_paths = tuple(f"{prefix}{p}" for p in changed)
    if not (commit and repo_paths):
        apply(plan)
        return Step(stage=stage.name, previous=previous, commit=None, paths=repo_paths)
    old, new = ([r.manifest for r in rendered[name]] for name in (previous, stage.name))
    text = commit_message(previous, stage, old, new, message, cfg)
    # The journal carries the commit too: after a kill, the next run writes the files and commits.
    intent = {"top": str(top), "paths": list(repo_paths), "message": text, "parent": gitops.head(top)}
    apply(plan, extra={"commit": intent}, keep_journal=True)
    try:
        sha = gitops.commit_paths(top, repo_paths, text)
    except gitops.IndexStale:
        raise  # the commit is made: the journal stays, and the next run finishes the index
    except GitError as failed:
        # No commit (HEAD moved, a ref could not be updated): the files go back, as if never promoted.
        undo(plan)
        raise GitError(
            f"{failed}\n  no commit was made and the files were put back: {stage.name} is not promoted"
        ) from None
    journal.clear(root)
    return Step(stage=stage.name, previous=previous, commit=sha, paths=repo_paths)


def commit_message(
    previous: str,
    stage: Stage,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    subject: str | None,
    cfg: Config,
) -> str:
    """Which stage, its fix and why (as they read for this shop), what the step adds and removes in
    words (each stage's fix between the two), the semantic diff from the previous stage, and the trailer."""
    diff = diff_resources(old, new)
    summary = [f"  + {key}" for key, _ in diff.added]
    summary += [f"  ~ {key} ({len(changes)} field{'s' if len(changes) != 1 else ''})" for key, changes in diff.changed]
    summary += [f"  - {key}" for key, _ in diff.removed]
    lines = [
        subject or f"shopgen: promote to {stage.name} (stage {stage.number}/{len(all_stages())})",
        "",
        f"{stage.text('title', cfg)}.",
        "",
        f"Fix: {stage.text('fix', cfg)}",
        "",
        f"Why: {stage.text('why', cfg)}",
        "",
        *adds_and_removes(previous, stage.name, cfg),
        *pruned(diff.removed),
        "",
        f"Changes from {previous}: {count_line(diff)}",
        *summary,
        "",
        f"{TRAILER}: {stage.name}",
        "",
    ]
    return "\n".join(lines)


def adds_and_removes(previous: str, target: str, cfg: Config) -> list[str]:
    """What a step from ``previous`` to ``target`` adds and removes, in the stages' own words.

    Going forward adds the fix of every stage after ``previous`` up to ``target``; a rollback removes
    the fix of every stage after ``target`` up to ``previous``, the newest first (the order they undo).
    """
    order = list(all_stages())
    names = [s.name for s in order]
    a, b = names.index(previous), names.index(target)
    added = order[a + 1 : b + 1] if b > a else []
    removed = list(reversed(order[b + 1 : a + 1])) if b < a else []
    lines = [f"Adds: the {s.name} stage's fix — {s.text('fix', cfg)}" for s in added] or ["Adds: nothing"]
    lines += [f"Removes: the {s.name} stage's fix — {s.text('fix', cfg)}" for s in removed] or ["Removes: nothing"]
    return lines


_PRUNED_SHOWN = 10


def pruned(removed: Sequence[tuple[ResourceKey, Any]]) -> list[str]:
    """The objects Argo CD deletes when it syncs this commit (it prunes), named up to a few."""
    if not removed:
        return []
    keys = [str(key) for key, _ in removed]
    more = f", and {len(keys) - _PRUNED_SHOWN} more" if len(keys) > _PRUNED_SHOWN else ""
    noun = "object" if len(keys) == 1 else "objects"
    return [f"Argo CD deletes {len(keys)} {noun} on sync (prune): {', '.join(keys[:_PRUNED_SHOWN])}{more}"]


def promotion_summary(steps: Sequence[Step]) -> list[str]:
    return [
        f"promoted {s.previous} -> {s.stage}" + (f" ({s.commit[:12]})" if s.commit else " (not committed)")
        for s in steps
    ]


def run(
    *,
    stage: str,
    out: Path | None,
    config_path: Path | None,
    through: bool,
    allow_rollback: bool,
    commit: bool,
    message: str | None,
) -> Outcome:
    promotion = promote(
        stage=stage,
        out=out,
        config_path=config_path,
        through=through,
        allow_rollback=allow_rollback,
        commit=commit,
        message=message,
    )
    outcome = Outcome(err=[promotion.completed] if promotion.completed else [])
    if not promotion.steps:
        outcome.err.append(f"{stage} is already the active stage; nothing to do")
    outcome.err += promotion_summary(promotion.steps)
    return outcome
