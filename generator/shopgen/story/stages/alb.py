"""Stage 5: target groups route by least outstanding requests instead of round robin."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.story.stages.base import ANNOTATION, TG_ATTRIBUTES, Contract, Stage
from shopgen.story.state import DesiredState

if TYPE_CHECKING:
    from shopgen.config import Config


def _alb(state: DesiredState, _: Config) -> DesiredState:
    """The ALB sends each request to the target with the fewest in flight, not the next in turn."""
    attrs = tuple(
        "load_balancing.algorithm.type=least_outstanding_requests"
        if a.startswith("load_balancing.algorithm.type=")
        else a
        for a in state.ingress.target_group_attributes
    )
    return replace(state, ingress=replace(state.ingress, target_group_attributes=attrs))


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    return [("target group", "load_balancing.algorithm.type=least_outstanding_requests")]


STAGE = Stage(
    readme_values=readme_values,
    name="alb",
    title="ALB: least outstanding requests",
    story="The ALB stops piling requests on slow targets.",
    removes=("timeout under overload",),
    fix="The target group's load_balancing.algorithm.type becomes least_outstanding_requests.",
    why="Round robin keeps sending requests to a target that is slow (a JVM warming up, a busy pod); "
    "least outstanding requests favours the targets that answer.",
    contract=Contract(changes=(("Ingress", ANNOTATION.format(TG_ATTRIBUTES)),)),
    transform=_alb,
    watch="Latency percentiles in vegeta's report; `kubectl top pods -n {namespace} -l "
    "app.kubernetes.io/name={exposed}`: CPU spreads evenly over the {exposed} pods (per-target request "
    "counts are the ALB's CloudWatch metric RequestCountPerTarget).",
)
