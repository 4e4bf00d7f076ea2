"""Properties over service declarations (hypothesis): every valid declaration renders, builds with
kubectl kustomize and validates with no unexpected finding; the derived values always hold their
invariants; every declaration broken in one place exits 2 naming the field and writes nothing."""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopgen import yamlio
from shopgen.config import parse
from shopgen.render import render_tree
from shopgen.story.facts import ENDPOINT_PROPAGATION_SECONDS
from shopgen.story.shop import resolve
from shopgen.story.stages import stage_names
from shopgen.validate import Validator

from conftest import CRD_DIR, kustomize_build, run_cli, tree_bytes

NAMES = ("web", "api", "search", "billing", "pricing", "mailer")
REPOSITORIES = (
    "ghcr.io/acme/app",
    "registry.acme.example:5000/team/app",
    "123456789012.dkr.ecr.us-west-2.amazonaws.com/app",
)
STORE_KINDS = ("mysql", "postgresql", "redis", "rabbitmq", "dynamodb-local")
PATHS = ("/ready", "/healthz", "/actuator/health/readiness", "/status")


@pytest.fixture(scope="module", autouse=True)
def _cel_loaded() -> None:
    """Validate once up front: the CEL library raises the recursion limit, which hypothesis warns about mid-test."""
    resources = render_tree(parse({}, "defaults"), ["autoscaling"], active="autoscaling").resources
    Validator(k8s_version="1.35", crd_dir=CRD_DIR).validate(
        [(r.path, r.manifest) for rs in resources.values() for r in rs]
    )


@st.composite
def declaration(draw: st.DrawFn, name: str, *, needs_readiness: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(("jvm", "go", "node", "nginx", "other")))
    runtime: dict[str, Any] = {"kind": kind, "shutdown_seconds": draw(st.integers(1, 60))}
    if draw(st.booleans()):
        runtime["start_seconds"] = draw(st.integers(1, 300))
    health: dict[str, Any] = {}
    if needs_readiness or draw(st.booleans()):
        health["readiness"] = draw(st.sampled_from(PATHS))
    if draw(st.booleans()):
        health["liveness"] = "/live"
    svc: dict[str, Any] = {
        "image": {"repository": draw(st.sampled_from(REPOSITORIES)), "tag": draw(st.sampled_from(("1.0", "2.4.1")))},
        "port": draw(st.sampled_from((8080, 3000, 9000, 8443))),
        "runtime": runtime,
        "health": health,
        "replicas": draw(st.integers(1, 4)),
        "resources": {"memory": f"{draw(st.integers(64, 2048))}Mi"},
    }
    if draw(st.booleans()) or needs_readiness:
        svc["resources"]["cpu"] = f"{draw(st.integers(10, 2000))}m"
    settings_ = draw(
        st.dictionaries(st.sampled_from(("LOG_LEVEL", "REGION", "FEATURE_X")), st.sampled_from(("a", "1")))
    )
    if settings_:
        svc["settings"] = settings_
    if draw(st.booleans()):
        svc["secrets"] = {"API_KEY": {"secret": f"{name}-keys", "key": "api-key"}}
    stores = draw(st.lists(st.sampled_from(STORE_KINDS), max_size=2, unique=True))
    if stores:
        svc["stores"] = {kind.split("-")[0]: {"kind": kind} for kind in stores}
    if draw(st.booleans()):
        svc["security"] = {"profile": "exception", "reason": f"{name} runs its image as its vendor ships it"}
    if draw(st.booleans()):
        svc["metrics_path"] = "/metrics"
    return svc


