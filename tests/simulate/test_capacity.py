"""With fixed replicas (no HPA), the overload the model predicts moves one way with traffic and replicas.

In a surge with fixed replicas nothing is rolled or scaled, so every error is the overload's: timeouts
in a pod's queue, and the probes that fail under it (no ready target, liveness restarts).
"""

from __future__ import annotations

from dataclasses import replace

import pytest


def fixed(shape, replicas: int):
    workloads = tuple(replace(w, replicas=replicas) if w.name == shape.entry.service else w for w in shape.workloads)
    return replace(shape, workloads=workloads, autoscalers=())


def overload_errors(run, shape, rate: float) -> float:
    return sum(run(shape, "surge", load__rate=rate, load__duration=300).tally.errors.values())


@pytest.mark.parametrize("stage", ["baseline", "readiness", "prestop"])
def test_more_traffic_never_gives_fewer_overload_errors(shapes, run, stage):
    counts = [overload_errors(run, fixed(shapes[stage], 2), rate) for rate in (20, 50, 80, 120, 200, 400)]
    assert counts == sorted(counts), counts
    assert counts[0] == 0 and counts[-1] > 0


@pytest.mark.parametrize("stage", ["overprovisioning", "alb", "prestop"])
@pytest.mark.parametrize("rate", [100, 300, 600])
def test_more_replicas_never_give_more_overload_errors(shapes, run, stage, rate):
    # Round robin (overprovisioning) and least outstanding requests (alb, prestop), each replica on a
    # node of its own. Where replicas must share nodes, round robin gives a replica with half a node's
    # CPU its equal share of traffic, so a fifth replica on three nodes can lose more than it adds:
    # what clusters show, and what the alb stage's fix is for (test_least_outstanding_requests).
    counts = [overload_errors(run, fixed(shapes[stage], n), rate) for n in (1, 2, 3, 5, 8)]
    assert counts == sorted(counts, reverse=True), counts
    assert counts[0] > counts[-1]


def test_pods_no_node_can_take_are_named_and_get_no_traffic(shapes, run):
    # 30 ui pods of 512Mi do not fit the three managed nodes, and the baseline has no NodePool.
    outcome = run(fixed(shapes["baseline"], 30), "surge", load__rate=50, load__duration=120)
    assert 0 < outcome.unscheduled["ui"] < 30
    assert outcome.max_nodes == 3
    # With Karpenter (prestop's NodePool) the same pods get nodes before the load begins.
    assert "ui" not in run(fixed(shapes["prestop"], 30), "surge", load__rate=50, load__duration=120).unscheduled
