"""Nodes and pods: where pods fit, who preempts whom, and how Karpenter adds nodes.

State only, driven by the engine's processes. Scheduling follows kube-scheduler's defaults as far as
they decide the outcome here: a pod fits a node when its requests fit the node's allocatable minus
what is already requested there, required anti-affinity by hostname is honoured, pods of one
workload spread across nodes, and a pending pod preempts pods of lower priority (the overprovisioning
pause pods) when that makes it fit.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from shopgen.errors import ConfigError
from shopgen.simulate.workload import GIB, Workload

# vCPUs and GiB of memory per vCPU of the EC2 families a NodePool's instance categories allow
# (EC2 instance types docs: t3.large 2 vCPU / 8 GiB, c5.large 2 / 4, m5.large 2 / 8, r5.large 2 / 16).
_SIZE_VCPUS = {"medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48}
_GIB_PER_VCPU = {"t": 4.0, "m": 4.0, "c": 2.0, "r": 8.0}
_INSTANCE = re.compile(r"^([a-z]+)[0-9][a-z0-9-]*\.([0-9]*x?large|medium)$")
KARPENTER_SIZES = (2, 4, 8, 16)  # vCPUs of the general-purpose (m) sizes Karpenter picks from here


def instance_size(instance_type: str) -> tuple[float, float]:
    """(vCPUs, bytes of memory) of an EC2 instance type name such as ``t3.large``."""
    match = _INSTANCE.match(instance_type)
    if not match or match.group(2) not in _SIZE_VCPUS:
        raise ConfigError(
            f"simulate: platform.node_group.instance_types: cannot size {instance_type!r} "
            f"(known: families {', '.join(sorted(_GIB_PER_VCPU))}, sizes {', '.join(_SIZE_VCPUS)})"
        )
    family, size = match.group(1)[0], match.group(2)
    vcpus = _SIZE_VCPUS[size]
    gib = vcpus * _GIB_PER_VCPU.get(family, 4.0)
    if instance_type.startswith("t3.medium") or instance_type.startswith("t3a.medium"):
        gib = 4.0
    elif family == "t" and size == "large":
        gib = 8.0
    return float(vcpus), gib * GIB


def kube_reserved_cpu(vcpus: float) -> float:
    """EKS AMIs' kube-reserved CPU: 6 % of the first core, 1 % of the second, 0.5 % of the next two,
    0.25 % of the rest."""
    steps = ((1, 0.06), (1, 0.01), (2, 0.005), (math.inf, 0.0025))
    left, reserved = vcpus, 0.0
    for cores, share in steps:
        used = min(left, cores)
        reserved += used * share
        left -= used
        if left <= 0:
            break
    return reserved


@dataclass(eq=False)
class Node:
    name: str
    cpu: float  # allocatable cores
    memory: float  # allocatable bytes
    base_cpu: float  # requested by pods outside the shop (system, daemonsets)
    base_memory: float
    managed: bool
    vcpus: float = 0.0  # capacity, as a NodePool's limits count it
    empty_since: float | None = None
    ready: bool = True
    pods: list[Pod] = field(default_factory=list)
    images: set[str] = field(default_factory=set)

    def requested(self) -> tuple[float, float]:
        cpu = self.base_cpu + sum(p.workload.cpu for p in self.pods)
        memory = self.base_memory + sum(p.workload.memory for p in self.pods)
        return cpu, memory

    def fits(self, pod: Pod, ignoring: tuple[Pod, ...] = ()) -> bool:
        cpu, memory = self.requested()
        cpu -= sum(p.workload.cpu for p in ignoring)
        memory -= sum(p.workload.memory for p in ignoring)
        if cpu + pod.workload.cpu > self.cpu + 1e-9 or memory + pod.workload.memory > self.memory + 1e-9:
            return False
        if pod.workload.spread_one_per_node:
            return not any(p.workload.name == pod.workload.name and p not in ignoring for p in self.pods)
        return True


@dataclass(eq=False)
class Pod:
    """A pod and everything the engine tracks about it; the engine's processes move it along."""

    uid: int
    workload: Workload
    revision: int
    created: float
    node: Node | None = None
    phase: str = "pending"  # pending -> starting -> running -> terminating -> gone
    listening: bool = False  # the app accepts requests
    started: bool = False  # startupProbe passed (or none)
    containers_ready: bool = False
    ready: bool = False
    up_since: float = 0.0  # when the app last began listening (warm-up counts from here)
    deleted_at: float | None = None
    restarts: int = 0
    life: int = 0  # bumps on every container (re)start: stale probe loops stop
    # Traffic (the exposed service's pods only).
    backlog: float = 0.0  # CPU seconds of accepted work not yet done
    done: float = 0.0  # CPU seconds done so far (batches finish when this passes their end)
    batches: list = field(default_factory=list)
    used: list = field(default_factory=list)  # (time, CPU seconds used in that tick), for metrics
    share: float = 0.0
    in_flight: float = 0.0  # requests accepted whose client still waits
    expired: int = 0  # leading batches whose clients have given up
    accepting: bool = True  # false from SIGTERM (plus the app's delay) on
    nominated: bool = False  # Karpenter launched a node for it
    bound_at: float = 0.0  # pod start time, as the HPA reads it
    ever_ready: bool = False
    ready_since: float = 0.0
    ordinal: int = 0  # its place among the pods of its workload and revision: the key of its draws
    backoff_until: float = -math.inf  # CrashLoopBackOff: the container restarts no sooner
    restarting: bool = False  # after a liveness restart, until the app listens again

    def outstanding(self) -> float:
        return self.in_flight

    @property
    def alive(self) -> bool:
        return self.phase in ("starting", "running", "terminating")


