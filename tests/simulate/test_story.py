"""The story's claims, predicted for the default shop: the ranking holds from half to twice each
per-request CPU cost, for any seed; the same seed gives the same bytes."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

from shopgen.simulate import Assumptions, predict
from shopgen.simulate.assumptions import DEFAULTS
from shopgen.simulate.report import to_data
from shopgen.simulate.traffic import CAUSES, OVERLOAD
from shopgen.story.stages import all_stages, get_stage

from conftest import run_cli

COSTS = {a.name: a.value for a in DEFAULTS if a.name.startswith("request_cost.")}


def prediction(shapes, default_config, factor: float = 1.0, seed: int = 1) -> dict:
    from shopgen.simulate.inputs import node_group

    params = Assumptions({name: value * factor for name, value in COSTS.items()})
    ordered = [shapes[s.name] for s in all_stages()]
    return to_data(predict(ordered, node_group(default_config), params, seed=seed, workers=2), ordered, default_config)


def errors(data: dict, scenario: str) -> dict[str, int]:
    return {
        stage["stage"]: next(s for s in stage["scenarios"] if s["scenario"] == scenario)["errors_5xx"]
        for stage in data["stages"]
    }


def causes(data: dict, stage: str) -> dict[str, int]:
    found = next(s for s in data["stages"] if s["stage"] == stage)
    total = dict.fromkeys(CAUSES, 0)
    for scenario in found["scenarios"]:
        for cause, count in scenario["by_cause"].items():
            total[cause] += count
    return total


def assert_story(data: dict) -> None:
    for scenario in ("surge", "rollout"):
        counts = errors(data, scenario)
        assert counts["baseline"] == max(counts.values()), (scenario, counts)
    assert errors(data, "rollout")["baseline"] > 0
    assert errors(data, "rollout")["prestop"] == 0
    for previous, stage in pairwise(s.name for s in all_stages()):
        for cause in get_stage(stage).removes:
            before, after = causes(data, previous)[cause], causes(data, stage)[cause]
            assert after <= before, (stage, cause, before, after)
            if before:
                assert after < before, (stage, cause, before, after)


def accounted(data: dict) -> None:
    """Every request is answered, failed for one cause, or still waiting when the load stops."""
    for stage in data["stages"]:
        for s in stage["scenarios"]:
            total = s["answered"] + s["errors_5xx"] + s["in_flight_at_end"]
            assert total == s["requests"], (stage["stage"], s["scenario"], total, s["requests"])


def test_the_model_loses_no_request(shapes, run):
    # The raw (fluid) counts, before any rounding for the report.
    for stage in ("baseline", "readiness", "autoscaling", "prestop"):
        for scenario in ("surge", "rollout"):
            tally = run(shapes[stage], scenario).tally
            total = tally.answered + sum(tally.errors.values()) + tally.in_flight_at_end
            assert abs(total - tally.requests) < 1e-6 * tally.requests, (stage, scenario, total, tally.requests)


FACTORS = [0.5, 0.7, 1.0, 1.4, 2.0]


@pytest.fixture(scope="module")
def across_costs(shapes, default_config) -> dict[float, dict]:
    return {factor: prediction(shapes, default_config, factor) for factor in FACTORS}


@pytest.mark.parametrize("factor", FACTORS)
def test_the_story_ranking_holds_from_half_to_twice_the_request_cost(across_costs, factor):
    assert_story(across_costs[factor])
    accounted(across_costs[factor])


def test_each_fix_removes_a_cause_that_is_there_to_remove(across_costs):
    # Not vacuously: somewhere in the range, the stage before has one of the causes this stage names
    # and this stage has less of it. The alb stage's cause is shown where targets differ
    # (test_least_outstanding_requests); killed mid-request, prestop's second, where requests are long
    # (test_termination): the default shop has neither before those stages.
    for previous, stage in pairwise(s.name for s in all_stages()):
        if stage == "alb":
            continue
        shown = [
            (factor, cause)
            for factor, data in across_costs.items()
            for cause in get_stage(stage).removes
            if causes(data, previous)[cause] > causes(data, stage)[cause]
        ]
        assert shown, stage


def test_every_stage_names_causes_the_model_knows():
    for stage in all_stages():
        assert set(stage.removes) <= set(CAUSES), stage.name


def test_the_default_cost_overloads_the_baseline_and_overprovisioning_absorbs_it(shapes, default_config):
    data = prediction(shapes, default_config)
    surge = {s["stage"]: s["scenarios"][0] for s in data["stages"]}
    assert surge["baseline"]["by_cause"][OVERLOAD] > surge["overprovisioning"]["by_cause"][OVERLOAD]
    assert surge["baseline"]["max_replicas"]["ui"] == 2
    assert surge["autoscaling"]["max_replicas"]["ui"] == 10
    assert surge["overprovisioning"]["max_nodes"] > surge["readiness"]["max_nodes"]
    removed = {(c["stage"], c["cause"]) for c in data["comparison"] if c["change"] == "removed"}
    assert ("readiness", "refused by a starting pod") in removed
    assert ("prestop", "draining target") in removed


@pytest.mark.parametrize("seed", [2, 3])
def test_other_seeds_tell_the_same_story(shapes, default_config, seed):
    data = prediction(shapes, default_config, seed=seed)
    assert_story(data)
    accounted(data)


def test_the_same_seed_gives_byte_identical_json(rendered):
    args = ("simulate", "--all", "--format", "json", "--duration", "300", "--seed", "7", "--out", rendered)
    first, second = run_cli(*args), run_cli(*args)
    assert first.code == 0, first.err
    assert first.out == second.out
    data = json.loads(first.out)
    assert data["schema"] == 1 and data["seed"] == 7
    assert [s["stage"] for s in data["stages"]] == [s.name for s in all_stages()]
