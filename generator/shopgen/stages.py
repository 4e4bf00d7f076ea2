"""The six stages of the story as data, each with one small pure transform.

Stage N's desired state is stage N-1's plus fix N. A stage's contract lists what its fix may change;
`shopgen diff --contract` and the tests hold every render to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from shopgen import app
from shopgen.config import Config
from shopgen.errors import StageError
from shopgen.model import (
    AppService,
    DesiredState,
    ExternalSecret,
    Hpa,
    HttpProbe,
    Ingress,
    Namespace,
    NodeClass,
    NodePool,
    Overprovisioning,
    Pdb,
    Resources,
    RollingUpdate,
    Store,
)

READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
TG_ATTRIBUTES = "alb.ingress.kubernetes.io/target-group-attributes"
HEALTHCHECK_PATH = "alb.ingress.kubernetes.io/healthcheck-path"
CONTAINERS = "spec.template.spec.containers[*]"

Transform = Callable[[DesiredState, Config], DesiredState]


@dataclass(frozen=True)
class Contract:
    """What a stage's fix may change: kinds it may add, and (kind, field-path pattern) pairs.

    Patterns use the diff's path syntax: ``[*]`` is any list item, ``["a.b/c"]`` a key with dots.
    A pattern covers every change at or below it.
    """

    adds: tuple[str, ...] = ()
    changes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stage:
    number: int
    name: str
    title: str
    story: str
    fix: str
    why: str
    contract: Contract
    transform: Transform
    watch: str  # str.format template: {namespace}, {hpa}, {cluster}, {region} come from the config


def _baseline(_: DesiredState, cfg: Config) -> DesiredState:
    """The retail store sample app as first deployed: no probes, no autoscaling, round-robin ALB."""
    return build_baseline(cfg)


def build_baseline(cfg: Config) -> DesiredState:
    services = tuple(_app_service(facts, cfg) for facts in app.service_facts(cfg.app.synthetic_services))
    stores = tuple(_store(facts, cfg) for facts in app.STORES)
    secrets: tuple[ExternalSecret, ...] = ()
    if cfg.secrets.provider == "external-secrets":
        secrets = tuple(
            ExternalSecret(
                name=s.name,
                owner=s.name.split("-")[0],
                keys=s.keys,
                remote_key=f"{cfg.cluster.name}/{cfg.namespace}/{s.name}",
                store=cfg.secrets.store,
                refresh_interval=cfg.secrets.refresh_interval,
            )
            for s in app.CREDENTIAL_SECRETS
        )
    return DesiredState(
        namespace=Namespace(name=cfg.namespace),
        services=services,
        stores=stores,
        ingress=Ingress(
            name="ui",
            service="ui",
            load_balancer_name=cfg.load_balancer_name,
            scheme=cfg.ingress.scheme,
            target_group_attributes=("load_balancing.algorithm.type=round_robin",),
        ),
        external_secrets=secrets,
    )


def _app_service(facts: app.ServiceFacts, cfg: Config) -> AppService:
    settings = cfg.services.get(facts.name)
    res = settings.resources
    return AppService(
        name=facts.name,
        image=_image(facts, cfg),
        replicas=settings.replicas,
        strategy=RollingUpdate(max_unavailable=facts.upstream_max_unavailable, max_surge=facts.upstream_max_surge),
        resources=Resources(cpu=res.cpu, memory=res.memory, memory_limit=res.memory_limit),
        config=facts.config,
        env=facts.env,
        secret_env=facts.secret_env,
        prometheus_path=facts.prometheus_path,
        hardened=facts.hardened,
        add_capabilities=facts.add_capabilities,
    )


def _image(facts: app.ServiceFacts, cfg: Config) -> str:
    image = f"{cfg.app.image_registry}/{facts.image}:{cfg.app.image_tag}"
    digest = cfg.app.image_digests.get(facts.name)
    return f"{image}@{digest}" if digest else image


def _store(facts: app.StoreFacts, cfg: Config) -> Store:
    settings = cfg.stores.get(facts.name)
    return Store(
        name=facts.name,
        owner=facts.owner,
        component=facts.component,
        workload=facts.workload,
        image=settings.image or facts.image,  # stores.<name>.image, else the release's
        container=facts.container,
        ports=facts.ports,
        env=facts.env,
        secret_env=facts.secret_env,
        args=facts.args,
        data_path=facts.data_path,
        cpu=settings.cpu,
        memory=settings.memory,
        storage_class=cfg.stores.storage_class if facts.workload == "StatefulSet" else None,
        storage_size=cfg.stores.storage_size,
    )


def _readiness(state: DesiredState, cfg: Config) -> DesiredState:
    """Probes on every app service; the ALB health check and readiness gate follow readiness."""
    facts = {f.name: f for f in app.service_facts(cfg.app.synthetic_services)}

    def probed(svc: AppService) -> AppService:
        s = cfg.services.get(svc.name)
        f = facts[svc.name]
        return replace(
            svc,
            readiness=HttpProbe(
                path=f.readiness_path,
                port=app.HTTP_PORT,
                period_seconds=s.readiness.period_seconds,
                timeout_seconds=s.readiness.timeout_seconds,
                failure_threshold=s.readiness.failure_threshold,
                success_threshold=s.readiness.success_threshold,
            ),
            liveness=HttpProbe(
                path=f.liveness_path,
                port=app.HTTP_PORT,
                period_seconds=s.liveness.period_seconds,
                timeout_seconds=s.liveness.timeout_seconds or s.readiness.timeout_seconds,
                failure_threshold=s.liveness.failure_threshold,
            )
            if s.liveness.enabled
            else None,
            startup=HttpProbe(
                path=f.liveness_path,
                port=app.HTTP_PORT,
                period_seconds=s.startup.period_seconds,
                failure_threshold=s.startup.failure_threshold,
            ),
        )

    ingress_target = facts[state.ingress.service]
    return replace(
        state,
        services=tuple(probed(s) for s in state.services),
        namespace=replace(state.namespace, labels=(*state.namespace.labels, (READINESS_GATE_LABEL, "enabled"))),
        ingress=replace(state.ingress, healthcheck_path=ingress_target.readiness_path),
    )


def _autoscaling(state: DesiredState, cfg: Config) -> DesiredState:
    """HPA on the ui, Karpenter nodes, and what consolidation needs: PDBs and protected stores."""
    hpa = cfg.autoscaling.hpa
    karpenter = cfg.karpenter
    services = tuple(replace(s, replicas=None) if s.name == hpa.target else s for s in state.services)

    def running(svc: AppService) -> int:
        return hpa.min_replicas if svc.replicas is None else svc.replicas

    return replace(
        state,
        services=services,
        hpas=(
            Hpa(
                target=hpa.target,
                min_replicas=hpa.min_replicas,
                max_replicas=hpa.max_replicas,
                cpu_utilization=hpa.cpu_utilization,
                memory_utilization=hpa.memory_utilization,
            ),
        ),
        pdbs=tuple(
            Pdb(service=s.name, max_unavailable=cfg.autoscaling.pdb_max_unavailable)
            for s in services
            if running(s) >= 2
        ),
        stores=tuple(replace(s, do_not_disrupt=True) for s in state.stores),
        nodepool=NodePool(
            name=karpenter.nodepool.name,
            nodeclass=karpenter.nodeclass.name,
            architectures=karpenter.nodepool.architectures,
            instance_categories=karpenter.nodepool.instance_categories,
            capacity_types=karpenter.nodepool.capacity_types,
            cpu_limit=karpenter.nodepool.cpu_limit,
            consolidate_after=karpenter.nodepool.consolidate_after,
            expire_after=karpenter.nodepool.expire_after,
        ),
        nodeclass=NodeClass(
            name=karpenter.nodeclass.name,
            ami_alias=karpenter.nodeclass.ami_alias,
            role=cfg.karpenter_node_role,
            discovery_tag=cfg.cluster.name,
            system_reserved_cpu=karpenter.nodeclass.system_reserved_cpu,
            system_reserved_memory=karpenter.nodeclass.system_reserved_memory,
        ),
    )


def _overprovisioning(state: DesiredState, cfg: Config) -> DesiredState:
    """Low-priority pause pods hold spare room that real pods take at once during a burst."""
    o = cfg.overprovisioning
    return replace(
        state,
        overprovisioning=Overprovisioning(
            replicas=o.replicas, memory=o.memory, image=o.image, priority_value=o.priority_value
        ),
    )


def _alb(state: DesiredState, _: Config) -> DesiredState:
    """The ALB sends each request to the target with the fewest in flight, not the next in turn."""
    attrs = tuple(
        "load_balancing.algorithm.type=least_outstanding_requests"
        if a.startswith("load_balancing.algorithm.type=")
        else a
        for a in state.ingress.target_group_attributes
    )
    return replace(state, ingress=replace(state.ingress, target_group_attributes=attrs))


def _prestop(state: DesiredState, cfg: Config) -> DesiredState:
    """Pods keep serving until the ALB and kube-proxy have stopped sending them traffic."""

    def draining(svc: AppService) -> AppService:
        s = cfg.services.get(svc.name)
        return replace(
            svc,
            prestop_sleep_seconds=s.prestop_sleep_seconds,
            termination_grace_period_seconds=s.termination_grace_period_seconds,
            strategy=replace(svc.strategy, max_unavailable=0),
        )

    delay = f"deregistration_delay.timeout_seconds={cfg.ingress.deregistration_delay_seconds}"
    return replace(
        state,
        services=tuple(draining(s) for s in state.services),
        ingress=replace(state.ingress, target_group_attributes=(*state.ingress.target_group_attributes, delay)),
    )


_ANNOTATION = 'metadata.annotations["{}"]'
_POD_ANNOTATION = 'spec.template.metadata.annotations["{}"]'

STAGES: tuple[Stage, ...] = (
    Stage(
        number=1,
        name="baseline",
        title="Baseline: the shop as first deployed",
        story="Under 100 req/s the ui fails: there are no probes, so pods that are not ready yet get "
        "traffic, and nothing scales.",
        fix="The shop of the retail store sample app 0.7.1 with no probes: ui with 2 replicas rolling out "
        "with maxSurge 50% / maxUnavailable 0, an ALB Ingress with round-robin target groups.",
        why="This is the fragile starting point the rest of the story repairs. Where the course left "
        "things out, shopgen completes them: standard app.kubernetes.io labels, credentials from "
        "External Secrets, and hardening on every pod (seccomp RuntimeDefault, no privilege "
        "escalation, no service-account token).",
        contract=Contract(),
        transform=_baseline,
        watch="`kubectl get pods -n {namespace} -l app.kubernetes.io/name=ui -w`: ui pods restart or are not "
        "ready and still receive traffic; 5xx and timeouts in vegeta's report.",
    ),
    Stage(
        number=2,
        name="readiness",
        title="Readiness: traffic only reaches pods that can serve",
        story="Traffic only reaches pods that can serve it.",
        fix="A readinessProbe on every app service (ui: /actuator/health/readiness, period 5s, timeout 5s, "
        "failure 3, success 3); a livenessProbe as a deadlock detector (period 10s, failure 6: a 60s "
        "window, timeout as readiness's) and a startupProbe with twice the start time on the liveness "
        "endpoint; the ALB health check follows the readiness endpoint and the namespace gets the pod "
        "readiness gate label.",
        why="The course set the ui's readinessProbe; shopgen gives every app service the same shape. "
        "Readiness is the fast signal that takes a busy pod out of rotation; liveness only restarts a "
        "process that has hung for a minute, because the course's liveness values (3 misses in 9s) "
        "restart a JVM that is merely saturated by the surge. The course's initialDelaySeconds becomes a "
        "startupProbe so liveness never kills a slow JVM, and the readiness gate makes a pod count as "
        "ready only once its ALB target is healthy.",
        contract=Contract(
            changes=(
                ("Deployment", f"{CONTAINERS}.readinessProbe"),
                ("Deployment", f"{CONTAINERS}.livenessProbe"),
                ("Deployment", f"{CONTAINERS}.startupProbe"),
                ("Namespace", f'metadata.labels["{READINESS_GATE_LABEL}"]'),
                ("Ingress", _ANNOTATION.format(HEALTHCHECK_PATH)),
            )
        ),
        transform=_readiness,
        watch="`kubectl get pods -n {namespace} -l app.kubernetes.io/name=ui -o wide -w`: new pods stay 0/1 "
        "until ready, and READINESS GATES shows 1/1 only once the ALB target is healthy; the target health "
        "the ALB sees: `aws elbv2 describe-target-health --region {region} --target-group-arn "
        "\"$(kubectl get targetgroupbindings -n {namespace} -o jsonpath='{{.items[0].spec.targetGroupARN}}')\"`.",
    ),
    Stage(
        number=3,
        name="autoscaling",
        title="Autoscaling: pods and nodes scale out with load",
        story="Pods and nodes scale out with load.",
        fix="HPA ui (autoscaling/v2): min 2, max 10, CPU 55%, memory 60%; the ui Deployment leaves "
        "spec.replicas to the HPA; Karpenter NodePool and EC2NodeClass `default` (v1 API); a "
        "PodDisruptionBudget for each app service with 2 or more replicas; the backing stores are "
        "protected from consolidation.",
        why="The course kept `replicas: 2`, which makes Argo CD and the HPA fight; shopgen leaves it out, "
        "and Argo CD ignores the ui's replicas with RespectIgnoreDifferences=true, which applies the live "
        "count instead of dropping the field (dropping it would reset the ui to 1 pod for a moment), so "
        "the ui keeps its 2 pods through the promotion from readiness. "
        "The course applied Karpenter v1beta1; shopgen renders the v1 API. Karpenter consolidation "
        "evicts pods, so PDBs keep services up and `karpenter.sh/do-not-disrupt` keeps the stores, "
        "whose data lives on emptyDir.",
        contract=Contract(
            adds=("HorizontalPodAutoscaler", "PodDisruptionBudget", "NodePool", "EC2NodeClass"),
            changes=(
                ("Deployment", "spec.replicas"),
                ("Deployment", _POD_ANNOTATION.format(DO_NOT_DISRUPT)),
                ("StatefulSet", _POD_ANNOTATION.format(DO_NOT_DISRUPT)),
            ),
        ),
        transform=_autoscaling,
        watch="`kubectl get hpa {hpa} -n {namespace} -w` and `kubectl get nodeclaims -w`: replicas and nodes "
        "follow the load.",
    ),
    Stage(
        number=4,
        name="overprovisioning",
        title="Overprovisioning: spare capacity absorbs a sudden burst",
        story="Spare capacity absorbs a sudden burst while Karpenter adds nodes.",
        fix="PriorityClass `overprovisioning` (value -1, not the global default) and a Deployment of 10 "
        "pause pods requesting 100Mi each, one per node.",
        why="Real pods preempt the pause pods at once instead of waiting for a new node; Karpenter then "
        "brings up nodes for the evicted pause pods, ahead of the next burst.",
        contract=Contract(adds=("PriorityClass", "Deployment")),
        transform=_overprovisioning,
        watch="`kubectl get pods -n {namespace} -l app.kubernetes.io/name=overprovisioning -w`: pause pods "
        "are preempted first under load.",
    ),
    Stage(
        number=5,
        name="alb",
        title="ALB: least outstanding requests",
        story="The ALB stops piling requests on slow targets.",
        fix="The target group's load_balancing.algorithm.type becomes least_outstanding_requests.",
        why="Round robin keeps sending requests to a target that is slow (a JVM warming up, a busy pod); "
        "least outstanding requests favours the targets that answer.",
        contract=Contract(changes=(("Ingress", _ANNOTATION.format(TG_ATTRIBUTES)),)),
        transform=_alb,
        watch="Latency percentiles in vegeta's report; `kubectl top pods -n {namespace} -l "
        "app.kubernetes.io/name=ui`: CPU spreads evenly over the ui pods (per-target request counts are "
        "the ALB's CloudWatch metric RequestCountPerTarget).",
    ),
    Stage(
        number=6,
        name="prestop",
        title="preStop: rollouts and scale-in without 5xx",
        story="Deployments and scale-in no longer cause 5xx.",
        fix="ui: preStop `sleep 80` and terminationGracePeriodSeconds 90; every other app service a "
        "preStop sleep of 10s and a grace period covering sleep + shutdown; deregistration delay 60s; "
        "every app service rolls out with maxUnavailable 0.",
        why="A terminating pod keeps getting requests until the ALB has deregistered it and kube-proxy "
        "has removed its endpoint; the preStop sleep covers that time and the grace period covers the "
        "sleep plus the shutdown. maxUnavailable 0 keeps the only pod of orders, checkout and assets "
        "serving during a rollout.",
        contract=Contract(
            changes=(
                ("Deployment", f"{CONTAINERS}.lifecycle"),
                ("Deployment", "spec.template.spec.terminationGracePeriodSeconds"),
                ("Deployment", "spec.strategy"),
                ("Ingress", _ANNOTATION.format(TG_ATTRIBUTES)),
            )
        ),
        transform=_prestop,
        watch="`kubectl rollout restart deployment/ui -n {namespace}` under load: no 5xx in vegeta's report.",
    ),
)

STAGE_BY_NAME = {s.name: s for s in STAGES}


def get_stage(name: str) -> Stage:
    try:
        return STAGE_BY_NAME[name]
    except KeyError:
        raise StageError(f"unknown stage {name!r}; stages: {', '.join(STAGE_BY_NAME)}") from None


def desired_states(cfg: Config, upto: str = STAGES[-1].name) -> dict[str, DesiredState]:
    """Every stage's desired state up to ``upto``, each the previous one plus its fix."""
    last = get_stage(upto).number
    states: dict[str, DesiredState] = {}
    state = build_baseline(cfg)
    for stage in STAGES[:last]:
        state = stage.transform(state, cfg)
        states[stage.name] = state
    return states
