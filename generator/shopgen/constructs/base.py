"""The one gateway to cdk8s: an ApiObject with an explicit body and shopgen's standard labels."""

from __future__ import annotations

from typing import Any

import cdk8s
from constructs import Construct

from shopgen.deviations import skip_annotations

MANAGED_BY = "shopgen"


def standard_labels(*, name: str, component: str, part_of: str, instance: str | None = None) -> dict[str, str]:
    """The app.kubernetes.io labels every object carries (SPEC §1)."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance or name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": part_of,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def selector_labels(labels: dict[str, str]) -> dict[str, str]:
    """The subset of labels that selects pods: stable across releases (no part-of/managed-by)."""
    keys = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component")
    return {k: labels[k] for k in keys}


class Component(Construct):
    """Base of every shopgen construct: counts the ApiObjects it makes (the renderer splits on it)."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.object_count = 0


def api_object(
    scope: Component,
    *,
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None,
    labels: dict[str, str],
    body: dict[str, Any],
    annotations: dict[str, str] | None = None,
    finalizers: list[str] | None = None,
) -> cdk8s.ApiObject:
    """An ApiObject whose top-level fields (spec, data, …) are exactly ``body``.

    ``namespace`` is None for cluster-scoped kinds: they must never carry one (SPEC §3).
    """
    # Deliberate deviations are declared on the workload itself, where checkov reads them (SPEC §7).
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "labels": labels}, **body}
    annotations = {**(annotations or {}), **skip_annotations(manifest)}
    metadata = cdk8s.ApiObjectMetadata(
        name=name,
        namespace=namespace,
        labels=labels,
        annotations=annotations or None,
        finalizers=finalizers,
    )
    obj = cdk8s.ApiObject(scope, f"{kind}-{name}", api_version=api_version, kind=kind, metadata=metadata)
    scope.object_count += 1
    for key, value in body.items():
        obj.add_json_patch(cdk8s.JsonPatch.add(f"/{key}", value))
    return obj


def pod_security_context(*, hardened: bool) -> dict[str, Any]:
    """Pod-level context: RuntimeDefault seccomp everywhere; uid 1000's fsGroup where upstream has it."""
    ctx: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if hardened:
        ctx = {"fsGroup": 1000, **ctx}
    return ctx


def resources(*, cpu: str, memory: str, memory_limit: str) -> dict[str, Any]:
    """Requests and a memory limit; never a CPU limit (it causes the throttling this story warns about)."""
    return {"limits": {"memory": memory_limit}, "requests": {"cpu": cpu, "memory": memory}}


def secret_env(entries: Any) -> list[dict[str, Any]]:
    return [{"name": e.env, "valueFrom": {"secretKeyRef": {"name": e.secret, "key": e.key}}} for e in entries]
