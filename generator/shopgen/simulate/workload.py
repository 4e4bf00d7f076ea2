"""What the simulation runs: the shape of one stage, read from the objects rendered for it.

Replicas, probes, requests, rollout strategy, preStop, grace period, HPA, Ingress attributes,
NodePool and overprovisioning come from the manifests Argo CD would apply (extensions included),
never from the config. Only what no manifest holds (runtime kind, start-up and shutdown seconds)
comes from the effective service declarations, passed in as ``facts``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopgen.errors import ConfigError
from shopgen.validate.manifests import (
    DEFAULT_GRACE_SECONDS,
    PROBE_DEFAULTS,
    Manifests,
    as_dict,
    as_list,
    ingress_backend_services,
    is_alb,
    prestop_sleep,
    priority_value,
    quantity,
)

READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
TG_ATTRIBUTES = "alb.ingress.kubernetes.io/target-group-attributes"
GIB = 2**30


@dataclass(frozen=True)
class RuntimeFacts:
    """What a declaration says and no manifest holds."""

    runtime: str = "other"
    start_seconds: float = 30.0
    shutdown_seconds: float = 10.0


@dataclass(frozen=True)
class Probe:
    period: float
    timeout: float
    success: int
    failure: int
    initial_delay: float

    @classmethod
    def of(cls, raw: Any) -> Probe | None:
        if not isinstance(raw, dict):
            return None
        value = {k: raw.get(k, d) for k, d in PROBE_DEFAULTS.items()}
        return cls(
            period=max(1.0, float(value["periodSeconds"])),  # the API server's minimum: 1
            timeout=float(value["timeoutSeconds"]),
            success=max(1, int(value["successThreshold"])),
            failure=max(1, int(value["failureThreshold"])),
            initial_delay=float(value["initialDelaySeconds"]),
        )


@dataclass(frozen=True)
class Workload:
    """One Deployment or StatefulSet: how its pods start, serve, probe, roll and stop."""

    name: str
    kind: str
    image: str
    replicas: int | None  # None: the HPA owns spec.replicas
    cpu: float  # cores requested per pod
    memory: float  # bytes requested per pod
    readiness: Probe | None
    liveness: Probe | None
    startup: Probe | None
    max_surge: int | str
    max_unavailable: int | str
    prestop: float
    grace: float
    priority: int
    spread_one_per_node: bool  # required anti-affinity on its own pods by hostname
    facts: RuntimeFacts

    def surge_and_unavailable(self, desired: int) -> tuple[int, int]:
        """RollingUpdate's absolute numbers: surge rounds up, unavailable rounds down (Deployment docs)."""
        surge = _absolute(self.max_surge, desired, math.ceil)
        unavailable = _absolute(self.max_unavailable, desired, math.floor)
        if surge == 0 and unavailable == 0:
            unavailable = 1  # the API server refuses both zero; a rendered 0/0 behaves as 0/1
        return surge, unavailable


def _absolute(value: int | str, desired: int, rounding) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return int(rounding(desired * float(value[:-1]) / 100.0))
    return int(value)


@dataclass(frozen=True)
class Autoscaler:
    target: str
    minimum: int
    maximum: int
    cpu_target: float | None  # averageUtilization, percent
    memory_target: float | None


@dataclass(frozen=True)
class Entry:
    """The ALB in front of the exposed service."""

    service: str
    algorithm: str  # round_robin | least_outstanding_requests
    deregistration_delay: float | None
    readiness_gate: bool


@dataclass(frozen=True)
class Capacity:
    """Karpenter's NodePool, when the stage has one."""

    cpu_limit: float
    system_reserved_cpu: float
    system_reserved_memory: float
    consolidate_after: float | None = None  # seconds an empty node lives on (None: Never)


@dataclass(frozen=True)
class StageShape:
    stage: str
    workloads: tuple[Workload, ...]
    autoscalers: tuple[Autoscaler, ...]
    entry: Entry
    capacity: Capacity | None

    def workload(self, name: str) -> Workload:
        for w in self.workloads:
            if w.name == name:
                return w
        raise KeyError(name)


def _container(template_spec: Mapping[str, Any]) -> dict[str, Any]:
    containers = as_list(template_spec.get("containers"))
    return as_dict(containers[0]) if containers else {}


def _resources(container: Mapping[str, Any]) -> tuple[float, float]:
    requests = as_dict(as_dict(container.get("resources")).get("requests"))
    return quantity(requests.get("cpu", 0)) or 0.0, quantity(requests.get("memory", 0)) or 0.0


def _spread_one_per_node(spec: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    anti = as_dict(as_dict(spec.get("affinity")).get("podAntiAffinity"))
    for term in as_list(anti.get("requiredDuringSchedulingIgnoredDuringExecution")):
        term = as_dict(term)
        selector = as_dict(as_dict(term.get("labelSelector")).get("matchLabels"))
        if (
            term.get("topologyKey") == "kubernetes.io/hostname"
            and selector
            and all(labels.get(k) == v for k, v in selector.items())
        ):
            return True
    return False


def _workload(idx: Manifests, manifest: Mapping[str, Any], facts: RuntimeFacts) -> Workload:
    spec = as_dict(manifest.get("spec"))
    template = as_dict(spec.get("template"))
    pod_spec = as_dict(template.get("spec"))
    labels = as_dict(as_dict(template.get("metadata")).get("labels"))
    container = _container(pod_spec)
    cpu, memory = _resources(container)
    rolling = as_dict(as_dict(spec.get("strategy")).get("rollingUpdate"))
    replicas = spec.get("replicas")
    return Workload(
        name=str(as_dict(manifest.get("metadata")).get("name")),
        kind=str(manifest.get("kind")),
        image=str(container.get("image", "")),
        replicas=int(replicas) if isinstance(replicas, int) else None,
        cpu=cpu,
        memory=memory,
        readiness=Probe.of(container.get("readinessProbe")),
        liveness=Probe.of(container.get("livenessProbe")),
        startup=Probe.of(container.get("startupProbe")),
        max_surge=rolling.get("maxSurge", "25%"),
        max_unavailable=rolling.get("maxUnavailable", "25%"),
        prestop=prestop_sleep(container) or 0.0,
        grace=float(pod_spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)),
        priority=priority_value(idx, pod_spec.get("priorityClassName")) or 0,
        spread_one_per_node=_spread_one_per_node(pod_spec, labels),
        facts=facts,
    )


