"""The stage registry: one place for names and order, and a new stage is a module plus one registration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from shopgen.config import defaults
from shopgen.contracts import check_contracts
from shopgen.story.stages import all_stages, get_stage, registered, stage_names
from shopgen.story.stages.base import ANNOTATION, TG_ATTRIBUTES, Contract, Stage
from shopgen.story.state import DesiredState

from conftest import STAGES, kustomize_build, run_cli

SLOW_START = "slow_start.duration_seconds=30"


def _slow_start(state: DesiredState, _: Any) -> DesiredState:
    """A throw-away seventh fix: new ALB targets get 30 s of ramp-up before a full share of requests."""
    attributes = (*state.ingress.target_group_attributes, SLOW_START)
    return replace(state, ingress=replace(state.ingress, target_group_attributes=attributes))


SLOW_START_STAGE = Stage(
    name="slowstart",
    title="Slow start: new targets ramp up",
    story="A fresh pod is not flooded the second it turns ready.",
    fix="The target group gets slow_start.duration_seconds=30.",
    why="A JVM that has just started answers slowly until it is warm.",
    contract=Contract(changes=(("Ingress", ANNOTATION.format(TG_ATTRIBUTES)),)),
    transform=_slow_start,
    watch="`kubectl get pods -n {namespace} -w`",
    readme_values=lambda cfg: [("target group", SLOW_START)],
)


def test_every_place_reads_the_stage_names_from_the_registry():
    story = ("baseline", "readiness", "autoscaling", "overprovisioning", "alb", "prestop")
    assert stage_names() == STAGES == story  # the tests' STAGES come from the registry too
    rows = dict(get_stage("prestop").readme_values(defaults()))  # each stage carries its README rows
    assert rows["deregistration delay"] == "60s"
    assert [s.number for s in all_stages()] == list(range(1, len(STAGES) + 1))
    assert get_stage("alb").number == 5


def test_a_seventh_stage_is_one_module_and_one_registration(tmp_path: Path):
    with registered(SLOW_START_STAGE) as stage:
        assert stage.number == 7 and stage_names()[-1] == "slowstart"
        out = tmp_path / "out"
        rendered = run_cli("synth", "--out", out)
        assert rendered.code == 0, rendered.err
        folder = out / "environments/slowstart"
        assert kustomize_build(folder)
        ingress = yaml.safe_load((folder / "ui/ingress-ui.yaml").read_text())
        assert ingress["metadata"]["annotations"][TG_ATTRIBUTES].endswith(SLOW_START)
        assert "slow_start.duration_seconds=30" in (folder / "README.md").read_text()
        diff = run_cli("diff", "prestop", "slowstart", "--out", out)
        assert diff.code == 1 and TG_ATTRIBUTES in diff.out and "Deployment" not in diff.out
        assert [v for v in check_contracts(defaults()) if "slowstart" in str(v)] == []
        validated = run_cli("validate", "--stage", "slowstart", "--out", out)
        assert validated.code == 0, validated.out[-2000:]
    assert "slowstart" not in stage_names()
