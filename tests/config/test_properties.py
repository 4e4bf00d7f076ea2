"""Property tests over the config space (hypothesis).

Every valid config renders, every stage builds with `kubectl kustomize`, layers 1-2 of validation
(schemas, CRDs + CEL) find no error, and a second render is byte-identical. Every config broken in
one place is rejected with a message that names the field path.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopgen.config import parse
from shopgen.errors import ConfigError
from shopgen.gitops import repo_prefix
from shopgen.render import render_tree
from shopgen.story.stages import stage_names
from shopgen.validate import Validator

from conftest import CRD_DIR, kustomize_build

SERVICES = ("catalog", "carts", "orders", "checkout", "assets", "ui")  # the default profile's
STORES = ("catalog-mysql", "carts-dynamodb", "orders-postgresql", "orders-rabbitmq", "checkout-redis")
DEREGISTRATION = 60  # the deregistration delay the generated configs keep, so the ui's preStop covers it
IMAGES = (
    "public.ecr.aws/eks-distro/kubernetes/pause:3.7",
    "registry.k8s.io/pause:3.10",
    "localhost:5000/pause",
    "pause@sha256:" + "0" * 64,
)

dns_label = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
cpu = st.one_of(st.integers(1, 4000).map(lambda m: f"{m}m"), st.sampled_from(["0.25", "0.5", "1", "2"]))
mebibytes = st.integers(16, 4096)
duration = st.sampled_from(["30s", "1m", "5m", "90s", "1h", "24h", "720h", "1h30m"])
seconds = st.integers(1, 120)


def subset(values: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)


def _liveness(draw: st.DrawFn) -> dict[str, Any]:
    """A liveness probe shopgen accepts: a failure window of at least 30 s (a saturated JVM stalls that long)."""
    period = draw(st.integers(1, 30))
    least = -(-30 // period)
    return {"period_seconds": period, "failure_threshold": draw(st.integers(least, least + 10))}


@st.composite
def service(draw: st.DrawFn) -> dict[str, Any]:
    """Overrides of a profile service; its preStop sleep covers the ALB's deregistration and propagation."""
    memory = draw(mebibytes)
    sleep, shutdown = DEREGISTRATION + 10 + draw(seconds), draw(seconds)
    return {
        "replicas": draw(st.integers(1, 6)),
        "resources": {
            "cpu": draw(cpu),
            "memory": f"{memory}Mi",
            "memory_limit": f"{memory + draw(st.integers(0, 1024))}Mi",
        },
        "readiness": {
            "period_seconds": draw(st.integers(1, 30)),
            "timeout_seconds": draw(st.integers(1, 30)),
            "failure_threshold": draw(st.integers(1, 10)),
            "success_threshold": draw(st.integers(1, 5)),
        },
        "liveness": _liveness(draw),
        "startup": {"period_seconds": draw(st.integers(1, 30))},
        "runtime": {"start_seconds": draw(st.integers(1, 600)), "shutdown_seconds": shutdown},
        "prestop_sleep_seconds": sleep,
        "termination_grace_period_seconds": sleep + shutdown + draw(st.integers(0, 60)),
    }


