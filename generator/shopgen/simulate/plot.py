"""Pictures of a prediction (matplotlib, the `plot` extra): one PNG per stage and scenario, one comparison.

Each stage's picture shows, over time: requests per second and the errors per second by cause
(stacked), the exposed service's pods and ready pods, and the nodes. The caption names the stage's
fix and says that this is a model's prediction.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shopgen.errors import ConfigError
from shopgen.simulate.engine import Outcome
from shopgen.simulate.traffic import CAUSES

SIZE = (10.0, 7.0)  # inches; at DPI, 1000 x 700 pixels
DPI = 100
COMPARISON_SIZE = (10.0, 5.0)  # 1000 x 500 pixels
_COLOURS = dict(zip(CAUSES, ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22"), strict=True))


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("--plot needs matplotlib: pip install 'shopgen[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rates(timeline: list[dict[str, Any]]) -> tuple[list[float], list[float], dict[str, list[float]]]:
    """Per-interval rates from the cumulative samples the engine takes every few seconds."""
    times, requests = [], []
    errors: dict[str, list[float]] = {c: [] for c in CAUSES}
    for before, after in itertools.pairwise(timeline):
        span = max(after["t"] - before["t"], 1e-9)
        times.append(after["t"])
        requests.append((after["requests"] - before["requests"]) / span)
        for cause in CAUSES:
            errors[cause].append((after["errors"].get(cause, 0.0) - before["errors"].get(cause, 0.0)) / span)
    return times, requests, errors


def stage_picture(outcome: Outcome, fix: str, caveat: str, exposed: str, path: Path) -> None:
    plt = _pyplot()
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=SIZE, dpi=DPI, sharex=True)
    times, requests, errors = _rates(outcome.timeline)
    top.plot(times, requests, color="#1f77b4", label="requests")
    shown = [c for c in CAUSES if any(errors[c])]
    if shown:
        top.stackplot(times, *(errors[c] for c in shown), labels=shown, colors=[_COLOURS[c] for c in shown], alpha=0.8)
    top.set_ylabel("per second (errors when they fail)")
    top.legend(loc="upper right", fontsize=8)
    samples = outcome.timeline[1:]
    middle.step(times, [s["pods"] for s in samples], where="post", label=f"{exposed} pods")
    middle.step(times, [s["ready"] for s in samples], where="post", label=f"{exposed} ready")
    middle.set_ylabel("pods")
    middle.legend(loc="upper right", fontsize=8)
    bottom.step(times, [s["nodes"] for s in samples], where="post", color="#2ca02c")
    bottom.set_ylabel("nodes")
    bottom.set_xlabel("time (s)")
    figure.suptitle(f"{outcome.stage}: {outcome.scenario}")
    figure.text(0.01, 0.005, f"Fix: {fix}\n{caveat}", fontsize=7, wrap=True, va="bottom")
    figure.tight_layout(rect=(0, 0.06, 1, 0.97))
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def comparison_picture(data: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=COMPARISON_SIZE, dpi=DPI)
    stages = [s["stage"] for s in data["stages"]]
    scenarios = [s["scenario"] for s in data["stages"][0]["scenarios"]] if stages else []
    width = 0.8 / max(len(scenarios), 1)
    p99 = axis.twinx()
    for i, scenario in enumerate(scenarios):
        rows = [next(s for s in stage["scenarios"] if s["scenario"] == scenario) for stage in data["stages"]]
        xs = [x + i * width for x in range(len(stages))]
        axis.bar(xs, [r["errors_5xx"] for r in rows], width, label=f"{scenario}: 5xx")
        p99.plot(
            xs, [r["latency_ms"]["p99"] / 1000 for r in rows], marker="o", linestyle="--", label=f"{scenario}: p99"
        )
    axis.set_xticks([x + width * (len(scenarios) - 1) / 2 for x in range(len(stages))], stages)
    axis.set_ylabel("5xx (requests)")
    p99.set_ylabel("p99 latency (s)")
    axis.legend(loc="upper left", fontsize=8)
    p99.legend(loc="upper right", fontsize=8)
    axis.set_title("Predicted 5xx and p99 by stage")
    figure.text(0.01, 0.01, data["prediction"], fontsize=7, wrap=True)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def write_pictures(data: dict[str, Any], outcomes: Sequence[Outcome], folder: Path) -> list[Path]:
    """Every picture into ``folder`` (created); the paths written."""
    _pyplot()  # a missing matplotlib is an error before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    stages = {s["stage"]: s for s in data["stages"]}
    written = []
    for outcome in outcomes:
        stage = stages[outcome.stage]
        path = folder / f"{outcome.stage}-{outcome.scenario}.png"
        stage_picture(outcome, stage["fix"], data["prediction"], stage["exposed"], path)
        written.append(path)
    path = folder / "comparison.png"
    comparison_picture(data, path)
    return [*written, path]
