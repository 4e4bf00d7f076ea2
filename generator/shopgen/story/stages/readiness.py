"""Stage 2: probes on every app service; the ALB health check and readiness gate follow readiness."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.story.shop import resolve
from shopgen.story.stages.base import ANNOTATION, CONTAINERS, HEALTHCHECK_PATH, READINESS_GATE_LABEL, Contract, Stage
from shopgen.story.state import AppService, DesiredState, HttpProbe

if TYPE_CHECKING:
    from shopgen.config import Config


def _readiness(state: DesiredState, cfg: Config) -> DesiredState:
    """Probes from each service's endpoints; the ALB health check and readiness gate follow readiness."""
    shop = resolve(cfg)

    def probed(svc: AppService) -> AppService:
        decl = cfg.services[svc.name]
        facts = shop.service(svc.name)
        readiness = decl.readiness
        # The startup probe guards the liveness endpoint; a service without one still gets a start-up
        # budget on its readiness endpoint, so a slow start is never counted against readiness.
        startup_path = facts.liveness_path or facts.readiness_path
        return replace(
            svc,
            readiness=HttpProbe(
                path=facts.readiness_path,
                port=facts.port,
                period_seconds=readiness.period_seconds,
                timeout_seconds=readiness.timeout_seconds,
                failure_threshold=readiness.failure_threshold,
                success_threshold=readiness.success_threshold,
            )
            if facts.readiness_path
            else None,
            liveness=HttpProbe(
                path=facts.liveness_path,
                port=facts.port,
                period_seconds=decl.liveness.period_seconds,
                timeout_seconds=decl.liveness.timeout_seconds or readiness.timeout_seconds,
                failure_threshold=decl.liveness.failure_threshold,
            )
            if facts.liveness_path and decl.liveness.enabled
            else None,
            startup=HttpProbe(
                path=startup_path,
                port=facts.port,
                period_seconds=decl.startup.period_seconds,
                failure_threshold=decl.startup.failure_threshold(facts.start_seconds),
            )
            if startup_path
            else None,
        )

    return replace(
        state,
        services=tuple(probed(s) for s in state.services),
        namespace=replace(state.namespace, labels=(*state.namespace.labels, (READINESS_GATE_LABEL, "enabled"))),
        ingress=replace(state.ingress, healthcheck_path=shop.service(state.ingress.service).readiness_path),
    )


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    shop = resolve(cfg)
    name = shop.exposed
    exposed = cfg.services[name]
    start = shop.service(name).start_seconds
    threshold = exposed.startup.failure_threshold(start)
    rows = [
        (
            f"{name} readinessProbe",
            f"{exposed.health.readiness}, period {exposed.readiness.period_seconds}s, timeout "
            f"{exposed.readiness.timeout_seconds}s, failure {exposed.readiness.failure_threshold}, success "
            f"{exposed.readiness.success_threshold}",
        ),
        (
            "livenessProbe",
            f"period {exposed.liveness.period_seconds}s x failure {exposed.liveness.failure_threshold}: a deadlock "
            "detector, timeout as readiness's"
            if exposed.liveness.enabled
            else f"none (services.{name}.liveness.enabled: false)",
        ),
        (
            f"startupProbe ({name})",
            f"period {exposed.startup.period_seconds}s x {threshold} = "
            f"{exposed.startup.period_seconds * threshold}s, twice the {start}s start time",
        ),
        ("namespace label", "`elbv2.k8s.aws/pod-readiness-gate-inject: enabled`"),
    ]
    for svc in shop.services:
        if svc.readiness_path is None and svc.liveness_path is None:
            rows.append((svc.name, "no probes: it declares no health endpoint"))
        elif svc.readiness_path is None:
            rows.append((svc.name, "no readinessProbe: it declares no readiness endpoint (liveness and startup only)"))
        elif svc.liveness_path is None:
            rows.append((svc.name, "no livenessProbe: it declares no liveness endpoint (startup on readiness's)"))
    return rows


def words(cfg: Config) -> dict[str, str]:
    """The prose's placeholders: the exposed service's readiness and liveness values."""
    name = cfg.ingress.service
    decl = cfg.services[name]
    path = resolve(cfg).service(name).readiness_path
    r, live = decl.readiness, decl.liveness
    return {
        "readiness": f"{path}, period {r.period_seconds}s, timeout {r.timeout_seconds}s, failure "
        f"{r.failure_threshold}, success {r.success_threshold}"
        if path
        else "no readiness endpoint",
        "liveness": f"period {live.period_seconds}s, failure {live.failure_threshold}: a "
        f"{live.period_seconds * live.failure_threshold}s window",
    }


STAGE = Stage(
    readme_values=readme_values,
    words=words,
    name="readiness",
    title="Readiness: traffic only reaches pods that can serve",
    story="Traffic only reaches pods that can serve it.",
    removes=("refused by a starting pod",),
    fix="A readinessProbe on every app service ({exposed}: {readiness}); a livenessProbe as a deadlock "
    "detector ({liveness}, timeout as readiness's) and a startupProbe with twice the start time on the "
    "liveness endpoint; the ALB health check follows the readiness endpoint and the namespace gets the pod "
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
            ("Ingress", ANNOTATION.format(HEALTHCHECK_PATH)),
        )
    ),
    transform=_readiness,
    watch="`kubectl get pods -n {namespace} -l app.kubernetes.io/name={exposed} -o wide -w`: new pods stay 0/1 "
    "until ready, and READINESS GATES shows 1/1 only once the ALB target is healthy; the target health "
    "the ALB sees: `aws elbv2 describe-target-health --region {region} --target-group-arn "
    "\"$(kubectl get targetgroupbindings -n {namespace} -o jsonpath='{{.items[0].spec.targetGroupARN}}')\"`.",
)
