"""Autoscaling: an HPA can compute its metrics, scale out and back in, is not undone by Argo CD, and
Karpenter consolidation does not evict data kept on an emptyDir.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from shopgen.validate.manifests import (
    Manifest,
    Manifests,
    as_dict,
    as_list,
    hpa_target,
    identity,
    ignored_replica_targets,
    pod_of,
    quantity,
)
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.rules import Hit, Rule, hit

DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"

# Paths where an emptyDir is scratch space, never data worth keeping through a node's removal.
SCRATCH_PATHS = ("/tmp", "/var/tmp", "/run", "/var/run", "/var/cache")
CONSOLIDATING_POLICIES = ("WhenEmptyOrUnderutilized", "WhenUnderutilized")  # v1, v1beta1


def _hpa_resources(hpa: Manifest) -> list[tuple[str, str | None]]:
    """(resource, container or None) of every utilization metric: those need requests to divide by."""
    spec = as_dict(hpa.get("spec"))
    found: list[tuple[str, str | None]] = []
    if "targetCPUUtilizationPercentage" in spec:  # autoscaling/v1
        found.append(("cpu", None))
    for metric in as_list(spec.get("metrics")):
        metric = as_dict(metric)
        if metric.get("type") == "Resource":
            source = as_dict(metric.get("resource"))
            container = None
        elif metric.get("type") == "ContainerResource":
            source = as_dict(metric.get("containerResource"))
            container = source.get("container")
        else:
            continue
        if as_dict(source.get("target")).get("type") == "Utilization" and source.get("name"):
            found.append((str(source["name"]), container))
    return found


def check_hpa_requests(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """Utilization is usage / request: without a request the HPA cannot compute it and never scales."""
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        target = hpa_target(idx, hpa)
        pod = pod_of(target) if target is not None else None
        if pod is None:
            continue
        for resource, only in _hpa_resources(hpa):
            for parts, container in pod.containers():
                if only is not None and container.get("name") != only:
                    continue
                requests = as_dict(as_dict(container.get("resources")).get("requests"))
                if quantity(requests.get(resource)) is None:
                    yield hit(
                        pod.manifest,
                        (*parts, "resources", "requests", resource),
                        f"HPA {identity(hpa)[2]} scales on {resource} utilization but container "
                        f"{container.get('name')} requests no {resource}: the HPA cannot compute utilization "
                        "and never scales out",
                        f"set resources.requests.{resource} on every container of the HPA's target",
                    )


def check_hpa_replicas_pinned(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """A replica count in git and an HPA fight: every sync resets the scale-out the HPA made."""
    ignored = ctx.replicas_ignored | ignored_replica_targets(idx.all)
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        target = hpa_target(idx, hpa)
        if target is None or "replicas" not in as_dict(target.get("spec")):
            continue
        kind, _, name = identity(target)
        if ctx.gitops_ignores_hpa_replicas or (kind, name) in ignored or (kind, "*") in ignored:
            continue
        yield hit(
            target,
            ("spec", "replicas"),
            f"HPA {identity(hpa)[2]} scales this {kind}, but spec.replicas is pinned to "
            f"{target['spec']['replicas']}: every Argo CD sync (selfHeal) sets it back, undoing the scale-out",
            "leave spec.replicas out (shopgen does from the autoscaling stage), or ignore /spec/replicas in "
            "the Argo CD Application (ignoreDifferences + RespectIgnoreDifferences=true)",
        )


_MAX_RAM_PERCENTAGE = re.compile(r"-XX:MaxRAMPercentage=([0-9]+(?:\.[0-9]+)?)")
_JVM_OPTION_VARIABLES = ("JAVA_OPTS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")


def heap_share_of_request(env: Iterable[tuple[Any, Any]], limit: Any, request: Any) -> float | None:
    """The heap a JVM may keep, as a percentage of its memory request (None: no JVM heap setting).

    ``env`` holds (name, value) pairs; the heap is -XX:MaxRAMPercentage of the memory limit.
    """
    percent = None
    for name, value in env:
        if name in _JVM_OPTION_VARIABLES and isinstance(value, str):
            found = _MAX_RAM_PERCENTAGE.search(value)
            percent = float(found.group(1)) if found else percent
    limit_bytes, request_bytes = quantity(limit), quantity(request)
    if percent is None or not limit_bytes or not request_bytes:
        return None
    return percent * limit_bytes / request_bytes


def _heap_share_of_request(container: Mapping[str, Any]) -> float | None:
    env = [(as_dict(v).get("name"), as_dict(v).get("value")) for v in as_list(container.get("env"))]
    resources = as_dict(container.get("resources"))
    limit = as_dict(resources.get("limits")).get("memory")
    return heap_share_of_request(env, limit, as_dict(resources.get("requests")).get("memory"))


def check_hpa_memory_vs_heap(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """The HPA follows its largest metric; a JVM keeps its heap, so a memory target below it never scales in."""
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        target = hpa_target(idx, hpa)
        pod = pod_of(target) if target is not None else None
        if pod is None:
            continue
        for index, metric in enumerate(as_list(as_dict(hpa.get("spec")).get("metrics"))):
            source = as_dict(as_dict(metric).get("resource"))
            goal = as_dict(source.get("target")).get("averageUtilization")
            if source.get("name") != "memory" or not isinstance(goal, int):
                continue
            for _, container in pod.containers():
                heap = _heap_share_of_request(container)
                if heap is not None and heap >= goal:
                    yield hit(
                        hpa,
                        ("spec", "metrics", index, "resource", "target", "averageUtilization"),
                        f"HPA {identity(hpa)[2]} targets {goal}% memory, but container {container.get('name')} is a "
                        f"JVM that may keep {heap:.0f}% of its request as heap (-XX:MaxRAMPercentage) and seldom "
                        "returns it: the HPA follows its largest metric, so it may never scale in",
                        "scale on CPU alone (autoscaling.hpa.memory_utilization: null), or set the memory target "
                        "above the heap share",
                    )


def check_hpa_min_max(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """The API server accepts min > max; the HPA then never scales as anyone intended."""
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        spec = as_dict(hpa.get("spec"))
        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            yield hit(
                hpa,
                ("spec", "minReplicas"),
                f"minReplicas {low} is greater than maxReplicas {high}",
                "set minReplicas <= maxReplicas (autoscaling.hpa.min_replicas / max_replicas)",
            )


def _consolidating(idx: Manifests, ctx: PolicyContext) -> bool:
    if ctx.karpenter_consolidation is not None:
        return ctx.karpenter_consolidation
    return any(
        as_dict(as_dict(pool.get("spec")).get("disruption")).get("consolidationPolicy") in CONSOLIDATING_POLICIES
        for pool in idx.of_kind("NodePool")
    )


def _is_scratch(mount_path: str) -> bool:
    clean = mount_path.rstrip("/")
    return any(clean == p or clean.startswith(p + "/") for p in SCRATCH_PATHS)


def check_emptydir_consolidation(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """Consolidation evicts pods to empty nodes; data on an emptyDir dies with the eviction."""
    if not _consolidating(idx, ctx):
        return
    for pod in idx.pods:
        if pod.annotations.get(DO_NOT_DISRUPT) == "true":
            continue
        empty = {
            as_dict(v).get("name"): i
            for i, v in enumerate(as_list(pod.spec.get("volumes")))
            if "emptyDir" in as_dict(v)
        }
        holding = sorted(
            {
                as_dict(m).get("name")
                for _, c in pod.containers(init=True)
                for m in as_list(c.get("volumeMounts"))
                if as_dict(m).get("name") in empty and not _is_scratch(str(as_dict(m).get("mountPath", "")))
            }
        )
        for volume in holding:
            yield hit(
                pod.manifest,
                pod.path("volumes", empty[volume], "emptyDir"),
                f"emptyDir volume {volume} holds data and Karpenter consolidation may evict the pod: the data "
                "is lost when its node is consolidated",
                f'annotate the pod template {DO_NOT_DISRUPT}: "true", or keep the data on a volume claim',
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "policy.hpa-requests",
        "error",
        "an HPA's target requests every resource its utilization metrics use",
        "the HPA cannot compute utilization and never scales out under load",
        check_hpa_requests,
    ),
    Rule(
        "policy.hpa-replicas-pinned",
        "error",
        "an HPA's target does not pin spec.replicas in git (or Argo CD ignores /spec/replicas)",
        "Argo CD and the HPA fight: every sync resets the replica count the HPA scaled out to",
        check_hpa_replicas_pinned,
    ),
    Rule(
        "policy.hpa-memory-vs-heap",
        "warning",
        "an HPA's memory target is above the heap share a JVM target keeps (-XX:MaxRAMPercentage)",
        "the HPA, which follows its largest metric, never scales in: the scale-in the prestop stage is about "
        "never happens",
        check_hpa_memory_vs_heap,
    ),
    Rule(
        "policy.hpa-min-max",
        "error",
        "an HPA's minReplicas <= maxReplicas",
        "an HPA that cannot scale as intended (the API server accepts min > max)",
        check_hpa_min_max,
    ),
    Rule(
        "policy.emptydir-consolidation",
        "error",
        "pods keeping data on an emptyDir (not /tmp-style scratch) carry karpenter.sh/do-not-disrupt",
        "Karpenter consolidation evicts the store and its data is gone",
        check_emptydir_consolidation,
    ),
)
