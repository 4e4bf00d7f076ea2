"""Views of rendered manifests that every validate rule shares: quantities, pods and their containers,
selectors, Ingress backends, and ``Manifests``, one stage indexed once for all rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shopgen.validate.findings import format_path

Manifest = dict[str, Any]
PathParts = tuple[str | int, ...]

COMPONENT = "app.kubernetes.io/component"
APP_SERVICE_COMPONENT = "service"
ALB_PREFIX = "alb.ingress.kubernetes.io/"

# Kubernetes defaults the rules fall back on when a field is left out.
DEFAULT_GRACE_SECONDS = 30
PROBE_DEFAULTS = {
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "successThreshold": 1,
    "failureThreshold": 3,
}
BUILTIN_PRIORITY_CLASSES = {"system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000}
POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job")
_CPU_SUFFIX = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_BIN_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SLEEP = re.compile(r"\bsleep\s+([0-9]+(?:\.[0-9]+)?)\b")


def quantity(value: Any) -> float | None:
    """A Kubernetes quantity (``128m``, ``512Mi``, ``1e3``) as a number; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    try:
        number = float(match.group(1))
    except ValueError:
        return None
    suffix = match.group(2) or ""
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return number * 10 ** int(suffix[1:])
    return number * (_BIN_SUFFIX.get(suffix) or _CPU_SUFFIX[suffix])


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one: rules read malformed manifests without failing."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def labels_of(manifest: Manifest) -> dict[str, str]:
    return as_dict(as_dict(manifest.get("metadata")).get("labels"))


def annotations_of(manifest: Manifest) -> dict[str, str]:
    return as_dict(as_dict(manifest.get("metadata")).get("annotations"))


def identity(manifest: Manifest) -> tuple[str, str | None, str]:
    meta = as_dict(manifest.get("metadata"))
    return str(manifest.get("kind") or "?"), meta.get("namespace") or None, str(meta.get("name") or "?")


@dataclass(frozen=True)
class Pod:
    """A pod (template) inside a workload manifest, with the path prefix of its spec."""

    manifest: Manifest
    prefix: PathParts  # path of the pod spec, e.g. ("spec", "template", "spec")
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    spec: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return identity(self.manifest)[0]

    @property
    def namespace(self) -> str | None:
        return identity(self.manifest)[1]

    @property
    def name(self) -> str:
        return identity(self.manifest)[2]

    @property
    def component(self) -> str | None:
        return labels_of(self.manifest).get(COMPONENT)

    @property
    def is_app_service(self) -> bool:
        """One of the six app services: a Deployment labelled component ``service``."""
        return self.kind == "Deployment" and self.component == APP_SERVICE_COMPONENT

    def containers(self, *, init: bool = False) -> Iterator[tuple[PathParts, dict[str, Any]]]:
        """(path, container) of the containers (and init containers when asked)."""
        lists = ("initContainers", "containers") if init else ("containers",)
        for key in lists:
            for index, container in enumerate(as_list(self.spec.get(key))):
                if isinstance(container, dict):
                    yield (*self.prefix, key, index), container

    def path(self, *parts: str | int) -> str:
        return format_path((*self.prefix, *parts))


def pod_of(manifest: Manifest) -> Pod | None:
    """The pod a manifest runs (Pod, a workload's template, a CronJob's job template), if any."""
    kind = manifest.get("kind")
    if kind == "Pod":
        prefix: PathParts = ("spec",)
        meta, spec = as_dict(manifest.get("metadata")), as_dict(manifest.get("spec"))
    elif kind in POD_TEMPLATE_KINDS:
        prefix = ("spec", "template", "spec")
        template = as_dict(as_dict(manifest.get("spec")).get("template"))
        meta, spec = as_dict(template.get("metadata")), as_dict(template.get("spec"))
    elif kind == "CronJob":
        prefix = ("spec", "jobTemplate", "spec", "template", "spec")
        template = as_dict(
            as_dict(as_dict(as_dict(manifest.get("spec")).get("jobTemplate")).get("spec")).get("template")
        )
        meta, spec = as_dict(template.get("metadata")), as_dict(template.get("spec"))
    else:
        return None
    return Pod(manifest, prefix, as_dict(meta.get("labels")), as_dict(meta.get("annotations")), spec)


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """An equality selector (Service ``selector`` or ``matchLabels``) matches these labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def label_selector_selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) matches these labels."""
    match_labels = as_dict(selector.get("matchLabels"))
    expressions = as_list(selector.get("matchExpressions"))
    if not match_labels and not expressions:
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in expressions:
        expr = as_dict(expr)
        key, op, values = expr.get("key"), expr.get("operator"), as_list(expr.get("values"))
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and labels.get(key) in values)
            or (op == "Exists" and key not in labels)
            or (op == "DoesNotExist" and key in labels)
        ):
            return False
    return True


