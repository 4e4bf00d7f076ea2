"""Each stage's rendered YAML holds SPEC §2's values, builds with kustomize and passes strict schemas."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from shopgen import yamlio

from conftest import BIN, STAGES, kustomize_build
from stage_tree import container, load_stage

APP_SERVICES = ("catalog", "carts", "orders", "checkout", "assets", "ui")
STORES = ("catalog-mysql", "carts-dynamodb", "orders-postgresql", "orders-rabbitmq", "checkout-redis")
READINESS = {
    "catalog": "/health",
    "carts": "/actuator/health/readiness",
    "orders": "/actuator/health/readiness",
    "checkout": "/health",
    "assets": "/health.html",
    "ui": "/actuator/health/readiness",
}
LIVENESS = {
    **READINESS,
    "carts": "/actuator/health/liveness",
    "orders": "/actuator/health/liveness",
    "ui": "/actuator/health/liveness",
}
TG = "alb.ingress.kubernetes.io/target-group-attributes"


@pytest.fixture(scope="module")
def stages(rendered: Path) -> dict[str, dict]:
    return {s: load_stage(rendered, s) for s in STAGES}


def test_baseline_is_the_shop_without_probes(stages):
    objs = stages["baseline"]
    for name in APP_SERVICES:
        c = container(objs["Deployment", name])
        assert not {"readinessProbe", "livenessProbe", "startupProbe", "lifecycle"} & c.keys()
        repository = "retail-store-sample-cart" if name == "carts" else f"retail-store-sample-{name}"
        assert c["image"] == f"public.ecr.aws/aws-containers/{repository}:0.7.1"
        assert c["imagePullPolicy"] == "IfNotPresent"
        assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        assert "cpu" not in c["resources"]["limits"]
        pod = objs["Deployment", name]["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert {"name": "tmp-volume", "emptyDir": {"medium": "Memory"}} in pod["volumes"]
        assert objs["Service", name]["spec"]["ports"] == [
            {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
        ]
    ui = objs["Deployment", "ui"]
    assert ui["spec"]["replicas"] == 2
    assert ui["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "50%", "maxUnavailable": 0}
    assert objs["Deployment", "catalog"]["spec"]["replicas"] == 3
    assert objs["Deployment", "carts"]["spec"]["replicas"] == 3
    assert objs["Deployment", "orders"]["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 1}
    ingress = objs["Ingress", "ui"]
    ann = ingress["metadata"]["annotations"]
    assert ann[TG] == "load_balancing.algorithm.type=round_robin"
    assert ann["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert ann["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert ann["alb.ingress.kubernetes.io/backend-protocol"] == "HTTP"
    assert ann["alb.ingress.kubernetes.io/load-balancer-name"] == "part01-shop-ui"
    assert ingress["spec"]["ingressClassName"] == "alb"
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path == {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "ui", "port": {"name": "http"}}}}
    assets = container(objs["Deployment", "assets"])
    assert assets["securityContext"]["readOnlyRootFilesystem"] is False
    assert "runAsNonRoot" not in assets["securityContext"]
    ui_sc = container(ui)["securityContext"]
    assert ui_sc["capabilities"] == {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}
    assert ui_sc["runAsUser"] == 1000 and ui_sc["readOnlyRootFilesystem"] is True
    mysql = objs["StatefulSet", "catalog-mysql"]
    mc = container(mysql)
    assert mc["args"] == ["--ignore-db-dir=lost+found"]
    assert mc["resources"] == {"limits": {"memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "512Mi"}}
    assert objs["Deployment", "carts-dynamodb"]["kind"] == "Deployment"
    assert objs["Deployment", "checkout-redis"]["kind"] == "Deployment"
    for name in STORES:
        kind = "StatefulSet" if name in ("catalog-mysql", "orders-postgresql", "orders-rabbitmq") else "Deployment"
        assert "annotations" not in objs[kind, name]["spec"]["template"]["metadata"]


def test_no_literal_credentials_anywhere(stages):
    for stage, objs in stages.items():
        assert not [k for k in objs if k[0] == "Secret"], stage
        for (kind, name), obj in objs.items():
            if kind not in ("Deployment", "StatefulSet"):
                continue
            for env in container(obj).get("env", []):
                if any(word in env["name"] for word in ("PASSWORD", "USER", "SECRET", "ACCESS_KEY")):
                    assert "value" not in env, (stage, name, env)
        assert "AWS_ACCESS_KEY_ID" not in objs["ConfigMap", "carts"]["data"]


def test_readiness_adds_probes_gate_and_health_check(stages):
    objs = stages["readiness"]
    for name in APP_SERVICES:
        c = container(objs["Deployment", name])
        assert c["readinessProbe"] == {
            "httpGet": {"path": READINESS[name], "port": 8080},
            "periodSeconds": 5,
            "timeoutSeconds": 5,
            "successThreshold": 3,
            "failureThreshold": 3,
        }
        assert c["livenessProbe"] == {  # a deadlock detector: a 60 s window, readiness's timeout
            "httpGet": {"path": LIVENESS[name], "port": 8080},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 6,
        }
        startup = c["startupProbe"]
        assert startup["httpGet"]["path"] == LIVENESS[name]
        start = 60 if name in ("carts", "orders", "ui") else 30
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 2 * start
    ns = objs["Namespace", "shop"]
    assert ns["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    assert "namespace" not in ns["metadata"]
    ann = objs["Ingress", "ui"]["metadata"]["annotations"]
    assert ann["alb.ingress.kubernetes.io/healthcheck-path"] == "/actuator/health/readiness"


def test_autoscaling_hpa_karpenter_pdbs(stages):
    objs = stages["autoscaling"]
    assert "replicas" not in objs["Deployment", "ui"]["spec"]
    hpa = objs["HorizontalPodAutoscaler", "ui"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 10
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["spec"]["metrics"]}
    assert targets == {"cpu": 55, "memory": 60}
    pdbs = {name for kind, name in objs if kind == "PodDisruptionBudget"}
    assert pdbs == {"catalog", "carts", "ui"}
    assert all(objs["PodDisruptionBudget", n]["spec"]["maxUnavailable"] == 1 for n in pdbs)
    for name in STORES:
        kind = "StatefulSet" if name in ("catalog-mysql", "orders-postgresql", "orders-rabbitmq") else "Deployment"
        annotations = objs[kind, name]["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {"karpenter.sh/do-not-disrupt": "true"}
    pool = objs["NodePool", "default"]
    assert pool["apiVersion"] == "karpenter.sh/v1" and "namespace" not in pool["metadata"]
    spec = pool["spec"]
    reqs = {r["key"]: (r["operator"], r["values"]) for r in spec["template"]["spec"]["requirements"]}
    assert reqs == {
        "kubernetes.io/arch": ("In", ["amd64"]),
        "karpenter.k8s.aws/instance-category": ("In", ["t", "c", "m", "r"]),
        "karpenter.sh/capacity-type": ("In", ["spot", "on-demand"]),
    }
    assert spec["template"]["metadata"]["labels"] == {"intent": "apps"}
    assert spec["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": "default",
    }
    assert spec["template"]["spec"]["expireAfter"] == "720h"
    assert spec["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"}
    assert spec["limits"] == {"cpu": "1000"}
    nc = objs["EC2NodeClass", "default"]["spec"]
    assert nc["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]
    assert nc["role"] == "KarpenterNodeRole-part01"
    assert (
        nc["subnetSelectorTerms"]
        == nc["securityGroupSelectorTerms"]
        == [{"tags": {"karpenter.sh/discovery": "part01"}}]
    )
    assert nc["kubelet"] == {"systemReserved": {"cpu": "100m", "memory": "100Mi"}}
    assert nc["tags"] == {"intent": "apps", "NodeType": "default"}


def test_overprovisioning(stages):
    objs = stages["overprovisioning"]
    pc = objs["PriorityClass", "overprovisioning"]
    assert pc["value"] == -1 and pc["globalDefault"] is False and pc["description"]
    assert "namespace" not in pc["metadata"]
    dep = objs["Deployment", "overprovisioning"]
    assert dep["spec"]["replicas"] == 10
    pod = dep["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == "overprovisioning"
    assert pod["terminationGracePeriodSeconds"] == 0
    c = container(dep)
    assert c["image"] == "public.ecr.aws/eks-distro/kubernetes/pause:3.7"
    assert c["resources"] == {"limits": {"memory": "100Mi"}, "requests": {"memory": "100Mi"}}
    term = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": "overprovisioning"}
    assert dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "overprovisioning"


def test_alb_least_outstanding_requests(stages):
    ann = stages["alb"]["Ingress", "ui"]["metadata"]["annotations"]
    assert ann[TG] == "load_balancing.algorithm.type=least_outstanding_requests"


def test_prestop_sleep_grace_and_rollout(stages):
    objs = stages["prestop"]
    for name in APP_SERVICES:
        dep = objs["Deployment", name]
        sleep, grace = (80, 90) if name == "ui" else (10, 20)
        c = container(dep)
        assert c["lifecycle"] == {"preStop": {"exec": {"command": ["/bin/sh", "-c", f"sleep {sleep}"]}}}
        assert dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == grace
        assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    ann = objs["Ingress", "ui"]["metadata"]["annotations"]
    assert ann[TG] == "load_balancing.algorithm.type=least_outstanding_requests,deregistration_delay.timeout_seconds=60"


def test_namespaces_and_standard_labels(stages):
    cluster_scoped = {"Namespace", "PriorityClass", "NodePool", "EC2NodeClass"}
    for stage, objs in stages.items():
        for (kind, name), obj in objs.items():
            meta = obj["metadata"]
            if kind in cluster_scoped:
                assert "namespace" not in meta, (stage, kind, name)
            else:
                assert meta["namespace"] == "shop", (stage, kind, name)
            labels = meta["labels"]
            for key in ("name", "instance", "component", "part-of", "managed-by"):
                assert f"app.kubernetes.io/{key}" in labels, (stage, kind, name, key)
            assert labels["app.kubernetes.io/managed-by"] == "shopgen"
            assert not any(k.startswith("cdk8s.io") for k in labels)
            assert "-c8" not in name  # no cdk8s hashed names


@pytest.mark.parametrize("stage", STAGES)
def test_stage_builds_with_kustomize(rendered: Path, stage: str):
    built = yamlio.load_manifests(kustomize_build(rendered / "environments" / stage), stage)
    assert {(d["kind"], d["metadata"]["name"]) for d in built} == set(load_stage(rendered, stage))


@pytest.mark.parametrize("stage", STAGES)
def test_builtin_kinds_pass_kubernetes_validate_strict(rendered: Path, stage: str):
    folder = rendered / "environments" / stage
    files = [str(p) for p in sorted(folder.rglob("*.yaml")) if p.name != "kustomization.yaml"]
    out = subprocess.run(
        [str(BIN / "kubernetes-validate"), "--strict", "-k", "1.35.0", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    problems = [line for line in out.stdout.splitlines() if line.startswith(("ERROR", "FAIL"))]
    assert not problems


def test_every_generated_file_has_a_header(rendered: Path):
    for path in (rendered / "environments").rglob("*.yaml"):
        assert path.read_text().startswith("# Generated by shopgen (shopgen synth)"), path


@pytest.mark.parametrize("stage", STAGES)
def test_custom_resources_pass_their_crds_closed_with_cel(rendered: Path, stage: str):
    from shopgen.validate import validate_resources

    from conftest import CRD_DIR

    folder = rendered / "environments" / stage
    custom = []
    for path in sorted(folder.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yamlio.load_manifests(path.read_text(), str(path)):
            if doc["kind"] in ("NodePool", "EC2NodeClass", "ExternalSecret"):
                custom.append((str(path), doc))
    kinds = {doc["kind"] for _, doc in custom}
    assert "ExternalSecret" in kinds
    if stage not in ("baseline", "readiness"):
        assert {"NodePool", "EC2NodeClass"} <= kinds
    report = validate_resources(custom, crd_dir=CRD_DIR)
    assert report.findings == [], report.to_text()
    assert report.cel_not_evaluated == 0
    if "NodePool" in kinds:
        assert report.cel_evaluated > 0


def test_shared_components_render_exactly_as_a_stage_alone():
    """The fast path (each distinct component built once across stages) equals one app per stage."""
    from shopgen.config import defaults
    from shopgen.render.tree import components, synthesize
    from shopgen.story.deviations import Traits
    from shopgen.story.shop import resolve
    from shopgen.story.stages import desired_states

    states = desired_states(defaults())
    traits = Traits.of(resolve(defaults()))
    together = synthesize({name: list(components(state)) for name, state in states.items()}, traits)
    for name, state in states.items():
        alone = synthesize({name: list(components(state))}, traits)[name]
        assert [(r.path, r.manifest) for r in alone] == [(r.path, r.manifest) for r in together[name]], name


def test_stages_command_lists_the_story(cli):
    text = cli("stages")
    assert text.code == 0
    assert [line.split()[1] for line in text.out.splitlines()] == list(STAGES)
    data = json.loads(cli("stages", "--format", "json").out)
    assert [s["name"] for s in data] == list(STAGES)
    autoscaling = data[2]
    assert autoscaling["number"] == 3 and autoscaling["fix"] and autoscaling["why"]
    assert set(autoscaling["contract"]["adds"]) == {
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NodePool",
        "EC2NodeClass",
    }
    assert {"kind": "Deployment", "path": "spec.replicas"} in autoscaling["contract"]["changes"]
