"""A Prediction as JSON (schema 1), as text, and the comparison that names what each fix removed."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shopgen.config import Config
from shopgen.simulate import Prediction
from shopgen.simulate.assumptions import DEFAULTS
from shopgen.simulate.engine import Outcome
from shopgen.simulate.traffic import CAUSES, STATUS
from shopgen.simulate.workload import StageShape
from shopgen.story.stages import get_stage

SCHEMA = 1
CAVEAT = (
    "A model's prediction under the assumptions listed (shopgen simulate --explain), not a measurement: "
    "the ones marked 'calibrate me' are orders of magnitude until you measure your own shop."
)


def scenario_summary(outcome: Outcome, shape: StageShape) -> dict[str, Any]:
    tally = outcome.tally
    parts = whole_parts(
        round(tally.requests),
        {
            **{cause: tally.errors.get(cause, 0.0) for cause in CAUSES},
            "answered": tally.answered,
            "end": tally.in_flight_at_end,
        },
    )
    by_cause = {cause: parts[cause] for cause in CAUSES}
    replicas = {
        w.name: (outcome.max_replicas.get(w.name) or _static_replicas(shape, w.name))
        for w in shape.workloads
        if w.priority >= 0
    }
    return {
        "scenario": outcome.scenario,
        "requests": round(tally.requests),
        "errors_5xx": sum(by_cause.values()),
        # The model's client sends valid requests and never runs out of connections: 4xx and
        # client-side failures need a real load test.
        "client_errors": 0,
        "by_cause": by_cause,
        "status": {str(code): sum(n for c, n in by_cause.items() if STATUS[c] == code) for code in (502, 503, 504)},
        "latency_ms": {"p50": tally.percentile(0.50), "p95": tally.percentile(0.95), "p99": tally.percentile(0.99)},
        "max_replicas": replicas,
        "max_nodes": outcome.max_nodes,
        # Pods no node could take when the load began (no NodePool yet, or the NodePool's CPU limit).
        "unscheduled": outcome.unscheduled,
        # Requests still waiting when the load stopped: requests = answered + errors + these.
        "in_flight_at_end": parts["end"],
        "answered": parts["answered"],
    }


def whole_parts(total: int, parts: dict[str, float]) -> dict[str, int]:
    """Fractional counts (requests travel in fluid batches) as whole numbers that add up to ``total``:
    each rounded down, the rest handed to the largest remainders (ties by name, so it is stable)."""
    floors = {name: int(value) for name, value in parts.items()}
    left = total - sum(floors.values())
    by_remainder = sorted(parts, key=lambda name: (-(parts[name] - floors[name]), name))
    for name in by_remainder[: max(0, left)]:
        floors[name] += 1
    return floors


def _static_replicas(shape: StageShape, name: str) -> int:
    workload = shape.workload(name)
    if workload.replicas is not None:
        return workload.replicas
    auto = next((a for a in shape.autoscalers if a.target == name), None)
    return auto.minimum if auto else 1


@dataclass(frozen=True)
class Change:
    scenario: str
    cause: str
    stage: str  # the stage whose fix made the change
    before: int
    after: int

    @property
    def verb(self) -> str:
        if self.after == 0:
            return "removed"
        if self.before == 0:
            return "introduced"
        return "reduced" if self.after < self.before else "increased"


def comparison(stages: Sequence[dict[str, Any]]) -> list[Change]:
    """Each cause whose count changes from one stage to the next, credited to the later stage's fix."""
    changes: list[Change] = []
    for previous, current in itertools.pairwise(stages):
        before = {s["scenario"]: s["by_cause"] for s in previous["scenarios"]}
        for scenario in current["scenarios"]:
            old = before.get(scenario["scenario"])
            if old is None:
                continue
            for cause in CAUSES:
                a, b = old[cause], scenario["by_cause"][cause]
                if a != b:
                    changes.append(Change(scenario["scenario"], cause, current["stage"], a, b))
    return changes


def to_data(prediction: Prediction, shapes: Sequence[StageShape], cfg: Config) -> dict[str, Any]:
    by_stage: dict[str, list[Outcome]] = {}
    for outcome in prediction.outcomes:
        by_stage.setdefault(outcome.stage, []).append(outcome)
    shape_of = {s.stage: s for s in shapes}
    stages = []
    for stage, outcomes in by_stage.items():
        fix = get_stage(stage)
        stages.append(
            {
                "stage": stage,
                "exposed": shape_of[stage].entry.service,
                "story": fix.text("story", cfg),
                "fix": fix.text("fix", cfg),
                "removes": list(fix.removes),
                "scenarios": [scenario_summary(o, shape_of[stage]) for o in outcomes],
            }
        )
    return {
        "schema": SCHEMA,
        "prediction": CAVEAT,
        "seed": prediction.seed,
        "assumptions": prediction.assumptions.describe(),
        "stages": stages,
        "comparison": [
            {
                "scenario": c.scenario,
                "cause": c.cause,
                "stage": c.stage,
                "before": c.before,
                "after": c.after,
                "change": c.verb,
            }
            for c in comparison(stages)
        ],
    }


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def _row(stage: dict[str, Any], scenario: str) -> dict[str, Any]:
    """A stage's summary of one scenario."""
    return next(s for s in stage["scenarios"] if s["scenario"] == scenario)


