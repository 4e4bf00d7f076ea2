"""`shopgen diff`: fresh renders compared stage to stage, against a git ref, or against the contracts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shopgen import gitops, yamlio
from shopgen.commands.outcome import DIFFERENT, OK, Outcome
from shopgen.config import CONFIG_FILENAME, Config, defaults, load_config, parse
from shopgen.contracts import Violation, check_contracts
from shopgen.diff import (
    AnyDiff,
    Review,
    diff_resources,
    review,
    to_json,
    to_markdown,
    to_review_json,
    to_review_markdown,
    to_review_text,
    to_text,
)
from shopgen.errors import ConfigError, RepositoryError
from shopgen.gitops import repo_prefix
from shopgen.output.owned import SHARED_FILES, SHARED_TREES
from shopgen.output.state import STATE_FILE, read_active_stage
from shopgen.output.writer import refuse_if_interrupted
from shopgen.render import render_tree
from shopgen.story.stages import all_stages, get_stage, stage_names
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


def diff_against(
    ref: str, *, out: Path | None, config_path: Path | None, fmt: str, simulate: bool = False
) -> DiffResult:
    """The working tree's render against the rendered trees committed at ``ref`` (read with git).

    Opens with the stage Argo CD runs at ``ref`` and now, the live objects it will delete, and the
    diff of what it will apply (the active folder at ``ref`` against the active folder now).
    """
    root = output_root(out)
    refuse_if_interrupted(root)
    top = gitops.toplevel(root)
    cfg, _ = load_config(config_path, out_root=root)
    active = read_active_stage(root, cfg)
    prefix = repo_prefix(root)
    new = render_tree(cfg, [s.name for s in all_stages()], active=active, repo_prefix=prefix).files
    trees = ("environments/", *SHARED_TREES)
    new = {p: t for p, t in new.items() if p.startswith(trees) or p in SHARED_FILES}
    # One read of the commit, through the same size limits: the trees and the state file beside them.
    extra = (STATE_FILE, CONFIG_FILENAME) if simulate else (STATE_FILE,)
    wanted = [f"{prefix}{t.rstrip('/')}" for t in trees] + [f"{prefix}{f}" for f in (*SHARED_FILES, *extra)]
    committed = gitops.read_tree(top, ref, wanted)
    old = {p[len(prefix) :]: t for p, t in committed.items()}
    state = old.pop(STATE_FILE, None)
    ref_config = old.pop(CONFIG_FILENAME, None)
    before = active_stage_at(state, f"{ref}:{prefix}{STATE_FILE}")
    result = review(old, new, before=before, after=active, stages=stage_names())
    command = f"shopgen diff --against {ref}"
    text = _review_view(result, fmt, ref, command)
    if simulate:
        # What no manifest holds (runtime, start-up and shutdown seconds, the node group) comes from the
        # config of each side: REF's shopgen.yaml, or the embedded defaults when REF has none.
        cfg_at_ref = cfg if config_path is not None else config_at(ref_config, f"{ref}:{prefix}{CONFIG_FILENAME}")
        text = _with_impact(text, fmt, ref, (cfg_at_ref, cfg), (before or active, old), (active, new))
    return DiffResult(text, result.is_empty)


def config_at(text: str | None, where: str) -> Config:
    """The config committed at a ref (validated as strictly as the working tree's; its extensions are
    not read: the trees at that ref hold them already)."""
    if text is None:
        return defaults()
    data = yamlio.to_plain(yamlio.load_text(text, where), where)
    return parse(data or {}, where)


def _with_impact(
    text: str,
    fmt: str,
    ref: str,
    configs: tuple[Config, Config],
    before: tuple[str, dict[str, str]],
    after: tuple[str, dict[str, str]],
) -> str:
    """The review plus the predicted impact of the change on the active stage (both scenarios)."""
    from shopgen.simulate import Assumptions
    from shopgen.simulate.impact import impact_json, impact_lines, impact_markdown, predicted_impact
    from shopgen.simulate.inputs import node_group, runtime_facts, tree_manifests

    old = tree_manifests(before[1], before[0])
    if not old:
        note = f"predicted impact: {ref} has no rendered environments/{before[0]} to predict from"
        if fmt == "json":
            return _with_key(text, "predicted_impact", None)
        return text + ("\n" if fmt == "markdown" else "") + note + "\n"
    old_cfg, new_cfg = configs
    impact = predicted_impact(
        (before[0], old, runtime_facts(old_cfg), node_group(old_cfg)),
        (after[0], tree_manifests(after[1], after[0]), runtime_facts(new_cfg), node_group(new_cfg)),
        Assumptions(),
    )
    if fmt == "json":
        return _with_key(text, "predicted_impact", impact_json(impact))
    if fmt == "markdown":
        return text.rstrip("\n") + "\n\n" + impact_markdown(impact)
    return (
        text
        + f"predicted impact on {after[0]} (a model's prediction; shopgen simulate --explain):\n"
        + "".join(f"  {line}\n" for line in impact_lines(impact))
    )


def _with_key(text: str, key: str, value: object) -> str:
    """The review's JSON with one more top-level key."""
    doc = json.loads(text)
    doc[key] = value
    return json.dumps(doc, indent=2) + "\n"


def active_stage_at(text: str | None, where: str) -> str | None:
    """The active stage a committed state file records (None without one), checked as
    ``read_active_stage`` checks the working tree's: someone else's commit is untrusted input."""
    if text is None:
        return None
    try:
        stage = json.loads(text)["active_stage"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise RepositoryError(f"{where}: not a shopgen state file ({exc})") from None
    if not isinstance(stage, str) or stage not in stage_names():
        shown = repr(stage)[:80]
        raise RepositoryError(f"{where}: active_stage {shown} is not a stage; stages: {', '.join(stage_names())}")
    return stage


def _review_view(result: Review, fmt: str, ref: str, command: str) -> str:
    if fmt == "json":
        return to_review_json(result)
    if fmt == "markdown":
        return to_review_markdown(result, ref=ref, title=f"shopgen diff against {ref}", command=command)
    return to_review_text(result, ref=ref)


def contract_violations(*, out: Path | None, config_path: Path | None) -> list[Violation]:
    cfg, _ = load_config(config_path, out_root=output_root(out))
    return check_contracts(cfg)


def run(
    stages: Sequence[str],
    *,
    ref: str | None,
    contract: bool,
    fmt: str,
    out: Path | None,
    config_path: Path | None,
    simulate: bool = False,
) -> Outcome:
    """Exactly one mode: ``FROM TO``, ``--against REF`` or ``--contract``; exit 1 when different."""
    if contract:
        violations = contract_violations(out=out, config_path=config_path)
        if violations:
            return Outcome(err=[f"contract violation: {v}" for v in violations], code=DIFFERENT)
        return Outcome(err=["every stage stays within its contract"])
    if ref is not None:
        result = diff_against(ref, out=out, config_path=config_path, fmt=fmt, simulate=simulate)
    else:
        result = diff_stages(stages[0], stages[1], out=out, config_path=config_path, fmt=fmt)
    return Outcome(out=result.text, code=OK if result.equal else DIFFERENT)


def check_usage(stages: Sequence[str], ref: str | None, contract: bool, simulate: bool = False) -> None:
    """Refuse anything but exactly one mode (before Node starts)."""
    if simulate and ref is None:
        raise ConfigError("--simulate goes with --against GIT_REF: it predicts the active stage before and after")
    modes = sum([bool(stages), ref is not None, contract])
    if modes != 1 or (stages and len(stages) != 2):
        raise ConfigError("give exactly one of: FROM TO (two stages), --against GIT_REF, --contract")
