"""`shopgen validate` end to end: on disk and --render, CRDs + CEL, unknown fields, json counts, drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import CRD_DIR, run_cli, tree_bytes


@pytest.fixture
def tree(rendered: Path, tmp_path: Path) -> Path:
    """A private copy of the default render (tests below edit it)."""
    root = tmp_path / "tree"
    shutil.copytree(rendered, root)
    return root


def test_default_render_is_clean_with_crds(tree: Path):
    result = run_cli("validate", "--all", "--crd-dir", CRD_DIR, "--out", tree, "--format", "json")
    assert result.code == 0, result.out
    data = json.loads(result.out)
    summary = data["summary"]
    assert summary["errors"] == 0
    assert summary["cel_evaluated"] > 0 and summary["cel_not_evaluated"] == 0
    assert "cel_not_applicable" in summary
    assert set(data["groups"]) == {
        "baseline",
        "readiness",
        "autoscaling",
        "overprovisioning",
        "alb",
        "prestop",
        "argocd",
        "files",
    }
    # Every stage holds exactly its declared, explained findings (the policies tests pin them down).
    assert data["groups"]["prestop"]["summary"]["expected"] == 37
    assert data["groups"]["baseline"]["summary"]["expected"] > data["groups"]["prestop"]["summary"]["expected"]


def test_fresh_render_matches_disk(tree: Path):
    disk = run_cli("validate", "--all", "--crd-dir", CRD_DIR, "--out", tree, "--format", "json")
    fresh = run_cli("validate", "--all", "--render", "--crd-dir", CRD_DIR, "--out", tree, "--format", "json")
    assert fresh.code == 0
    assert json.loads(fresh.out)["summary"] == json.loads(disk.out)["summary"]


def test_without_crds_custom_resources_are_not_validated(tree: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SHOPGEN_CRD_DIR", raising=False)
    result = run_cli("validate", "--stage", "autoscaling", "--out", tree, "-v")  # -v: each resource on its line
    assert result.code == 0  # warnings do not fail by default
    assert "crd.not-validated NodePool/default" in result.out
    strict = run_cli("validate", "--stage", "autoscaling", "--out", tree, "--fail-on", "warning")
    assert strict.code == 1


def test_crd_dir_from_environment(tree: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHOPGEN_CRD_DIR", str(CRD_DIR))
    result = run_cli("validate", "--stage", "autoscaling", "--out", tree)
    assert "not-validated" not in result.out


def test_unknown_field_on_disk_is_reported_with_its_path(tree: Path):
    path = tree / "environments/prestop/ui/deployment-ui.yaml"
    path.write_text(
        path.read_text().replace(
            "imagePullPolicy: IfNotPresent", "imagePullPolicy: IfNotPresent\n        imagePullPolicyy: Always"
        )
    )
    pool = tree / "environments/prestop/platform/nodepool-default.yaml"
    pool.write_text(pool.read_text().replace("expireAfter: 720h", "expireAfter: 720h\n      expireAftr: 1h"))
    result = run_cli("validate", "--stage", "prestop", "--crd-dir", CRD_DIR, "--out", tree)
    assert result.code == 1
    assert "spec.template.spec.containers[0].imagePullPolicyy" in result.out
    assert "spec.template.spec.expireAftr" in result.out
    assert "drift.hand-edit" in result.out  # and both files are named as hand edits


def test_a_cel_rule_breaks_on_disk(tree: Path):
    nc = tree / "environments/prestop/platform/ec2nodeclass-default.yaml"
    nc.write_text(nc.read_text().replace("alias: bottlerocket@latest", "alias: bottlerocket"))
    result = run_cli("validate", "--stage", "prestop", "--crd-dir", CRD_DIR, "--out", tree)
    assert result.code == 1
    assert "crd.cel-rule EC2NodeClass/default spec.amiSelectorTerms[0].alias" in result.out


def test_repo_url_placeholder_is_a_warning(tree: Path):
    result = run_cli("validate", "--stage", "baseline", "--crd-dir", CRD_DIR, "--out", tree, "--fail-on", "warning")
    assert result.code == 1
    assert "gitops.repo-url-placeholder" in result.out
    (tree / "shopgen.yaml").write_text("gitops:\n  repo_url: https://github.com/acme/shop.git\n")
    assert run_cli("synth", "--out", tree).code == 0
    clean = run_cli("validate", "--all", "--crd-dir", CRD_DIR, "--out", tree, "--fail-on", "warning")
    assert clean.code == 0, clean.out


def test_usage_errors_exit_2(tree: Path, tmp_path: Path):
    assert run_cli("validate", "--stage", "canary", "--out", tree).code == 2
    assert run_cli("validate", "--stage", "alb", "--all", "--out", tree).code == 2
    assert run_cli("validate", "--crd-dir", tmp_path / "nope", "--out", tree).code == 2
    bad = run_cli("validate", "--k8s-version", "1.9", "--out", tree)
    assert bad.code == 2 and "--k8s-version" in bad.err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("validate", "--stage", "alb", "--out", empty).code == 2


def test_synth_refuses_a_render_the_api_server_would_reject(tmp_path: Path):
    (tmp_path / "shopgen.yaml").write_text("karpenter:\n  nodeclass:\n    ami_alias: ubuntu@latest\n")
    before = tree_bytes(tmp_path)
    result = run_cli("synth", "--out", tmp_path, "--crd-dir", CRD_DIR)
    assert result.code == 2
    assert "family is not supported" in result.err and "spec.amiSelectorTerms[0].alias" in result.err
    assert tree_bytes(tmp_path) == before
    ok = run_cli("synth", "--out", tmp_path, "--crd-dir", CRD_DIR, "--stage", "baseline")
    assert ok.code == 0  # the baseline has no EC2NodeClass


def test_plaintext_credentials_in_terraform_are_findings(tree: Path):
    secrets = tree / "terraform/secrets.tf"
    secrets.write_text(secrets.read_text() + '\nlocals {\n  db_password = "hunter2hunter2"\n}\n')
    result = run_cli("validate", "--stage", "prestop", "--crd-dir", CRD_DIR, "--out", tree)
    assert result.code == 1
    assert "security.plaintext-credential" in result.out and "terraform/secrets.tf" in result.out
    assert "hunter2hunter2" not in result.out  # the finding never repeats the value
