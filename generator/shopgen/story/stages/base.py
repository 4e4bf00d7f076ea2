"""What a stage is: its story, its fix, its contract and one pure transform of the desired state.

A stage module under story/stages/ holds one ``STAGE``; the registry (story/stages/__init__.py)
puts them in story order and numbers them. Its prose is a str.format template filled from the config
(``Stage.text``), so a shop of one's own reads its own services and values, not the retail store's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def common_words(cfg: Config) -> dict[str, str]:
    """The placeholders every stage's prose may use, so each stage computes only its own."""
    return {
        "namespace": cfg.namespace,
        "cluster": cfg.cluster.name,
        "region": cfg.cluster.region,
        "exposed": cfg.ingress.service,
        "hpa": cfg.autoscaling.hpa.targets[0] if cfg.autoscaling.hpa.targets else cfg.ingress.service,
    }


def and_list(names: Sequence[str]) -> str:
    """Names as prose: "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def plural(count: int, noun: str) -> str:
    """A count with its noun, singular for 1: the config may set any count, 1 included."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Stage:
    """One stage. title, story, fix, why and watch are str.format templates (literal braces doubled):
    ``text`` fills them with ``common_words`` and the stage's own ``words``."""

    name: str
    title: str
    story: str
    fix: str
    why: str
    contract: Contract
    transform: Transform
    watch: str
    # The values that matter in this stage, as (name, value) rows of its README.
    readme_values: Callable[[Config], list[tuple[str, str]]] = lambda _: []
    # The stage's own placeholders, from the config (the exposed service, the HPA's values, ...).
    words: Callable[[Config], dict[str, str]] = lambda _: {}
    number: int = 0  # its place in the story, set by the registry
    # The failure causes (as `shopgen simulate` names them) this stage's fix is there to remove or reduce.
    removes: tuple[str, ...] = ()

    def text(self, field: str, cfg: Config) -> str:
        """``field`` (title, story, fix, why or watch) as it reads for the shop ``cfg`` declares."""
        template: str = getattr(self, field)
        return template.format(**{**common_words(cfg), **self.words(cfg)})