class Cluster:
    """Nodes and placement. Pods are placed by the scheduler the engine calls on every change."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.pending: list[Pod] = []
        self._ids = itertools.count(1)
        self._node_ids = itertools.count(1)
        self._ordinals: dict[tuple[str, int], int] = {}
        self.version = 0  # bumps when placement changes: CPU shares are recomputed then

    def add_node(
        self,
        *,
        vcpus: float,
        memory: float,
        managed: bool,
        base_cpu: float,
        base_memory: float,
        reserved_cpu: float = 0.0,
        reserved_memory: float = 0.0,
        ready: bool = True,
    ) -> Node:
        node = Node(
            name=f"{'ng' if managed else 'kp'}-{next(self._node_ids)}",
            cpu=vcpus - kube_reserved_cpu(vcpus) - reserved_cpu,
            memory=memory * 0.9 - reserved_memory,  # kube-reserved and eviction threshold, about 10 %
            base_cpu=base_cpu,
            base_memory=base_memory,
            managed=managed,
            vcpus=vcpus,
            ready=ready,
        )
        self.nodes.append(node)
        self.version += 1
        return node

    def new_pod(self, workload: Workload, revision: int, now: float) -> Pod:
        key = (workload.name, revision)
        self._ordinals[key] = self._ordinals.get(key, 0) + 1
        pod = Pod(next(self._ids), workload, revision, now, ordinal=self._ordinals[key])
        self.pending.append(pod)
        return pod

    def bind(self, pod: Pod, node: Node, now: float = 0.0) -> None:
        pod.node, pod.bound_at = node, now
        node.pods.append(pod)
        if pod in self.pending:
            self.pending.remove(pod)
        self.version += 1

    def unbind(self, pod: Pod) -> None:
        if pod.node is not None and pod in pod.node.pods:
            pod.node.pods.remove(pod)
            self.version += 1
        if pod in self.pending:
            self.pending.remove(pod)

    def best_node(self, pod: Pod) -> Node | None:
        """The ready node the pod fits best: fewest pods of its workload, then most free CPU."""
        fitting = [n for n in self.nodes if n.ready and n.fits(pod)]
        if not fitting:
            return None

        def score(node: Node) -> tuple[int, float, str]:
            same = sum(1 for p in node.pods if p.workload.name == pod.workload.name)
            return (same, -(node.cpu - node.requested()[0]), node.name)

        return min(fitting, key=score)

    def victims(self, pod: Pod) -> tuple[Node, tuple[Pod, ...]] | None:
        """Lower-priority pods whose eviction lets ``pod`` fit (the fewest, on the first such node)."""
        for node in sorted((n for n in self.nodes if n.ready), key=lambda n: n.name):
            lower = sorted(
                (p for p in node.pods if p.workload.priority < pod.workload.priority and p.phase != "gone"),
                key=lambda p: (p.workload.priority, -p.uid),
            )
            chosen: list[Pod] = []
            for candidate in lower:
                if node.fits(pod, tuple(chosen)):
                    break
                chosen.append(candidate)
            if chosen and node.fits(pod, tuple(chosen)):
                return node, tuple(chosen)
        return None

    def shop_cpu(self, exclude_managed: bool = True) -> float:
        return sum(n.cpu for n in self.nodes if not (exclude_managed and n.managed))


def plan_nodes(
    pods: list[Pod], *, cpu_room: float, allocatable: Callable[[int], tuple[float, float]]
) -> list[tuple[int, list[Pod]]]:
    """Karpenter's launch decision for a batch of pending pods: instances sized to the pods.

    The smallest general-purpose size that takes every remaining pod (else the largest), filled
    first-fit decreasing, one pod per node for workloads that require it; stops at the NodePool's
    CPU limit. ``allocatable(vcpus)`` is what a node of that size leaves for pods.
    """
    remaining = sorted(pods, key=lambda p: (-p.workload.cpu, -p.workload.memory, p.uid))
    plans: list[tuple[int, list[Pod]]] = []
    while remaining:
        need_cpu = sum(p.workload.cpu for p in remaining)
        need_mem = sum(p.workload.memory for p in remaining)
        vcpus = next(
            (s for s in KARPENTER_SIZES if allocatable(s)[0] >= need_cpu and allocatable(s)[1] >= need_mem),
            KARPENTER_SIZES[-1],
        )
        if vcpus > cpu_room:
            break
        cpu_left, mem_left = allocatable(vcpus)
        placed: list[Pod] = []
        for pod in list(remaining):
            single = pod.workload.spread_one_per_node and any(p.workload.name == pod.workload.name for p in placed)
            if single or pod.workload.cpu > cpu_left or pod.workload.memory > mem_left:
                continue
            placed.append(pod)
            remaining.remove(pod)
            cpu_left -= pod.workload.cpu
            mem_left -= pod.workload.memory
        if not placed:
            break
        plans.append((vcpus, placed))
        cpu_room -= vcpus
    return plans
