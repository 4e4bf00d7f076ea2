"""Stage 4: low-priority pause pods hold spare room that a burst takes at once."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.story.stages.base import Contract, Stage, plural
from shopgen.story.state import DesiredState, Overprovisioning

if TYPE_CHECKING:
    from shopgen.config import Config


def _overprovisioning(state: DesiredState, cfg: Config) -> DesiredState:
    """Low-priority pause pods hold spare room that real pods take at once during a burst."""
    o = cfg.overprovisioning
    return replace(
        state,
        overprovisioning=Overprovisioning(
            replicas=o.replicas, memory=o.memory, image=o.image, priority_value=o.priority_value
        ),
    )


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    return [
        ("pause pods", f"{cfg.overprovisioning.replicas} x {cfg.overprovisioning.memory}"),
        ("PriorityClass", f"`overprovisioning`, value {cfg.overprovisioning.priority_value}"),
    ]


def words(cfg: Config) -> dict[str, str]:
    """The prose's placeholders: the pause pods and their PriorityClass value."""
    o = cfg.overprovisioning
    return {"pause_pods": plural(o.replicas, "pause pod"), "memory": o.memory, "priority": str(o.priority_value)}


STAGE = Stage(
    readme_values=readme_values,
    words=words,
    name="overprovisioning",
    title="Overprovisioning: spare capacity absorbs a sudden burst",
    story="Spare capacity absorbs a sudden burst while Karpenter adds nodes.",
    removes=("timeout under overload",),
    fix="PriorityClass `overprovisioning` (value {priority}, not the global default) and a Deployment of "
    "{pause_pods} requesting {memory} each, one per node.",
    why="Real pods preempt the pause pods at once instead of waiting for a new node; Karpenter then "
    "brings up nodes for the evicted pause pods, ahead of the next burst.",
    contract=Contract(adds=("PriorityClass", "Deployment")),
    transform=_overprovisioning,
    watch="`kubectl get pods -n {namespace} -l app.kubernetes.io/name=overprovisioning -w`: pause pods "
    "are preempted first under load.",
)
