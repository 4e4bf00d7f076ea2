"""Per-stage expected findings, each with its reason.

Two sources: the deliberate deviations (shopgen/deviations.py, the same rows that skip checkov
checks), which hold in every stage, and the story's fragility — what a stage has not fixed yet
(no probes before ``readiness``, no preStop before ``prestop``, ...). Both are derived from the
stage's desired state, never from its manifests, and each names rule + kind + name, so a new
finding on another resource is never swallowed by a broad declaration.
"""

from __future__ import annotations

from collections.abc import Iterator

from shopgen.config import Config
from shopgen.story.deviations import Traits, Workload, deviations
from shopgen.story.shop import Shop, resolve
from shopgen.story.stages import desired_states
from shopgen.story.stages.base import READINESS_GATE_LABEL
from shopgen.story.state import DesiredState
from shopgen.validate.findings import ExpectedFinding
from shopgen.validate.policies import DEFAULT_GRACE_SECONDS, PolicyContext, heap_share_of_request, max_unavailable
from shopgen.validate.security import pulls_from_docker_hub

OVERPROVISIONING_NAME = "overprovisioning"  # the Deployment constructs/overprovisioning.py renders

NO_PROBES = (
    "no probes before the readiness stage: the baseline is fragile on purpose, and under load pods that are "
    "not ready get traffic"
)
NO_READINESS_GATE = "no pod readiness gate before the readiness stage, which labels the namespace"
NO_PRESTOP_ALB = (
    "no preStop sleep before the prestop stage, and the ALB's deregistration delay is the AWS default (300 s) "
    "until then: rollouts and scale-in cause the 5xx the prestop stage fixes"
)
NO_PRESTOP_ENDPOINTS = (
    "no preStop sleep before the prestop stage: a terminating pod still gets requests until its endpoint "
    "removal has propagated"
)
UPSTREAM_ROLLOUT = (
    "upstream's rollout strategy (maxUnavailable 1) until the prestop stage sets maxUnavailable 0: a rollout "
    "takes the only pod of the service away"
)
DEFAULT_GRACE = (
    "the Kubernetes default grace period (30 s) until the prestop stage sets one covering the preStop sleep "
    "and the shutdown time"
)
EXTERNAL_SECRET = (
    "secrets.provider: none: the Secret is created outside shopgen (the runbook's kubectl create secret "
    "commands), so it is not in the rendered tree"
)


HPA_MEMORY_METRIC = (
    "the course's second HPA metric (memory 60 %) is kept by default: a JVM keeps its heap, so the ui may "
    "never scale in; autoscaling.hpa.memory_utilization: null scales on CPU alone"
)


def expected_findings(stage: str, cfg: Config) -> list[ExpectedFinding]:
    """Every finding ``stage`` of ``cfg`` is expected to have, each with its reason."""
    state = desired_states(cfg, upto=stage)[stage]
    shop = resolve(cfg)
    return [
        *_deliberate(state, Traits.of(shop)),
        *_fragile(state, shop),
        *_external(state, cfg),
        *_course_values(state),
        *_docker_hub_images(state, shop),
        *_declared_without_cpu(state),
    ]


UNDECLARED_CPU = (
    "the service declares no CPU request (services.<name>.resources.cpu): the scheduler reserves no CPU for it, "
    "so a busy node starves it first; declare one to drop this finding (an HPA target must)"
)


def _declared_without_cpu(state: DesiredState) -> Iterator[ExpectedFinding]:
    """A service declared without a CPU request: what its declaration says, reported as such."""
    for svc in state.services:
        if svc.resources.cpu is None:
            yield ExpectedFinding(
                "security.cpu-requests",
                UNDECLARED_CPU,
                kind="Deployment",
                name=svc.name,
                namespace=state.namespace.name,
            )


def _course_values(state: DesiredState) -> Iterator[ExpectedFinding]:
    """The course's values shopgen keeps by default although a rule warns about them."""
    services = {s.name: s for s in state.services}
    for hpa in state.hpas:
        target = services.get(hpa.target)
        if hpa.memory_utilization is None or target is None:
            continue
        heap = heap_share_of_request(target.env, target.resources.memory_limit, target.resources.memory)
        if heap is not None and heap >= hpa.memory_utilization:
            yield ExpectedFinding(
                "policy.hpa-memory-vs-heap",
                HPA_MEMORY_METRIC,
                kind="HorizontalPodAutoscaler",
                name=hpa.target,
                namespace=state.namespace.name,
            )


