"""One scenario of one stage as a discrete-event simulation (SimPy).

Processes: the load (one tick of routed and served traffic at a time), each pod's start-up, probes
and termination, the ALB's health checks, the AWS Load Balancer Controller's (de)registration, the
HPA, the Deployment controller's rolling update, the scheduler with preemption, and Karpenter.
Every number it uses comes from the stage's rendered objects (StageShape) or a named assumption.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field

import simpy

from shopgen.simulate import traffic
from shopgen.simulate.assumptions import Assumptions
from shopgen.simulate.cluster import GIB, Cluster, Node, Pod, instance_size
from shopgen.simulate.controllers import Controllers
from shopgen.simulate.hpa import Behavior
from shopgen.simulate.pods import PodLife
from shopgen.simulate.traffic import Tally, Target
from shopgen.simulate.workload import StageShape, Workload

SURGE, ROLLOUT = "surge", "rollout"
SCENARIOS = (SURGE, ROLLOUT)


@dataclass(frozen=True)
class NodeGroup:
    """The managed node group terraform creates (no manifest holds it)."""

    instance_type: str
    count: int


@dataclass
class Outcome:
    stage: str
    scenario: str
    tally: Tally
    max_replicas: dict[str, int]
    max_nodes: int
    timeline: list[dict] = field(default_factory=list)
    unscheduled: dict[str, int] = field(default_factory=dict)  # pods with no node when the load begins


class Simulation(PodLife, Controllers):
    def __init__(
        self,
        shape: StageShape,
        node_group: NodeGroup,
        params: Assumptions,
        scenario: str,
        seed: int,
    ) -> None:
        self.shape, self.params, self.scenario = shape, params, scenario
        self.node_group = node_group
        self.seed = seed
        self.launches = 0
        self.env = simpy.Environment(initial_time=-params["rollout.warm_up"] if scenario == ROLLOUT else 0.0)
        self.cluster = Cluster()
        self.tally = Tally()
        self.entry = shape.workload(shape.entry.service)
        self.autoscaler = next((a for a in shape.autoscalers if a.target == self.entry.name), None)
        self.desired = self._initial_replicas(self.entry)
        self.revision = 1
        self.pods: list[Pod] = []  # the exposed service's pods, every revision
        self.targets: dict[int, Target] = {}
        self.max_replicas = Counter()
        self.max_nodes = 0
        self.timeline: list[dict] = []
        self._carry = 0.0
        self.behavior = Behavior(scale_down_stabilization=params["hpa.scale_down_stabilization"])
        self.counting = scenario == SURGE  # the rollout scenario counts from t = 0

    def draw(self, *key: object) -> float:
        """A uniform [0, 1) number keyed by what it is for (a pod's start-up, a probe's phase, a launch).

        Common random numbers: each draw depends on its key alone, never on how many draws came
        before, so two stages (or two sides of a diff) that differ in one object draw the same numbers
        for everything else, and what differs between their predictions is what that object changes.
        """
        return random.Random(":".join(map(str, (self.seed, self.scenario, *key)))).random()

    # -- set-up ------------------------------------------------------------------------------
    def _initial_replicas(self, workload: Workload) -> int:
        auto = next((a for a in self.shape.autoscalers if a.target == workload.name), None)
        if workload.replicas is not None:
            count = workload.replicas
            return max(auto.minimum, min(auto.maximum, count)) if auto else count
        return auto.minimum if auto else 1

    def _add_node(self, vcpus: float, memory: float, *, managed: bool, ready: bool = True) -> Node:
        p, cap = self.params, self.shape.capacity
        base_cpu = p["node.daemonset_cpu"] + (p["node.system_cpu"] if managed else 0.0)
        base_mem = (p["node.daemonset_memory"] + (p["node.system_memory"] if managed else 0.0)) * GIB
        reserved = (0.0, 0.0) if managed or cap is None else (cap.system_reserved_cpu, cap.system_reserved_memory)
        return self.cluster.add_node(
            vcpus=vcpus,
            memory=memory,
            managed=managed,
            base_cpu=base_cpu,
            base_memory=base_mem,
            reserved_cpu=reserved[0],
            reserved_memory=reserved[1],
            ready=ready,
        )

    def _setup(self) -> None:
        """The cluster as it stands before t = 0: every other workload placed (Karpenter adding the
        nodes they need), then the exposed service's pods spread over those nodes."""
        vcpus, memory = instance_size(self.node_group.instance_type)
        for _ in range(self.node_group.count):
            self._add_node(vcpus, memory, managed=True)
        others = sorted((w for w in self.shape.workloads if w is not self.entry), key=lambda w: (-w.priority, w.name))
        for workload in others:
            for _ in range(self._initial_replicas(workload)):
                self.cluster.new_pod(workload, self.revision, self.env.now)
        self._place_initial()
        self.pods = [self.cluster.new_pod(self.entry, self.revision, self.env.now) for _ in range(self.desired)]
        self._place_initial()
        self.unscheduled = dict(sorted(Counter(p.workload.name for p in self.cluster.pending).items()))
        for node in self.cluster.nodes:
            for pod in node.pods:
                node.images.add(pod.workload.image)
                self._running_from_the_start(pod)

    def _place_initial(self) -> None:
        self._place_all(initial=True)
        if self.shape.capacity is not None and self.cluster.pending:
            for vcpus, group in self._plans(self.cluster.pending):
                node = self._add_node(vcpus, vcpus * 4 * GIB, managed=False)
                for pod in group:
                    if node.fits(pod):
                        self.cluster.bind(pod, node)

    def _running_from_the_start(self, pod: Pod) -> None:
        pod.phase, pod.listening, pod.started, pod.containers_ready, pod.ready = "running", True, True, True, True
        pod.up_since = pod.bound_at = pod.ready_since = -math.inf
        pod.ever_ready = True
        if pod.workload is self.entry:
            target = Target(pod, state="healthy")
            self.targets[pod.uid] = target
            self.env.process(self._health_checks(target))
            self.env.process(self._probes(pod, pod.life, warm=True))

    def _place_all(self, initial: bool = False) -> None:
        for pod in sorted(self.cluster.pending, key=lambda p: (-p.workload.priority, p.uid)):
            node = self.cluster.best_node(pod)
            if node is None and not initial:
                found = self.cluster.victims(pod)
                if found is not None:
                    node, victims = found
                    for victim in victims:
                        self._evict(victim)
            if node is not None and node.fits(pod):
                self.cluster.bind(pod, node, self.env.now)
                if not initial:
                    self.env.process(self._boot(pod, pull=pod.workload.image not in node.images))
                    node.images.add(pod.workload.image)

    def _evict(self, victim: Pod) -> None:
        """Preemption: the pause pod goes at once (grace 0); its Deployment makes a new one."""
        self.cluster.unbind(victim)
        victim.phase = "gone"
        self.cluster.new_pod(victim.workload, victim.revision, self.env.now)

    # -- load --------------------------------------------------------------------------------
    def _rate(self, now: float) -> float:
        rate, ramp = self.params["load.rate"], self.params["load.ramp"]
        if self.scenario == SURGE and ramp > 0 and now < ramp:
            return rate * max(0.0, now) / ramp
        return rate

    def _load(self, end: float):
        dt = self.params["sim.tick"]
        # The client gives up at its timeout; an ALB waits no longer than its idle timeout (then 504).
        timeout = min(self.params["load.client_timeout"], self.params["alb.idle_timeout"])
        least = self.shape.entry.algorithm == "least_outstanding_requests"
        kind = self.entry.facts.runtime
        cost = self.params.runtime("request_cost", kind)
        factor = self.params.runtime("warmup_factor", kind)
        warmup = self.params.runtime("warmup_seconds", kind)
        warm_up = Tally()  # the rollout scenario's minutes before t = 0: served, not counted
        while self.env.now < end:
            now = self.env.now
            self.counting = now >= 0
            tally = self.tally if self.counting else warm_up
            self._close_drained(now)
            targets = self._routable()
            self._update_shares({t.pod.uid for t in targets})
            self._carry += self._rate(now) * dt
            arrivals, self._carry = math.floor(self._carry), self._carry - math.floor(self._carry)
            tally.requests += arrivals
            if not targets:
                tally.fail(traffic.NO_TARGET, arrivals)
            for target, count in traffic.split(arrivals, targets, least):
                pod = target.pod
                if pod.phase in ("gone", "pending") or not pod.accepting:
                    tally.fail(traffic.DRAINING, count)
                elif not pod.listening:
                    tally.fail(traffic.LIVENESS if pod.restarting else traffic.STARTING, count)
                else:
                    age = now - pod.up_since
                    slow = 1.0 + (factor - 1.0) * max(0.0, 1.0 - age / warmup) if warmup > 0 else 1.0
                    traffic.enqueue(pod, count, cost * slow, now, dt, tally)
            for pod in self.pods:
                if pod.alive and pod.node is not None:
                    used = traffic.serve(pod, now, dt, timeout)
                    pod.used.append((now, used))
            self._observe(now)
            yield self.env.timeout(dt)

    def _close_drained(self, now: float) -> None:
        """A target whose deregistration delay is over is gone from the ALB: what it still held fails."""
        for uid, target in list(self.targets.items()):
            if target.state == "draining" and target.drained_at is not None and target.drained_at <= now:
                if target.pod.alive:
                    traffic.fail_waiting(target.pod, traffic.DRAINING)
                del self.targets[uid]

    def _update_shares(self, routed: set[int]) -> None:
        """CPU share of each serving pod with work: the node's CPU that nothing else uses, split by
        CPU request (no CPU limits: CFS weighs runnable pods by request and hands out idle CPU)."""
        other_use = self.params["node.other_pods_cpu_use"]
        for node in self.cluster.nodes:
            serving = [p for p in node.pods if p.workload is self.entry and p.alive]
            if not serving:
                continue
            others = sum(p.workload.cpu for p in node.pods if p.workload is not self.entry)
            free = max(0.0, node.cpu - node.base_cpu - others * other_use)
            busy = [p for p in serving if p.listening and (p.backlog > 0 or p.uid in routed)]
            weight = sum(max(p.workload.cpu, 1e-3) for p in busy)
            for pod in serving:
                pod.share = free * max(pod.workload.cpu, 1e-3) / weight if pod in busy else pod.workload.cpu

    def _observe(self, now: float) -> None:
        live = [p for p in self.pods if p.alive]
        replicas = sum(1 for p in self.pods if p.deleted_at is None and p.phase != "gone")
        self.max_replicas[self.entry.name] = max(self.max_replicas[self.entry.name], replicas)
        nodes = sum(1 for n in self.cluster.nodes if n.ready)
        self.max_nodes = max(self.max_nodes, nodes)
        if self.counting and abs(now - round(now)) < 1e-9 and round(now) % 5 == 0:
            self.timeline.append(
                {
                    "t": round(now),
                    "requests": self.tally.requests,
                    "errors": dict(self.tally.errors),
                    "ready": sum(1 for p in live if p.ready),
                    "pods": len(live),
                    "nodes": nodes,
                }
            )
        horizon = now - self.params["hpa.metrics_window"]  # the HPA reads the CPU of the last window
        for pod in self.pods:
            cut = 0
            while cut < len(pod.used) and pod.used[cut][0] <= horizon:
                cut += 1
            del pod.used[:cut]

    # -- the run -----------------------------------------------------------------------------
    def run(self, duration: float) -> Outcome:
        self._setup()
        if self.autoscaler is not None:
            self.env.process(self._hpa())
        if self.shape.capacity is not None:
            self.env.process(self._karpenter())
        if self.scenario == ROLLOUT:
            self.env.process(self._rollout(self.params["rollout.at"]))
        self.env.process(self._load(duration))
        self.env.run(until=duration)
        # Requests still waiting when the load stops: neither answered nor failed.
        self.tally.in_flight_at_end = sum(traffic.waiting(p, self.tally) for p in self.pods if p.alive)
        return Outcome(
            stage=self.shape.stage,
            scenario=self.scenario,
            tally=self.tally,
            max_replicas=dict(self.max_replicas),
            max_nodes=self.max_nodes,
            timeline=self.timeline,
            unscheduled=self.unscheduled,
        )
