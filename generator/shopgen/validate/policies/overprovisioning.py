"""Overprovisioning: the pause pods hold the room they are meant to and give it up to every real pod
(lowest priority, never the global default).
"""

from __future__ import annotations

from collections.abc import Iterator

from shopgen.validate.manifests import (
    COMPONENT,
    Manifests,
    Pod,
    as_dict,
    identity,
    labels_of,
    priority_value,
    quantity,
)
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.rules import Hit, Rule, hit

OVERPROVISIONING_COMPONENT = "overprovisioning"


def _pause_pods(idx: Manifests) -> list[Pod]:
    return [p for p in idx.pods if p.component == OVERPROVISIONING_COMPONENT]


def check_overprovisioning_priority(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """Pause pods only make room if every real pod outranks them and can preempt them."""
    pause = _pause_pods(idx)
    others = [p for p in idx.pods if p.component != OVERPROVISIONING_COMPONENT]
    lowest = min(
        (v for v in (priority_value(idx, p.spec.get("priorityClassName")) for p in others) if v is not None),
        default=0,
    )
    for pod in pause:
        name = pod.spec.get("priorityClassName")
        value = priority_value(idx, name)
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
            for resource, value in as_dict(as_dict(container.get("resources")).get("requests")).items():
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


RULES: tuple[Rule, ...] = (
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
)
