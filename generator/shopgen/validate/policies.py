"""Layer 3: scenario policies — mistakes that only show up under load or during a rollout.

No common linter checks most of these (none compares a grace period with the preStop sleep, none
checks that an HPA's target requests what its metrics measure), so each is a small rule with a
stable id, run over the manifests of one stage. Numbers the rules assume (endpoint propagation,
start and shutdown times) come from a ``PolicyContext``, built from the config by ``for_stage``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopgen.validate.findings import Finding, Severity, format_path

if TYPE_CHECKING:
    from shopgen.config import Config

Manifest = dict[str, Any]
PathParts = tuple[str | int, ...]

COMPONENT = "app.kubernetes.io/component"
APP_SERVICE_COMPONENT = "service"
OVERPROVISIONING_COMPONENT = "overprovisioning"
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
ALB_PREFIX = "alb.ingress.kubernetes.io/"
TG_ATTRIBUTES = f"{ALB_PREFIX}target-group-attributes"
HEALTHCHECK_PATH = f"{ALB_PREFIX}healthcheck-path"
DEREGISTRATION_ATTRIBUTE = "deregistration_delay.timeout_seconds"

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
# Paths where an emptyDir is scratch space, never data worth keeping through a node's removal.
SCRATCH_PATHS = ("/tmp", "/var/tmp", "/run", "/var/run", "/var/cache")
CONSOLIDATING_POLICIES = ("WhenEmptyOrUnderutilized", "WhenUnderutilized")  # v1, v1beta1

POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job")
_CPU_SUFFIX = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_BIN_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SLEEP = re.compile(r"\bsleep\s+([0-9]+(?:\.[0-9]+)?)\b")


# --- the context: numbers the rules assume ----------------------------------------------------


@dataclass(frozen=True)
class PolicyContext:
    """What the manifests do not say: timings, externally provided Secrets, GitOps settings.

    ``endpoint_propagation_seconds`` defaults to 5 s: after a pod starts terminating, the
    EndpointSlice controller removes it and every node's kube-proxy reprograms its rules; that
    takes about a second on an idle cluster and a few seconds on a loaded one, so 5 s is a
    conservative bound (the prestop stage's 10 s sleep leaves twice that). The ALB's deregistration
    delay is read from the Ingress annotation; ``default_deregistration_delay_seconds`` (300 s, the
    AWS default) applies when the annotation does not set it.
    """

    endpoint_propagation_seconds: int = 5
    default_deregistration_delay_seconds: int = 300
    default_start_seconds: int = 30
    startup_margin: int = 2  # a startupProbe's budget over the start time: fresh nodes start slower
    liveness_min_window_seconds: int = 30  # a saturated JVM stalls its health endpoint this long
    default_shutdown_seconds: int = 10
    start_seconds: Mapping[str, int] = field(default_factory=dict)  # per app service name
    shutdown_seconds: Mapping[str, int] = field(default_factory=dict)  # per app service name
    external_secrets: frozenset[str] = frozenset()  # Secrets created outside shopgen
    replicas_ignored: frozenset[tuple[str, str]] = frozenset()  # (kind, name) whose /spec/replicas Argo CD ignores
    gitops_ignores_hpa_replicas: bool = False  # True: every HPA target's /spec/replicas is ignored
    few_replicas: int = 2  # at or below this many replicas a rollout must not take pods away
    overprovisioning_reserve: Mapping[str, str] = field(default_factory=dict)  # resource -> per pause pod
    dependency_health_paths: tuple[str, ...] = ("/actuator/health",)
    karpenter_consolidation: bool | None = None  # None: consolidating when a stage renders such a NodePool

    @classmethod
    def for_stage(cls, cfg: Config, stage: str, *, extra_manifests: Iterable[Manifest] = ()) -> PolicyContext:
        """The context of one stage of ``cfg``; ``extra_manifests`` may hold the Argo CD Application."""
        from shopgen.app import CREDENTIAL_SECRETS, SERVICE_NAMES
        from shopgen.stages import get_stage

        get_stage(stage)  # an unknown stage is a StageError naming the stages
        external = frozenset(s.name for s in CREDENTIAL_SECRETS) if cfg.secrets.provider == "none" else frozenset()
        return cls(
            start_seconds={name: cfg.services.get(name).startup.start_seconds for name in SERVICE_NAMES},
            shutdown_seconds={name: cfg.services.get(name).shutdown_seconds for name in SERVICE_NAMES},
            external_secrets=external,
            replicas_ignored=frozenset(ignored_replica_targets(extra_manifests)),
            overprovisioning_reserve={"memory": cfg.overprovisioning.memory},
        )

    def start_of(self, service: str) -> int:
        return self.start_seconds.get(service, self.default_start_seconds)

    def shutdown_of(self, service: str) -> int:
        return self.shutdown_seconds.get(service, self.default_shutdown_seconds)


# --- views of the manifests the rules share ----------------------------------------------------


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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def labels_of(manifest: Manifest) -> dict[str, str]:
    return _dict(_dict(manifest.get("metadata")).get("labels"))


def annotations_of(manifest: Manifest) -> dict[str, str]:
    return _dict(_dict(manifest.get("metadata")).get("annotations"))


def identity(manifest: Manifest) -> tuple[str, str | None, str]:
    meta = _dict(manifest.get("metadata"))
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
            for index, container in enumerate(_list(self.spec.get(key))):
                if isinstance(container, dict):
                    yield (*self.prefix, key, index), container

    def path(self, *parts: str | int) -> str:
        return format_path((*self.prefix, *parts))


def pod_of(manifest: Manifest) -> Pod | None:
    """The pod a manifest runs (Pod, a workload's template, a CronJob's job template), if any."""
    kind = manifest.get("kind")
    if kind == "Pod":
        prefix: PathParts = ("spec",)
        meta, spec = _dict(manifest.get("metadata")), _dict(manifest.get("spec"))
    elif kind in POD_TEMPLATE_KINDS:
        prefix = ("spec", "template", "spec")
        template = _dict(_dict(manifest.get("spec")).get("template"))
        meta, spec = _dict(template.get("metadata")), _dict(template.get("spec"))
    elif kind == "CronJob":
        prefix = ("spec", "jobTemplate", "spec", "template", "spec")
        template = _dict(_dict(_dict(_dict(manifest.get("spec")).get("jobTemplate")).get("spec")).get("template"))
        meta, spec = _dict(template.get("metadata")), _dict(template.get("spec"))
    else:
        return None
    return Pod(manifest, prefix, _dict(meta.get("labels")), _dict(meta.get("annotations")), spec)


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """An equality selector (Service ``selector`` or ``matchLabels``) matches these labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def label_selector_selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) matches these labels."""
    match_labels = _dict(selector.get("matchLabels"))
    expressions = _list(selector.get("matchExpressions"))
    if not match_labels and not expressions:
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in expressions:
        expr = _dict(expr)
        key, op, values = expr.get("key"), expr.get("operator"), _list(expr.get("values"))
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
        selector = _dict(_dict(service.get("spec")).get("selector"))
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
    spec = _dict(ingress.get("spec"))
    return spec.get("ingressClassName") == "alb" or annotations_of(ingress).get("kubernetes.io/ingress.class") == "alb"


def ingress_backend_services(ingress: Manifest) -> list[str]:
    spec = _dict(ingress.get("spec"))
    backends = [_dict(spec.get("defaultBackend"))]
    for rule in _list(spec.get("rules")):
        backends += [_dict(p.get("backend")) for p in _list(_dict(_dict(rule).get("http")).get("paths"))]
    return [str(b["service"]["name"]) for b in backends if _dict(b.get("service")).get("name")]


def ingress_backend_refs(ingress: Manifest) -> Iterator[tuple[PathParts, dict[str, Any]]]:
    """(path, backend.service) of every backend of an Ingress."""
    spec = _dict(ingress.get("spec"))
    if _dict(_dict(spec.get("defaultBackend")).get("service")):
        yield ("spec", "defaultBackend", "service"), spec["defaultBackend"]["service"]
    for r, rule in enumerate(_list(spec.get("rules"))):
        for p, path in enumerate(_list(_dict(_dict(rule).get("http")).get("paths"))):
            service = _dict(_dict(_dict(path).get("backend")).get("service"))
            if service:
                yield ("spec", "rules", r, "http", "paths", p, "backend", "service"), service


def alb_annotation(ingress: Manifest, service: Manifest, key: str) -> str | None:
    """An ALB annotation as the controller reads it: the Service's overrides the Ingress's."""
    value = annotations_of(service).get(key, annotations_of(ingress).get(key))
    return None if value is None else str(value)


def deregistration_delay(ingress: Manifest, service: Manifest, ctx: PolicyContext) -> int:
    attributes = alb_annotation(ingress, service, TG_ATTRIBUTES) or ""
    for item in attributes.split(","):
        key, _, value = item.strip().partition("=")
        if key.strip() == DEREGISTRATION_ATTRIBUTE and value.strip().isdigit():
            return int(value.strip())
    return ctx.default_deregistration_delay_seconds


def prestop_sleep(container: Mapping[str, Any]) -> float | None:
    """Seconds a container's preStop hook sleeps (exec ``sleep N`` or the ``sleep`` action)."""
    pre_stop = _dict(_dict(container.get("lifecycle")).get("preStop"))
    if not pre_stop:
        return None
    seconds = _dict(pre_stop.get("sleep")).get("seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return float(seconds)
    command = " ".join(str(c) for c in _list(_dict(pre_stop.get("exec")).get("command")))
    match = _SLEEP.search(command)
    return float(match.group(1)) if match else 0.0


def probe_budget(probe: Mapping[str, Any]) -> int:
    """Seconds a probe tolerates failure before it acts: initial delay + period x failures."""
    value = {**PROBE_DEFAULTS, **{k: v for k, v in probe.items() if k in PROBE_DEFAULTS}}
    return int(value["initialDelaySeconds"]) + int(value["periodSeconds"]) * int(value["failureThreshold"])


def _normalized_probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    normal = {**PROBE_DEFAULTS, **probe}
    if "httpGet" in normal:
        normal["httpGet"] = {"path": "/", "scheme": "HTTP", **_dict(normal["httpGet"])}
    return normal


def ignored_replica_targets(manifests: Iterable[Manifest]) -> set[tuple[str, str]]:
    """(kind, name) whose ``/spec/replicas`` an Argo CD Application ignores and respects on sync.

    ``ignoreDifferences`` alone only hides the drift; without ``RespectIgnoreDifferences=true`` the
    next sync still writes the rendered replica count back over the HPA's.
    """
    ignored: set[tuple[str, str]] = set()
    for app in manifests:
        if not isinstance(app, dict) or app.get("kind") != "Application":
            continue
        spec = _dict(app.get("spec"))
        options = [str(o) for o in _list(_dict(spec.get("syncPolicy")).get("syncOptions"))]
        if "RespectIgnoreDifferences=true" not in options:
            continue
        for entry in _list(spec.get("ignoreDifferences")):
            entry = _dict(entry)
            pointers = [str(p) for p in _list(entry.get("jsonPointers"))]
            jq = [str(p) for p in _list(entry.get("jqPathExpressions"))]
            if "/spec/replicas" in pointers or ".spec.replicas" in jq:
                ignored.add((str(entry.get("kind")), str(entry.get("name") or "*")))
    return ignored


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """What a rule found, before the registry adds its id, severity and layer."""

    kind: str
    namespace: str | None
    name: str
    path: str
    message: str
    hint: str
    severity: Severity | None = None


def hit(manifest: Manifest, parts: PathParts | str, message: str, hint: str) -> Hit:
    kind, namespace, name = identity(manifest)
    path = parts if isinstance(parts, str) else format_path(parts)
    return Hit(kind, namespace, name, path, message, hint)


@dataclass(frozen=True)
class Rule:
    """One rule: a stable id, what it checks, the failure it prevents, and the check itself."""

    id: str
    severity: Severity
    summary: str
    prevents: str
    check: Callable[..., Iterable[Hit]]

    def findings(self, hits: Iterable[Hit], layer: str) -> list[Finding]:
        return [
            Finding(self.id, h.severity or self.severity, h.kind, h.namespace, h.name, h.path, h.message, h.hint, layer)
            for h in hits
        ]


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


def check_readiness_probe(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """A Service (and the ALB behind it) only skips pods that report not ready."""
    for pod, service in idx.served_pods().values():
        ports = _target_ports(service)
        containers = list(pod.containers())
        serving = [(p, c) for p, c in containers if _serves(c, ports)] or containers[:1]
        for parts, container in serving:
            if not _dict(container.get("readinessProbe")):
                yield hit(
                    pod.manifest,
                    (*parts, "readinessProbe"),
                    f"Service {identity(service)[2]} sends traffic to container {container.get('name')}, which has "
                    "no readinessProbe: a starting or overloaded pod gets requests it cannot serve",
                    "add a readinessProbe on the service's readiness endpoint (shopgen: the readiness stage)",
                )


def _target_ports(service: Manifest) -> list[Any]:
    return [_dict(p).get("targetPort", _dict(p).get("port")) for p in _list(_dict(service.get("spec")).get("ports"))]


def _serves(container: Mapping[str, Any], targets: list[Any]) -> bool:
    for port in _list(container.get("ports")):
        port = _dict(port)
        if port.get("name") in targets or port.get("containerPort") in targets:
            return True
    return False


def check_alb_healthcheck(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """The ALB's own health check decides target health; it must ask what readiness asks."""
    seen: set[tuple[int, int]] = set()
    for ingress, service, pod in idx.alb_backends():
        if (id(ingress), id(pod)) in seen:
            continue
        seen.add((id(ingress), id(pod)))
        checked = alb_annotation(ingress, service, HEALTHCHECK_PATH) or "/"
        for _parts, container in pod.containers():
            ready_path = _dict(_dict(container.get("readinessProbe")).get("httpGet")).get("path")
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


def check_liveness_not_readiness(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """An identical liveness probe restarts a pod that is only busy, turning overload into an outage."""
    for pod in idx.pods:
        for parts, container in pod.containers():
            live, ready = _dict(container.get("livenessProbe")), _dict(container.get("readinessProbe"))
            if live and ready and _normalized_probe(live) == _normalized_probe(ready):
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe"),
                    "livenessProbe is the same check as readinessProbe (same handler, endpoint and thresholds): "
                    "under load the pod is restarted instead of only taken out of rotation",
                    "point liveness at a process-only endpoint, or give it a longer failure budget",
                )


def check_liveness_no_dependencies(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """A liveness check that follows a database restarts every pod when the database blips."""
    for pod in idx.pods:
        for parts, container in pod.containers():
            path = _dict(_dict(container.get("livenessProbe")).get("httpGet")).get("path")
            if isinstance(path, str) and _checks_dependencies(path, ctx):
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe", "httpGet", "path"),
                    f"livenessProbe uses {path!r}, which checks downstream dependencies: one slow database "
                    "restarts every pod at once",
                    "use the liveness group (/actuator/health/liveness for Spring Boot) or a static endpoint",
                )


def _checks_dependencies(path: str, ctx: PolicyContext) -> bool:
    clean = path.split("?", 1)[0].rstrip("/") or "/"
    if clean == "/actuator/health":  # Spring Boot's aggregate health: every indicator, databases included
        return True
    if clean.startswith("/actuator/health/"):
        return clean.rsplit("/", 1)[1] not in ("liveness", "ping")
    return clean in {p.rstrip("/") for p in ctx.dependency_health_paths}


def check_liveness_tolerates_saturation(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """A liveness probe that acts within seconds restarts a process that is only saturated by the surge."""
    for pod in idx.pods:
        for parts, container in pod.containers():
            live, ready = _dict(container.get("livenessProbe")), _dict(container.get("readinessProbe"))
            if not live:
                continue
            window = probe_budget(live) - int(live.get("initialDelaySeconds", 0))
            if window < ctx.liveness_min_window_seconds:
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe"),
                    f"livenessProbe restarts the container after {window}s of failed checks: a process saturated "
                    "by the surge answers late for longer than that and is restarted in the middle of the load",
                    f"make periodSeconds x failureThreshold >= {ctx.liveness_min_window_seconds}s (shopgen: 10 x 6 "
                    "= 60s), or drop liveness (services.<name>.liveness.enabled: false)",
                )
            live_timeout = int(live.get("timeoutSeconds", PROBE_DEFAULTS["timeoutSeconds"]))
            ready_timeout = int(ready.get("timeoutSeconds", PROBE_DEFAULTS["timeoutSeconds"])) if ready else 0
            if live_timeout < ready_timeout:
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe", "timeoutSeconds"),
                    f"livenessProbe times out after {live_timeout}s, sooner than readinessProbe ({ready_timeout}s): "
                    "an answer slow enough only to leave rotation counts as a liveness failure",
                    f"set livenessProbe.timeoutSeconds >= {ready_timeout} (the readiness timeout)",
                )


def check_startup_budget(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """Liveness (or a short startupProbe) kills a slow JVM before it ever finishes starting."""
    for pod in idx.pods:
        if not pod.is_app_service:
            continue
        start = ctx.start_of(pod.name)
        wanted = ctx.startup_margin * start
        for parts, container in pod.containers():
            startup, live = _dict(container.get("startupProbe")), _dict(container.get("livenessProbe"))
            if startup and probe_budget(startup) < wanted:
                yield hit(
                    pod.manifest,
                    (*parts, "startupProbe"),
                    f"startupProbe gives up after {probe_budget(startup)}s; {pod.name} needs {start}s to start, and "
                    f"twice that ({wanted}s) on a fresh node pulling its image: the container is killed in a "
                    "restart loop exactly when scale-out needs it",
                    f"raise failureThreshold x periodSeconds to >= {wanted} (twice "
                    f"services.{pod.name}.startup.start_seconds); a startupProbe costs nothing once the pod is up",
                )
            elif not startup and live and probe_budget(live) < wanted:
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe"),
                    f"{pod.name} needs {start}s to start ({wanted}s on a fresh node) but has no startupProbe, and "
                    f"liveness kills it after {probe_budget(live)}s: the container may never finish starting",
                    f"add a startupProbe on the liveness endpoint whose failureThreshold x periodSeconds >= {wanted}",
                )


def _hpa_target(idx: Manifests, hpa: Manifest) -> Manifest | None:
    ref = _dict(_dict(hpa.get("spec")).get("scaleTargetRef"))
    return idx.get(str(ref.get("kind")), identity(hpa)[1], str(ref.get("name")))


def _hpa_resources(hpa: Manifest) -> list[tuple[str, str | None]]:
    """(resource, container or None) of every utilization metric: those need requests to divide by."""
    spec = _dict(hpa.get("spec"))
    found: list[tuple[str, str | None]] = []
    if "targetCPUUtilizationPercentage" in spec:  # autoscaling/v1
        found.append(("cpu", None))
    for metric in _list(spec.get("metrics")):
        metric = _dict(metric)
        if metric.get("type") == "Resource":
            source = _dict(metric.get("resource"))
            container = None
        elif metric.get("type") == "ContainerResource":
            source = _dict(metric.get("containerResource"))
            container = source.get("container")
        else:
            continue
        if _dict(source.get("target")).get("type") == "Utilization" and source.get("name"):
            found.append((str(source["name"]), container))
    return found


def check_hpa_requests(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """Utilization is usage / request: without a request the HPA cannot compute it and never scales."""
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        target = _hpa_target(idx, hpa)
        pod = pod_of(target) if target is not None else None
        if pod is None:
            continue
        for resource, only in _hpa_resources(hpa):
            for parts, container in pod.containers():
                if only is not None and container.get("name") != only:
                    continue
                requests = _dict(_dict(container.get("resources")).get("requests"))
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
        target = _hpa_target(idx, hpa)
        if target is None or "replicas" not in _dict(target.get("spec")):
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
    env = [(_dict(v).get("name"), _dict(v).get("value")) for v in _list(container.get("env"))]
    resources = _dict(container.get("resources"))
    limit = _dict(resources.get("limits")).get("memory")
    return heap_share_of_request(env, limit, _dict(resources.get("requests")).get("memory"))


def check_hpa_memory_vs_heap(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """The HPA follows its largest metric; a JVM keeps its heap, so a memory target below it never scales in."""
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        target = _hpa_target(idx, hpa)
        pod = pod_of(target) if target is not None else None
        if pod is None:
            continue
        for index, metric in enumerate(_list(_dict(hpa.get("spec")).get("metrics"))):
            source = _dict(_dict(metric).get("resource"))
            goal = _dict(source.get("target")).get("averageUtilization")
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
        spec = _dict(hpa.get("spec"))
        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            yield hit(
                hpa,
                ("spec", "minReplicas"),
                f"minReplicas {low} is greater than maxReplicas {high}",
                "set minReplicas <= maxReplicas (autoscaling.hpa.min_replicas / max_replicas)",
            )


def _pause_pods(idx: Manifests) -> list[Pod]:
    return [p for p in idx.pods if p.component == OVERPROVISIONING_COMPONENT]


def _priority_value(idx: Manifests, class_name: str | None) -> int | None:
    if class_name is None:
        defaults = [m for m in idx.of_kind("PriorityClass") if m.get("globalDefault") is True]
        return int(defaults[0].get("value", 0)) if defaults else 0
    if class_name in BUILTIN_PRIORITY_CLASSES:
        return BUILTIN_PRIORITY_CLASSES[class_name]
    found = idx.get("PriorityClass", None, class_name)
    return int(found.get("value", 0)) if found is not None else None


def check_overprovisioning_priority(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """Pause pods only make room if every real pod outranks them and can preempt them."""
    pause = _pause_pods(idx)
    others = [p for p in idx.pods if p.component != OVERPROVISIONING_COMPONENT]
    lowest = min(
        (v for v in (_priority_value(idx, p.spec.get("priorityClassName")) for p in others) if v is not None),
        default=0,
    )
    for pod in pause:
        name = pod.spec.get("priorityClassName")
        value = _priority_value(idx, name)
        if value is None or value < lowest:
            continue
        where = idx.get("PriorityClass", None, name) if name else None
        yield hit(
            where or pod.manifest,
            ("value",) if where is not None else pod.path("priorityClassName"),
            f"pause pods run at priority {value}, not below every workload's ({lowest}): real pods cannot "
            "preempt them and wait for a new node instead",
            "give the pause pods a PriorityClass with a negative value (overprovisioning.priority_value)",
        )


def check_overprovisioning_not_default(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """A global-default low priority makes every pod without a class preemptible."""
    names = {p.spec.get("priorityClassName") for p in _pause_pods(idx)}
    for pc in idx.of_kind("PriorityClass"):
        if pc.get("globalDefault") is True and (
            identity(pc)[2] in names or labels_of(pc).get(COMPONENT) == OVERPROVISIONING_COMPONENT
        ):
            yield hit(
                pc,
                ("globalDefault",),
                "the overprovisioning PriorityClass is the global default: every pod without a class gets its "
                "low priority and is evicted like a pause pod",
                "set globalDefault: false",
            )


def check_overprovisioning_reservation(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """A pause pod reserves exactly what it requests; without requests it holds no room at all."""
    for pod in _pause_pods(idx):
        totals: dict[str, float] = {}
        for _parts, container in pod.containers():
            for resource, value in _dict(_dict(container.get("resources")).get("requests")).items():
                totals[resource] = totals.get(resource, 0.0) + (quantity(value) or 0.0)
        first = pod.path("containers", 0, "resources", "requests")
        if not any(totals.values()):
            yield hit(
                pod.manifest,
                first,
                "pause pods request nothing, so they reserve no capacity for a burst",
                "request the room each pause pod should hold (overprovisioning.memory)",
            )
            continue
        for resource, wanted in sorted(ctx.overprovisioning_reserve.items()):
            got = totals.get(resource, 0.0)
            if quantity(wanted) is not None and abs(got - (quantity(wanted) or 0.0)) > 0.5:
                yield hit(
                    pod.manifest,
                    f"{first}.{resource}",
                    f"pause pods request {_shown(got, resource)} of {resource} but are meant to reserve {wanted}",
                    f"request {wanted} of {resource} per pause pod (overprovisioning.{resource})",
                )


def _shown(value: float, resource: str) -> str:
    if resource == "memory" and value and value % 2**20 == 0:
        return f"{int(value // 2**20)}Mi"
    return f"{value:g}"


def _replicas(idx: Manifests, deployment: Manifest) -> int:
    spec = _dict(deployment.get("spec"))
    if isinstance(spec.get("replicas"), int):
        return int(spec["replicas"])
    kind, namespace, name = identity(deployment)
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        ref = _dict(_dict(hpa.get("spec")).get("scaleTargetRef"))
        if identity(hpa)[1] == namespace and ref.get("kind") == kind and ref.get("name") == name:
            return int(_dict(hpa.get("spec")).get("minReplicas", 1))
    return 1


def max_unavailable(strategy: Mapping[str, Any], replicas: int) -> int:
    """Pods a rollout may take down at once (Recreate: all of them; percentages round down)."""
    if strategy.get("type") == "Recreate":
        return replicas
    value = _dict(strategy.get("rollingUpdate")).get("maxUnavailable", "25%")
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
        strategy = _dict(_dict(pod.manifest.get("spec")).get("strategy"))
        down = max_unavailable(strategy, replicas)
        if replicas > ctx.few_replicas or down == 0:
            continue
        if any(
            identity(b)[1] == pod.namespace
            and label_selector_selects(_dict(_dict(b.get("spec")).get("selector")), pod.labels)
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


def _consolidating(idx: Manifests, ctx: PolicyContext) -> bool:
    if ctx.karpenter_consolidation is not None:
        return ctx.karpenter_consolidation
    return any(
        _dict(_dict(pool.get("spec")).get("disruption")).get("consolidationPolicy") in CONSOLIDATING_POLICIES
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
            _dict(v).get("name"): i for i, v in enumerate(_list(pod.spec.get("volumes"))) if "emptyDir" in _dict(v)
        }
        holding = sorted(
            {
                _dict(m).get("name")
                for _, c in pod.containers(init=True)
                for m in _list(c.get("volumeMounts"))
                if _dict(m).get("name") in empty and not _is_scratch(str(_dict(m).get("mountPath", "")))
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


def check_references(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """A reference to nothing fails only at runtime: a pod stuck in CreateContainerConfigError, a dead Service."""
    yield from _pod_references(idx, ctx)
    yield from _service_references(idx)
    yield from _ingress_references(idx)
    yield from _selector_references(idx)


def _secret_keys(idx: Manifests, namespace: str | None) -> dict[str, set[str] | None]:
    """Secrets the stage produces, with their keys when known (None: any key)."""
    produced: dict[str, set[str] | None] = {}
    for secret in idx.of_kind("Secret"):
        if identity(secret)[1] == namespace:
            produced[identity(secret)[2]] = set(_dict(secret.get("data"))) | set(_dict(secret.get("stringData")))
    for es in idx.of_kind("ExternalSecret"):
        if identity(es)[1] != namespace:
            continue
        spec = _dict(es.get("spec"))
        target = _dict(spec.get("target")).get("name") or identity(es)[2]
        keys = {str(_dict(d).get("secretKey")) for d in _list(spec.get("data"))}
        produced[str(target)] = None if spec.get("dataFrom") or _dict(spec.get("target")).get("template") else keys
    return produced


def _pod_references(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    for pod in idx.pods:
        ns = pod.namespace
        service_account = pod.spec.get("serviceAccountName")
        if service_account and service_account != "default" and service_account not in idx.names("ServiceAccount", ns):
            yield hit(
                pod.manifest,
                pod.path("serviceAccountName"),
                f"ServiceAccount {service_account} does not exist: the pod is never created",
                "render the ServiceAccount or fix the name",
            )
        priority = pod.spec.get("priorityClassName")
        if priority and _priority_value(idx, priority) is None:
            yield hit(
                pod.manifest,
                pod.path("priorityClassName"),
                f"PriorityClass {priority} does not exist: the pod is rejected",
                "render the PriorityClass or fix the name",
            )
        for parts, kind, name, key, optional in _config_refs(pod):
            if optional:
                continue
            yield from _check_config_ref(idx, ctx, pod, parts, kind, name, key)


def _config_refs(pod: Pod) -> Iterator[tuple[PathParts, str, str, str | None, bool]]:
    """(path, ConfigMap|Secret, name, key or None, optional) for every reference of a pod."""
    for parts, container in pod.containers(init=True):
        for i, source in enumerate(_list(container.get("envFrom"))):
            for field_name, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = _dict(_dict(source).get(field_name))
                if ref.get("name"):
                    yield (*parts, "envFrom", i, field_name), kind, ref["name"], None, bool(ref.get("optional"))
        for i, env in enumerate(_list(container.get("env"))):
            value_from = _dict(_dict(env).get("valueFrom"))
            for field_name, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = _dict(value_from.get(field_name))
                if ref.get("name"):
                    yield (
                        (*parts, "env", i, "valueFrom", field_name),
                        kind,
                        ref["name"],
                        ref.get("key"),
                        bool(ref.get("optional")),
                    )
    for i, volume in enumerate(_list(pod.spec.get("volumes"))):
        volume = _dict(volume)
        if _dict(volume.get("configMap")).get("name"):
            ref = volume["configMap"]
            yield (*pod.prefix, "volumes", i, "configMap"), "ConfigMap", ref["name"], None, bool(ref.get("optional"))
        if _dict(volume.get("secret")).get("secretName"):
            ref = volume["secret"]
            yield (*pod.prefix, "volumes", i, "secret"), "Secret", ref["secretName"], None, bool(ref.get("optional"))


def _check_config_ref(
    idx: Manifests, ctx: PolicyContext, pod: Pod, parts: PathParts, kind: str, name: str, key: str | None
) -> Iterator[Hit]:
    if kind == "ConfigMap":
        found = idx.get("ConfigMap", pod.namespace, name)
        keys: set[str] | None = (
            None if found is None else set(_dict(found.get("data"))) | set(_dict(found.get("binaryData")))
        )
        exists = found is not None
    else:
        produced = _secret_keys(idx, pod.namespace)
        exists, keys = name in produced, produced.get(name)
        if not exists and name in ctx.external_secrets:
            return  # reported once per Secret by check_external_secrets
    if not exists:
        yield hit(
            pod.manifest,
            parts,
            f"{kind} {name} does not exist in this stage"
            + (" (nor an ExternalSecret producing it)" if kind == "Secret" else "")
            + ": the pod stays in CreateContainerConfigError",
            f"render the {kind} or fix the name"
            + (" (a Secret made outside shopgen: secrets.provider: none)" if kind == "Secret" else ""),
        )
    elif key is not None and keys is not None and key not in keys:
        yield hit(
            pod.manifest,
            (*parts, "key"),
            f"{kind} {name} has no key {key!r} (it has {', '.join(sorted(keys)) or 'none'})",
            f"add the key to the {kind} (or its ExternalSecret) or fix the reference",
        )


def _service_references(idx: Manifests) -> Iterator[Hit]:
    for service in idx.of_kind("Service"):
        spec = _dict(service.get("spec"))
        if not _dict(spec.get("selector")):
            continue  # selector-less Services (ExternalName, manual endpoints) select nothing on purpose
        pods = idx.pods_selected_by(service)
        if not pods:
            yield hit(
                service,
                ("spec", "selector"),
                "the selector matches no pod in this stage: the Service has no endpoints",
                "make the selector match the workload's pod template labels",
            )
            continue
        for i, port in enumerate(_list(spec.get("ports"))):
            target = _dict(port).get("targetPort")
            if isinstance(target, str) and not all(
                any(_dict(p).get("name") == target for _, c in pod.containers() for p in _list(c.get("ports")))
                for pod in pods
            ):
                yield hit(
                    service,
                    ("spec", "ports", i, "targetPort"),
                    f"named targetPort {target!r} is not a container port of every selected pod: traffic to "
                    "those pods fails",
                    "name the container port the same as the Service's targetPort",
                )


def _ingress_references(idx: Manifests) -> Iterator[Hit]:
    for ingress in idx.of_kind("Ingress"):
        namespace = identity(ingress)[1]
        for parts, backend in ingress_backend_refs(ingress):
            service = idx.get("Service", namespace, str(backend.get("name")))
            if service is None:
                yield hit(
                    ingress,
                    (*parts, "name"),
                    f"backend Service {backend.get('name')} does not exist: the load balancer has no targets",
                    "render the Service or fix the name",
                )
                continue
            port = _dict(backend.get("port"))
            ports = _list(_dict(service.get("spec")).get("ports"))
            if "name" in port and not any(_dict(p).get("name") == port["name"] for p in ports):
                yield hit(
                    ingress,
                    (*parts, "port", "name"),
                    f"Service {backend.get('name')} has no port named {port['name']!r}",
                    "use a port name the Service declares",
                )
            if "number" in port and not any(_dict(p).get("port") == port["number"] for p in ports):
                yield hit(
                    ingress,
                    (*parts, "port", "number"),
                    f"Service {backend.get('name')} has no port {port['number']}",
                    "use a port the Service declares",
                )


def _selector_references(idx: Manifests) -> Iterator[Hit]:
    for pdb in idx.of_kind("PodDisruptionBudget"):
        selector = _dict(_dict(pdb.get("spec")).get("selector"))
        if not idx.pods_matching(selector, identity(pdb)[1]):
            yield hit(
                pdb,
                ("spec", "selector"),
                "the selector matches no pod in this stage: the budget protects nothing",
                "make the selector match the workload's pod template labels",
            )
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        if _hpa_target(idx, hpa) is None:
            ref = _dict(_dict(hpa.get("spec")).get("scaleTargetRef"))
            yield hit(
                hpa,
                ("spec", "scaleTargetRef"),
                f"scale target {ref.get('kind')}/{ref.get('name')} does not exist: the HPA scales nothing",
                "point scaleTargetRef at a rendered Deployment or StatefulSet",
            )


def check_external_secrets(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """Secrets created outside shopgen are not in the tree; say so once, instead of 'missing'."""
    users: dict[tuple[str | None, str], list[str]] = {}
    for pod in idx.pods:
        for _parts, kind, name, _key, _optional in _config_refs(pod):
            if kind == "Secret" and name in ctx.external_secrets and name not in _secret_keys(idx, pod.namespace):
                users.setdefault((pod.namespace, name), []).append(f"{pod.kind}/{pod.name}")
    for (namespace, name), refs in sorted(users.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        yield Hit(
            "Secret",
            namespace,
            name,
            "",
            f"Secret {name} is provided outside shopgen (used by {', '.join(sorted(set(refs)))}); it is not in "
            "the rendered tree",
            "create it before syncing (the runbook's kubectl create secret generic command), or use "
            "secrets.provider: external-secrets",
        )


POLICIES: tuple[Rule, ...] = (
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
        "policy.readiness-probe",
        "error",
        "every container a Service sends traffic to has a readinessProbe",
        "requests reach pods that are starting or overloaded (the baseline's failure under 100 req/s)",
        check_readiness_probe,
    ),
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
    Rule(
        "policy.liveness-not-readiness",
        "error",
        "livenessProbe is not the identical probe spec as readinessProbe",
        "overloaded pods are restarted instead of only taken out of rotation, turning a slowdown into an outage",
        check_liveness_not_readiness,
    ),
    Rule(
        "policy.liveness-no-dependencies",
        "error",
        "livenessProbe never uses an endpoint that checks downstream dependencies (Spring's /actuator/health)",
        "one slow database restarts every pod of every service that uses it, at the same moment",
        check_liveness_no_dependencies,
    ),
    Rule(
        "policy.liveness-tolerates-saturation",
        "error",
        "a livenessProbe's failure window (period x failures) is at least 30 s and it times out no sooner than "
        "readiness",
        "a JVM saturated by the surge is restarted mid-load instead of only leaving rotation",
        check_liveness_tolerates_saturation,
    ),
    Rule(
        "policy.startup-budget",
        "error",
        "a slow starter has a startupProbe whose budget (period x failures) is twice its start time",
        "liveness kills a JVM that is still starting on a fresh node: a restart loop exactly when scale-out "
        "needs new pods",
        check_startup_budget,
    ),
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
        "policy.overprovisioning-priority",
        "error",
        "the pause pods' priority is below every other workload's",
        "real pods wait for a new node instead of preempting the pause pods: the spare room is useless",
        check_overprovisioning_priority,
    ),
    Rule(
        "policy.overprovisioning-not-default",
        "error",
        "the overprovisioning PriorityClass is not globalDefault",
        "every pod without a class gets the pause pods' low priority and is preempted like them",
        check_overprovisioning_not_default,
    ),
    Rule(
        "policy.overprovisioning-reservation",
        "error",
        "the pause pods request what they are meant to reserve (overprovisioning.memory)",
        "the spare capacity is smaller (or larger) than planned; a burst again waits for new nodes",
        check_overprovisioning_reservation,
    ),
    Rule(
        "policy.rollout-safety",
        "error",
        "an app service with few replicas (<= 2) rolls out with maxUnavailable 0 or has a PodDisruptionBudget",
        "a rollout takes the only pod of orders, checkout or assets away: errors until the new pod is ready",
        check_rollout_safety,
    ),
    Rule(
        "policy.emptydir-consolidation",
        "error",
        "pods keeping data on an emptyDir (not /tmp-style scratch) carry karpenter.sh/do-not-disrupt",
        "Karpenter consolidation evicts the store and its data is gone",
        check_emptydir_consolidation,
    ),
    Rule(
        "policy.reference",
        "error",
        "selectors, named ports, ConfigMaps, Secrets (or ExternalSecret targets), ServiceAccounts and "
        "PriorityClasses a stage refers to exist in it",
        "pods stuck in CreateContainerConfigError, Services without endpoints, HPAs and PDBs acting on nothing",
        check_references,
    ),
    Rule(
        "policy.external-secret",
        "warning",
        "a Secret the pods read is provided outside shopgen (secrets.provider: none)",
        "a sync whose pods wait for a Secret nobody created; the finding names it (expected for that provider)",
        check_external_secrets,
    ),
)

POLICY_BY_ID = {rule.id: rule for rule in POLICIES}


def run_policies(manifests: list[Manifest], ctx: PolicyContext) -> list[Finding]:
    """Every scenario policy over one stage's manifests (layer 3)."""
    idx = Manifests(manifests)
    findings: list[Finding] = []
    for rule in POLICIES:
        findings += rule.findings(rule.check(idx, ctx), "policy")
    return findings


def rules_markdown(rules: Iterable[Rule]) -> str:
    """A markdown table of rules: id, what it checks, the failure it prevents."""
    lines = ["| rule | checks | prevents |", "|---|---|---|"]
    for rule in rules:
        cells = (f"`{rule.id}`", rule.summary, rule.prevents)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def policy_table_markdown() -> str:
    """The scenario policies as the README documents them."""
    return rules_markdown(POLICIES)


def with_sources(findings: Iterable[Finding], pairs: Iterable[tuple[str, Manifest]]) -> list[Finding]:
    """Findings with ``source`` set to the file of the resource they name (when it has one)."""
    from dataclasses import replace

    where = {identity(m): source for source, m in pairs if isinstance(m, dict)}
    return [f if f.source else replace(f, source=where.get((f.kind, f.namespace, f.name), "")) for f in findings]