def workloads(state: DesiredState) -> list[Workload]:
    """The workloads a stage renders, as the deviation rows see them."""
    found = [Workload("Deployment", s.name, "service") for s in state.services]
    found += [Workload(s.workload, s.name, s.component) for s in state.stores]
    if state.overprovisioning is not None:
        found.append(Workload("Deployment", OVERPROVISIONING_NAME, "overprovisioning"))
    return found


def _deliberate(state: DesiredState, traits: Traits) -> Iterator[ExpectedFinding]:
    namespace = state.namespace.name
    for workload in workloads(state):
        for row in deviations(traits):
            if row.rule is not None and row.applies(workload):
                yield ExpectedFinding(row.rule, row.reason, kind=workload.kind, name=workload.name, namespace=namespace)


def _fragile(state: DesiredState, shop: Shop) -> Iterator[ExpectedFinding]:
    """What the stage has not fixed yet; each is fixed by a later stage of the story."""
    namespace = state.namespace.name

    def on(rule: str, reason: str, name: str) -> ExpectedFinding:
        return ExpectedFinding(rule, reason, kind="Deployment", name=name, namespace=namespace)

    if READINESS_GATE_LABEL not in dict(state.namespace.labels):
        yield ExpectedFinding("policy.alb-readiness-gate", NO_READINESS_GATE, kind="Namespace", name=namespace)
    hpa_min = {h.target: h.min_replicas for h in state.hpas}
    budgets = {p.service for p in state.pdbs}
    few = PolicyContext().few_replicas
    for svc in state.services:
        facts = shop.service(svc.name)
        if svc.readiness is None and facts.readiness_path is not None and svc.reachable:
            yield on("policy.readiness-probe", NO_PROBES, svc.name)
        if svc.prestop_sleep_seconds is None and svc.reachable:  # a worker without a Service gets no requests
            if svc.name == state.ingress.service:
                yield on("policy.prestop-vs-deregistration", NO_PRESTOP_ALB, svc.name)
            yield on("policy.prestop-vs-endpoint-propagation", NO_PRESTOP_ENDPOINTS, svc.name)
        if svc.termination_grace_period_seconds is None and (facts.shutdown_seconds > DEFAULT_GRACE_SECONDS):
            yield on("policy.grace-period", DEFAULT_GRACE, svc.name)
        replicas = svc.replicas if svc.replicas is not None else hpa_min.get(svc.name, 1)
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": svc.strategy.max_unavailable}}
        if replicas <= few and max_unavailable(strategy, replicas) > 0 and svc.name not in budgets:
            yield on("policy.rollout-safety", UPSTREAM_ROLLOUT, svc.name)


def _external(state: DesiredState, cfg: Config) -> Iterator[ExpectedFinding]:
    if cfg.secrets.provider != "none":
        return
    referenced = {e.secret for s in (*state.services, *state.stores) for e in s.secret_env}
    for name in sorted(referenced):
        yield ExpectedFinding(
            "policy.external-secret", EXTERNAL_SECRET, kind="Secret", name=name, namespace=state.namespace.name
        )


RELEASE_IMAGE_ON_DOCKER_HUB = (
    "the release's own image for this store has no confirmed public ECR copy of its version (DynamoDB local "
    "1.13.1 for the 0.7.1 app: AWS's public ECR repository holds newer versions), so it still pulls from Docker "
    "Hub; point stores.<name>.image at a copy in a registry without anonymous pull limits to drop this finding"
)


def _docker_hub_images(state: DesiredState, shop: Shop) -> Iterator[ExpectedFinding]:
    """Stores running the profile's own image where that image is only on Docker Hub (not a user's choice)."""
    release = {s.name: s.profile_image for s in shop.stores}
    for store in state.stores:
        if store.image == release.get(store.name) and pulls_from_docker_hub(store.image):
            yield ExpectedFinding(
                "security.image-registry-rate-limit",
                RELEASE_IMAGE_ON_DOCKER_HUB,
                kind=store.workload,
                name=store.name,
                namespace=state.namespace.name,
            )
