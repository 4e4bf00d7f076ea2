"""The finding model every validation layer reports into, and the stage's expected findings.

Layers only append findings and bump counters; deciding what fails (``exit_code``) and how it is
shown (``to_text``/``to_json``) lives here, so all layers read the same to a user and to CI.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
FailOn = Literal["error", "warning"]

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def format_path(parts: Iterable[str | int]) -> str:
    """``("spec", "containers", 0, "image")`` -> ``spec.containers[0].image``.

    Keys that are not identifiers (label keys such as ``karpenter.sh/nodepool``) are shown in
    brackets, as the API server does, so a path is never ambiguous.
    """
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part}]")
    return "".join(out)


def join_path(base: str, relative: str) -> str:
    """Append a CEL ``fieldPath`` (``.foo[0]`` or ``foo``) to the path of the rule's location."""
    relative = relative.strip()
    if not relative:
        return base
    if relative.startswith(("[", ".")):
        return f"{base}{relative}" if base else relative.lstrip(".")
    return f"{base}.{relative}" if base else relative


@dataclass(frozen=True)
class Finding:
    """One problem (or note) about one resource, with where it is and how to fix it."""

    rule: str
    severity: Severity
    kind: str
    namespace: str | None
    name: str
    path: str
    message: str
    hint: str
    layer: str
    source: str = ""
    # Set when the stage declares this finding as expected; it is then shown but never fails.
    expected_reason: str | None = None

    @property
    def expected(self) -> bool:
        return self.expected_reason is not None

    def as_expected(self, reason: str) -> Finding:
        """The same finding, declared expected by the stage for ``reason``."""
        return replace(self, expected_reason=reason)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.source,
            self.kind,
            self.namespace or "",
            self.name,
            self.path,
            -SEVERITY_RANK[self.severity],
            self.rule,
            self.message,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def where(self) -> str:
        """``Kind/ns/name`` (or ``Kind/name`` for cluster-scoped objects)."""
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"


@dataclass(frozen=True)
class ExpectedFinding:
    """A finding a stage declares on purpose, with its reason; ``None`` fields match anything."""

    rule: str
    reason: str
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    path: str | None = None

    def matches(self, finding: Finding) -> bool:
        return (
            finding.rule == self.rule
            and (self.kind is None or finding.kind == self.kind)
            and (self.name is None or finding.name == self.name)
            and (self.namespace is None or finding.namespace == self.namespace)
            and (self.path is None or finding.path == self.path)
        )


@dataclass
class Report:
    """Findings of all layers for one run, plus counters that show how much was really checked."""

    findings: list[Finding] = field(default_factory=list)
    resources_checked: int = 0
    builtin_validated: int = 0
    custom_validated: int = 0
    cel_evaluated: int = 0
    # Transition rules (they use oldSelf): they only apply to updates, never to a new object.
    cel_not_applicable: int = 0
    # Rules that use a CEL function shopgen does not provide: reported, never passed silently.
    cel_not_evaluated: int = 0

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def merge(self, other: Report) -> None:
        """Fold another report (for example from another layer) into this one."""
        self.findings.extend(other.findings)
        self.resources_checked += other.resources_checked
        self.builtin_validated += other.builtin_validated
        self.custom_validated += other.custom_validated
        self.cel_evaluated += other.cel_evaluated
        self.cel_not_applicable += other.cel_not_applicable
        self.cel_not_evaluated += other.cel_not_evaluated

    def mark_expected(self, reason_for: Callable[[Finding], str | None]) -> None:
        """Mark each finding for which ``reason_for`` returns a reason as expected."""
        marked = []
        for finding in self.findings:
            reason = None if finding.expected else reason_for(finding)
            marked.append(finding.as_expected(reason) if reason else finding)
        self.findings = marked

    def apply_expected(self, expected: Sequence[ExpectedFinding]) -> list[ExpectedFinding]:
        """Mark findings a stage declares expected; return the declarations that matched nothing.

        Unmatched declarations are returned (not dropped) because a stale expectation hides the
        fact that the stage changed.
        """
        used: set[int] = set()

        def reason_for(finding: Finding) -> str | None:
            for index, item in enumerate(expected):
                if item.matches(finding):
                    used.add(index)
                    return item.reason
            return None

        self.mark_expected(reason_for)
        return [item for index, item in enumerate(expected) if index not in used]

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    def counts(self) -> dict[str, int]:
        by_severity = Counter(f.severity for f in self.findings if not f.expected)
        return {
            "resources_checked": self.resources_checked,
            "builtin_validated": self.builtin_validated,
            "custom_validated": self.custom_validated,
            "cel_evaluated": self.cel_evaluated,
            "cel_not_applicable": self.cel_not_applicable,
            "cel_not_evaluated": self.cel_not_evaluated,
            "errors": by_severity["error"],
            "warnings": by_severity["warning"],
            "infos": by_severity["info"],
            "expected": sum(1 for f in self.findings if f.expected),
        }

    def failing(self, fail_on: FailOn = "error") -> list[Finding]:
        """Unexpected findings at or above ``fail_on``."""
        if fail_on not in ("error", "warning"):
            raise ValueError(f"fail_on must be 'error' or 'warning', not {fail_on!r}")
        threshold = SEVERITY_RANK[fail_on]
        return [f for f in self.findings if not f.expected and SEVERITY_RANK[f.severity] >= threshold]

    def exit_code(self, fail_on: FailOn = "error") -> int:
        """0 when clean, 1 when an unexpected finding is at or above ``fail_on``."""
        return 1 if self.failing(fail_on) else 0

    def to_json(self) -> str:
        """Stable JSON (sorted findings and keys) so two runs diff cleanly."""
        data = {
            "summary": self.counts(),
            "findings": [f.to_dict() for f in self.sorted_findings()],
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def to_text(self) -> str:
        """One line per finding (plus its hint), then a summary line."""
        lines: list[str] = []
        for f in self.sorted_findings():
            label = "EXPECTED" if f.expected else f.severity.upper()
            where = f"{f.where()} {f.path}".rstrip()
            source = f" ({f.source})" if f.source else ""
            lines.append(f"{label:<8} {f.rule} {where}: {f.message}{source}")
            if f.expected:
                lines.append(f"         expected: {f.expected_reason}")
            elif f.hint:
                lines.append(f"         hint: {f.hint}")
        c = self.counts()
        lines.append(
            f"{c['resources_checked']} resources checked "
            f"({c['builtin_validated']} built-in, {c['custom_validated']} custom): "
            f"{c['errors']} errors, {c['warnings']} warnings, {c['expected']} expected; "
            f"CEL rules: {c['cel_evaluated']} evaluated, {c['cel_not_applicable']} not applicable "
            f"(transition rules), {c['cel_not_evaluated']} not evaluated"
        )
        return "\n".join(lines) + "\n"


def resource_identity(resource: Any) -> tuple[str, str | None, str]:
    """(kind, namespace, name) of a manifest, tolerant of malformed input."""
    if not isinstance(resource, dict):
        return ("?", None, "?")
    meta = resource.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    namespace = meta.get("namespace")
    return (
        str(resource.get("kind") or "?"),
        str(namespace) if namespace else None,
        str(meta.get("name") or meta.get("generateName") or "?"),
    )
