"""Stage contracts: each fix's rendered change must stay inside what its stage declares."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from shopgen.config import Config
from shopgen.diff import changes_within, diff_resources, format_path
from shopgen.render import render_tree
from shopgen.story.stages import Stage, all_stages


@dataclass(frozen=True)
class Violation:
    stage: str
    resource: str
    field: str
    problem: str

    def __str__(self) -> str:
        where = f" {self.field}" if self.field else ""
        return f"{self.stage}: {self.resource}{where}: {self.problem}"


def stage_violations(stage: Stage, old: list[dict], new: list[dict]) -> list[Violation]:
    """What ``stage``'s render changes beyond its contract, compared with the previous stage's."""
    diff = diff_resources(old, new)
    contract = stage.contract
    found: list[Violation] = []
    for key, _ in diff.added:
        if key.kind not in contract.adds:
            found.append(Violation(stage.name, str(key), "", f"adds a {key.kind}, which the contract does not allow"))
    for key, _ in diff.removed:
        found.append(Violation(stage.name, str(key), "", "removes a resource; no stage contract allows removals"))
    for key, changes in diff.changed:
        patterns = [path for kind, path in contract.changes if kind == key.kind]
        for change in changes_within(changes, patterns):
            found.append(
                Violation(stage.name, str(key), format_path(change.path), "changes a field outside the contract")
            )
    return found


def check_contracts(cfg: Config) -> list[Violation]:
    """Every consecutive pair of stages, rendered fresh from ``cfg``, without its extensions: a contract
    holds shopgen's own fixes; the extensions are the user's, reported apart (synth, stages)."""
    rendered = render_tree(cfg, [s.name for s in all_stages()], extensions=False).resources
    manifests = {name: [r.manifest for r in resources] for name, resources in rendered.items()}
    violations: list[Violation] = []
    for previous, stage in pairwise(all_stages()):
        violations += stage_violations(stage, manifests[previous.name], manifests[stage.name])
    return violations
