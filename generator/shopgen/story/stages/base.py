"""What a stage is: its story, its fix, its contract and one pure transform of the desired state.

A stage module under story/stages/ holds one ``STAGE``; the registry (story/stages/__init__.py)
puts them in story order and numbers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopgen.story.state import DesiredState

if TYPE_CHECKING:
    from shopgen.config import Config

READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
TG_ATTRIBUTES = "alb.ingress.kubernetes.io/target-group-attributes"
HEALTHCHECK_PATH = "alb.ingress.kubernetes.io/healthcheck-path"
CONTAINERS = "spec.template.spec.containers[*]"
ANNOTATION = 'metadata.annotations["{}"]'
POD_ANNOTATION = 'spec.template.metadata.annotations["{}"]'

Transform = Callable[[DesiredState, "Config"], DesiredState]


@dataclass(frozen=True)
class Contract:
    """What a stage's fix may change: kinds it may add, and (kind, field-path pattern) pairs.

    Patterns use the diff's path syntax: ``[*]`` is any list item, ``["a.b/c"]`` a key with dots.
    A pattern covers every change at or below it.
    """

    adds: tuple[str, ...] = ()
    changes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    story: str
    fix: str
    why: str
    contract: Contract
    transform: Transform
    watch: str  # str.format template: {namespace}, {hpa}, {cluster}, {region} come from the config
    # The values that matter in this stage, as (name, value) rows of its README.
    readme_values: Callable[[Config], list[tuple[str, str]]] = lambda _: []
    number: int = 0  # its place in the story, set by the registry