@st.composite
def valid_config(draw: st.DrawFn) -> dict[str, Any]:
    """A meaningful slice of the config: every section, values across their valid ranges."""
    hpa_min = draw(st.integers(1, 10))
    node_min = draw(st.integers(0, 5))
    node_max = draw(st.integers(max(1, node_min), 10))
    data: dict[str, Any] = {
        "namespace": draw(dns_label),
        "cluster": {"name": draw(st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True))},
        "services": {name: draw(service()) for name in draw(st.lists(st.sampled_from(SERVICES), unique=True))},
        "stores": {
            **{
                name: {"memory": f"{draw(mebibytes)}Mi"}
                for name in draw(st.lists(st.sampled_from(STORES), unique=True))
            },
            "storage_class": draw(st.none() | dns_label),
        },
        "ingress": {
            "scheme": draw(st.sampled_from(["internet-facing", "internal"])),
            "deregistration_delay_seconds": DEREGISTRATION,
        },
        "autoscaling": {
            "hpa": {
                "targets": draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True)),
                "min_replicas": hpa_min,
                "max_replicas": hpa_min + draw(st.integers(0, 20)),
                "cpu_utilization": draw(st.integers(1, 100)),
                "memory_utilization": draw(st.integers(1, 100)),
            },
            "pdb_max_unavailable": draw(st.integers(1, 3)),
        },
        "karpenter": {
            "nodepool": {
                "name": draw(dns_label),
                "architectures": draw(subset(("amd64", "arm64"))),
                "instance_categories": draw(subset(("c", "m", "r", "t"))),
                "capacity_types": draw(subset(("spot", "on-demand", "reserved"))),
                "cpu_limit": draw(st.integers(1, 10_000)),
                "consolidate_after": draw(duration),
                "expire_after": draw(duration),
            },
            "nodeclass": {"ami_alias": draw(st.sampled_from(["bottlerocket@latest", "al2023@v20250101"]))},
        },
        "overprovisioning": {
            "image": draw(st.sampled_from(IMAGES)),
            "replicas": draw(st.integers(1, 30)),
            "memory": f"{draw(mebibytes)}Mi",
            "priority_value": draw(st.integers(-1_000_000_000, -1)),
        },
        "secrets": {
            "provider": draw(st.sampled_from(["external-secrets", "none"])),
            "refresh_interval": draw(duration),
        },
        "gitops": {
            "repo_url": "https://github.com/acme/shop-gitops.git",
            "initial_stage": draw(st.sampled_from(stage_names())),
            "target_revision": draw(st.sampled_from(["main", "release-1.2", "v1.0.0"])),
        },
        "app": {
            "image_digests": {
                name: "sha256:" + "ab" * 32 for name in draw(st.lists(st.sampled_from(SERVICES), unique=True))
            },
        },
        "platform": {
            "az_count": draw(st.integers(2, 6)),
            "vpc_cidr": draw(st.sampled_from(["10.0.0.0/16", "10.20.0.0/14", "172.16.0.0/12", "192.168.0.0/18"])),
            "node_group": {
                "min_size": node_min,
                "max_size": node_max,
                "desired_size": draw(st.integers(node_min, node_max)),
            },
        },
    }
    return data


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    validator = Validator(k8s_version="1.35", crd_dir=CRD_DIR)
    # Validate once up front: the CEL library raises the recursion limit, which hypothesis warns about mid-test.
    resources = render_tree(parse({}, "defaults"), ["autoscaling"], active="autoscaling").resources
    validator.validate([(r.path, r.manifest) for items in resources.values() for r in items])
    return validator


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(data=valid_config())
def test_every_valid_config_renders_builds_validates_and_is_deterministic(data: dict[str, Any], validator: Validator):
    cfg = parse(data, "generated config")
    active = cfg.gitops.initial_stage
    with tempfile.TemporaryDirectory(prefix="shopgen-prop-") as tmp:
        root = Path(tmp)
        rendered = render_tree(cfg, stage_names(), active=active, repo_prefix=repo_prefix(root))
        files, resources = rendered.files, rendered.resources
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for stage in stage_names():
            assert kustomize_build(root / "environments" / stage)
        pairs = [
            (f"environments/{group}/{r.path}" if group != "argocd" else r.path, r.manifest)
            for group, items in resources.items()
            for r in items
        ]
        errors = validator.validate(pairs).failing("error")
        assert not errors, "\n".join(f"{f.rule} {f.where()} {f.path}: {f.message}" for f in errors[:10])
        again = render_tree(cfg, stage_names(), active=active, repo_prefix=repo_prefix(root)).files
        assert again == files


# --- invalid configs: break one constraint, expect its field path in the message ----------------------

Breaker = Callable[[dict[str, Any], st.DrawFn], str]  # mutates the data, returns the path the error must name


def _service(data: dict[str, Any], draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(SERVICES))
    return name, data["services"].setdefault(name, draw(service()))


def hpa_min_above_max(data: dict[str, Any], draw: st.DrawFn) -> str:
    hpa = data["autoscaling"]["hpa"]
    hpa["min_replicas"] = hpa["max_replicas"] + draw(st.integers(1, 100))
    return "autoscaling.hpa"


