"""Predicted impact of a change: the active stage's prediction at a git ref against the working tree.

For `shopgen diff --against REF --simulate`: a pull request that shortens a preStop shows
"rollout: 0 -> N 5xx (draining target)" next to the manifest diff that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopgen.simulate.assumptions import Assumptions
from shopgen.simulate.engine import SCENARIOS, NodeGroup, Simulation
from shopgen.simulate.report import CAVEAT, scenario_summary
from shopgen.simulate.traffic import CAUSES
from shopgen.simulate.workload import RuntimeFacts, StageShape, stage_shape

COMPARED = ("errors_5xx", "client_errors", "p99_ms", "max_nodes")


@dataclass(frozen=True)
class Side:
    """One scenario's numbers on one side of the change."""

    errors_5xx: int
    client_errors: int
    p99_ms: float
    max_nodes: int
    by_cause: dict[str, int]


@dataclass(frozen=True)
class ScenarioImpact:
    scenario: str
    before: Side
    after: Side

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def appeared(self) -> list[str]:
        return [c for c in CAUSES if not self.before.by_cause[c] and self.after.by_cause[c]]

    def disappeared(self) -> list[str]:
        return [c for c in CAUSES if self.before.by_cause[c] and not self.after.by_cause[c]]


@dataclass(frozen=True)
class Impact:
    stage_before: str
    stage_after: str
    scenarios: tuple[ScenarioImpact, ...]

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.scenarios)


def _side(shape: StageShape, group: NodeGroup, params: Assumptions, scenario: str, seed: int) -> Side:
    """One scenario's numbers, counted as `shopgen simulate` reports them."""
    outcome = Simulation(shape, group, params, scenario, seed).run(params["load.duration"])
    summary = scenario_summary(outcome, shape)
    return Side(
        summary["errors_5xx"],
        summary["client_errors"],
        summary["latency_ms"]["p99"],
        summary["max_nodes"],
        summary["by_cause"],
    )


Side_ = tuple[str, Iterable[Mapping[str, Any]], Mapping[str, RuntimeFacts], NodeGroup]


def predicted_impact(before: Side_, after: Side_, params: Assumptions, seed: int = 1) -> Impact:
    """Both scenarios on the active stage before and after: (stage, its objects, the declarations'
    facts, the node group) per side; same seed, same assumptions."""
    old = stage_shape(before[0], before[1], before[2])
    new = stage_shape(after[0], after[1], after[2])
    scenarios = tuple(
        ScenarioImpact(s, _side(old, before[3], params, s, seed), _side(new, after[3], params, s, seed))
        for s in SCENARIOS
    )
    return Impact(before[0], after[0], scenarios)


def _causes(side: Side) -> str:
    return ", ".join(c for c in CAUSES if side.by_cause[c])


def impact_lines(impact: Impact) -> list[str]:
    """One line per scenario: `rollout: 0 -> 450 5xx (draining target appears)`."""
    lines = []
    for s in impact.scenarios:
        b, a = s.before, s.after
        line = f"{s.scenario}: {b.errors_5xx:,} -> {a.errors_5xx:,} 5xx"
        notes = [f"{c} appears" for c in s.appeared()] + [f"{c} gone" for c in s.disappeared()]
        if not notes and a.errors_5xx:
            notes = [_causes(a)]
        if notes:
            line += f" ({'; '.join(notes)})"
        line += f", p99 {b.p99_ms:,.0f} -> {a.p99_ms:,.0f} ms, max nodes {b.max_nodes} -> {a.max_nodes}"
        lines.append(line if s.changed else f"{s.scenario}: no predicted change ({a.errors_5xx:,} 5xx)")
    return lines


def impact_markdown(impact: Impact) -> str:
    where = (
        impact.stage_after
        if impact.stage_before == impact.stage_after
        else (f"{impact.stage_before} → {impact.stage_after}")
    )
    lines = [f"### Predicted impact ({where})", ""]
    if not impact.changed:
        lines += ["No predicted change in either scenario.", ""]
    lines += ["| scenario | 5xx | client errors | p99 | max nodes | causes |", "|---|---|---|---|---|---|"]
    for s in impact.scenarios:
        b, a = s.before, s.after
        causes = [f"{c} appears" for c in s.appeared()] + [f"{c} gone" for c in s.disappeared()]
        lines.append(
            f"| {s.scenario} | {b.errors_5xx:,} → {a.errors_5xx:,} | {b.client_errors:,} → {a.client_errors:,} | "
            f"{b.p99_ms:,.0f} → {a.p99_ms:,.0f} ms | {b.max_nodes} → {a.max_nodes} | "
            f"{', '.join(causes) or _causes(a) or 'none'} |"
        )
    lines += ["", f"_{CAVEAT}_", ""]
    return "\n".join(lines)


def impact_json(impact: Impact) -> dict[str, Any]:
    return {
        "stage": {"before": impact.stage_before, "after": impact.stage_after},
        "changed": impact.changed,
        "scenarios": [
            {
                "scenario": s.scenario,
                "before": {**{k: getattr(s.before, k) for k in COMPARED}, "by_cause": s.before.by_cause},
                "after": {**{k: getattr(s.after, k) for k in COMPARED}, "by_cause": s.after.by_cause},
                "appeared": s.appeared(),
                "disappeared": s.disappeared(),
            }
            for s in impact.scenarios
        ],
        "prediction": CAVEAT,
    }
