"""Rules of the model that no scenario shows on its own: the ALB's fail-open, common random numbers,
Karpenter's removal of an empty node."""

from __future__ import annotations

from dataclasses import replace

from shopgen.simulate import Assumptions
from shopgen.simulate.cluster import GIB
from shopgen.simulate.engine import Simulation
from shopgen.simulate.inputs import node_group


def test_the_alb_fails_open_onto_unhealthy_targets_and_never_onto_initial_ones(shapes, default_config):
    sim = Simulation(shapes["prestop"], node_group(default_config), Assumptions(), "surge", 1)
    sim._setup()
    first, second = sim.targets.values()
    assert sim._routable() == [first, second]  # both healthy
    first.state = "unhealthy"
    assert sim._routable() == [second]  # healthy ones only
    second.state = "initial"
    assert sim._routable() == [first]  # no healthy target: fail open, but not onto an initial one
    first.state = "initial"
    assert sim._routable() == []  # nothing but initial targets: 503, no ready target


def test_an_object_that_changes_nothing_changes_no_draw(shapes, run):
    # Common random numbers: draws are keyed by what they are for, not by how many came before, so a
    # workload that takes no room (and is placed first, shifting every pod's uid) changes nothing.
    shape = shapes["readiness"]  # probes flapping under overload: start-up and probe draws decide a lot
    idle = replace(shape.workload("assets"), name="aaa-idle", cpu=0.0, memory=0.0, replicas=3)
    bigger = replace(shape, workloads=(idle, *shape.workloads))
    for scenario in ("surge", "rollout"):
        a, b = run(shape, scenario), run(bigger, scenario)
        assert a.tally.errors == b.tally.errors and a.tally.latency == b.tally.latency, scenario
        assert a.tally.errors  # something happened that the draws could have changed


def test_karpenter_removes_a_node_that_stays_empty_for_consolidate_after(shapes, default_config):
    class WithAnEmptyNode(Simulation):
        def _setup(self) -> None:
            super()._setup()
            self.spare = self._add_node(4, 16 * GIB, managed=False)

    shape = shapes["prestop"]
    assert shape.capacity.consolidate_after == 60  # the NodePool's consolidateAfter: 1m
    sim = WithAnEmptyNode(shape, node_group(default_config), Assumptions({"load.rate": 1}), "surge", 1)
    outcome = sim.run(120)
    assert sim.spare not in sim.cluster.nodes
    assert outcome.max_nodes == len(sim.cluster.nodes) + 1


def test_a_pod_deleted_before_its_container_starts_skips_prestop(shapes, default_config):
    # The kubelet runs no preStop for a container that never started: the pod goes at once and frees
    # its node, where a running ui pod would sleep its 80 s preStop first.
    sim = Simulation(shapes["prestop"], node_group(default_config), Assumptions(), "surge", 1)
    sim._setup()
    sim.desired += 1
    sim._reconcile()
    (fresh,) = [p for p in sim.pods if not p.listening]
    running = next(p for p in sim.pods if p.phase == "running")
    sim.env.run(until=2)
    assert fresh.phase == "starting"  # pulling the image onto a node that has no ui pod yet
    sim._delete(fresh)
    sim._delete(running)
    sim.env.run(until=3)
    assert fresh.phase == "gone" and fresh not in fresh.node.pods  # its node has room again
    assert running.phase == "terminating"


def test_an_hpa_scale_down_mid_rollout_shrinks_the_new_revision_too(shapes, default_config):
    sim = Simulation(shapes["prestop"], node_group(default_config), Assumptions(), "surge", 1)
    sim._setup()
    sim.desired = 6
    sim._reconcile()
    sim.env.run(until=1)
    sim.revision += 1  # a new version while the HPA holds 6
    sim._reconcile()
    new = [p for p in sim.pods if p.revision == 2 and p.deleted_at is None]
    assert len(new) == 6 + 3 - 6  # maxSurge 50 % of 6: three new pods beside the six old ones
    sim.desired = 2  # the HPA scales down before any new pod is ready
    sim._reconcile()
    kept = [p for p in sim.pods if p.revision == 2 and p.deleted_at is None]
    assert len(kept) <= 2
