"""The HPA algorithm against the Kubernetes documentation's own examples ("Horizontal Pod Autoscaling")."""

from __future__ import annotations

import pytest

from shopgen.simulate.hpa import Behavior, MetricSample, metric_recommendation


def samples(usage: float, request: float, count: int, *, ready: bool = True) -> list[MetricSample]:
    return [MetricSample(usage, request, ready) for _ in range(count)]


def test_200m_against_a_100m_target_doubles_the_replicas():
    # "if the current metric value is 200m, and the desired value is 100m, the number of replicas will be
    # doubled, since 200.0 / 100.0 == 2.0": a 100 % utilization target with 200 % measured.
    assert metric_recommendation(3, samples(0.2, 0.1, 3), 100) == 6


def test_50m_against_a_100m_target_halves_them():
    assert metric_recommendation(4, samples(0.05, 0.1, 4), 100) == 2


@pytest.mark.parametrize("ratio", [0.91, 1.0, 1.062, 1.09])
def test_no_change_inside_the_tolerance(ratio):
    assert metric_recommendation(5, samples(0.1 * ratio, 0.1, 5), 100) == 5


def test_just_outside_the_tolerance_it_scales():
    assert metric_recommendation(10, samples(0.115, 0.1, 10), 100) == 12  # ceil(10 * 1.15)


def test_unready_pods_count_as_zero_on_scale_up():
    # 2 ready pods at 200 %, 2 starting: (2 * 2.0 + 2 * 0) / 4 = 1.0 -> inside the tolerance, no change.
    assert metric_recommendation(4, samples(0.2, 0.1, 2) + samples(0.5, 0.1, 2, ready=False), 100) == 4
    # Without the starting pods the same ready pods would double.
    assert metric_recommendation(2, samples(0.2, 0.1, 2), 100) == 4


def test_the_utilization_target_is_a_percentage_of_the_request():
    # 55 % of a 128m request is 70.4m; 140.8m measured is twice that.
    assert metric_recommendation(2, samples(0.1408, 0.128, 2), 55) == 4


def test_scale_down_waits_for_the_300_second_stabilization_window():
    behavior = Behavior()
    assert behavior.decide(0, 8, 8, 2, 10) == 8
    held = [behavior.decide(t, 8, 2, 2, 10) for t in range(15, 300, 15)]
    assert held == [8] * len(held)  # the highest recommendation of the last 300 s is still 8
    assert behavior.decide(300, 8, 2, 2, 10) == 2  # the 8 of t = 0 is out of the window (cutoff excluded)


def test_scale_up_is_immediate_but_limited_to_max_100_percent_or_4_pods_per_15_seconds():
    behavior = Behavior()
    assert behavior.decide(0, 2, 10, 2, 10) == 6  # max(2 * 2, 2 + 4)
    assert behavior.decide(5, 6, 10, 2, 10) == 6  # the 15 s period started at 2 pods
    assert behavior.decide(15, 6, 10, 2, 10) == 10  # a new period: max(12, 10) allows it
    behavior = Behavior()
    assert behavior.decide(0, 6, 30, 1, 50) == 12  # 100 % beats 4 pods


def test_min_and_max_replicas_bound_every_decision():
    behavior = Behavior()
    assert behavior.decide(0, 2, 100, 2, 10) == 6
    assert behavior.decide(15, 6, 100, 2, 10) == 10
    assert Behavior().decide(0, 3, 1, 2, 10) == 2  # no history to hold it: down to minReplicas


def test_pods_without_metrics_count_conservatively():
    # Two pods at 200 %, two pending (no node, no metric): on scale-up the missing count as 0 %,
    # (2 * 2.0 + 0) / 4 = 1.0: no change; on scale-down as 100 %: (2 * 0.5 + 2 * 1.0) / 4 = 0.75 -> 3.
    pending = [MetricSample(0.0, 0.1, missing=True)] * 2
    assert metric_recommendation(4, samples(0.2, 0.1, 2) + pending, 100) == 4
    assert metric_recommendation(4, samples(0.05, 0.1, 2) + pending, 100) == 3


def test_a_rebalanced_recommendation_never_goes_against_the_direction():
    # Ready pods at 120 %, one starting: (3 * 1.2 + 0) / 4 = 0.9 -> inside the tolerance -> no change,
    # never a scale-down while the ready pods are above target.
    assert metric_recommendation(4, samples(0.12, 0.1, 3) + samples(0.0, 0.1, 1, ready=False), 100) == 4