@st.composite
def own_shop(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    exposed = names[0]
    callees = draw(st.lists(st.sampled_from(names[1:]), unique=True)) if len(names) > 1 else []
    services = {name: draw(declaration(name, needs_readiness=name == exposed or name in callees)) for name in names}
    for callee in callees:  # someone calls it: the exposed service, through a setting
        services[exposed].setdefault("calls", {})[callee] = f"{callee.upper()}_URL"
    targets = [n for n in names if "cpu" in services[n]["resources"] and draw(st.booleans())]
    delay = draw(st.integers(1, 120))
    for name, svc in services.items():
        floor = ENDPOINT_PROPAGATION_SECONDS + (delay if name == exposed else 0)
        if draw(st.booleans()):
            svc["prestop_sleep_seconds"] = floor + draw(st.integers(0, 30))
        if draw(st.booleans()):
            sleep = svc.get("prestop_sleep_seconds", floor)
            svc["termination_grace_period_seconds"] = (
                sleep + svc["runtime"]["shutdown_seconds"] + draw(st.integers(0, 30))
            )
    return {
        "app": {"profile": "blank", "name": "prop-shop"},
        "namespace": "props",
        "gitops": {"repo_url": "https://github.com/acme/shop-gitops.git"},
        "ingress": {"service": exposed, "deregistration_delay_seconds": delay},
        "autoscaling": {"hpa": {"targets": targets}},
        "services": services,
    }


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.slow
@given(data=own_shop())
def test_every_valid_declaration_renders_builds_and_validates_without_unexpected_findings(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="shopgen-decl-") as tmp:
        root = Path(tmp)
        (root / "shopgen.yaml").write_text(yamlio.dump(data), encoding="utf-8")
        synth = run_cli("synth", "--out", root)
        assert synth.code == 0, synth.err
        for stage in stage_names():
            assert kustomize_build(root / "environments" / stage)
        result = run_cli("validate", "--all", "--crd-dir", CRD_DIR, "--format", "json", "--out", root)
        report = json.loads(result.out)
        unexpected = [
            f"{f['rule']} {f['kind']}/{f['name']} {f['path']}: {f['message']}"
            for group in report["groups"].values()
            for f in group["findings"]
            if f["severity"] in ("error", "warning") and not f.get("expected_reason")
        ]
        assert result.code == 0 and not unexpected, "\n".join(unexpected) or result.out[-2000:]


def _objects(files: dict[str, str], stage: str) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path, text in files.items():
        if path.startswith(f"environments/{stage}/") and path.endswith(".yaml") and "kustomization" not in path:
            for doc in yamlio.load_manifests(text, path):
                found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


@settings(max_examples=25, deadline=None)
@pytest.mark.slow
@given(data=own_shop())
def test_derived_values_hold_their_invariants(data: dict[str, Any]) -> None:
    cfg = parse(data, "generated declaration")
    shop = resolve(cfg)
    files = render_tree(cfg, stage_names(), active="prestop").files
    prestop, scaled = _objects(files, "prestop"), _objects(files, "autoscaling")
    delay = cfg.ingress.deregistration_delay_seconds
    for svc in shop.services:
        deployment = prestop[("Deployment", svc.name)]
        pod = deployment["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        if "startupProbe" in c:
            budget = c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
            assert budget >= 2 * svc.start_seconds
        sleep = int(c["lifecycle"]["preStop"]["exec"]["command"][-1].removeprefix("sleep "))
        assert sleep >= ENDPOINT_PROPAGATION_SECONDS + (delay if svc.exposed else 0)
        assert pod["terminationGracePeriodSeconds"] >= sleep + svc.shutdown_seconds
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        running = cfg.autoscaling.hpa.min_replicas if svc.name in cfg.autoscaling.hpa.targets else svc.replicas
        assert (("PodDisruptionBudget", svc.name) in scaled) == (running >= 2)
        if svc.readiness_path is None:
            assert "readinessProbe" not in c
        for entry in c.get("env", []):  # every Secret it reads is rendered
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ("ExternalSecret", ref["name"]) in prestop
        for callee in svc.calls:  # every call reaches a Service
            assert ("Service", callee) in prestop
    for (kind, _), hpa in scaled.items():
        if kind == "HorizontalPodAutoscaler":
            target = scaled[("Deployment", hpa["spec"]["scaleTargetRef"]["name"])]
            assert target["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    assert {n for k, n in scaled if k == "HorizontalPodAutoscaler"} == set(cfg.autoscaling.hpa.targets)
    for store in shop.stores:
        kind = "StatefulSet" if store.workload == "StatefulSet" else "Deployment"
        annotations = scaled[(kind, store.name)]["spec"]["template"]["metadata"].get("annotations", {})
        assert annotations.get("karpenter.sh/do-not-disrupt") == "true"  # data on emptyDir


Breaker = Callable[[dict[str, Any], st.DrawFn], str]


def _any_service(data: dict[str, Any], draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(data["services"])))
    return name, data["services"][name]


def unknown_runtime(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _any_service(data, draw)
    svc["runtime"]["kind"] = draw(st.sampled_from(("python", "JVM", "dotnet")))
    return f"services.{name}.runtime.kind"


def bad_port(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _any_service(data, draw)
    svc["port"] = draw(st.sampled_from((0, -1, 65536, 100000)))
    return f"services.{name}.port"


def undeclared_call(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _any_service(data, draw)
    svc.setdefault("calls", {})["ghost"] = "GHOST_URL"
    return f"services.{name}.calls.ghost"


def unknown_store_kind(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _any_service(data, draw)
    svc["stores"] = {"cache": {"kind": draw(st.sampled_from(("memcached", "mongo", "Redis")))}}
    return f"services.{name}.stores.cache.kind"


def exposed_without_readiness(data: dict[str, Any], draw: st.DrawFn) -> str:
    name = data["ingress"]["service"]
    data["services"][name]["health"].pop("readiness")
    return f"services.{name}.health.readiness"


def target_without_cpu(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _any_service(data, draw)
    svc["resources"].pop("cpu", None)
    data["autoscaling"]["hpa"]["targets"] = [name]
    return f"services.{name}.resources.cpu"


def short_prestop(data: dict[str, Any], draw: st.DrawFn) -> str:
    name = data["ingress"]["service"]
    data["services"][name]["prestop_sleep_seconds"] = draw(
        st.integers(1, data["ingress"]["deregistration_delay_seconds"])
    )
    data["services"][name].pop("termination_grace_period_seconds", None)
    return f"services.{name}.prestop_sleep_seconds"


def short_grace(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _any_service(data, draw)
    svc.pop("prestop_sleep_seconds", None)
    svc["termination_grace_period_seconds"] = draw(st.integers(1, ENDPOINT_PROPAGATION_SECONDS))
    return f"services.{name}.termination_grace_period_seconds"


def bad_setting_name(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _any_service(data, draw)
    svc["settings"] = {draw(st.sampled_from(("1X", "A-B", "A B", ""))): "v"}
    return f"services.{name}.settings"


def exception_without_reason(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _any_service(data, draw)
    svc["security"] = {"profile": "exception"}
    return f"services.{name}.security"


BREAKERS: list[Breaker] = [
    unknown_runtime,
    bad_port,
    undeclared_call,
    unknown_store_kind,
    exposed_without_readiness,
    target_without_cpu,
    short_prestop,
    short_grace,
    bad_setting_name,
    exception_without_reason,
]


@settings(max_examples=40, deadline=None)
@pytest.mark.slow
@given(data=own_shop(), breaker=st.sampled_from(BREAKERS), draw=st.data())
def test_every_declaration_broken_in_one_place_exits_2_naming_the_field(
    data: dict[str, Any], breaker: Breaker, draw: st.DataObject
) -> None:
    broken = copy.deepcopy(data)
    field = breaker(broken, draw.draw)
    with tempfile.TemporaryDirectory(prefix="shopgen-bad-decl-") as tmp:
        root = Path(tmp)
        (root / "shopgen.yaml").write_text(yamlio.dump(broken), encoding="utf-8")
        before = tree_bytes(root)
        result = run_cli("synth", "--out", root)
        assert result.code == 2, (breaker.__name__, result.err)
        assert field in result.err, f"{breaker.__name__}: {result.err!r} lacks {field!r}"
        assert tree_bytes(root) == before
