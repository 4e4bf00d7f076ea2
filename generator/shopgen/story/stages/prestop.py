"""Stage 6: preStop sleeps, grace periods and the deregistration delay: rollouts without 5xx."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.story.stages.base import ANNOTATION, CONTAINERS, TG_ATTRIBUTES, Contract, Stage
from shopgen.story.state import AppService, DesiredState

if TYPE_CHECKING:
    from shopgen.config import Config


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


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    s = cfg.services
    ui = cfg.services.ui
    return [
        ("ui", f"preStop sleep {ui.prestop_sleep_seconds}s, grace {ui.termination_grace_period_seconds}s"),
        *(
            (name, f"preStop sleep {svc.prestop_sleep_seconds}s, grace {svc.termination_grace_period_seconds}s")
            for name in type(s).model_fields
            if name != "ui"
            for svc in [getattr(s, name)]
        ),
        ("deregistration delay", f"{cfg.ingress.deregistration_delay_seconds}s"),
        ("rollout", "maxUnavailable 0 for every app service"),
    ]


STAGE = Stage(
    readme_values=readme_values,
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
            ("Ingress", ANNOTATION.format(TG_ATTRIBUTES)),
        )
    ),
    transform=_prestop,
    watch="`kubectl rollout restart deployment/ui -n {namespace}` under load: no 5xx in vegeta's report.",
)
