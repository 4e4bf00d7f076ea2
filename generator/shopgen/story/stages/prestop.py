"""Stage 6: preStop sleeps, grace periods and the deregistration delay: rollouts without 5xx."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.story.facts import ENDPOINT_PROPAGATION_SECONDS
from shopgen.story.shop import resolve
from shopgen.story.stages.base import ANNOTATION, CONTAINERS, TG_ATTRIBUTES, Contract, Stage, and_list
from shopgen.story.state import AppService, DesiredState

if TYPE_CHECKING:
    from shopgen.config import Config


def _prestop(state: DesiredState, cfg: Config) -> DesiredState:
    """Pods keep serving until the ALB and kube-proxy have stopped sending them traffic."""

    shop = resolve(cfg)

    def draining(svc: AppService) -> AppService:
        s = shop.service(svc.name)
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
    """The values that matter in this stage, for its README: the exposed service first."""
    shop = resolve(cfg)
    ordered = sorted(shop.services, key=lambda s: not s.exposed)
    return [
        *(
            (s.name, f"preStop sleep {s.prestop_sleep_seconds}s, grace {s.termination_grace_period_seconds}s")
            for s in ordered
        ),
        ("deregistration delay", f"{cfg.ingress.deregistration_delay_seconds}s"),
        ("rollout", "maxUnavailable 0 for every app service"),
    ]


def words(cfg: Config) -> dict[str, str]:
    """The prose's placeholders: the exposed service's drain, the others', and who has a single pod."""
    shop = resolve(cfg)
    exposed = shop.service(shop.exposed)
    single = [
        name for name, decl in cfg.services.items() if decl.replicas == 1 and name not in cfg.autoscaling.hpa.targets
    ]
    others = (
        f"every other app service a preStop sleep of {ENDPOINT_PROPAGATION_SECONDS}s and a grace period "
        "covering sleep + shutdown; "
        if len(shop.services) > 1
        else ""
    )
    return {
        "drain": f"{exposed.name}: preStop `sleep {exposed.prestop_sleep_seconds}` and "
        f"terminationGracePeriodSeconds {exposed.termination_grace_period_seconds}; {others}deregistration "
        f"delay {cfg.ingress.deregistration_delay_seconds}s",
        "kept": f"keeps the only pod of {and_list(single)} serving during a rollout"
        if single
        else "keeps every service serving during a rollout",
    }


STAGE = Stage(
    readme_values=readme_values,
    words=words,
    name="prestop",
    title="preStop: rollouts and scale-in without 5xx",
    story="Deployments and scale-in no longer cause 5xx.",
    removes=("draining target", "killed mid-request"),
    fix="{drain}; every app service rolls out with maxUnavailable 0.",
    why="A terminating pod keeps getting requests until the ALB has deregistered it and kube-proxy "
    "has removed its endpoint; the preStop sleep covers that time and the grace period covers the "
    "sleep plus the shutdown. maxUnavailable 0 {kept}.",
    contract=Contract(
        changes=(
            ("Deployment", f"{CONTAINERS}.lifecycle"),
            ("Deployment", "spec.template.spec.terminationGracePeriodSeconds"),
            ("Deployment", "spec.strategy"),
            ("Ingress", ANNOTATION.format(TG_ATTRIBUTES)),
        )
    ),
    transform=_prestop,
    watch="`kubectl rollout restart deployment/{exposed} -n {namespace}` under load: no 5xx in vegeta's report.",
)
