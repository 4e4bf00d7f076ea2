"""The one gateway to cdk8s: an ApiObject with an explicit body and shopgen's standard labels."""

from __future__ import annotations

import json
from typing import Any

import cdk8s
from constructs import Construct

from shopgen.story.deviations import Traits, skip_annotations

MANAGED_BY = "shopgen"


def standard_labels(*, name: str, component: str, part_of: str, instance: str | None = None) -> dict[str, str]:
    """The app.kubernetes.io labels every object carries."""
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


class ObjectRegistry:
    """Every distinct object of one render, in the order its ApiObject was created.

    Stages share most objects even where a component changes (a new Deployment, the same Service):
    an object identical to one already built is not built again, only referenced.
    """

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.created: list[tuple[str, str]] = []  # (kind, name) of each ApiObject, in creation order


class ShopChart(cdk8s.Chart):
    """The chart of a render; it carries the registry its components share."""

    def __init__(self, scope: Construct, id: str, *, traits: Traits) -> None:
        super().__init__(scope, id, disable_resource_name_hashes=True)
        self.registry = ObjectRegistry()
        self.traits = traits  # the shop's declared exceptions: each workload's checkov skips


class Component(Construct):
    """Base of every shopgen construct: records which objects it holds (the renderer reads them back)."""

    def __init__(self, scope: ShopChart, id: str) -> None:
        super().__init__(scope, id)
        self.registry = scope.registry
        self.traits = scope.traits
        self.outputs: list[int] = []  # registry indices of this component's objects, in order


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
) -> None:
    """An ApiObject whose top-level fields (spec, data, …) are exactly ``body``, built once per render.

    ``namespace`` is None for cluster-scoped kinds: they must never carry one.
    """
    # Deliberate deviations are declared on the workload itself, where checkov reads them.
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "labels": labels}, **body}
    annotations = {**(annotations or {}), **skip_annotations(manifest, scope.traits)}
    registry = scope.registry
    key = json.dumps([api_version, kind, name, namespace, labels, annotations, finalizers, body], sort_keys=True)
    if key in registry.index:
        scope.outputs.append(registry.index[key])
        return
    metadata = cdk8s.ApiObjectMetadata(
        name=name,
        namespace=namespace,
        labels=labels,
        annotations=annotations or None,
        finalizers=finalizers,
    )
    obj = cdk8s.ApiObject(scope, f"{kind}-{name}", api_version=api_version, kind=kind, metadata=metadata)
    for field, value in body.items():
        obj.add_json_patch(cdk8s.JsonPatch.add(f"/{field}", value))
    registry.index[key] = len(registry.created)
    registry.created.append((kind, name))
    scope.outputs.append(registry.index[key])


def pod_security_context(*, hardened: bool) -> dict[str, Any]:
    """Pod-level context: RuntimeDefault seccomp everywhere; uid 1000's fsGroup where upstream has it."""
    ctx: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if hardened:
        ctx = {"fsGroup": 1000, **ctx}
    return ctx


def resources(*, cpu: str | None, memory: str | None, memory_limit: str | None) -> dict[str, Any]:
    """Requests and a memory limit, as declared; never a CPU limit (it causes the throttling this story
    warns about). Empty when nothing is declared."""
    result: dict[str, Any] = {}
    if memory_limit is not None:
        result["limits"] = {"memory": memory_limit}
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    if requests:
        result["requests"] = requests
    return result


def secret_env(entries: Any) -> list[dict[str, Any]]:
    return [{"name": e.env, "valueFrom": {"secretKeyRef": {"name": e.secret, "key": e.key}}} for e in entries]
