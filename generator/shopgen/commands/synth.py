"""`shopgen synth`: load config, render in memory, plan against disk, then write (or only check).

A rerun that changes nothing takes the no-change path (output/cache.py) before anything heavy is
imported: the config models, the renderer and cdk8s load inside the functions of the full path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from shopgen.commands.outcome import DIFFERENT, Outcome
from shopgen.gitops import repo_prefix
from shopgen.output import cache
from shopgen.output.freshness import check_differences, plan_against_tree, render_fresh
from shopgen.summary import summary_line
from shopgen.workspace import output_root

if TYPE_CHECKING:
    from shopgen.config import Config
    from shopgen.output.plan import Plan
    from shopgen.render import Resource

QUIET, NORMAL, VERBOSE = -1, 0, 1  # -q, default, -v


@dataclass(frozen=True)
class SynthResult:
    root: Path
    stages: tuple[str, ...]
    plan: Plan
    resources: dict[str, int]  # stage -> resource count
    checked: bool
    files: dict[str, str]  # everything this run rendered (the fast path remembers their hashes)
    completed: str | None = None  # what an interrupted run left and this one completed first
    # (config-relative path, resolved file, sha256) of every extension file read: the no-change path rechecks them
    inputs: tuple[tuple[str, str, str], ...] = ()
    notes: dict[str, str] = field(default_factory=dict)  # stage -> its extensions line, under its summary line


def synth(
    *,
    out: Path | None,
    config_path: Path | None,
    stages: Sequence[str],
    check: bool,
    force: bool,
    crd_dir: Path | None = None,
) -> SynthResult:
    """Render in memory, validate, then (under the lock, after finishing any interrupted run) write.

    Everything that can fail on bad input happens before the lock is taken, so a bad config or
    option writes nothing at all.
    """
    from shopgen.config import load_config
    from shopgen.errors import Interrupted
    from shopgen.output import journal
    from shopgen.output.plan import check_inside
    from shopgen.output.recovery import complete_interrupted
    from shopgen.output.state import read_active_stage
    from shopgen.output.writer import apply, locked, refuse_if_interrupted

    root = output_root(out)
    completed = None
    if journal.pending(root):
        if check:
            refuse_if_interrupted(root, Interrupted)  # read-only: never completes anything
        else:
            with locked(root):
                completed = complete_interrupted(root)
    cfg, _ = load_config(config_path, out_root=root)
    fresh = render_fresh(root, cfg, stages)
    active, wanted, files = fresh.active, fresh.stages, fresh.files
    admission_check(cfg, fresh.resources, crd_dir)
    if check:
        return _planned(root, cfg, wanted, active, files, force=force, check=True)
    checked: set[Path] = set()
    for rel in files:
        check_inside(root, rel, checked)  # a symlinked or clashing path is refused before anything is written
    with locked(root):
        if read_active_stage(root, cfg) != active:
            raise Interrupted(f"{root}: the active stage changed while rendering (a promote ran); run synth again")
        result = _planned(root, cfg, wanted, active, files, force=force, check=False)
        apply(result.plan)
        return replace(result, completed=completed)


def _planned(
    root: Path, cfg: Config, wanted: tuple[str, ...], active: str, files: dict[str, str], *, force: bool, check: bool
) -> SynthResult:
    files, plan = plan_against_tree(root, cfg, wanted, active, files, force=force)
    counts = {s: sum(1 for p in files if p.startswith(f"environments/{s}/") and _is_resource(p)) for s in wanted}
    loaded = cfg.loaded_extensions()
    notes = {}
    if loaded is not None:
        from shopgen.render.extensions import extension_summary

        notes = {s: f"  {line}" for s in wanted if (line := extension_summary(loaded, s))}
    return SynthResult(
        root=root,
        stages=wanted,
        plan=plan,
        resources=counts,
        checked=check,
        files=files,
        inputs=loaded.inputs if loaded is not None else (),
        notes=notes,
    )


def admission_check(cfg: Config, resources: dict[str, list[Resource]], crd_dir: Path | None) -> None:
    """With a CRD folder, refuse to write a render the API server would reject (layers 1-2)."""
    from shopgen.errors import RenderError
    from shopgen.workspace import crd_dir_from

    folder = crd_dir_from(crd_dir)
    if folder is None:
        return
    from shopgen.validate import Validator

    validator = Validator(k8s_version=cfg.cluster.kubernetes_version, crd_dir=folder)
    pairs = [
        (f"environments/{group}/{r.path}" if group != "argocd" else r.path, r.manifest)
        for group, items in resources.items()
        for r in items
    ]
    errors = validator.validate(pairs).failing("error")
    if errors:
        lines = [f"  {f.rule} {f.where()} {f.path}: {f.message} ({f.source})" for f in errors[:20]]
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise RenderError(
            f"the render would be rejected by the API server ({len(errors)} errors); nothing written:\n"
            + "\n".join(lines)
            + more
        )


def _is_resource(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".yaml") and name != "kustomization.yaml"


def summary_lines(result: SynthResult) -> list[str]:
    """One line per stage (and one for the shared files): resources; created / updated / removed / unchanged."""
    plan = result.plan
    lines = []
    for prefix, label in group_prefixes(result.stages):

        def count(paths: Sequence[str], prefix: str = prefix) -> int:
            return sum(1 for p in paths if in_group(p, prefix))

        lines.append(
            summary_line(
                label,
                result.resources.get(label),
                created=count(plan.created),
                updated=count(plan.updated),
                removed=count(plan.removes),
                unchanged=count(plan.unchanged),
                checked=result.checked,
            )
        )
        if label in result.notes:  # the stage's extensions, apart from shopgen's own objects
            lines.append(result.notes[label])
    return lines


def group_prefixes(stages: Sequence[str]) -> list[tuple[str, str]]:
    """(path prefix, label) of each summary group: the stage folders, then everything else as "shared"."""
    return [(f"environments/{s}/", s) for s in stages] + [("", "shared")]


def in_group(path: str, prefix: str) -> bool:
    return path.startswith(prefix) if prefix else not path.startswith("environments/")


def group_counts(result: SynthResult) -> list[tuple[str, int | None, int]]:
    """(label, resources, files) of each summary group, as the no-change path remembers them."""
    from shopgen.output.state import STATE_FILE

    files = [p for p in result.files if p != STATE_FILE]
    return [
        (label, result.resources.get(label), sum(1 for p in files if in_group(p, prefix)))
        for prefix, label in group_prefixes(result.stages)
    ]


def no_change_line(root: Path, stages: int, files: int, *, checked: bool) -> str:
    """The one line of a run that changes nothing (``--check``: finds nothing to change)."""
    import click

    verdict = "synth --check: " + click.style("up to date", fg="green") if checked else "synth: no change"
    return f"{verdict} ({stages} stages, {files} files) in {root}"


_SUMMARY = re.compile(r"^(?P<label>[^:]+): .*\bunchanged (?P<files>\d+)$")


def quiet_summary(lines: list[str], root: Path, *, checked: bool, verbosity: int) -> list[str]:
    """The no-change path's per-group lines as the verbosity wants them: all (-v), one line, or none (-q)."""
    if verbosity >= VERBOSE:
        return lines
    groups = [_SUMMARY.match(line) for line in lines if not line.startswith("  ")]  # not the extension notes
    if not all(groups):  # not the shape summary_line writes: say it all rather than guess
        return lines if verbosity == NORMAL else []
    stages = sum(1 for m in groups if m and m["label"] != "shared")
    files = sum(int(m["files"]) for m in groups if m)
    if verbosity == QUIET and not checked:
        return []
    return [no_change_line(root, stages, files, checked=checked)]


