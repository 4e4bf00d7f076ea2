"""Requests: the ALB's choice of target and each pod's queue, as fluid batches per tick.

A pod serves its queue with its CPU share (its request plus its part of the node's idle CPU: no CPU
limits), first come first served. Requests arrive in batches per tick rather than one by one: a
batch's requests share one latency (the queue ahead of its middle), which changes no count the
model reports by more than a tick's worth while keeping 1.2 million requests cheap.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from shopgen.simulate.cluster import Pod

NO_TARGET = "no ready target"
STARTING = "refused by a starting pod"
OVERLOAD = "timeout under overload"
KILLED = "killed mid-request"
LIVENESS = "liveness restart"
DRAINING = "draining target"
CAUSES = (NO_TARGET, STARTING, OVERLOAD, KILLED, LIVENESS, DRAINING)
# HTTP status the ALB answers each cause with (ELB docs: 502 refused or reset, 503 no registered
# target); a request the shop does not answer in time fails as a timeout the ALB would answer 504.
STATUS = {NO_TARGET: 503, STARTING: 502, OVERLOAD: 504, KILLED: 502, LIVENESS: 502, DRAINING: 502}

_BUCKET = 1.02  # latency histogram: 2 % wide buckets


@dataclass
class Target:
    """An ALB target (target type ip): one pod."""

    pod: Pod
    state: str = "initial"  # initial -> healthy / unhealthy; draining once deregistered
    passes: int = 0
    fails: int = 0
    drained_at: float | None = None


@dataclass
class Tally:
    """What the client saw in one scenario."""

    requests: float = 0.0
    answered: float = 0.0
    errors: Counter = field(default_factory=Counter)
    latency: Counter = field(default_factory=Counter)  # bucket -> requests

    def fail(self, cause: str, count: float) -> None:
        if count > 0:
            self.errors[cause] += count

    def answer(self, seconds: float, count: float) -> None:
        self.answered += count
        self.latency[_bucket(seconds)] += count

    def percentile(self, q: float) -> float:
        """The q-quantile of answered and timed-out requests' latency, in milliseconds."""
        total = sum(self.latency.values())
        if total <= 0:
            return 0.0
        seen = 0.0
        for bucket in sorted(self.latency):
            seen += self.latency[bucket]
            if seen >= q * total - 1e-9:
                return round(_BUCKET**bucket * 1000.0, 1)
        return round(_BUCKET ** max(self.latency) * 1000.0, 1)


def _bucket(seconds: float) -> int:
    return math.floor(math.log(max(seconds, 1e-4)) / math.log(_BUCKET))


def split(amount: float, targets: list[Target], least_outstanding: bool) -> list[tuple[Target, float]]:
    """How the ALB spreads ``amount`` requests: evenly (round robin) or to the fewest outstanding.

    Least outstanding requests fills the emptiest targets first (water-filling on their in-flight
    counts), so a slow target that piles requests up gets fewer new ones.
    """
    if not targets or amount <= 0:
        return []
    if not least_outstanding:
        share = amount / len(targets)
        return [(t, share) for t in targets]
    ordered = sorted(targets, key=lambda t: (t.pod.outstanding(), t.pod.uid))
    levels = [t.pod.outstanding() for t in ordered]
    left, level, count = amount, levels[0], 1
    while count < len(ordered) and left > (levels[count] - level) * count:
        left -= (levels[count] - level) * count
        level = levels[count]
        count += 1
    level += left / count
    return [(t, max(0.0, level - levels[i])) for i, t in enumerate(ordered) if i < count]


def enqueue(pod: Pod, count: float, cost: float, now: float, timeout: float, tally: Tally) -> None:
    """``count`` requests reach a pod that accepts them: they queue behind its backlog."""
    if count <= 0:
        return
    share = max(pod.share, 1e-6)
    work = count * cost
    latency = (pod.backlog + work / 2.0 + cost) / share
    pod.backlog += work
    end = pod.done + pod.backlog
    if latency > timeout:
        # The client gives up; the pod does not know and still does the work.
        tally.fail(OVERLOAD, count)
        tally.latency[_bucket(timeout)] += count
        pod.batches.append([end, 0.0, latency])
        return
    pod.batches.append([end, count, latency])
    pod.in_flight += count


def serve(pod: Pod, dt: float, tally: Tally) -> float:
    """One tick of work on the pod's queue; returns the CPU seconds used."""
    used = min(pod.backlog, max(pod.share, 0.0) * dt)
    pod.backlog -= used
    pod.done += used
    batches = pod.batches
    finished = 0
    while finished < len(batches) and batches[finished][0] <= pod.done + 1e-12:
        _, count, latency = batches[finished]
        if count:
            tally.answer(latency, count)
            pod.in_flight -= count
        finished += 1
    if finished:
        del batches[:finished]
    if pod.backlog <= 1e-12:
        pod.backlog = 0.0
        pod.in_flight = max(0.0, pod.in_flight) if batches else 0.0
    return used


def kill(pod: Pod, cause: str, tally: Tally) -> None:
    """The container dies: every request it holds fails, its queue is gone."""
    tally.fail(cause, sum(b[1] for b in pod.batches))
    pod.batches.clear()
    pod.backlog = 0.0
    pod.in_flight = 0.0


def probe_latency(pod: Pod, probe_cost: float) -> float:
    """A probe waits behind the pod's queue like any request."""
    return (pod.backlog + probe_cost) / max(pod.share, 1e-6)
