"""`shopgen synth`: load config, render in memory, plan against disk, then write (or only check)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shopgen import render as renderer
from shopgen.config import Config, load_config
from shopgen.errors import RenderError
from shopgen.plan import Plan, make_plan
from shopgen.stages import STAGES, get_stage
from shopgen.state import STATE_FILE, config_hash, read_active_stage, read_generated, state_text
from shopgen.workspace import git_toplevel, output_root
from shopgen.writer import apply

SHARED_TREES = ("argocd/", "charts/", "platform/", "terraform/")
SHARED_FILES = (".gitattributes",)


@dataclass(frozen=True)
class SynthResult:
    root: Path
    stages: tuple[str, ...]
    plan: Plan
    resources: dict[str, int]  # stage -> resource count
    checked: bool


def stages_to_render(requested: Sequence[str], active: str) -> tuple[str, ...]:
    """The named stages (all when none) plus the active stage, in story order."""
    for name in requested:
        get_stage(name)
    wanted = set(requested or (s.name for s in STAGES)) | {active}
    return tuple(s.name for s in STAGES if s.name in wanted)


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
    """The files, and the manifests behind them (for validation without re-parsing YAML)."""
    return renderer.render_all(cfg, stages, active, repo_prefix=repo_prefix(root))


def repo_prefix(root: Path) -> str:
    """The output root's folder inside its git repository ("" at the top level or outside git)."""
    existing = next(p for p in (root, *root.parents) if p.exists())
    top = git_toplevel(existing)
    if top is None:
        return ""
    rel = root.resolve().relative_to(top.resolve()).as_posix()
    return "" if rel == "." else f"{rel}/"


def synth(
    *,
    out: Path | None,
    config_path: Path | None,
    stages: Sequence[str],
    check: bool,
    force: bool,
    crd_dir: Path | None = None,
) -> SynthResult:
    root = output_root(out)
    cfg, _ = load_config(config_path, out_root=root)
    active = read_active_stage(root, cfg)
    wanted = stages_to_render(stages, active)
    files, resources = render_with_resources(cfg, wanted, active, root)
    admission_check(cfg, resources, crd_dir)
    if not (root / STATE_FILE).exists():
        files[STATE_FILE] = state_text(active)  # the config's initial_stage seeds the active stage
    plan = make_plan(
        root,
        files,
        read_generated(root),
        in_scope=in_scope_for(wanted),
        config_hash=config_hash(cfg),
        force=force,
    )
    counts = {s: sum(1 for p in files if p.startswith(f"environments/{s}/") and _is_resource(p)) for s in wanted}
    if not check:
        apply(plan)
    return SynthResult(root=root, stages=wanted, plan=plan, resources=counts, checked=check)


def admission_check(cfg: Config, resources: dict[str, list[renderer.Resource]], crd_dir: Path | None) -> None:
    """With a CRD folder, refuse to write a render the API server would reject (layers 1-2)."""
    from shopgen.validatecmd import crd_dir_from

    folder = crd_dir_from(crd_dir)
    if folder is None:
        return
    from shopgen.validate import Validator

    validator = Validator(k8s_version=cfg.cluster.kubernetes_version, crd_dir=folder)
    pairs = [
        (f"environments/{group}/{r.path}" if group != "argocd" else f"argocd/{r.path}", r.manifest)
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
    groups = [(f"environments/{s}/", s) for s in result.stages] + [("", "shared")]
    lines = []
    for prefix, label in groups:

        def count(paths: Sequence[str], prefix: str = prefix) -> int:
            if prefix:
                return sum(1 for p in paths if p.startswith(prefix))
            return sum(1 for p in paths if not p.startswith("environments/"))

        verb = "would be " if result.checked else ""
        resources = f"{result.resources[label]} resources; " if label != "shared" else ""
        lines.append(
            f"{label}: {resources}files {verb}created {count(plan.created)}, {verb}updated {count(plan.updated)}, "
            f"{verb}removed {count(plan.removes)}, unchanged {count(plan.unchanged)}"
        )
    return lines
