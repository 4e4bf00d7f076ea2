"""The alb stage's fix: least outstanding requests spares slow targets, where targets differ.

On the default shop after overprovisioning every ui pod has a node of its own and nothing is slow, so
the alb stage has nothing to remove there (test_story). Targets differ when pods share a node's CPU
or start cold (a JVM's JIT): the same objects with round robin and with least outstanding requests.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_capacity import fixed

from shopgen.simulate.traffic import OVERLOAD


def with_algorithm(shape, algorithm: str):
    return replace(shape, entry=replace(shape.entry, algorithm=algorithm))


@pytest.mark.parametrize("rate", [80, 100])
def test_pods_sharing_a_node_get_less_traffic_and_time_out_less(shapes, run, rate):
    # Four ui pods on three nodes: two share one node's CPU.
    packed = fixed(shapes["baseline"], 4)
    rr = run(with_algorithm(packed, "round_robin"), "surge", load__rate=rate, load__duration=300)
    lor = run(with_algorithm(packed, "least_outstanding_requests"), "surge", load__rate=rate, load__duration=300)
    assert rr.tally.errors[OVERLOAD] > 0
    assert lor.tally.errors[OVERLOAD] < rr.tally.errors[OVERLOAD]


def test_cold_jvm_pods_joining_a_surge_get_less_until_they_warm_up(shapes, run):
    # The overprovisioning and alb stages differ only in the algorithm; at 300 req/s the HPA's new,
    # cold pods would each get a tenth of the traffic under round robin.
    before = run(shapes["overprovisioning"], "surge", load__rate=300, load__duration=600).tally.errors
    after = run(shapes["alb"], "surge", load__rate=300, load__duration=600).tally.errors
    assert before[OVERLOAD] > 0
    assert after[OVERLOAD] < before[OVERLOAD]
    assert sum(after.values()) < sum(before.values())
