"""`shopgen simulate`: a model's prediction of each stage's errors under the surge and in a rollout.

Rendered objects in (StageShape per stage), a Prediction out; every constant is a named assumption.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopgen.simulate.assumptions import Assumptions, parse_sets
from shopgen.simulate.engine import ROLLOUT, SCENARIOS, SURGE, NodeGroup, Outcome, Simulation
from shopgen.simulate.workload import RuntimeFacts, StageShape, stage_shape

__all__ = [
    "ROLLOUT",
    "SCENARIOS",
    "SURGE",
    "Assumptions",
    "NodeGroup",
    "Outcome",
    "Prediction",
    "RuntimeFacts",
    "StageShape",
    "parse_sets",
    "predict",
    "shapes",
    "stage_shape",
]


@dataclass(frozen=True)
class Prediction:
    seed: int
    assumptions: Assumptions
    outcomes: tuple[Outcome, ...]  # story order, then scenario order


def shapes(manifests: Mapping[str, Iterable[Mapping[str, Any]]], facts: Mapping[str, RuntimeFacts]) -> list[StageShape]:
    return [stage_shape(stage, objs, facts) for stage, objs in manifests.items()]


def _one(job: tuple[StageShape, NodeGroup, dict[str, float], str, int]) -> Outcome:
    shape, group, overrides, scenario, seed = job
    params = Assumptions(overrides)
    return Simulation(shape, group, params, scenario, seed).run(params["load.duration"])


def predict(
    stage_shapes: Sequence[StageShape],
    node_group: NodeGroup,
    params: Assumptions,
    scenarios: Sequence[str] = SCENARIOS,
    seed: int = 1,
    workers: int = 1,
) -> Prediction:
    """Every (stage, scenario) run; independent runs, so they spread over ``workers`` processes."""
    jobs = [(shape, node_group, dict(params.overridden), s, seed) for shape in stage_shapes for s in scenarios]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
            outcomes = pool.map(_one, jobs)
    else:
        outcomes = [_one(job) for job in jobs]
    return Prediction(seed=seed, assumptions=params, outcomes=tuple(outcomes))
