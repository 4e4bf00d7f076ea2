"""`shopgen validate`: every layer over the rendered trees (on disk, or a fresh in-memory render).

Layers 1-2 (schemas, CRDs + CEL) run here; later layers (policies, security baseline) plug into
``extra_layers`` with the same finding model. Each stage gets its own report, so a stage's expected
findings apply to that stage only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopgen import untrusted, yamlio
from shopgen.commands.outcome import Outcome
from shopgen.config import REPO_URL_PLACEHOLDER, Config, load_config
from shopgen.errors import ConfigError, RepositoryError
from shopgen.output.owned import is_owned
from shopgen.output.state import hand_edited, read_active_stage
from shopgen.output.writer import refuse_if_interrupted
from shopgen.render import Resource
from shopgen.story.stages import get_stage, stage_names
from shopgen.validate import report as report_format
from shopgen.validate.findings import Finding, Report
from shopgen.validate.report import FILES_GROUP, SHARED_GROUP
from shopgen.workspace import crd_dir_from, output_root


@dataclass
class ValidationRun:
    reports: dict[str, Report] = field(default_factory=dict)  # stage (or "argocd") -> report
    # Text of every file read (or rendered), by path relative to the root: the JSON's line numbers.
    texts: dict[str, str] = field(default_factory=dict)

    def exit_code(self, fail_on: str) -> int:
        return max((r.exit_code(fail_on) for r in self.reports.values()), default=0)

    def to_text(self, *, fail_on: str = "error", verbosity: int = 0) -> str:
        return report_format.to_text(self.reports, fail_on=fail_on, verbosity=verbosity)

    def to_json(self) -> str:
        return report_format.to_json(self.reports, self.texts.get)


def hand_edit_findings(root: Path) -> list[Finding]:
    """Generated files whose bytes differ from what shopgen wrote: the cluster would get a hand edit."""
    return [
        Finding(
            "drift.hand-edit",
            "error",
            "File",
            None,
            rel,
            "",
            "generated file edited by hand: Argo CD would sync bytes shopgen did not render",
            "change shopgen.yaml instead and run `shopgen synth --force` to replace it",
            "drift",
            rel,
        )
        for rel in hand_edited(root)
    ]


def collect(
    root: Path,
    stages: Sequence[str],
    rendered: dict[str, list[Resource]] | None,
    texts: dict[str, str] | None = None,
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """(source, manifest) pairs per stage, plus the argocd/ and platform/ objects as one group.

    From ``rendered`` (a fresh render's resources) when given, else from the files on disk (their
    text kept in ``texts`` by relative path).
    """
    if rendered is not None:
        resources = rendered
        groups = {s: _pairs(f"environments/{s}", resources[s]) for s in stages}
        groups[SHARED_GROUP] = [(r.path, r.manifest) for r in resources["argocd"]]
        return groups
    texts = {} if texts is None else texts
    read = yamlio.load_manifest_folder
    groups = {s: read(root, f"environments/{s}", texts) for s in stages}
    groups[SHARED_GROUP] = read(root, "argocd", texts) + read(root, "platform", texts)
    return groups


def scenario_layers(
    report: Report,
    cfg: Config,
    stage: str,
    pairs: list[tuple[str, dict[str, Any]]],
    argocd: list[dict[str, Any]],
    *,
    project: dict[str, Any] | None = None,
    crd_scope: Callable[[str, str], str | None] | None = None,
) -> None:
    """Layers 3-4 (scenario policies, security baseline) and the stage's expected findings.

    ``project``: the AppProject the stage syncs under; ``crd_scope``: a custom kind's scope from its CRD.
    """
    from shopgen.validate.expected import expected_findings
    from shopgen.validate.policies import PolicyContext, run_policies, with_sources
    from shopgen.validate.security import run_security

    manifests = [m for _, m in pairs]
    ctx = PolicyContext.for_stage(cfg, stage, extra_manifests=argocd, project=project, crd_scope=crd_scope)
    report.extend(with_sources(run_policies(manifests, ctx) + run_security(manifests), pairs))
    for stale in report.apply_expected(expected_findings(stage, cfg)):
        # An expectation nothing matched hides that the stage changed: say so.
        report.add(
            Finding(
                "expected.stale",
                "warning",
                stale.kind or "-",
                stale.namespace,
                stale.name or "-",
                stale.path or "",
                f"stage {stage} expects {stale.rule} here, but the render no longer has it",
                "update the stage's expected findings (shopgen/validate/expected.py)",
                "expected",
            )
        )


def _rendered_texts(root: Path, rendered: dict[str, str] | None) -> list[tuple[str, str]]:
    """Every rendered text file outside the stage folders (terraform/, charts/, argocd/, platform/).

    From ``rendered`` (a fresh render's files) when given, else from disk.
    """
    trees = ("terraform", "charts", "argocd", "platform")
    if rendered is not None:
        files = rendered
        return sorted((p, t) for p, t in files.items() if p.split("/", 1)[0] in trees)
    found = []
    for tree in trees:
        base = root / tree
        for path in sorted(base.rglob("*")) if base.is_dir() else []:
            rel = path.relative_to(root).as_posix()
            # Only what shopgen renders: never terraform state, .terraform/ providers or the user's files.
            if is_owned(rel) and not path.is_dir():
                found.append((rel, untrusted.read_text(path, untrusted.MANIFEST_LIMIT) or ""))
    return found


def _named(manifest: dict[str, Any], name: str) -> bool:
    metadata = manifest.get("metadata")
    return isinstance(metadata, dict) and metadata.get("name") == name


def _pairs(prefix: str, resources: list[Resource]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{prefix}/{r.path}", r.manifest) for r in resources]


def run_validate(
    *,
    out: Path | None,
    config_path: Path | None,
    stages: Sequence[str],
    all_stages: bool,
    k8s_version: str | None,
    crd_dir: Path | None,
    fresh: bool,
) -> ValidationRun:
    from shopgen.validate import Validator

    root = output_root(out)
    if not fresh:
        refuse_if_interrupted(root)
    cfg, _ = load_config(config_path, out_root=root)
    active = read_active_stage(root, cfg)
    for name in stages:
        get_stage(name)
    if stages and all_stages:
        raise ConfigError("give --stage or --all, not both")
    names = list(stages) or [
        name for name in stage_names() if fresh or all_stages or (root / "environments" / name).is_dir()
    ]
    if not fresh:
        missing = [n for n in names if not (root / "environments" / n).is_dir()]
        if missing:
            raise ConfigError(f"environments/{missing[0]}: not rendered; run `shopgen synth` or pass --render")
    validator = Validator(k8s_version=k8s_version or cfg.cluster.kubernetes_version, crd_dir=crd_dir_from(crd_dir))
    run = ValidationRun()
    files: dict[str, str] | None = None
    resources: dict[str, list[Resource]] | None = None
    if fresh:  # one render serves both the manifests and the text trees
        from shopgen.gitops import repo_prefix
        from shopgen.render import render_tree

        rendered = render_tree(cfg, names, active=active, repo_prefix=repo_prefix(root))
        files, resources = rendered.files, rendered.resources
    groups = collect(root, names, resources, run.texts)
    argocd = [m for _, m in groups.get(SHARED_GROUP, [])]
    project = next(
        (m for m in argocd if isinstance(m, dict) and m.get("kind") == "AppProject" and _named(m, "shop")), None
    )
    for group, pairs in groups.items():
        try:
            report = validator.validate(pairs)
            if group != SHARED_GROUP:
                scenario_layers(
                    report,
                    cfg,
                    group,
                    pairs,
                    argocd if group == active else [],
                    project=project,
                    crd_scope=validator.crds.scope,
                )
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # The rules read objects shopgen rendered; files on disk may hold anything (a list where a
            # name goes, an integer CEL cannot hold). Name the tree, never crash.
            where = f"environments/{group}" if group != SHARED_GROUP else "argocd/ and platform/"
            raise RepositoryError(
                f"{where}: a manifest holds a value of a type or size no Kubernetes object has "
                f"({type(exc).__name__}: {str(exc)[:200]}); run `shopgen synth --force` to restore the "
                "rendered files, or `shopgen validate --render` to check a fresh render"
            ) from None
        run.reports[group] = report
    texts = _rendered_texts(root, files)
    run.texts.update(files or texts)
    from shopgen.validate.security import scan_texts

    run.reports[FILES_GROUP] = Report(findings=scan_texts(texts), resources_checked=len(texts))
    if cfg.gitops.repo_url == REPO_URL_PLACEHOLDER and SHARED_GROUP in run.reports:
        run.reports[SHARED_GROUP].add(
            Finding(
                "gitops.repo-url-placeholder",
                "warning",
                "AppProject",
                "argocd",
                "shop",
                "spec.sourceRepos[0]",
                f"gitops.repo_url is still the placeholder {REPO_URL_PLACEHOLDER}: Argo CD cannot sync it",
                "set gitops.repo_url in shopgen.yaml to this repository's clone URL and run `shopgen synth`",
                "gitops",
                "argocd/appproject-shop.yaml",
            )
        )
    if not fresh:
        edits = hand_edit_findings(root)
        if edits:
            run.reports.setdefault("drift", Report()).extend(edits)
    return run


def run(
    *,
    out: Path | None,
    config_path: Path | None,
    stages: Sequence[str],
    all_stages: bool,
    k8s_version: str | None,
    crd_dir: Path | None,
    fresh: bool,
    fmt: str,
    fail_on: str,
    verbosity: int = 0,
) -> Outcome:
    """The report in the asked format; exit 1 on findings at or above ``fail_on``.

    ``verbosity`` (text only): -1 the verdict line, 0 the unexpected findings collapsed per rule and
    tree, 1 every finding, the expected ones with their reasons.
    """
    report = run_validate(
        out=out,
        config_path=config_path,
        stages=stages,
        all_stages=all_stages,
        k8s_version=k8s_version,
        crd_dir=crd_dir,
        fresh=fresh,
    )
    text = report.to_json() if fmt == "json" else report.to_text(fail_on=fail_on, verbosity=verbosity)
    return Outcome(out=text, code=report.exit_code(fail_on))