def remember_unchanged(result: SynthResult, config_path: Path | None, requested: Sequence[str]) -> None:
    """After a run that left the tree equal to its render, let the next identical run skip rendering."""
    from shopgen import untrusted
    from shopgen.errors import ShopgenError
    from shopgen.output.state import GENERATED_FILE, STATE_FILE

    if os.environ.get(cache.NO_CACHE_ENV):
        return
    files = {p: t for p, t in result.files.items() if p != STATE_FILE}
    groups = group_counts(result)
    try:
        generated = untrusted.read_bytes(result.root / GENERATED_FILE, untrusted.STATE_LIMIT)
    except ShopgenError:
        return
    if generated is None:
        return
    cache.remember(
        result.root,
        config_path,
        requested,
        repo_prefix(result.root),
        files,
        groups,
        generated,
        inputs=result.inputs,
        notes=result.notes,
    )


STALE_EDITS = "kept: edited by hand and no longer rendered (--force replaces, never deletes); delete if unwanted:"


def run(
    *,
    out: Path | None,
    config_path: Path | None,
    stages: Sequence[str],
    check: bool,
    force: bool,
    crd_dir: Path | None,
    before_render: Callable[[], None] = lambda: None,
    verbosity: int = NORMAL,
) -> Outcome:
    """The whole command: the no-change path when it can prove nothing changes, else a full run.

    ``before_render`` runs once a render is needed (the CLI starts Node there, in the background).
    ``verbosity``: -1 only errors (and with ``check`` the verdict), 0 one line when nothing changes
    and a line per stage when something does, 1 a line per stage always.
    """
    root = output_root(out)
    if cache.enabled(force=force, crd_dir=crd_dir):
        unchanged = cache.try_unchanged(root, config_path, stages, repo_prefix(root), checked=check)
        if unchanged is not None:
            return Outcome(err=quiet_summary(unchanged, root, checked=check, verbosity=verbosity))
    before_render()
    result = synth(out=out, config_path=config_path, stages=stages, check=check, force=force, crd_dir=crd_dir)
    quiet = verbosity == QUIET
    outcome = Outcome(err=[result.completed] if result.completed and not quiet else [])
    plan = result.plan
    changed = bool(plan.created or plan.updated or plan.removes or result.completed)
    differences = check_differences(plan) if check else []
    if verbosity >= VERBOSE or (verbosity == NORMAL and (changed or differences)):
        outcome.err += summary_lines(result)
    elif not (quiet and not check) and not differences:
        counts = group_counts(result)
        stages_count = sum(1 for label, _, _ in counts if label != "shared")
        files = sum(n for _, _, n in counts)
        outcome.err.append(no_change_line(root, stages_count, files, checked=check))
    if check:
        if differences:
            outcome.err.append(
                f"out of date: {len(differences)} difference(s) from a fresh render; run `shopgen synth`"
                + ("" if quiet else ":")
            )
            outcome.err += [] if quiet else [f"  {line}" for line in differences]
            outcome.code = DIFFERENT
            return outcome
        remember_unchanged(result, config_path, stages)
        return outcome
    if not quiet:
        outcome.err += [f"replaced (--force): {path}" for path in plan.forced]
        outcome.err += [
            f"left alone: {path}: listed in .shopgen/generated.json, but not a file shopgen renders here"
            for path in plan.disowned
        ]
    if plan.stale_edits and force:
        outcome.err.append(STALE_EDITS)
        outcome.err += [f"  {path}" for path in plan.stale_edits]
        outcome.code = DIFFERENT
        return outcome
    replaceable = [path for path in plan.conflicts if path not in plan.stale_edits]
    if replaceable and not force:
        outcome.err.append(
            "kept, not overwritten (edited by hand or not written by shopgen); rerun with --force to replace:"
        )
        outcome.err += [f"  {path}" for path in replaceable]
        outcome.code = DIFFERENT
    if plan.stale_edits and not force:
        outcome.err.append(STALE_EDITS)
        outcome.err += [f"  {path}" for path in plan.stale_edits]
        outcome.code = DIFFERENT
    if outcome.code:
        return outcome
    remember_unchanged(result, config_path, stages)
    return outcome