class Manifests:
    """The manifests of one stage, indexed once for every rule."""

    def __init__(self, manifests: Iterable[Manifest]) -> None:
        self.all = [m for m in manifests if isinstance(m, dict)]
        self.pods = [p for p in map(pod_of, self.all) if p is not None]
        self._by_key = {(identity(m)[0], identity(m)[1], identity(m)[2]): m for m in self.all}

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.all if m.get("kind") == kind]

    def get(self, kind: str, namespace: str | None, name: str) -> Manifest | None:
        return self._by_key.get((kind, namespace, name))

    def names(self, kind: str, namespace: str | None) -> set[str]:
        return {identity(m)[2] for m in self.of_kind(kind) if identity(m)[1] == namespace}

    def pods_selected_by(self, service: Manifest) -> list[Pod]:
        selector = as_dict(as_dict(service.get("spec")).get("selector"))
        namespace = identity(service)[1]
        return [p for p in self.pods if p.namespace == namespace and selects(selector, p.labels)]

    def pods_matching(self, selector: Mapping[str, Any], namespace: str | None) -> list[Pod]:
        return [p for p in self.pods if p.namespace == namespace and label_selector_selects(selector, p.labels)]

    def served_pods(self) -> dict[int, tuple[Pod, Manifest]]:
        """Pods some Service sends traffic to (keyed by id), with one such Service."""
        served: dict[int, tuple[Pod, Manifest]] = {}
        for service in self.of_kind("Service"):
            for pod in self.pods_selected_by(service):
                served.setdefault(id(pod), (pod, service))
        return served

    def alb_backends(self) -> Iterator[tuple[Manifest, Manifest, Pod]]:
        """(Ingress, Service, Pod) for every pod an ALB Ingress sends traffic to."""
        for ingress in self.of_kind("Ingress"):
            if not is_alb(ingress):
                continue
            namespace = identity(ingress)[1]
            seen: set[str] = set()
            for name in ingress_backend_services(ingress):
                service = self.get("Service", namespace, name)
                if service is None or name in seen:
                    continue
                seen.add(name)
                for pod in self.pods_selected_by(service):
                    yield ingress, service, pod


def is_alb(ingress: Manifest) -> bool:
    spec = as_dict(ingress.get("spec"))
    return spec.get("ingressClassName") == "alb" or annotations_of(ingress).get("kubernetes.io/ingress.class") == "alb"


def ingress_backend_services(ingress: Manifest) -> list[str]:
    spec = as_dict(ingress.get("spec"))
    backends = [as_dict(spec.get("defaultBackend"))]
    for rule in as_list(spec.get("rules")):
        backends += [as_dict(p.get("backend")) for p in as_list(as_dict(as_dict(rule).get("http")).get("paths"))]
    return [str(b["service"]["name"]) for b in backends if as_dict(b.get("service")).get("name")]


def ingress_backend_refs(ingress: Manifest) -> Iterator[tuple[PathParts, dict[str, Any]]]:
    """(path, backend.service) of every backend of an Ingress."""
    spec = as_dict(ingress.get("spec"))
    if as_dict(as_dict(spec.get("defaultBackend")).get("service")):
        yield ("spec", "defaultBackend", "service"), spec["defaultBackend"]["service"]
    for r, rule in enumerate(as_list(spec.get("rules"))):
        for p, path in enumerate(as_list(as_dict(as_dict(rule).get("http")).get("paths"))):
            service = as_dict(as_dict(as_dict(path).get("backend")).get("service"))
            if service:
                yield ("spec", "rules", r, "http", "paths", p, "backend", "service"), service