def _unscheduled(pending: dict[str, int], exposed: str) -> str:
    """`no node for 183 pods when the load begins, 2 of them ui's (svc-014, svc-015, svc-016, and 178 more)`."""
    names = list(pending)
    shown = ", ".join(names[:3]) + (f", and {len(names) - 3} more" if len(names) > 3 else "")
    own = f", {pending[exposed]} of them {exposed}'s" if exposed in pending else ""
    return f"no node for {sum(pending.values())} pods when the load begins{own} ({shown})"


def _ms(value: float) -> str:
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def to_text(data: dict[str, Any]) -> str:
    lines: list[str] = []
    scenarios = [s["scenario"] for s in data["stages"][0]["scenarios"]] if data["stages"] else []
    for scenario in scenarios:
        lines.append(f"{scenario}:")
        header = (
            f"  {'stage':<17}{'requests':>9}{'5xx':>9}{'p50':>9}{'p95':>9}{'p99':>9}{'pods':>6}{'nodes':>6}  causes"
        )
        lines.append(header)
        for stage in data["stages"]:
            row = _row(stage, scenario)
            causes = ", ".join(f"{c} {n:,}" for c, n in row["by_cause"].items() if n) or "-"
            pods = row["max_replicas"].get(stage["exposed"], 0)
            lat = row["latency_ms"]
            lines.append(
                f"  {stage['stage']:<17}{row['requests']:>9,}{row['errors_5xx']:>9,}{_ms(lat['p50']):>9}"
                f"{_ms(lat['p95']):>9}{_ms(lat['p99']):>9}{pods:>6}{row['max_nodes']:>6}  {causes}"
            )
        for stage in data["stages"]:
            row = _row(stage, scenario)
            if row["unscheduled"]:
                lines.append(f"  {stage['stage']}: {_unscheduled(row['unscheduled'], stage['exposed'])}")
        changes = [c for c in data["comparison"] if c["scenario"] == scenario]
        for change in changes:
            lines.append(
                f"  {change['stage']} {change['change']} {change['cause']}: {change['before']:,} -> {change['after']:,}"
            )
        lines.append("")
    lines.append(f"seed {data['seed']}. {data['prediction']}")
    return "\n".join(lines) + "\n"


def explain(params_described: dict[str, dict[str, Any]]) -> str:
    """Every assumption, its value and its source: what the prediction rests on."""
    width = max(len(a.name) for a in DEFAULTS)
    lines = ["The simulation's assumptions (override with --set NAME=VALUE):", ""]
    for name, item in params_described.items():
        lines.append(f"  {name:<{width}}  {item['value']} {item['unit']}  {item['meaning']}")
        lines.append(f"  {'':<{width}}  source: {item['source']}")
    return "\n".join(lines) + "\n"


MARKDOWN_LIMIT = 65_536  # a GitHub comment's maximum length


def to_markdown(data: dict[str, Any]) -> str:
    """A table per scenario across stages, and per stage what its fix removed, for a PR comment."""
    lines = ["## Predicted errors (shopgen simulate)", ""]
    rate = data["assumptions"]["load.rate"]["value"]
    duration = data["assumptions"]["load.duration"]["value"]
    lines.append(f"{rate} req/s for {duration} s per scenario, seed {data['seed']}. _{data['prediction']}_")
    lines.append("")
    scenarios = [s["scenario"] for s in data["stages"][0]["scenarios"]] if data["stages"] else []
    for scenario in scenarios:
        lines += [
            f"### {scenario}",
            "",
            "| stage | 5xx | p50 | p99 | max replicas | max nodes | causes |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for stage in data["stages"]:
            row = _row(stage, scenario)
            causes = ", ".join(f"{c} {n:,}" for c, n in row["by_cause"].items() if n) or "none"
            lines.append(
                f"| {stage['stage']} | {row['errors_5xx']:,} | {_ms(row['latency_ms']['p50'])} | "
                f"{_ms(row['latency_ms']['p99'])} | {row['max_replicas'].get(stage['exposed'], 0)} | "
                f"{row['max_nodes']} | {causes} |"
            )
        lines.append("")
        for stage in data["stages"]:
            row = _row(stage, scenario)
            if row["unscheduled"]:
                lines.append(f"- {stage['stage']}: {_unscheduled(row['unscheduled'], stage['exposed'])}")
        if lines[-1] != "":
            lines.append("")
    changes = data["comparison"]
    if changes:
        lines += ["<details><summary>What each stage's fix changed</summary>", ""]
        for change in changes:
            lines.append(
                f"- {change['scenario']}: **{change['stage']}** {change['change']} {change['cause']} "
                f"({change['before']:,} → {change['after']:,})"
            )
        lines += ["", "</details>", ""]
    text = "\n".join(lines) + "\n"
    if len(text) > MARKDOWN_LIMIT:
        cut = "\n\n_(cut to fit a comment; run `shopgen simulate --format json` for all of it)_\n"
        text = text[: MARKDOWN_LIMIT - len(cut)] + cut
    return text
