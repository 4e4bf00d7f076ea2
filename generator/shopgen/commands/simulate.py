"""`shopgen simulate`: each stage's predicted errors under the surge and in a rollout.

The workload comes from the stage trees as rendered (the files Argo CD applies, or a fresh
in-memory render with --render); only what no manifest holds comes from the service declarations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shopgen.commands.outcome import Outcome
from shopgen.config import Config, load_config
from shopgen.errors import ConfigError
from shopgen.output.state import read_active_stage
from shopgen.simulate.inputs import disk_manifests, node_group, runtime_facts
from shopgen.story.stages import get_stage, stage_names
from shopgen.workspace import output_root


def stage_objects(root: Path, cfg: Config, names: Sequence[str], *, fresh: bool) -> dict[str, list[Mapping[str, Any]]]:
    if fresh:
        from shopgen.render import render_tree

        rendered = render_tree(cfg, names).resources
        return {name: [r.manifest for r in rendered[name]] for name in names}
    missing = [n for n in names if not (root / "environments" / n).is_dir()]
    if missing:
        raise ConfigError(f"environments/{missing[0]}: not rendered; run `shopgen synth` or pass --render")
    return {name: disk_manifests(root, name) for name in names}


def run(
    *,
    out: Path | None,
    config_path: Path | None,
    stages: Sequence[str],
    all_stages: bool,
    scenario: str,
    sets: Sequence[str],
    rate: float | None,
    duration: float | None,
    seed: int,
    explain: bool,
    fresh: bool,
    fmt: str,
    plot: Path | None = None,
    jobs: int | None = None,
) -> Outcome:
    from shopgen import simulate
    from shopgen.simulate import report

    overrides = simulate.parse_sets(sets)
    for name, value in (("load.rate", rate), ("load.duration", duration)):
        if value is not None:
            if value <= 0:
                raise ConfigError(f"--{name.split('.')[1]}: must be greater than 0 (got {value:g})")
            overrides[name] = value
    params = simulate.Assumptions(overrides)
    if explain:
        return Outcome(out=report.explain(params.describe()))
    if stages and all_stages:
        raise ConfigError("give --stage or --all, not both")
    for name in stages:
        get_stage(name)
    root = output_root(out)
    cfg, _ = load_config(config_path, out_root=root)
    names = [n for n in stage_names() if n in set(stages)] if stages else None
    if names is None:
        names = list(stage_names()) if all_stages else [read_active_stage(root, cfg)]
    scenarios = simulate.SCENARIOS if scenario == "both" else (scenario,)
    shapes = simulate.shapes(stage_objects(root, cfg, names, fresh=fresh), runtime_facts(cfg))
    workers = min(len(shapes) * len(scenarios), jobs or os.cpu_count() or 1)
    prediction = simulate.predict(shapes, node_group(cfg), params, scenarios, seed=seed, workers=workers)
    data = report.to_data(prediction, shapes, cfg)
    render = {"json": report.to_json, "markdown": report.to_markdown}.get(fmt, report.to_text)
    outcome = Outcome(out=render(data))
    if plot is not None:
        from shopgen.simulate.plot import write_pictures

        written = write_pictures(data, prediction.outcomes, plot)
        outcome.err.append(f"plot: {len(written)} pictures in {plot}")
    return outcome
