"""Stage 2: probes on every app service; the ALB health check and readiness gate follow readiness."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.story import facts as app_facts
from shopgen.story.stages.base import ANNOTATION, CONTAINERS, HEALTHCHECK_PATH, READINESS_GATE_LABEL, Contract, Stage
from shopgen.story.state import AppService, DesiredState, HttpProbe

if TYPE_CHECKING:
    from shopgen.config import Config


def _readiness(state: DesiredState, cfg: Config) -> DesiredState:
    """Probes on every app service; the ALB health check and readiness gate follow readiness."""
    facts = {f.name: f for f in app_facts.service_facts(cfg.app.synthetic_services)}

    def probed(svc: AppService) -> AppService:
        s = cfg.services.get(svc.name)
        f = facts[svc.name]
        return replace(
            svc,
            readiness=HttpProbe(
                path=f.readiness_path,
                port=app_facts.HTTP_PORT,
                period_seconds=s.readiness.period_seconds,
                timeout_seconds=s.readiness.timeout_seconds,
                failure_threshold=s.readiness.failure_threshold,
                success_threshold=s.readiness.success_threshold,
            ),
            liveness=HttpProbe(
                path=f.liveness_path,
                port=app_facts.HTTP_PORT,
                period_seconds=s.liveness.period_seconds,
                timeout_seconds=s.liveness.timeout_seconds or s.readiness.timeout_seconds,
                failure_threshold=s.liveness.failure_threshold,
            )
            if s.liveness.enabled
            else None,
            startup=HttpProbe(
                path=f.liveness_path,
                port=app_facts.HTTP_PORT,
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


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    ui = cfg.services.ui
    return [
        (
            "ui readinessProbe",
            f"/actuator/health/readiness, period {ui.readiness.period_seconds}s, timeout "
            f"{ui.readiness.timeout_seconds}s, failure {ui.readiness.failure_threshold}, success "
            f"{ui.readiness.success_threshold}",
        ),
        (
            "livenessProbe",
            f"period {ui.liveness.period_seconds}s x failure {ui.liveness.failure_threshold}: a deadlock detector, "
            "timeout as readiness's"
            if ui.liveness.enabled
            else "none (services.ui.liveness.enabled: false)",
        ),
        (
            "startupProbe (ui)",
            f"period {ui.startup.period_seconds}s x {ui.startup.failure_threshold} = "
            f"{ui.startup.period_seconds * ui.startup.failure_threshold}s, twice the {ui.startup.start_seconds}s "
            "start time",
        ),
        ("namespace label", "`elbv2.k8s.aws/pod-readiness-gate-inject: enabled`"),
    ]


STAGE = Stage(
    readme_values=readme_values,
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
            ("Ingress", ANNOTATION.format(HEALTHCHECK_PATH)),
        )
    ),
    transform=_readiness,
    watch="`kubectl get pods -n {namespace} -l app.kubernetes.io/name=ui -o wide -w`: new pods stay 0/1 "
    "until ready, and READINESS GATES shows 1/1 only once the ALB target is healthy; the target health "
    "the ALB sees: `aws elbv2 describe-target-health --region {region} --target-group-arn "
    "\"$(kubectl get targetgroupbindings -n {namespace} -o jsonpath='{{.items[0].spec.targetGroupARN}}')\"`.",
)
