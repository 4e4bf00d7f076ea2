"""The HorizontalPodAutoscaler's algorithm, as the Kubernetes documentation states it.

Pure functions: the simulation's HPA loop calls them every sync period with what metrics-server
would report. Source: Kubernetes docs, "Horizontal Pod Autoscaling" (algorithm details, support
for multiple metrics, default behavior).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetricSample:
    """One metric of one pod: usage and request in the same unit (CPU cores, bytes).

    ``ready`` False: a pod not yet ready (its CPU is not trusted); ``missing``: no metric at all (a
    pod without a node yet).
    """

    usage: float
    request: float
    ready: bool = True
    missing: bool = False


def metric_recommendation(
    current: int, samples: Sequence[MetricSample], target_utilization: float, tolerance: float = 0.1
) -> int:
    """desiredReplicas = ceil(currentReplicas * currentMetricValue / desiredMetricValue).

    Utilization is averaged over ready pods; within ``tolerance`` of 1.0 nothing changes. Then, as
    the controller does, conservatively: pods without a metric count as using 100 % of their request
    when the ratio says scale down and 0 % when it says scale up; when it says scale up, pods not yet
    ready count as 0 % too. If that flips the direction or falls inside the tolerance, or the new count
    goes against the direction, nothing changes.
    """
    ready = [s for s in samples if s.ready and not s.missing]
    if current <= 0 or not ready:
        return current
    target = target_utilization / 100.0
    ratio = _utilization(ready) / target
    missing = [s for s in samples if s.missing]
    unready = [s for s in samples if not s.ready and not s.missing]
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return current
        return _ceil(ratio * len(ready))
    counted = list(ready)
    if missing:
        counted += [MetricSample(s.request if ratio < 1.0 else 0.0, s.request) for s in missing]
    if scale_up_with_unready:
        counted += [MetricSample(0.0, s.request) for s in unready]
    new_ratio = _utilization(counted) / target
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or (new_ratio < 1.0 < ratio):
        return current
    replicas = _ceil(new_ratio * len(counted))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current
    return replicas


def _ceil(value: float) -> int:
    """ceil of a ratio the controller computes in whole millicores: 0.75 * 4 is 3, not 3.0000000000000004."""
    return math.ceil(round(value, 9))


def _utilization(samples: Sequence[MetricSample]) -> float:
    requested = sum(s.request for s in samples)
    return sum(s.usage for s in samples) / requested if requested else 0.0


@dataclass
class Behavior:
    """The default scaling behavior: scale up at once, by max(100 %, 4 pods) per 15 s; scale down
    to the highest recommendation of the last 300 s, by at most 100 % per 15 s."""

    scale_down_stabilization: float = 300.0
    scale_up_stabilization: float = 0.0
    period: float = 15.0
    up_percent: float = 100.0
    up_pods: int = 4
    down_percent: float = 100.0
    _history: list[tuple[float, int]] = field(default_factory=list)
    _changes: list[tuple[float, int]] = field(default_factory=list)  # (time, replicas before the change)

    def decide(self, now: float, current: int, recommendation: int, minimum: int, maximum: int) -> int:
        """The replicas to set now, from the raw recommendation and this HPA's history."""
        self._history.append((now, recommendation))
        horizon = max(self.scale_down_stabilization, self.scale_up_stabilization)
        self._history = [(t, r) for t, r in self._history if now - t < horizon or t == now]
        stabilized = current
        if recommendation > current:
            window = [r for t, r in self._history if now - t < self.scale_up_stabilization or t == now]
            stabilized = max(current, min(window)) if window else recommendation
        elif recommendation < current:
            window = [r for t, r in self._history if now - t < self.scale_down_stabilization]
            stabilized = min(current, max(window))
        # Rate limits look back one period (a change exactly one period ago is outside it).
        self._changes = [(t, r) for t, r in self._changes if now - t < self.period]
        desired = self._limit_rate(now, current, stabilized)
        desired = max(minimum, min(maximum, desired))
        if desired != current:
            self._changes.append((now, current))
        return desired

    def _limit_rate(self, now: float, current: int, desired: int) -> int:
        # Policies count from the replicas at the start of the period (the oldest change inside it).
        base = self._changes[0][1] if self._changes else current
        if desired > current:
            limit = max(math.ceil(base * (1 + self.up_percent / 100.0)), base + self.up_pods)
            return min(desired, limit)
        if desired < current:
            limit = math.floor(base * (1 - self.down_percent / 100.0))
            return max(desired, limit)
        return desired