def _autoscaler(hpa: Mapping[str, Any]) -> Autoscaler:
    spec = as_dict(hpa.get("spec"))
    targets: dict[str, float] = {}
    for metric in as_list(spec.get("metrics")):
        resource = as_dict(as_dict(metric).get("resource"))
        target = as_dict(resource.get("target"))
        if target.get("type") == "Utilization" and "averageUtilization" in target:
            targets[str(resource.get("name"))] = float(target["averageUtilization"])
    minimum = int(spec.get("minReplicas", 1))
    return Autoscaler(
        target=str(as_dict(spec.get("scaleTargetRef")).get("name")),
        minimum=minimum,
        maximum=max(minimum, int(spec.get("maxReplicas", minimum))),
        cpu_target=targets.get("cpu"),
        memory_target=targets.get("memory"),
    )


def _attributes(ingress: Mapping[str, Any]) -> dict[str, str]:
    raw = as_dict(as_dict(ingress.get("metadata")).get("annotations")).get(TG_ATTRIBUTES, "")
    pairs = (item.split("=", 1) for item in str(raw).split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs}


def _entry(idx: Manifests) -> Entry:
    ingresses = [i for i in idx.of_kind("Ingress") if is_alb(i)]
    if not ingresses:
        raise ConfigError("simulate: the stage renders no ALB Ingress, so no traffic reaches the shop")
    ingress = ingresses[0]
    backends = ingress_backend_services(ingress)
    if not backends:
        raise ConfigError(f"simulate: Ingress {ingress['metadata'].get('name')} has no backend Service")
    attributes = _attributes(ingress)
    delay = attributes.get("deregistration_delay.timeout_seconds")
    namespace = as_dict(ingress.get("metadata")).get("namespace")
    gate = any(
        as_dict(as_dict(ns.get("metadata")).get("labels")).get(READINESS_GATE_LABEL) == "enabled"
        for ns in idx.of_kind("Namespace")
        if as_dict(ns.get("metadata")).get("name") == namespace
    )
    return Entry(
        service=_selected_workload(idx, backends[0], namespace),
        algorithm=attributes.get("load_balancing.algorithm.type", "round_robin"),
        deregistration_delay=float(delay) if delay is not None else None,
        readiness_gate=gate,
    )


def _selected_workload(idx: Manifests, service_name: str, namespace: str | None) -> str:
    service = idx.get("Service", namespace, service_name)
    if service is None:
        raise ConfigError(f"simulate: the Ingress sends traffic to Service {service_name}, which the stage lacks")
    pods = idx.pods_selected_by(service)
    if not pods:
        raise ConfigError(f"simulate: Service {service_name} selects no pods")
    return pods[0].name


def _capacity(idx: Manifests) -> Capacity | None:
    pools = idx.of_kind("NodePool")
    if not pools:
        return None
    spec = as_dict(pools[0].get("spec"))
    limits = as_dict(spec.get("limits"))
    after = as_dict(spec.get("disruption")).get("consolidateAfter", "0s")
    reserved: dict[str, Any] = {}
    for node_class in idx.of_kind("EC2NodeClass"):
        kubelet = as_dict(as_dict(node_class.get("spec")).get("kubelet"))
        reserved = as_dict(kubelet.get("systemReserved"))
    return Capacity(
        cpu_limit=quantity(limits.get("cpu", math.inf)) or math.inf,
        system_reserved_cpu=quantity(reserved.get("cpu", 0)) or 0.0,
        system_reserved_memory=quantity(reserved.get("memory", 0)) or 0.0,
        consolidate_after=go_duration(after),
    )


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")


def go_duration(value: Any) -> float | None:
    """A Karpenter duration (``30s``, ``1m``, ``1h30m``) in seconds; ``Never`` (or anything else) is None."""
    text = str(value)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def stage_shape(stage: str, manifests: Iterable[Mapping[str, Any]], facts: Mapping[str, RuntimeFacts]) -> StageShape:
    """The stage as the simulation sees it; ``facts`` by workload name (missing: the defaults)."""
    idx = Manifests(list(manifests))
    workloads = tuple(
        _workload(idx, m, facts.get(str(as_dict(m.get("metadata")).get("name")), RuntimeFacts()))
        for kind in ("Deployment", "StatefulSet")
        for m in idx.of_kind(kind)
    )
    return StageShape(
        stage=stage,
        workloads=tuple(sorted(workloads, key=lambda w: w.name)),
        autoscalers=tuple(_autoscaler(h) for h in idx.of_kind("HorizontalPodAutoscaler")),
        entry=_entry(idx),
        capacity=_capacity(idx),
    )
