"""`shopgen synth`: load config, render in memory, plan against disk, then write (or only check)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from shopgen import render as renderer
from shopgen import untrusted
from shopgen.config import Config, load_config
from shopgen.errors import Interrupted, RenderError, ShopgenError
from shopgen.plan import Plan, check_inside, make_plan
from shopgen.recovery import complete_interrupted
from shopgen.stages import STAGES, get_stage
from shopgen.state import GENERATED_FILE, STATE_FILE, config_hash, read_active_stage, read_generated, state_text
from shopgen.summary import summary_line
from shopgen.workspace import crd_dir_from, git_ignored, output_root, repo_prefix
from shopgen.writer import apply, locked, pending_journal, refuse_if_interrupted

SHARED_TREES = ("argocd/", "charts/", "platform/", "terraform/")
SHARED_FILES = (".gitattributes", ".shopgen/.gitignore")


@dataclass(frozen=True)
class SynthResult:
    root: Path
    stages: tuple[str, ...]
    plan: Plan
    resources: dict[str, int]  # stage -> resource count
    checked: bool
    files: dict[str, str]  # everything this run rendered (the fast path remembers their hashes)
    completed: str | None = None  # what an interrupted run left and this one completed first


def stages_to_render(requested: Sequence[str], active: str) -> tuple[str, ...]:
    """The named stages (all when none) plus the active stage, in story order."""
    for name in requested:
        get_stage(name)
    return tuple(renderer.in_story_order([*(requested or (s.name for s in STAGES)), active]))


def in_scope_for(stages: Sequence[str]):
    prefixes = tuple(f"environments/{s}/" for s in stages) + SHARED_TREES

    def in_scope(path: str) -> bool:
        return path.startswith(prefixes) or path in SHARED_FILES

    return in_scope


def render_tree(cfg: Config, stages: Sequence[str], active: str, root: Path) -> dict[str, str]:
    """Every file this synth owns, rendered in memory."""
    return render_with_resources(cfg, stages, active, root)[0]


def render_with_resources(
    cfg: Config, stages: Sequence[str], active: str, root: Path
) -> tuple[dict[str, str], dict[str, list[renderer.Resource]]]:
    """The files, and the manifests behind them (for validation without re-parsing YAML).

    The platform layer (terraform/, charts/, argocd/addons/, platform/) is rendered from the same
    config; its few Kubernetes objects join the "argocd" group of resources.
    """
    from shopgen.platform import render_platform

    prefix = repo_prefix(root)
    # The platform layer first: it needs no cdk8s, so it runs while Node may still be starting.
    platform, platform_objects = render_platform(cfg, repo_prefix=prefix)
    files, resources = renderer.render_all(cfg, stages, active, repo_prefix=prefix)
    files.update(platform)
    resources["argocd"] += [renderer.Resource(path, m) for path, m in sorted(platform_objects.items())]
    return files, resources


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
    root = output_root(out)
    completed = None
    if pending_journal(root):
        if check:
            refuse_if_interrupted(root, Interrupted)  # read-only: never completes anything
        else:
            with locked(root):
                completed = complete_interrupted(root)
    cfg, _ = load_config(config_path, out_root=root)
    active = read_active_stage(root, cfg)
    wanted = stages_to_render(stages, active)
    files, resources = render_with_resources(cfg, wanted, active, root)
    admission_check(cfg, resources, crd_dir)
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
    if not (root / STATE_FILE).exists():
        files = {**files, STATE_FILE: state_text(active)}  # the config's initial_stage seeds the active stage
    plan = make_plan(
        root,
        files,
        read_generated(root),
        in_scope=in_scope_for(wanted),
        config_hash=config_hash(cfg),
        force=force,
        ignored=lambda paths: git_ignored(root, paths),
    )
    counts = {s: sum(1 for p in files if p.startswith(f"environments/{s}/") and _is_resource(p)) for s in wanted}
    return SynthResult(root=root, stages=wanted, plan=plan, resources=counts, checked=check, files=files)


def admission_check(cfg: Config, resources: dict[str, list[renderer.Resource]], crd_dir: Path | None) -> None:
    """With a CRD folder, refuse to write a render the API server would reject (layers 1-2)."""
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
    return lines


def check_differences(plan: Plan) -> list[str]:
    """What `synth --check` lists: every way the tree differs from a fresh render."""
    differences = (
        [f"create {p}" for p in plan.created]
        + [f"update {p}" for p in plan.updated]
        + [f"remove {p}" for p in plan.removes]
        + [f"hand edit {p}" for p in plan.hand_edits]
        + [f"not shopgen's {p}" for p in plan.foreign]
    )
    if plan.writes and not differences:  # only .shopgen/ bookkeeping differs (e.g. the config hash)
        differences = [f"update {p}" for p in plan.writes]
    return differences


def group_prefixes(stages: Sequence[str]) -> list[tuple[str, str]]:
    """(path prefix, label) of each summary group: the stage folders, then everything else as "shared"."""
    return [(f"environments/{s}/", s) for s in stages] + [("", "shared")]


def in_group(path: str, prefix: str) -> bool:
    return path.startswith(prefix) if prefix else not path.startswith("environments/")


def remember_unchanged(result: SynthResult, config_path: Path | None, requested: Sequence[str]) -> None:
    """After a run that left the tree equal to its render, let the next identical run skip rendering."""
    from shopgen import fastpath

    if os.environ.get(fastpath.NO_CACHE_ENV):
        return
    files = {p: t for p, t in result.files.items() if p != STATE_FILE}
    groups = []
    for prefix, label in group_prefixes(result.stages):
        count = sum(1 for p in files if in_group(p, prefix))
        groups.append((label, result.resources.get(label), count))
    try:
        generated = untrusted.read_bytes(result.root / GENERATED_FILE, untrusted.STATE_LIMIT)
    except ShopgenError:
        return
    if generated is None:
        return
    fastpath.remember(result.root, config_path, requested, repo_prefix(result.root), files, groups, generated)
