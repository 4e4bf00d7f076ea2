"""The simulation reads each stage's shape from the rendered objects, not from the config."""

from __future__ import annotations

import pytest

from shopgen.errors import ConfigError
from shopgen.simulate import stage_shape
from shopgen.simulate.workload import RuntimeFacts


def test_baseline_has_no_probes_round_robin_and_the_default_deregistration(shapes):
    shape = shapes["baseline"]
    ui = shape.workload("ui")
    assert shape.entry.service == "ui"
    assert shape.entry.algorithm == "round_robin"
    assert shape.entry.deregistration_delay is None
    assert shape.entry.readiness_gate is False
    assert (ui.readiness, ui.liveness, ui.startup) == (None, None, None)
    assert ui.replicas == 2 and ui.cpu == pytest.approx(0.128) and ui.memory == 512 * 2**20
    assert (ui.prestop, ui.grace) == (0.0, 30.0)
    assert shape.capacity is None and shape.autoscalers == ()


def test_prestop_reads_probes_hpa_karpenter_and_the_ingress_attributes(shapes):
    shape = shapes["prestop"]
    ui = shape.workload("ui")
    assert ui.replicas is None  # the HPA owns spec.replicas
    assert (ui.readiness.period, ui.readiness.timeout, ui.readiness.success, ui.readiness.failure) == (5, 5, 3, 3)
    assert (ui.liveness.period, ui.liveness.failure) == (10, 6)
    assert ui.startup.failure == 24
    assert (ui.prestop, ui.grace) == (80.0, 90.0)
    assert ui.facts == RuntimeFacts("jvm", 60, 10)
    assert shape.entry.algorithm == "least_outstanding_requests"
    assert shape.entry.deregistration_delay == 60
    assert shape.entry.readiness_gate is True
    (hpa,) = shape.autoscalers
    assert (hpa.target, hpa.minimum, hpa.maximum, hpa.cpu_target, hpa.memory_target) == ("ui", 2, 10, 55, 60)
    assert shape.capacity.system_reserved_cpu == pytest.approx(0.1)
    pause = shape.workload("overprovisioning")
    assert (pause.priority, pause.replicas, pause.cpu, pause.spread_one_per_node) == (-1, 10, 0.0, True)


def test_rolling_update_numbers_round_as_the_deployment_controller_does(shapes):
    ui = shapes["prestop"].workload("ui")  # maxSurge 50 %, maxUnavailable 0
    assert ui.surge_and_unavailable(3) == (2, 0)
    assert ui.surge_and_unavailable(10) == (5, 0)


def test_a_patched_manifest_is_what_the_simulation_sees(rendered):
    from shopgen.simulate.inputs import disk_manifests as tree_manifests

    manifests = tree_manifests(rendered, "prestop")
    ui = next(m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "ui")
    ui["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1] = "sleep 3"
    shape = stage_shape("prestop", manifests, {})
    assert shape.workload("ui").prestop == 3.0


def test_a_stage_without_an_alb_ingress_is_a_clear_error(rendered):
    from shopgen.simulate.inputs import disk_manifests as tree_manifests

    manifests = [m for m in tree_manifests(rendered, "baseline") if m["kind"] != "Ingress"]
    with pytest.raises(ConfigError, match="no ALB Ingress"):
        stage_shape("baseline", manifests, {})
