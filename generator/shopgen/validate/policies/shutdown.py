"""Shutdown and rollouts: a pod outlives its preStop sleep, the ALB's deregistration and endpoint
propagation, and a rollout of a service with few replicas never takes its pods away.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from shopgen.validate.manifests import (
    ALB_PREFIX,
    DEFAULT_GRACE_SECONDS,
    Manifest,
    Manifests,
    PathParts,
    Pod,
    alb_annotation,
    as_dict,
    identity,
    label_selector_selects,
    prestop_sleep,
)
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.rules import Hit, Rule, hit

TG_ATTRIBUTES = f"{ALB_PREFIX}target-group-attributes"
DEREGISTRATION_ATTRIBUTE = "deregistration_delay.timeout_seconds"


def deregistration_delay(ingress: Manifest, service: Manifest, ctx: PolicyContext) -> int:
    """Seconds the ALB keeps sending to a deregistering target: the annotation, else the AWS default."""
    attributes = alb_annotation(ingress, service, TG_ATTRIBUTES) or ""
    for item in attributes.split(","):
        key, _, value = item.strip().partition("=")
        if key.strip() == DEREGISTRATION_ATTRIBUTE and value.strip().isdigit():
            return int(value.strip())
    return ctx.default_deregistration_delay_seconds


def check_grace_period(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """The kubelet kills the container when the grace period ends, preStop sleep included."""
    for pod in idx.pods:
        if not pod.is_app_service:
            continue
        grace = pod.spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
        sleep = max((prestop_sleep(c) or 0.0 for _, c in pod.containers()), default=0.0)
        needed = sleep + ctx.shutdown_of(pod.name)
        if isinstance(grace, int) and grace < needed:
            yield hit(
                pod.manifest,
                pod.path("terminationGracePeriodSeconds"),
                f"grace period {grace}s is shorter than preStop sleep {sleep:g}s + shutdown "
                f"{ctx.shutdown_of(pod.name)}s = {needed:g}s: the pod is killed with requests in flight",
                f"set terminationGracePeriodSeconds >= {math.ceil(needed)} "
                f"(services.{pod.name}.termination_grace_period_seconds)",
            )


def _prestops_not_longer_than(pod: Pod, seconds: float) -> Iterator[tuple[PathParts, str]]:
    """Each container whose preStop sleep is missing or at most ``seconds``: its path and how to name it."""
    for parts, container in pod.containers():
        sleep = prestop_sleep(container)
        if sleep is None or sleep <= seconds:
            yield parts, "no preStop sleep" if sleep is None else f"preStop sleep {sleep:g}s"


def check_prestop_vs_deregistration(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """The ALB keeps sending to a target until deregistration ends; the pod must outlive that."""
    seen: set[tuple[int, int]] = set()
    for ingress, service, pod in idx.alb_backends():
        if (id(ingress), id(pod)) in seen:
            continue
        seen.add((id(ingress), id(pod)))
        delay = deregistration_delay(ingress, service, ctx)
        for parts, shown in _prestops_not_longer_than(pod, delay):
            yield hit(
                pod.manifest,
                (*parts, "lifecycle", "preStop"),
                f"{shown} is not longer than the ALB deregistration delay {delay}s of Ingress "
                f"{identity(ingress)[2]}: the pod stops while the ALB still sends it requests (5xx)",
                f"sleep longer than the delay in preStop, or lower "
                f"{DEREGISTRATION_ATTRIBUTE} (ingress.deregistration_delay_seconds) below the sleep",
            )


def check_prestop_vs_endpoints(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """kube-proxy keeps routing to a terminating pod until its endpoint removal has propagated."""
    for pod, service in idx.served_pods().values():
        if not pod.is_app_service:
            continue
        limit = ctx.endpoint_propagation_seconds
        for parts, shown in _prestops_not_longer_than(pod, limit):
            yield hit(
                pod.manifest,
                (*parts, "lifecycle", "preStop"),
                f"{shown} does not cover endpoint propagation ({limit}s assumed) for Service "
                f"{identity(service)[2]}: callers still reach the pod after it stopped (connection refused)",
                f'add a preStop exec ["/bin/sh", "-c", "sleep N"] with N > {limit} '
                f"(services.{pod.name}.prestop_sleep_seconds)",
            )


def _replicas(idx: Manifests, deployment: Manifest) -> int:
    spec = as_dict(deployment.get("spec"))
    if isinstance(spec.get("replicas"), int):
        return int(spec["replicas"])
    kind, namespace, name = identity(deployment)
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        ref = as_dict(as_dict(hpa.get("spec")).get("scaleTargetRef"))
        if identity(hpa)[1] == namespace and ref.get("kind") == kind and ref.get("name") == name:
            return int(as_dict(hpa.get("spec")).get("minReplicas", 1))
    return 1


def max_unavailable(strategy: Mapping[str, Any], replicas: int) -> int:
    """Pods a rollout may take down at once (Recreate: all of them; percentages round down)."""
    if strategy.get("type") == "Recreate":
        return replicas
    value = as_dict(strategy.get("rollingUpdate")).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.floor(replicas * float(value[:-1]) / 100)
    return int(value) if isinstance(value, int) else 0


def check_rollout_safety(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """With one or two pods, maxUnavailable 1 takes the service (or half of it) away in a rollout."""
    budgets = idx.of_kind("PodDisruptionBudget")
    for pod in idx.pods:
        if not pod.is_app_service:
            continue
        replicas = _replicas(idx, pod.manifest)
        strategy = as_dict(as_dict(pod.manifest.get("spec")).get("strategy"))
        down = max_unavailable(strategy, replicas)
        if replicas > ctx.few_replicas or down == 0:
            continue
        if any(
            identity(b)[1] == pod.namespace
            and label_selector_selects(as_dict(as_dict(b.get("spec")).get("selector")), pod.labels)
            for b in budgets
        ):
            continue
        yield hit(
            pod.manifest,
            ("spec", "strategy", "rollingUpdate", "maxUnavailable")
            if strategy.get("type") != "Recreate"
            else ("spec", "strategy", "type"),
            f"{replicas} replica(s) and a rollout may take {down} of them down, with no PodDisruptionBudget: "
            "the service loses its capacity (or all of it) during every rollout",
            "roll out with maxUnavailable: 0 (and maxSurge >= 1), or add a PodDisruptionBudget",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "policy.grace-period",
        "error",
        "an app service's terminationGracePeriodSeconds >= its preStop sleep + its shutdown time",
        "the kubelet kills the process mid-request when the grace period ends during the preStop sleep or shutdown",
        check_grace_period,
    ),
    Rule(
        "policy.prestop-vs-deregistration",
        "error",
        "a pod behind the ALB sleeps in preStop longer than the target group's deregistration delay",
        "5xx at the ALB during rollouts and scale-in: it still sends requests to a pod that has stopped",
        check_prestop_vs_deregistration,
    ),
    Rule(
        "policy.prestop-vs-endpoint-propagation",
        "error",
        "an app service sleeps in preStop longer than endpoint propagation (assumed 5 s, configurable)",
        "connection errors between services during rollouts: kube-proxy still routes to a stopped pod",
        check_prestop_vs_endpoints,
    ),
    Rule(
        "policy.rollout-safety",
        "error",
        "an app service with few replicas (<= 2) rolls out with maxUnavailable 0 or has a PodDisruptionBudget",
        "a rollout takes the only pod of orders, checkout or assets away: errors until the new pod is ready",
        check_rollout_safety,
    ),
)
