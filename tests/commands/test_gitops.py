"""argocd/ wiring, `shopgen diff` (stages, --against, --contract) and `shopgen promote` in real git repos."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from shopgen import yamlio
from shopgen.config import defaults
from shopgen.contracts import stage_violations
from shopgen.render import render_tree
from shopgen.story.stages import get_stage
from shopgen.validate import validate_resources

from conftest import CRD_DIR, STAGES, git, run_cli, tree_bytes


def _snapshot(repo: Path) -> tuple[dict[str, bytes], str, bytes, str]:
    return (
        tree_bytes(repo),
        git(repo, "rev-parse", "HEAD"),
        (repo / ".git/index").read_bytes(),
        git(repo, "status", "--porcelain"),
    )


# --- argocd/ -------------------------------------------------------------------------------------


@pytest.mark.parametrize("active", STAGES)
def test_argocd_objects_pass_crds_and_point_at_the_active_stage(active: str):
    files = render_tree(defaults(), [active], active=active).files
    objects = {
        p: yamlio.load_manifests(t, p)[0]
        for p, t in files.items()
        if p.startswith("argocd/") and not p.startswith("argocd/addons/")  # the add-ons: tests/render/test_platform.py
    }
    assert set(objects) == {"argocd/application-shop.yaml", "argocd/appproject-shop.yaml"}
    assert all(o["apiVersion"] == "argoproj.io/v1alpha1" for o in objects.values())
    report = validate_resources(list(objects.items()), crd_dir=CRD_DIR)
    assert [f for f in report.findings] == []
    assert report.cel_not_evaluated == 0
    app = objects["argocd/application-shop.yaml"]
    assert app["spec"]["source"]["path"] == f"environments/{active}"
    assert f"environments/{active}/kustomization.yaml" in files
    policy = app["spec"]["syncPolicy"]
    assert policy["automated"] == {"prune": True, "selfHeal": True}
    has_hpa = get_stage(active).number >= get_stage("autoscaling").number
    assert ("ignoreDifferences" in app["spec"]) == has_hpa
    assert ("RespectIgnoreDifferences=true" in policy["syncOptions"]) == has_hpa
    if has_hpa:
        assert app["spec"]["ignoreDifferences"] == [
            {
                "group": "apps",
                "kind": "Deployment",
                "name": "ui",
                "namespace": "shop",
                "jsonPointers": ["/spec/replicas"],
            }
        ]
    assert {"CreateNamespace=false", "ServerSideApply=true", "PruneLast=true"} <= set(policy["syncOptions"])
    project = objects["argocd/appproject-shop.yaml"]["spec"]
    assert project["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "shop"}]
    assert {(k["group"], k["kind"]) for k in project["clusterResourceWhitelist"]} == {
        ("", "Namespace"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("karpenter.sh", "NodePool"),
        ("karpenter.k8s.aws", "EC2NodeClass"),
    }


def test_argocd_path_is_relative_to_the_git_top_level(tmp_path: Path, git_env):
    git(tmp_path, "init", "-q")
    out = tmp_path / "gitops" / "shop"
    assert run_cli("synth", "--out", out, "--stage", "baseline").code == 0
    app = yamlio.load_manifests((out / "argocd/application-shop.yaml").read_text(), "app")[0]
    assert app["spec"]["source"]["path"] == "gitops/shop/environments/baseline"


def test_a_broken_argocd_object_fails_its_crd():
    files = render_tree(defaults(), ["baseline"], active="baseline").files
    app = yamlio.load_manifests(files["argocd/application-shop.yaml"], "app")[0]
    app["spec"]["syncPolicy"]["automated"]["selfHeel"] = True
    report = validate_resources([("app", app)], crd_dir=CRD_DIR)
    assert any("selfHeel" in f.path for f in report.findings)


# --- diff between stages -------------------------------------------------------------------------

# The count line of each promotion: exactly what SPEC §2 names for that fix.
EXPECTED_COUNTS = {
    "readiness": "~6 Deployment, ~1 Ingress, ~1 Namespace",
    "autoscaling": "+1 EC2NodeClass, +1 HorizontalPodAutoscaler, +1 NodePool, +3 PodDisruptionBudget, "
    "~3 Deployment, ~3 StatefulSet",
    "overprovisioning": "+1 Deployment, +1 PriorityClass",
    "alb": "~1 Ingress",
    "prestop": "~6 Deployment, ~1 Ingress",
}


@pytest.mark.parametrize(("old", "new"), list(pairwise(STAGES)))
def test_diff_of_each_promotion_is_exactly_its_fix(old: str, new: str):
    result = run_cli("diff", old, new)
    assert result.code == 1
    count = result.out.splitlines()[0]
    assert count == EXPECTED_COUNTS[new]


def test_readiness_diff_names_exactly_the_probes_label_and_health_check():
    result = run_cli("diff", "baseline", "readiness")
    changed = [line.strip().split(":")[0] for line in result.out.splitlines() if line.startswith("    ")]
    services = ("assets", "carts", "catalog", "checkout", "orders", "ui")
    expected = [
        f"spec.template.spec.containers[{s}].{probe}"
        for s in services
        for probe in ("livenessProbe", "readinessProbe", "startupProbe")
    ] + [
        'metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"]',
        'metadata.labels["elbv2.k8s.aws/pod-readiness-gate-inject"]',
    ]
    assert changed == expected


def test_prestop_diff_fields():
    text = run_cli("diff", "alb", "prestop").out
    assert (
        "spec.template.spec.containers[ui].lifecycle: (added) "
        '{"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 80"]}}}' in text
    )
    assert "spec.template.spec.terminationGracePeriodSeconds: (added) 90" in text
    assert "spec.strategy.rollingUpdate.maxUnavailable: 1 → 0" in text
    assert "deregistration_delay.timeout_seconds=60" in text


def test_diff_equal_stage_exits_0_and_json_is_stable():
    same = run_cli("diff", "alb", "alb")
    assert same.code == 0 and same.out.startswith("no changes")
    first = run_cli("diff", "baseline", "prestop", "--format", "json")
    second = run_cli("diff", "baseline", "prestop", "--format", "json")
    assert first.code == second.code == 1
    assert first.out == second.out
    json.loads(first.out)


def test_diff_markdown_is_a_pr_comment():
    md = run_cli("diff", "baseline", "prestop", "--format", "markdown").out
    assert "shopgen diff baseline → prestop" in md.splitlines()[0]
    assert "~8 Deployment" in md
    assert "<details>" in md and "| " in md
    assert len(md) < 65536


def test_diff_usage_errors():
    assert run_cli("diff").code == 2
    assert run_cli("diff", "baseline").code == 2
    assert run_cli("diff", "baseline", "nope").code == 2
    assert run_cli("diff", "baseline", "alb", "--contract").code == 2


# --- contracts -----------------------------------------------------------------------------------


def test_every_stage_stays_within_its_contract():
    result = run_cli("diff", "--contract")
    assert result.code == 0, result.err


def test_contract_violation_names_resource_and_field():
    rendered = render_tree(defaults(), ["alb", "prestop"]).resources
    old = [r.manifest for r in rendered["alb"]]
    new = json.loads(json.dumps([r.manifest for r in rendered["prestop"]]))
    for manifest in new:
        if manifest["kind"] == "Deployment" and manifest["metadata"]["name"] == "catalog":
            manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "catalog:latest"
        if manifest["kind"] == "Service" and manifest["metadata"]["name"] == "ui":
            manifest["spec"]["type"] = "NodePort"
    violations = [str(v) for v in stage_violations(get_stage("prestop"), old, new)]
    assert (
        "prestop: Deployment shop/catalog spec.template.spec.containers[catalog].image: "
        "changes a field outside the contract" in violations
    )
    assert "prestop: Service shop/ui spec.type: changes a field outside the contract" in violations
    assert len(violations) == 2


# --- diff --against ------------------------------------------------------------------------------


def test_diff_against_ref(repo: Path):
    clean = run_cli("diff", "--against", "HEAD", "--out", repo)
    assert clean.code == 0, clean.out + clean.err
    (repo / "shopgen.yaml").write_text("services:\n  ui:\n    prestop_sleep_seconds: 70\n")
    changed = run_cli("diff", "--against", "HEAD", "--out", repo)
    assert changed.code == 1
    assert changed.out.splitlines()[0].startswith("~1 Deployment")
    assert "sleep 70" in changed.out
    md = run_cli("diff", "--against", "HEAD", "--out", repo, "--format", "markdown")
    assert md.code == 1 and "sleep 70" in md.out
    bad = run_cli("diff", "--against", "no-such-ref", "--out", repo)
    assert bad.code == 2 and "no-such-ref" in bad.err


# --- promote -------------------------------------------------------------------------------------


def test_promote_through_prestop_makes_one_commit_per_fix(repo: Path):
    (repo / "notes.txt").write_text("mine")
    git(repo, "add", "notes.txt")
    result = run_cli("promote", "prestop", "--through", "--out", repo)
    assert result.code == 0, result.err
    log = git(repo, "log", "--format=%H", "HEAD~5..HEAD").split()
    assert len(log) == 5
    for stage, sha in zip(STAGES[1:], reversed(log), strict=True):
        message = git(repo, "log", "-1", "--format=%B", sha)
        assert message.rstrip().endswith(f"Shopgen-Stage: {stage}")
        assert f"promote to {stage}" in message.splitlines()[0]
        assert f"Fix: {get_stage(stage).text('fix', defaults())}" in message
        assert "Changes from " in message
        changed = git(repo, "diff-tree", "--no-commit-id", "-r", "--name-only", sha).split()
        assert changed, stage
        for path in changed:
            assert path.startswith(
                (".shopgen/state.json", ".shopgen/generated.json", "argocd/", f"environments/{stage}/")
            ), path
    autoscaling_commit = list(reversed(log))[1]
    assert "~3 Deployment, ~3 StatefulSet" in git(repo, "log", "-1", "--format=%B", autoscaling_commit)
    assert git(repo, "status", "--porcelain") == "A  notes.txt\n"
    app = yamlio.load_manifests((repo / "argocd/application-shop.yaml").read_text(), "app")[0]
    assert app["spec"]["source"]["path"] == "environments/prestop"
    assert json.loads((repo / ".shopgen/state.json").read_text()) == {"active_stage": "prestop"}
    assert run_cli("synth", "--check", "--out", repo).code == 0


def test_promote_renders_a_stage_folder_that_was_never_rendered(tmp_path: Path, git_env):
    git(tmp_path, "init", "-q")
    assert run_cli("synth", "--stage", "baseline", "--out", tmp_path).code == 0
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "baseline only")
    assert run_cli("promote", "readiness", "--out", tmp_path).code == 0
    changed = git(tmp_path, "diff-tree", "--no-commit-id", "-r", "--name-only", "HEAD").split()
    assert "environments/readiness/ui/deployment-ui.yaml" in changed


def test_promote_to_the_active_stage_is_a_no_op(repo: Path):
    before = _snapshot(repo)
    result = run_cli("promote", "baseline", "--out", repo)
    assert result.code == 0 and "already the active stage" in result.err
    assert _snapshot(repo) == before


def test_promote_no_commit_updates_files_only(repo: Path):
    head = git(repo, "rev-parse", "HEAD")
    assert run_cli("promote", "alb", "--no-commit", "--out", repo).code == 0
    assert git(repo, "rev-parse", "HEAD") == head
    assert json.loads((repo / ".shopgen/state.json").read_text()) == {"active_stage": "alb"}


def test_promote_rollback_needs_the_flag(repo: Path):
    assert run_cli("promote", "alb", "--out", repo).code == 0
    before = _snapshot(repo)
    refused = run_cli("promote", "readiness", "--out", repo)
    assert refused.code == 2 and "--allow-rollback" in refused.err
    assert _snapshot(repo) == before
    assert run_cli("promote", "readiness", "--allow-rollback", "--out", repo).code == 0
    assert git(repo, "log", "-1", "--format=%B").rstrip().endswith("Shopgen-Stage: readiness")


@pytest.mark.parametrize("case", ["hand-edit", "dirty-owned-path", "unknown-stage", "untracked-in-owned-path"])
def test_promote_refusals_leave_the_repository_as_it_was(repo: Path, case: str):
    if case == "hand-edit":
        target = repo / "environments/baseline/ui/service-ui.yaml"
        target.write_text(target.read_text().replace("port: 80", "port: 81"))
        git(repo, "commit", "-qam", "hand edit")
        expected = "environments/baseline/ui/service-ui.yaml"
    elif case == "dirty-owned-path":
        target = repo / "argocd/application-shop.yaml"
        target.write_text(target.read_text() + "# note\n")
        expected = "argocd/application-shop.yaml"
    elif case == "unknown-stage":
        expected = "unknown stage 'canary'"
    else:
        (repo / "argocd/extra.yaml").write_text("kind: Note\n")
        expected = "argocd/extra.yaml"
    before = _snapshot(repo)
    stage = "canary" if case == "unknown-stage" else "readiness"
    result = run_cli("promote", stage, "--out", repo)
    assert result.code == 2, result.err
    assert expected in result.err
    assert _snapshot(repo) == before


def test_promote_outside_git_is_refused(tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path, "--stage", "baseline").code == 0
    before = tree_bytes(tmp_path)
    result = run_cli("promote", "readiness", "--out", tmp_path)
    assert result.code == 2 and "not in a git repository" in result.err
    assert tree_bytes(tmp_path) == before
