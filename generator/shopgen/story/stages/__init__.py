"""The one registry of stages: every other place reads the stage names and order from here.

A new stage is a module under story/stages/ holding one ``STAGE`` (its data and transform) plus one
line in ``_IN_STORY_ORDER``; ``registered`` adds one for a test without touching this file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.errors import StageError, did_you_mean
from shopgen.story.stages import alb, autoscaling, baseline, overprovisioning, prestop, readiness
from shopgen.story.stages.base import Contract, Stage, Transform
from shopgen.story.stages.baseline import build_baseline

if TYPE_CHECKING:
    from shopgen.config import Config
    from shopgen.story.state import DesiredState

_IN_STORY_ORDER: list[Stage] = [
    baseline.STAGE,
    readiness.STAGE,
    autoscaling.STAGE,
    overprovisioning.STAGE,
    alb.STAGE,
    prestop.STAGE,
]

__all__ = ["Contract", "Stage", "Transform", "all_stages", "desired_states", "get_stage", "registered", "stage_names"]


def all_stages() -> tuple[Stage, ...]:
    """Every stage in story order, numbered from 1."""
    return tuple(replace(stage, number=i) for i, stage in enumerate(_IN_STORY_ORDER, start=1))


def stage_names() -> tuple[str, ...]:
    return tuple(stage.name for stage in _IN_STORY_ORDER)


def get_stage(name: str) -> Stage:
    for stage in all_stages():
        if stage.name == name:
            return stage
    raise StageError(f"unknown stage {name!r}; stages: {', '.join(stage_names())}{did_you_mean(name, stage_names())}")


def desired_states(cfg: Config, upto: str | None = None) -> dict[str, DesiredState]:
    """Every stage's desired state up to ``upto`` (default: the last), each the previous one plus its fix."""
    stages = all_stages()
    last = get_stage(upto).number if upto is not None else len(stages)
    states: dict[str, DesiredState] = {}
    state = build_baseline(cfg)
    for stage in stages[:last]:
        state = stage.transform(state, cfg)
        states[stage.name] = state
    return states


@contextlib.contextmanager
def registered(stage: Stage) -> Iterator[Stage]:
    """Add ``stage`` at the end of the story for the duration (a seventh stage, for tests and experiments)."""
    if stage.name in stage_names():
        raise StageError(f"stage {stage.name!r} exists already")
    _IN_STORY_ORDER.append(stage)
    try:
        yield get_stage(stage.name)
    finally:
        _IN_STORY_ORDER.remove(stage)
