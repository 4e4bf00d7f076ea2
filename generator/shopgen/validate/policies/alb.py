"""The ALB: its health check asks what readiness asks, and pods behind an ip-target ALB wait for it
through the readiness gate before a rollout moves on.
"""

from __future__ import annotations

from collections.abc import Iterator

from shopgen.validate.manifests import (
    ALB_PREFIX,
    Manifests,
    alb_annotation,
    as_dict,
    identity,
    labels_of,
)
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.rules import Hit, Rule, hit

READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
HEALTHCHECK_PATH = f"{ALB_PREFIX}healthcheck-path"


def check_alb_healthcheck(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """The ALB's own health check decides target health; it must ask what readiness asks."""
    seen: set[tuple[int, int]] = set()
    for ingress, service, pod in idx.alb_backends():
        if (id(ingress), id(pod)) in seen:
            continue
        seen.add((id(ingress), id(pod)))
        checked = alb_annotation(ingress, service, HEALTHCHECK_PATH) or "/"
        for _parts, container in pod.containers():
            ready_path = as_dict(as_dict(container.get("readinessProbe")).get("httpGet")).get("path")
            if ready_path is not None and ready_path != checked:
                yield hit(
                    ingress,
                    ("metadata", "annotations", HEALTHCHECK_PATH),
                    f"the ALB health check asks {checked!r} but {pod.kind}/{pod.name} reports readiness on "
                    f"{ready_path!r}: the ALB sends traffic to targets the pod itself reports not ready",
                    f"set the annotation {HEALTHCHECK_PATH}: {ready_path}",
                )


def check_alb_readiness_gate(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """Without the readiness gate a rollout moves on before the ALB target is healthy."""
    flagged: set[str] = set()
    for ingress, service, _pod in idx.alb_backends():
        namespace = identity(ingress)[1]
        if alb_annotation(ingress, service, f"{ALB_PREFIX}target-type") != "ip" or namespace in flagged:
            continue
        ns = idx.get("Namespace", None, namespace or "")
        if ns is not None and labels_of(ns).get(READINESS_GATE_LABEL) != "enabled":
            flagged.add(namespace or "")
            yield hit(
                ns,
                ("metadata", "labels", READINESS_GATE_LABEL),
                f"pods behind ALB Ingress {identity(ingress)[2]} (target-type ip) get no readiness gate: a "
                "rollout replaces old pods before the ALB reports the new targets healthy",
                f"label the namespace {READINESS_GATE_LABEL}: enabled (shopgen: the readiness stage)",
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "policy.alb-healthcheck-follows-readiness",
        "error",
        "the ALB health-check path is the readinessProbe path of the pods behind it",
        "the ALB keeps sending traffic to targets that report themselves not ready",
        check_alb_healthcheck,
    ),
    Rule(
        "policy.alb-readiness-gate",
        "error",
        "the namespace of pods behind an ip-target ALB has the pod readiness gate label",
        "a rollout removes old pods before the ALB has marked the new targets healthy: a window with no healthy target",
        check_alb_readiness_gate,
    ),
)
