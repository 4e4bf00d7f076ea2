"""A shop of one's own, declared as data: the README's example shop renders every stage with each fix
derived from its declarations, builds with kubectl kustomize, passes strict schemas and the CRDs' CEL,
validates without unexpected findings and gets its secrets in terraform."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from shopgen import yamlio
from shopgen.config import parse
from shopgen.validate import Validator

from conftest import CRD_DIR, REPO, STAGES, kustomize_build, run_cli
from stage_tree import container, load_stage


def readme_shop() -> str:
    """The first YAML block of the README's "Your own shop" section: a complete shopgen.yaml."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Your own shop") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "the README's 'Your own shop' section has no YAML block"
    return match.group(1)


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("own-shop")
    (root / "shopgen.yaml").write_text(readme_shop(), encoding="utf-8")
    result = run_cli("synth", "--out", root)
    assert result.code == 0, result.err
    return root


def test_the_readme_block_declares_the_shop_of_the_issue() -> None:
    cfg = parse(yamlio.to_plain(yamlio.load_text(readme_shop(), "README")), "README")
    assert cfg.app.profile == "blank"
    services = cfg.services
    assert set(services) == {"storefront", "billing", "pricing"}
    assert cfg.ingress.service == "storefront" and services["storefront"].runtime.kind == "go"
    assert services["billing"].runtime.kind == "jvm" and services["billing"].health.readiness is None
    assert [s.kind for s in services["billing"].stores.values()] == ["postgresql"]
    assert services["billing"].secrets  # a secret of its own
    assert services["pricing"].runtime.kind == "node"
    assert set(services["storefront"].calls) == set(services["billing"].calls) == {"pricing"}
    assert services["pricing"].image.pull_secrets == ("acme-registry",)  # the private registry


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_builds_and_passes_strict_schemas_and_cel(own: Path, stage: str) -> None:
    assert kustomize_build(own / "environments" / stage)
    objects = load_stage(own, stage)
    errors = (
        Validator(k8s_version="1.35", crd_dir=CRD_DIR)
        .validate([(f"{kind}/{name}", m) for (kind, name), m in objects.items()])
        .failing("error")
    )
    assert not errors, "\n".join(f"{f.rule} {f.where()} {f.path}: {f.message}" for f in errors)


def test_validate_on_prestop_shows_no_unexpected_finding(own: Path) -> None:
    result = run_cli("validate", "--stage", "prestop", "--crd-dir", CRD_DIR, "--format", "json", "--out", own)
    assert result.code == 0, result.out + result.err
    report = json.loads(result.out)
    findings = [f for group in report["groups"].values() for f in group["findings"]]
    unexpected = [f for f in findings if not f.get("expected_reason") and f["severity"] in ("error", "warning")]
    assert unexpected == []
    assert report["summary"]["errors"] == report["summary"]["warnings"] == 0
    assert any(f.get("expected_reason") for f in findings)  # the deliberate deviations still show, as expected


def _probes(own: Path, stage: str, name: str) -> dict[str, Any]:
    c = container(load_stage(own, stage)[("Deployment", name)])
    return {k: c.get(k) for k in ("readinessProbe", "livenessProbe", "startupProbe")}


