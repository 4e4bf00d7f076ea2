"""The values that make the story hold on a real cluster: probes that survive the surge, an HPA that
can scale in, and a replicas hand-off that keeps the ui's pods, asserted on parsed renders."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from shopgen.config import defaults
from shopgen.render import render_tree
from shopgen.story.shop import resolve

from conftest import STAGES, run_cli

APP_SERVICES = [s.name for s in resolve(defaults()).services]
PROBED_STAGES = STAGES[STAGES.index("readiness") :]
SCALED_STAGES = STAGES[STAGES.index("autoscaling") :]


def deployment(root: Path, stage: str, name: str) -> dict[str, Any]:
    return yaml.safe_load((root / f"environments/{stage}/{name}/deployment-{name}.yaml").read_text())


def container(root: Path, stage: str, name: str) -> dict[str, Any]:
    return deployment(root, stage, name)["spec"]["template"]["spec"]["containers"][0]


def render(tmp_path: Path, config: str = "") -> Path:
    out = tmp_path / "out"
    out.mkdir()
    if config:
        (out / "shopgen.yaml").write_text(config)
    result = run_cli("synth", "--out", out)
    assert result.code == 0, result.err
    return out


@pytest.mark.parametrize("stage", PROBED_STAGES)
@pytest.mark.parametrize("name", APP_SERVICES)
def test_liveness_is_a_deadlock_detector_and_startup_has_twice_the_start_time(stage: str, name: str, rendered: Path):
    facts = resolve(defaults()).service(name)
    c = container(rendered, stage, name)
    live, ready, startup = c["livenessProbe"], c["readinessProbe"], c["startupProbe"]
    assert live["httpGet"]["path"] == facts.liveness_path
    assert (live["periodSeconds"], live["failureThreshold"]) == (10, 6)  # a 60 s window
    assert live["timeoutSeconds"] == ready["timeoutSeconds"] == 5
    assert startup["httpGet"]["path"] == facts.liveness_path
    start = facts.start_seconds
    assert start == (60 if name in ("carts", "orders", "ui") else 30)
    assert startup["failureThreshold"] == math.ceil(2 * start / startup["periodSeconds"])
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 2 * start


def test_the_readiness_readme_states_the_budgets_it_renders(rendered: Path):
    readme = (rendered / "environments/readiness/README.md").read_text()
    assert "| startupProbe (ui) | period 5s x 24 = 120s, twice the 60s start time |" in readme
    assert "| livenessProbe | period 10s x failure 6: a deadlock detector" in readme


def test_the_baseline_has_no_probes(rendered: Path):
    for name in APP_SERVICES:
        c = container(rendered, "baseline", name)
        assert not {"livenessProbe", "readinessProbe", "startupProbe"} & set(c)


def test_liveness_can_be_switched_off_per_service(tmp_path: Path):
    out = render(tmp_path, "services:\n  ui:\n    liveness:\n      enabled: false\n")
    for stage in PROBED_STAGES:
        assert "livenessProbe" not in container(out, stage, "ui")
        assert "readinessProbe" in container(out, stage, "ui") and "startupProbe" in container(out, stage, "ui")
        assert "livenessProbe" in container(out, stage, "carts")
    result = run_cli("validate", "--all", "--out", out)
    assert result.code == 0, result.out[-3000:]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (
            "services:\n  ui:\n    liveness:\n      period_seconds: 3\n      failure_threshold: 3\n",
            "services.ui.liveness",
        ),
        ("services:\n  carts:\n    liveness:\n      timeout_seconds: 1\n", "services.carts"),
    ],
    ids=["course-window-9s", "timeout-below-readiness"],
)
def test_a_liveness_probe_that_restarts_under_load_is_refused(config: str, field: str, tmp_path: Path):
    (tmp_path / "shopgen.yaml").write_text(config)
    result = run_cli("synth", "--out", tmp_path)
    assert result.code == 2 and field in result.err, result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shopgen.yaml"]


def _hpa(root: Path, stage: str) -> dict[str, Any]:
    return yaml.safe_load((root / f"environments/{stage}/ui/horizontalpodautoscaler-ui.yaml").read_text())


def test_the_course_memory_metric_stays_and_can_be_dropped(rendered: Path, tmp_path: Path):
    for stage in SCALED_STAGES:
        metrics = {m["resource"]["name"]: m["resource"]["target"] for m in _hpa(rendered, stage)["spec"]["metrics"]}
        assert metrics == {
            "cpu": {"type": "Utilization", "averageUtilization": 55},
            "memory": {"type": "Utilization", "averageUtilization": 60},
        }
    shown = run_cli("validate", "--stage", "autoscaling", "--format", "json", "--out", rendered)
    assert '"policy.hpa-memory-vs-heap"' in shown.out
    out = render(tmp_path, "autoscaling:\n  hpa:\n    memory_utilization: null\n")
    for stage in SCALED_STAGES:
        assert [m["resource"]["name"] for m in _hpa(out, stage)["spec"]["metrics"]] == ["cpu"]
    checked = run_cli("validate", "--all", "--format", "json", "--out", out)
    assert checked.code == 0 and '"policy.hpa-memory-vs-heap"' not in checked.out


def _pointer_get(obj: dict[str, Any], pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        obj = obj[part]
    return obj


def _pointer_set(obj: dict[str, Any], pointer: str, value: Any) -> None:
    *parents, last = pointer.strip("/").split("/")
    for part in parents:
        obj = obj.setdefault(part, {})
    obj[last] = value


def test_the_replicas_hand_off_keeps_the_ui_at_two_pods(rendered: Path):
    """readiness -> autoscaling: the ui leaves spec.replicas to the HPA, and Argo CD applies the live count.

    Argo CD's RespectIgnoreDifferences pre-patches the desired object with the live values of the
    ignored fields before applying it (Argo CD docs, "Sync Options"); modelled here on the rendered objects.
    """
    live = deployment(rendered, "readiness", "ui")
    desired = deployment(rendered, "autoscaling", "ui")
    assert live["spec"]["replicas"] == 2 and "replicas" not in desired["spec"]
    files = render_tree(defaults(), ["autoscaling"], active="autoscaling").files  # argocd/ as promote renders it
    app_at_autoscaling = yaml.safe_load(files["argocd/application-shop.yaml"])
    spec = app_at_autoscaling["spec"]
    assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]
    ignored = [
        pointer
        for rule in spec["ignoreDifferences"]
        if (rule["kind"], rule["name"]) == ("Deployment", "ui")
        for pointer in rule["jsonPointers"]
    ]
    assert ignored == ["/spec/replicas"]
    applied = yaml.safe_load(yaml.safe_dump(desired))
    for pointer in ignored:
        _pointer_set(applied, pointer, _pointer_get(live, pointer))
    assert applied["spec"]["replicas"] >= 2
    readme = (rendered / "environments/autoscaling/README.md").read_text()
    assert "RespectIgnoreDifferences" in readme
