"""The alb stage's fix: least outstanding requests spares slow targets, where targets differ.

On the default shop after overprovisioning every ui pod has a node of its own and nothing is slow, so
the alb stage has nothing to remove there (test_story). Targets differ when pods share a node's CPU:
the same objects with round robin and with least outstanding requests. (Cold targets are another
matter: least outstanding requests sends a target that just turned healthy a burst, the reason the
ALB offers slow start only with round robin; the model shows both sides of that.)
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