def grace_shorter_than_sleep_and_shutdown(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _service(data, draw)
    needed = svc["prestop_sleep_seconds"] + svc["runtime"]["shutdown_seconds"]
    svc["termination_grace_period_seconds"] = draw(st.integers(1, needed - 1))
    return f"services.{name}.termination_grace_period_seconds"


def zero_replicas(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _service(data, draw)
    svc["replicas"] = draw(st.integers(-5, 0))
    return f"services.{name}.replicas"


def zero_memory(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _service(data, draw)
    svc["resources"]["memory"] = "0Mi"
    return f"services.{name}.resources"


def zero_cpu(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _service(data, draw)
    svc["resources"]["cpu"] = draw(st.sampled_from(["0m", "0", "-1", "0.0m"]))
    return f"services.{name}.resources"  # .cpu (a pattern) or ": cpu: must be greater than zero"


def limit_below_request(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _service(data, draw)
    svc["resources"]["memory"] = "2Gi"
    svc["resources"]["memory_limit"] = f"{draw(st.integers(1, 2047))}Mi"
    return f"services.{name}.resources"


def zero_overprovisioning(data: dict[str, Any], draw: st.DrawFn) -> str:
    data["overprovisioning"]["replicas"] = 0
    return "overprovisioning.replicas"


def bad_namespace(data: dict[str, Any], draw: st.DrawFn) -> str:
    data["namespace"] = draw(st.sampled_from(["Shop", "shop_1", "-shop", "shop-", "", "a" * 64, "shöp"]))
    return "namespace"


def bad_duration(data: dict[str, Any], draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(["consolidate_after", "expire_after"]))
    data["karpenter"]["nodepool"][field] = draw(st.sampled_from(["5 minutes", "1d", "m5", "-1h", ""]))
    return f"karpenter.nodepool.{field}"


def bad_storage_class(data: dict[str, Any], draw: st.DrawFn) -> str:
    data["stores"]["storage_class"] = draw(st.sampled_from(["Fast_SSD", "gp3 ", "UPPER"]))
    return "stores.storage_class"


def repeated_architecture(data: dict[str, Any], draw: st.DrawFn) -> str:
    arch = draw(st.sampled_from(["amd64", "arm64"]))
    data["karpenter"]["nodepool"]["architectures"] = [arch, arch]
    return "karpenter.nodepool.architectures"


def node_group_min_above_max(data: dict[str, Any], draw: st.DrawFn) -> str:
    group = data["platform"]["node_group"]
    group["min_size"] = group["max_size"] + draw(st.integers(1, 5))
    return "platform.node_group"


def percent_over_100(data: dict[str, Any], draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(["cpu_utilization", "memory_utilization"]))
    data["autoscaling"]["hpa"][field] = draw(st.integers(101, 10_000))
    return f"autoscaling.hpa.{field}"


def wrong_type(data: dict[str, Any], draw: st.DrawFn) -> str:
    name, svc = _service(data, draw)
    svc["readiness"]["period_seconds"] = draw(st.sampled_from(["5", 5.5, True, None, [5]]))
    return f"services.{name}.readiness.period_seconds"


def unknown_key(data: dict[str, Any], draw: st.DrawFn) -> str:
    section = draw(st.sampled_from(["ingress", "secrets", "gitops", "overprovisioning"]))
    data[section]["replica_count"] = 1
    return f"{section}.replica_count: unknown setting"


def alb_name_too_long(data: dict[str, Any], draw: st.DrawFn) -> str:
    data["namespace"] = "n" + draw(st.text("abcdefghij", min_size=30, max_size=40))
    return "ingress.load_balancer_name"


BREAKERS = [
    hpa_min_above_max,
    grace_shorter_than_sleep_and_shutdown,
    zero_replicas,
    zero_memory,
    zero_cpu,
    limit_below_request,
    zero_overprovisioning,
    bad_namespace,
    bad_duration,
    bad_storage_class,
    repeated_architecture,
    node_group_min_above_max,
    percent_over_100,
    wrong_type,
    unknown_key,
    alb_name_too_long,
]


@st.composite
def invalid_config(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    data = draw(valid_config())
    breaker = draw(st.sampled_from(BREAKERS))
    return data, breaker(data, draw), breaker.__name__


@settings(max_examples=60, deadline=None)
@pytest.mark.slow
@given(case=invalid_config())
def test_every_config_broken_in_one_place_is_rejected_naming_the_field(case: tuple[dict[str, Any], str, str]):
    data, path, breaker = case
    with pytest.raises(ConfigError) as caught:
        parse(data, "generated config")
    message = str(caught.value)
    assert f"generated config: {path}" in message, f"{breaker}: {message!r} does not name {path!r}"