def test_probes_come_from_the_declared_endpoints_and_start_times(own: Path) -> None:
    assert _probes(own, "baseline", "storefront") == dict.fromkeys(("readinessProbe", "livenessProbe", "startupProbe"))
    front = _probes(own, "readiness", "storefront")
    assert front["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8080}
    assert front["livenessProbe"]["httpGet"]["path"] == "/live"
    assert (front["livenessProbe"]["periodSeconds"], front["livenessProbe"]["failureThreshold"]) == (10, 6)
    start = front["startupProbe"]
    assert start["httpGet"]["path"] == "/live"
    assert start["failureThreshold"] == math.ceil(2 * 5 / start["periodSeconds"])  # go: 5 s, twice
    pricing = _probes(own, "readiness", "pricing")
    assert pricing["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert pricing["livenessProbe"] is None  # it declares no liveness endpoint
    assert pricing["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert pricing["startupProbe"]["failureThreshold"] * pricing["startupProbe"]["periodSeconds"] >= 2 * 20
    assert _probes(own, "prestop", "billing") == dict.fromkeys(("readinessProbe", "livenessProbe", "startupProbe"))
    ingress = load_stage(own, "readiness")[("Ingress", "storefront")]
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"] == "/ready"


def test_autoscaling_derives_hpa_pdbs_and_protected_stores(own: Path) -> None:
    objects = load_stage(own, "autoscaling")
    assert [n for k, n in objects if k == "HorizontalPodAutoscaler"] == ["storefront"]
    assert "replicas" not in objects[("Deployment", "storefront")]["spec"]  # the HPA owns it
    assert objects[("Deployment", "pricing")]["spec"]["replicas"] == 2
    assert sorted(n for k, n in objects if k == "PodDisruptionBudget") == ["pricing", "storefront"]
    store = objects[("StatefulSet", "billing-postgresql")]
    assert store["spec"]["template"]["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"


def test_prestop_derives_sleep_grace_and_rollout_from_exposure_and_shutdown(own: Path) -> None:
    objects = load_stage(own, "prestop")
    expected = {"storefront": (70, 80), "pricing": (10, 20), "billing": (10, 40)}  # 60 + 10; 10 + 30 for the JVM
    for name, (sleep, grace) in expected.items():
        deployment = objects[("Deployment", name)]
        pod = deployment["spec"]["template"]["spec"]
        assert container(deployment)["lifecycle"]["preStop"]["exec"]["command"] == ["/bin/sh", "-c", f"sleep {sleep}"]
        assert pod["terminationGracePeriodSeconds"] == grace
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    attributes = objects[("Ingress", "storefront")]["metadata"]["annotations"][
        "alb.ingress.kubernetes.io/target-group-attributes"
    ]
    assert "deregistration_delay.timeout_seconds=60" in attributes
    readme = (own / "environments/prestop/README.md").read_text()
    assert "| storefront | preStop sleep 70s, grace 80s |" in readme
    assert "| billing | preStop sleep 10s, grace 40s |" in readme


def test_calls_secrets_stores_and_registries_reach_the_manifests(own: Path) -> None:
    objects = load_stage(own, "baseline")
    assert objects[("ConfigMap", "storefront")]["data"] == {"LOG_LEVEL": "info", "PRICING_URL": "http://pricing"}
    assert objects[("ConfigMap", "billing")]["data"]["PRICING_URL"] == "http://pricing"
    billing_env = {
        e["name"]: e.get("valueFrom", {}).get("secretKeyRef")
        for e in container(objects[("Deployment", "billing")])["env"]
    }
    assert billing_env["STRIPE_API_KEY"] == {"name": "billing-stripe", "key": "api-key"}
    assert billing_env["JAVA_OPTS"] is None  # the JVM runtime's default flags, a literal value
    assert objects[("Deployment", "pricing")]["spec"]["template"]["spec"]["imagePullSecrets"] == [
        {"name": "acme-registry"}
    ]
    assert ("Service", "billing") not in objects  # nothing calls the worker: no Service
    assert {("Service", "storefront"), ("Service", "pricing"), ("Service", "billing-postgresql")} <= set(objects)
    postgres = container(objects[("StatefulSet", "billing-postgresql")])
    env = {e["name"]: e.get("value") or e["valueFrom"]["secretKeyRef"] for e in postgres["env"]}
    assert env["POSTGRES_DB"] == "billing"
    assert env["POSTGRES_USER"] == {"name": "billing-db", "key": "username"}
    secrets = {n: m["spec"]["data"] for (k, n), m in objects.items() if k == "ExternalSecret"}
    assert set(secrets) == {"billing-db", "billing-stripe"}
    assert {d["secretKey"] for d in secrets["billing-stripe"]} == {"api-key"}
    assert all(m["metadata"]["labels"]["app.kubernetes.io/part-of"] == "acme-shop" for m in objects.values())


def test_terraform_creates_the_new_secrets_entries(own: Path) -> None:
    secrets_tf = (own / "terraform/secrets.tf").read_text()
    assert 'resource "aws_secretsmanager_secret" "billing_stripe"' in secrets_tf
    assert "/billing-stripe" in secrets_tf
    assert "random_password" in secrets_tf and "billing_stripe_api_key" in secrets_tf
    assert 'resource "aws_secretsmanager_secret" "billing_db"' in secrets_tf
    assert "catalog" not in secrets_tf  # nothing of the retail profile is left


def test_every_stage_of_the_own_shop_stays_within_its_contract(own: Path) -> None:
    result = run_cli("diff", "--contract", "--out", own)
    assert result.code == 0, result.out + result.err
    assert "every stage stays within its contract" in result.out + result.err
