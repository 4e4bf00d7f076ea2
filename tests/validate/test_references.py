"""Referential integrity inside each rendered stage: everything a pod or object points at exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import STAGES, run_cli
from stage_tree import load_stage

# Secrets the pods read: produced by an ExternalSecret (external-secrets) or created by the user (none).
CREDENTIAL_SECRETS = {"catalog-db", "orders-db", "carts-dynamodb"}
WORKLOADS = ("Deployment", "StatefulSet")


def _pods(objs):
    for (kind, name), obj in objs.items():
        if kind in WORKLOADS:
            yield name, obj["spec"]["template"]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def check_references(objs, *, external_secrets_expected: set[str]) -> list[str]:
    problems = []
    names = {kind: {n for k, n in objs if k == kind} for kind, _ in objs}
    produced = set(names.get("Secret", set()))
    for (kind, _), obj in objs.items():
        if kind == "ExternalSecret":
            produced.add(obj["spec"]["target"]["name"])
    pods = list(_pods(objs))
    for name, template in pods:
        spec = template["spec"]
        sa = spec.get("serviceAccountName")
        if sa and sa not in names.get("ServiceAccount", set()):
            problems.append(f"{name}: ServiceAccount {sa} missing")
        pc = spec.get("priorityClassName")
        if pc and pc not in names.get("PriorityClass", set()):
            problems.append(f"{name}: PriorityClass {pc} missing")
        for c in spec["containers"]:
            for ref in c.get("envFrom", []):
                if "configMapRef" in ref and ref["configMapRef"]["name"] not in names.get("ConfigMap", set()):
                    problems.append(f"{name}: ConfigMap {ref['configMapRef']['name']} missing")
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] not in produced | external_secrets_expected:
                    problems.append(f"{name}: Secret {ref['name']} missing")
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            volumes = {v["name"] for v in spec.get("volumes", [])}
            claims = {
                t["metadata"]["name"]
                for t in objs.get(("StatefulSet", name), {}).get("spec", {}).get("volumeClaimTemplates", [])
            }
            if mounts - volumes - claims:
                problems.append(f"{name}: volumes {mounts - volumes - claims} missing")
    for (kind, name), obj in objs.items():
        if kind == "Service":
            selector = obj["spec"]["selector"]
            matching = [t for _, t in pods if _matches(selector, t["metadata"]["labels"])]
            if not matching:
                problems.append(f"Service {name}: selects no pod")
            for port in obj["spec"]["ports"]:
                target = port["targetPort"]
                if isinstance(target, str) and not all(
                    any(p["name"] == target for c in t["spec"]["containers"] for p in c.get("ports", []))
                    for t in matching
                ):
                    problems.append(f"Service {name}: named port {target} missing")
        if kind == "PodDisruptionBudget":
            selector = obj["spec"]["selector"]["matchLabels"]
            if not any(_matches(selector, t["metadata"]["labels"]) for _, t in pods):
                problems.append(f"PDB {name}: selects no pod")
        if kind == "HorizontalPodAutoscaler":
            ref = obj["spec"]["scaleTargetRef"]
            target = objs.get((ref["kind"], ref["name"]))
            if target is None:
                problems.append(f"HPA {name}: target {ref['kind']}/{ref['name']} missing")
                continue
            for metric in obj["spec"]["metrics"]:
                resource = metric["resource"]["name"]
                for c in target["spec"]["template"]["spec"]["containers"]:
                    if resource not in c.get("resources", {}).get("requests", {}):
                        problems.append(f"HPA {name}: {ref['name']} does not request {resource}")
        if kind == "Ingress":
            for rule in obj["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    svc = path["backend"]["service"]
                    service = objs.get(("Service", svc["name"]))
                    if service is None or svc["port"]["name"] not in {p["name"] for p in service["spec"]["ports"]}:
                        problems.append(f"Ingress {name}: backend {svc} missing")
        if kind == "NodePool":
            ref = obj["spec"]["template"]["spec"]["nodeClassRef"]
            if ("EC2NodeClass", ref["name"]) not in objs:
                problems.append(f"NodePool {name}: EC2NodeClass {ref['name']} missing")
    return problems


@pytest.mark.parametrize("stage", STAGES)
def test_every_reference_resolves(rendered: Path, stage: str):
    objs = load_stage(rendered, stage)
    assert check_references(objs, external_secrets_expected=set()) == []


def test_provider_none_expects_external_secrets(tmp_path: Path):
    (tmp_path / "shopgen.yaml").write_text("secrets:\n  provider: none\n")
    assert run_cli("synth", "--out", tmp_path, "--stage", "prestop").code == 0
    objs = load_stage(tmp_path, "prestop")
    assert not [k for k in objs if k[0] in ("ExternalSecret", "Secret")]
    assert check_references(objs, external_secrets_expected=CREDENTIAL_SECRETS) == []
    missing = check_references(objs, external_secrets_expected=set())
    assert any("Secret catalog-db missing" in p for p in missing)


def test_a_broken_reference_is_caught(rendered: Path):
    objs = load_stage(rendered, "prestop")
    objs["Service", "ui"]["spec"]["ports"][0]["targetPort"] = "web"
    del objs["ConfigMap", "orders"]
    problems = check_references(objs, external_secrets_expected=set())
    assert "Service ui: named port web missing" in problems
    assert "orders: ConfigMap orders missing" in problems