def alb_annotation(ingress: Manifest, service: Manifest, key: str) -> str | None:
    """An ALB annotation as the controller reads it: the Service's overrides the Ingress's."""
    value = annotations_of(service).get(key, annotations_of(ingress).get(key))
    return None if value is None else str(value)


def prestop_sleep(container: Mapping[str, Any]) -> float | None:
    """Seconds a container's preStop hook sleeps (exec ``sleep N`` or the ``sleep`` action)."""
    pre_stop = as_dict(as_dict(container.get("lifecycle")).get("preStop"))
    if not pre_stop:
        return None
    seconds = as_dict(pre_stop.get("sleep")).get("seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return float(seconds)
    command = " ".join(str(c) for c in as_list(as_dict(pre_stop.get("exec")).get("command")))
    match = _SLEEP.search(command)
    return float(match.group(1)) if match else 0.0


def probe_budget(probe: Mapping[str, Any]) -> int:
    """Seconds a probe tolerates failure before it acts: initial delay + period x failures."""
    value = {**PROBE_DEFAULTS, **{k: v for k, v in probe.items() if k in PROBE_DEFAULTS}}
    return int(value["initialDelaySeconds"]) + int(value["periodSeconds"]) * int(value["failureThreshold"])


def ignored_replica_targets(manifests: Iterable[Manifest]) -> set[tuple[str, str]]:
    """(kind, name) whose ``/spec/replicas`` an Argo CD Application ignores and respects on sync.

    ``ignoreDifferences`` alone only hides the drift; without ``RespectIgnoreDifferences=true`` the
    next sync still writes the rendered replica count back over the HPA's.
    """
    ignored: set[tuple[str, str]] = set()
    for app in manifests:
        if not isinstance(app, dict) or app.get("kind") != "Application":
            continue
        spec = as_dict(app.get("spec"))
        options = [str(o) for o in as_list(as_dict(spec.get("syncPolicy")).get("syncOptions"))]
        if "RespectIgnoreDifferences=true" not in options:
            continue
        for entry in as_list(spec.get("ignoreDifferences")):
            entry = as_dict(entry)
            pointers = [str(p) for p in as_list(entry.get("jsonPointers"))]
            jq = [str(p) for p in as_list(entry.get("jqPathExpressions"))]
            if "/spec/replicas" in pointers or ".spec.replicas" in jq:
                ignored.add((str(entry.get("kind")), str(entry.get("name") or "*")))
    return ignored


def hpa_target(idx: Manifests, hpa: Manifest) -> Manifest | None:
    """The workload an HPA scales, when the stage renders it."""
    ref = as_dict(as_dict(hpa.get("spec")).get("scaleTargetRef"))
    return idx.get(str(ref.get("kind")), identity(hpa)[1], str(ref.get("name")))


def priority_value(idx: Manifests, class_name: str | None) -> int | None:
    """The priority a pod of ``class_name`` gets (None: no such PriorityClass; no class: the global default or 0)."""
    if class_name is None:
        defaults = [m for m in idx.of_kind("PriorityClass") if m.get("globalDefault") is True]
        return int(defaults[0].get("value", 0)) if defaults else 0
    if class_name in BUILTIN_PRIORITY_CLASSES:
        return BUILTIN_PRIORITY_CLASSES[class_name]
    found = idx.get("PriorityClass", None, class_name)
    return int(found.get("value", 0)) if found is not None else None


def every_container(idx: Manifests) -> Iterator[tuple[Pod, PathParts, dict[str, Any]]]:
    """(pod, path, container) of every container of the stage, init containers included."""
    for pod in idx.pods:
        for parts, container in pod.containers(init=True):
            yield pod, parts, container
