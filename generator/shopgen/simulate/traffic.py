"""Requests: the ALB's choice of target and each pod's queue, as fluid batches per tick.

A pod serves its queue with its CPU share (its request plus its part of the node's idle CPU: no CPU
limits), first come first served. Requests arrive in batches per tick rather than one by one: a
batch's requests share the latency of its middle one (sent half a tick in, done after the work ahead
of it and half the batch's), which moves no count the model reports by more than a tick's worth
while keeping 1.2 million requests cheap.
"""

from __future__ import annotations

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


@dataclass
class Target:
    """An ALB target (target type ip): one pod."""

    pod: Pod
    state: str = "initial"  # initial -> healthy / unhealthy; draining once deregistered
    passes: int = 0
    fails: int = 0
    drained_at: float | None = None  # when the deregistration delay ends and the ALB cuts what is left


@dataclass
class Tally:
    """What the client saw in one scenario (or, for the rollout's warm-up, what nobody counts)."""

    requests: float = 0.0
    answered: float = 0.0
    errors: Counter = field(default_factory=Counter)
    latency: Counter = field(default_factory=Counter)  # whole milliseconds -> requests
    in_flight_at_end: float = 0.0

    def fail(self, cause: str, count: float) -> None:
        if count > 0:
            self.errors[cause] += count

    def answer(self, seconds: float, count: float) -> None:
        self.answered += count
        self.latency[round(seconds * 1000)] += count

    def time_out(self, timeout: float, count: float) -> None:
        self.fail(OVERLOAD, count)
        self.latency[round(timeout * 1000)] += count

    def percentile(self, q: float) -> float:
        """The q-quantile of answered and timed-out requests' latency, in milliseconds."""
        total = sum(self.latency.values())
        if total <= 0:
            return 0.0
        seen = 0.0
        for ms in sorted(self.latency):
            seen += self.latency[ms]
            if seen >= q * total - 1e-9:
                return float(ms)
        return float(max(self.latency))


@dataclass(slots=True)
class Batch:
    """Requests that reached a pod in one tick: they leave its queue together."""

    end: float  # the pod's cumulative work done when the batch is done
    count: float  # requests whose client still waits (0 once they gave up or were failed)
    arrival: float
    tally: Tally
    earliest: float  # a request runs on one thread: it takes at least its cost on one core
    half: float  # CPU seconds of the batch's first half: its middle request is done this much sooner


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


def enqueue(pod: Pod, count: float, cost: float, now: float, dt: float, tally: Tally) -> None:
    """``count`` requests reach a pod that accepts them during the tick from ``now``: they queue
    behind its backlog. The batch stands for its middle request: sent half a tick in, served after
    half the batch's work."""
    if count <= 0:
        return
    pod.backlog += count * cost
    arrival = now + dt / 2.0
    earliest = arrival + cost / min(1.0, max(pod.share, 1e-6))
    pod.batches.append(Batch(pod.done + pod.backlog, count, arrival, tally, earliest, count * cost / 2.0))
    pod.in_flight += count


def serve(pod: Pod, now: float, dt: float, timeout: float) -> float:
    """One tick of work on the pod's queue; returns the CPU seconds used.

    A batch is answered when the pod finishes it, at the latency it really had; a client whose
    request is not answered ``timeout`` after it was sent gives up (the pod still does the work).
    """
    share = max(pod.share, 0.0)
    before = pod.done
    used = min(pod.backlog, share * dt)
    pod.backlog -= used
    pod.done += used
    batches = pod.batches
    finished = 0
    while (
        finished < len(batches)
        and batches[finished].end <= pod.done + 1e-12
        and batches[finished].earliest <= now + dt + 1e-12
    ):
        batch = batches[finished]
        if batch.count:
            done_at = now + ((batch.end - batch.half - before) / share if share > 0 else dt)
            at = max(done_at, batch.earliest)
            latency = max(at - batch.arrival, 0.0)
            if latency > timeout:
                batch.tally.time_out(timeout, batch.count)
            else:
                batch.tally.answer(latency, batch.count)
            pod.in_flight -= batch.count
        finished += 1
    if finished:
        del batches[:finished]
        pod.expired = max(0, pod.expired - finished)
    # Batches arrive in order, so the ones whose clients have given up are the oldest.
    while pod.expired < len(batches) and batches[pod.expired].arrival + timeout <= now + dt:
        batch = batches[pod.expired]
        if batch.count:
            batch.tally.time_out(timeout, batch.count)
            pod.in_flight -= batch.count
            batch.count = 0.0
        pod.expired += 1
    if pod.backlog <= 1e-12:
        pod.backlog = 0.0
    return used


def fail_waiting(pod: Pod, cause: str) -> None:
    """Every request the pod holds fails for its client (the work, if any, stays the pod's)."""
    for batch in pod.batches:
        if batch.count:
            batch.tally.fail(cause, batch.count)
            batch.count = 0.0
    pod.in_flight = 0.0


def kill(pod: Pod, cause: str) -> None:
    """The container dies: every request it holds fails, its queue is gone."""
    fail_waiting(pod, cause)
    pod.batches.clear()
    pod.backlog = 0.0
    pod.expired = 0


def waiting(pod: Pod, tally: Tally) -> float:
    """Requests of ``tally`` the pod still holds."""
    return sum(b.count for b in pod.batches if b.tally is tally)


def probe_latency(pod: Pod, probe_cost: float) -> float:
    """A probe waits behind the pod's queue like any request."""
    return (pod.backlog + probe_cost) / max(pod.share, 1e-6)
