"""`shopgen diff`: fresh renders compared stage to stage, against a git ref, or against the contracts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shopgen import gitops
from shopgen.commands.outcome import DIFFERENT, OK, Outcome
from shopgen.config import load_config
from shopgen.contracts import Violation, check_contracts
from shopgen.diff import AnyDiff, diff_files, diff_resources, to_json, to_markdown, to_text
from shopgen.errors import ConfigError
from shopgen.gitops import repo_prefix
from shopgen.output.owned import SHARED_FILES, SHARED_TREES
from shopgen.output.state import read_active_stage
from shopgen.output.writer import refuse_if_interrupted
from shopgen.render import render_tree
from shopgen.story.stages import all_stages, get_stage
from shopgen.workspace import output_root


@dataclass(frozen=True)
class DiffResult:
    text: str
    equal: bool


def _view(diff: AnyDiff, fmt: str, title: str, command: str) -> str:
    if fmt == "json":
        return to_json(diff)
    if fmt == "markdown":
        return to_markdown(diff, title=title, command=command)
    return to_text(diff)


def diff_stages(old: str, new: str, *, out: Path | None, config_path: Path | None, fmt: str) -> DiffResult:
    """Two stages' fresh in-memory renders of the same config, resource by resource."""
    get_stage(old), get_stage(new)
    cfg, _ = load_config(config_path, out_root=output_root(out))
    rendered = render_tree(cfg, [old, new]).resources
    diff = diff_resources([r.manifest for r in rendered[old]], [r.manifest for r in rendered[new]])
    text = _view(diff, fmt, f"shopgen diff {old} → {new}", f"shopgen diff {old} {new}")
    return DiffResult(text, diff.is_empty)


def diff_against(ref: str, *, out: Path | None, config_path: Path | None, fmt: str) -> DiffResult:
    """The working tree's render against the rendered trees committed at ``ref`` (read with git)."""
    root = output_root(out)
    refuse_if_interrupted(root)
    top = gitops.toplevel(root)
    cfg, _ = load_config(config_path, out_root=root)
    active = read_active_stage(root, cfg)
    prefix = repo_prefix(root)
    new = render_tree(cfg, [s.name for s in all_stages()], active=active, repo_prefix=prefix).files
    trees = ("environments/", *SHARED_TREES)
    new = {p: t for p, t in new.items() if p.startswith(trees) or p in SHARED_FILES}
    committed = gitops.read_tree(
        top, ref, [f"{prefix}{t.rstrip('/')}" for t in trees] + [f"{prefix}{f}" for f in SHARED_FILES]
    )
    old = {p[len(prefix) :]: t for p, t in committed.items()}
    diff = diff_files(old, new)
    text = _view(diff, fmt, f"shopgen diff against {ref}", f"shopgen diff --against {ref}")
    return DiffResult(text, diff.is_empty)


def contract_violations(*, out: Path | None, config_path: Path | None) -> list[Violation]:
    cfg, _ = load_config(config_path, out_root=output_root(out))
    return check_contracts(cfg)


def run(
    stages: Sequence[str], *, ref: str | None, contract: bool, fmt: str, out: Path | None, config_path: Path | None
) -> Outcome:
    """Exactly one mode: ``FROM TO``, ``--against REF`` or ``--contract``; exit 1 when different."""
    if contract:
        violations = contract_violations(out=out, config_path=config_path)
        if violations:
            return Outcome(err=[f"contract violation: {v}" for v in violations], code=DIFFERENT)
        return Outcome(err=["every stage stays within its contract"])
    if ref is not None:
        result = diff_against(ref, out=out, config_path=config_path, fmt=fmt)
    else:
        result = diff_stages(stages[0], stages[1], out=out, config_path=config_path, fmt=fmt)
    return Outcome(out=result.text, code=OK if result.equal else DIFFERENT)


def check_usage(stages: Sequence[str], ref: str | None, contract: bool) -> None:
    """Refuse anything but exactly one mode (before Node starts)."""
    modes = sum([bool(stages), ref is not None, contract])
    if modes != 1 or (stages and len(stages) != 2):
        raise ConfigError("give exactly one of: FROM TO (two stages), --against GIT_REF, --contract")
