"""The rule registry of layers 3 and 4: a ``Rule`` (id, severity, summary, prevents, check), the ``Hit`` its
check yields, and ``collect``, which gathers the ``RULES`` of concern modules into one ordered tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from types import ModuleType

from shopgen.validate.findings import Finding, Severity, format_path
from shopgen.validate.manifests import Manifest, PathParts, identity


@dataclass(frozen=True)
class Hit:
    """What a rule found, before the registry adds its id, severity and layer."""

    kind: str
    namespace: str | None
    name: str
    path: str
    message: str
    hint: str
    severity: Severity | None = None


def hit(manifest: Manifest, parts: PathParts | str, message: str, hint: str) -> Hit:
    """A ``Hit`` on ``manifest`` at ``parts`` (a path tuple, or a finding path already formatted)."""
    kind, namespace, name = identity(manifest)
    path = parts if isinstance(parts, str) else format_path(parts)
    return Hit(kind, namespace, name, path, message, hint)


@dataclass(frozen=True)
class Rule:
    """One rule: a stable id, what it checks, the failure it prevents, and the check itself."""

    id: str
    severity: Severity
    summary: str
    prevents: str
    check: Callable[..., Iterable[Hit]]

    def findings(self, hits: Iterable[Hit], layer: str) -> list[Finding]:
        return [
            Finding(self.id, h.severity or self.severity, h.kind, h.namespace, h.name, h.path, h.message, h.hint, layer)
            for h in hits
        ]


def collect(concerns: Iterable[ModuleType], order: Sequence[str] = ()) -> tuple[Rule, ...]:
    """The ``RULES`` every concern module declares, in one registry order.

    Rules whose id ``order`` lists come first, in that order; every other rule follows in the order of
    ``concerns`` and of its module's ``RULES``. A new rule is therefore one check function and one
    ``Rule`` in one concern module: it joins the registry (and the README table) without an edit here.
    """
    declared: list[Rule] = [rule for module in concerns for rule in module.RULES]
    rank = {rule_id: place for place, rule_id in enumerate(order)}
    return tuple(sorted(declared, key=lambda rule: rank.get(rule.id, len(rank))))  # stable: ties keep declaration order


def rules_markdown(rules: Iterable[Rule]) -> str:
    """A markdown table of rules: id, what it checks, the failure it prevents."""
    lines = ["| rule | checks | prevents |", "|---|---|---|"]
    for rule in rules:
        cells = (f"`{rule.id}`", rule.summary, rule.prevents)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def with_sources(findings: Iterable[Finding], pairs: Iterable[tuple[str, Manifest]]) -> list[Finding]:
    """Findings with ``source`` set to the file of the resource they name (when it has one)."""
    where = {identity(m): source for source, m in pairs if isinstance(m, dict)}
    return [f if f.source else replace(f, source=where.get((f.kind, f.namespace, f.name), "")) for f in findings]
