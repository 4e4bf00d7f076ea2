"""How a `shopgen validate` run reads: short text for people, JSON (schema 1) for tools.

Text, by default: the unexpected findings first (all findings of one rule in one tree on one counted
line that ends with its hint, so a finding and its fix never sit apart), then one total line per tree,
then the verdict. ``-v`` lists every finding, the expected ones with their reasons, under its tree's
line, each hint on a line of its own; ``-q`` prints the verdict only.
Severity words are styled with click (red, yellow, green); ``click.echo`` drops the styles when the
output is not a terminal or the CLI asks for plain output (``NO_COLOR``, ``--no-color``).

JSON: ``schema`` 1, the totals, the groups in story order (``group_order`` says it for parsers that
do not keep key order), each finding with ``file`` and ``line`` and an ``expected`` boolean.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click

from shopgen.validate.findings import SEVERITY_RANK, Finding, Report

SCHEMA = 1
QUIET, NORMAL, VERBOSE = -1, 0, 1
SHARED_GROUP = "argocd"
FILES_GROUP = "files"
DRIFT_GROUP = "drift"
NAMES_SHOWN = 3  # resources named on a collapsed line before "… (+N more)"
HINT_INDENT = " " * 9  # under the rule id, past the 8-wide severity word

_COLORS = {"error": "red", "warning": "yellow"}


def group_order(groups: Iterable[str]) -> list[str]:
    """The stages in story order (the registry), then argocd, files, and anything else (drift)."""
    from shopgen.story.stages import stage_names

    present = list(groups)
    known = [*stage_names(), SHARED_GROUP, FILES_GROUP]
    return [g for g in known if g in present] + sorted(g for g in present if g not in known)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _styled_count(count: int, word: str, severity: str) -> str:
    text = _plural(count, word)
    return click.style(text, fg=_COLORS[severity]) if count else text


def _label(finding: Finding) -> str:
    word = "EXPECTED" if finding.expected else finding.severity.upper()
    padded = f"{word:<8}"  # padded before styling, so the columns line up either way
    color = None if finding.expected else _COLORS.get(finding.severity)
    return click.style(padded, fg=color, bold=True) if color else padded


def detail_lines(finding: Finding, tag: str = "") -> list[str]:
    """One finding as `validate -v` lists it: severity, rule, resource, field, message, file; then its hint."""
    where = f"{finding.where()} {finding.path}".rstrip()
    source = f" ({finding.source})" if finding.source else ""
    lines = [f"{_label(finding)} {tag}{finding.rule} {where}: {finding.message}{source}"]
    if finding.expected:
        lines.append(f"{HINT_INDENT}expected: {finding.expected_reason}")
    elif finding.hint:
        lines.append(f"{HINT_INDENT}hint: {finding.hint}")
    return lines


def collapsed_line(tree: str, findings: Sequence[Finding]) -> str:
    """All findings of one rule (and severity) in one tree on one line: the finding itself when it is
    the only one, else a count and the first names; then the hint once, on the same line."""
    tag = f"[{tree}] "
    hints = list(dict.fromkeys(f.hint for f in findings if f.hint))
    if len(findings) == 1:
        line = detail_lines(findings[0], tag)[0]
    else:
        names = list(dict.fromkeys(f.where() for f in findings))
        unit = "files" if all(f.kind == "File" for f in findings) else "resources"
        count = f"{len(names)} {unit}"
        if len(names) < len(findings):  # a rule can find several fields of one resource
            count = f"{len(findings)} findings in {count}"
        shown = ", ".join(names[:NAMES_SHOWN])
        more = f", … (+{len(names) - NAMES_SHOWN} more)" if len(names) > NAMES_SHOWN else ""
        line = f"{_label(findings[0])} {tag}{findings[0].rule}  {count}: {shown}{more}"
    if hints:
        others = f" (and {len(hints) - 1} more like it: -v shows each)" if len(hints) > 1 else ""
        line += f" — hint: {hints[0]}{others}"
    return line


def _unexpected_groups(reports: Mapping[str, Report]) -> list[tuple[str, list[Finding]]]:
    """(tree, findings of one rule and severity), the most severe first, then in story order."""
    order = group_order(reports)
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for tree in order:
        for finding in reports[tree].sorted_findings():
            if not finding.expected:
                groups.setdefault((tree, finding.severity, finding.rule), []).append(finding)
    keys = sorted(groups, key=lambda k: (-SEVERITY_RANK[k[1]], order.index(k[0]), k[2]))
    return [(k[0], groups[k]) for k in keys]


def total_line(tree: str, report: Report, widths: tuple[int, int], *, verbose: bool) -> str:
    """One tree's totals: what was checked, then errors, warnings and expected findings.

    ``widths``: of the tree names and of the counts checked, so the lines of a run line up.
    """
    c = report.counts()
    number = f"{c['resources_checked']:>{widths[1]}}"
    if tree == FILES_GROUP:
        checked = f"{number} files scanned for plaintext credentials"
    elif tree == DRIFT_GROUP:
        checked = "generated files compared with what shopgen wrote"
    else:
        checked = f"{number} resources checked"
        if verbose:
            checked += f" ({c['builtin_validated']} built-in, {c['custom_validated']} custom)"
    counts = [
        _styled_count(c["errors"], "error", "error"),
        _styled_count(c["warnings"], "warning", "warning"),
        f"{c['expected']} expected",
    ]
    if c["infos"]:
        counts.append(f"{c['infos']} info")
    line = f"{tree:<{widths[0]}}  {checked}: {', '.join(counts)}"
    if verbose and tree not in (FILES_GROUP, DRIFT_GROUP):
        line += (
            f"; CEL rules: {c['cel_evaluated']} evaluated, {c['cel_not_applicable']} not applicable "
            f"(transition rules), {c['cel_not_evaluated']} not evaluated"
        )
    elif c["cel_not_evaluated"]:
        line += f"; {_plural(c['cel_not_evaluated'], 'CEL rule')} not evaluated"
    return line


def totals(reports: Mapping[str, Report]) -> dict[str, int]:
    """The counters of every tree added up (the JSON's top-level ``summary``)."""
    total: dict[str, int] = {}
    for report in reports.values():
        for key, value in report.counts().items():
            total[key] = total.get(key, 0) + value
    return total


def verdict_line(reports: Mapping[str, Report], fail_on: str) -> str:
    """``validate: 0 errors, 1 warning (271 expected) in 8 trees — ok`` (or what fails)."""
    t = totals(reports)
    counts = [_styled_count(t["errors"], "error", "error"), _styled_count(t["warnings"], "warning", "warning")]
    if t["infos"]:
        counts.append(f"{t['infos']} info")
    failing = [f for r in reports.values() for f in r.failing(fail_on)]
    if failing:
        errors = sum(1 for f in failing if f.severity == "error")
        words = [_plural(n, w) for n, w in ((errors, "error"), (len(failing) - errors, "warning")) if n]
        status = click.style(", ".join(words), fg="red", bold=True)
    else:
        status = click.style("ok", fg="green", bold=True)
    return f"validate: {', '.join(counts)} ({t['expected']} expected) in {_plural(len(reports), 'tree')} — {status}"


def to_text(reports: Mapping[str, Report], *, fail_on: str = "error", verbosity: int = NORMAL) -> str:
    """The report for people (see the module docstring for the three levels)."""
    lines: list[str] = []
    order = group_order(reports)
    widths = (
        max((len(tree) for tree in order), default=0),
        max((len(str(r.resources_checked)) for r in reports.values()), default=0),
    )
    if verbosity >= VERBOSE:
        for tree in order:
            report = reports[tree]
            lines.append(total_line(tree, report, widths, verbose=True))
            ranked = sorted(report.sorted_findings(), key=lambda f: (f.expected, -SEVERITY_RANK[f.severity]))
            for finding in ranked:
                lines += detail_lines(finding)
    elif verbosity == NORMAL:
        for tree, findings in _unexpected_groups(reports):
            lines.append(collapsed_line(tree, findings))
        lines += [total_line(tree, reports[tree], widths, verbose=False) for tree in order]
    lines.append(verdict_line(reports, fail_on))
    return "\n".join(lines) + "\n"


# --- JSON -------------------------------------------------------------------------------------------

_LINE_PATH = re.compile(r"^line (\d+)$")
_PART = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def path_parts(path: str) -> list[str | int]:
    """``spec.containers[0].image`` -> ``["spec", "containers", 0, "image"]`` (bracketed keys too)."""
    parts: list[str | int] = []
    for bracket, key in _PART.findall(path):
        if key:
            parts.append(key)
        elif bracket.strip().isdigit():
            parts.append(int(bracket.strip()))
        else:
            parts.append(bracket.strip().strip("'\""))
    return parts


def _shape(line: str) -> tuple[int, int, str] | None:
    """(indent, column of the content past any ``- ``, content); None for a blank or comment line."""
    content = line.lstrip(" ")
    if not content or content.startswith("#"):
        return None
    indent = len(line) - len(content)
    column = indent
    while content.startswith("- "):
        stripped = content[2:].lstrip(" ")
        column += len(content) - len(stripped)
        content = stripped
    return indent, column, content


def _is_key(content: str, key: str) -> str | None:
    """What follows ``key:`` on a line holding that key (plain or quoted), else None."""
    for spelled in (key, f"'{key}'", f'"{key}"'):
        if content.startswith(f"{spelled}:"):
            rest = content[len(spelled) + 1 :]
            if not rest or rest[0] == " ":
                return rest.strip()
    return None


def _document(lines: list[str], kind: str, name: str) -> tuple[int, int]:
    """(first, end) line indexes of the resource's document: the only one, or the one naming it."""
    bounds, start = [], 0
    for index, line in enumerate(lines):
        if line.rstrip() == "---":
            bounds.append((start, index))
            start = index + 1
    bounds.append((start, len(lines)))
    bounds = [b for b in bounds if any(_shape(lines[i]) for i in range(*b))] or bounds
    if len(bounds) > 1:
        for first, end in bounds:
            body = lines[first:end]
            if f"kind: {kind}" in body and any(line.strip() == f"name: {name}" for line in body):
                return first, end
    return bounds[0]


def field_line(text: str, finding: Finding) -> int:
    """1-based line of the finding's field in ``text``: its key when a scan of the lines finds it,
    else its deepest ancestor found (a missing field: the object that should hold it), else the
    document's first line. Rendered files hold one resource each, in shopgen's block style."""
    match = _LINE_PATH.match(finding.path)
    if match:
        return int(match.group(1))
    lines = text.splitlines()
    first, end = _document(lines, finding.kind, finding.name)
    start = next((i for i in range(first, end) if _shape(lines[i])), first)
    best = start
    node, key_column = start, 0  # the mapping being searched: its first line and its keys' column
    parts = path_parts(finding.path)
    index = 0
    while index < len(parts):
        part = parts[index]
        if isinstance(part, int):
            break  # an index where a mapping is: not what the scan can follow
        found = None
        for i in range(node, end):
            shape = _shape(lines[i])
            if shape is None:
                continue
            if i > node and shape[0] < key_column:
                break
            if shape[1] == key_column and (rest := _is_key(shape[2], part)) is not None:
                found = (i, rest)
                break
        if found is None:
            break
        best, rest = found
        index += 1
        if rest or index == len(parts):
            break  # a scalar or flow value: nothing under it to scan
        child = next(((i, shape) for i in range(best + 1, end) if (shape := _shape(lines[i]))), None)
        if child is None:
            break
        line, (indent, column, _) = child
        wanted = parts[index]
        if isinstance(wanted, int) and indent >= key_column and lines[line].lstrip(" ").startswith("- "):
            item = _nth_item(lines, line, end, indent, wanted)
            if item is None:
                break
            best = node = item[0]
            key_column = item[1]
            index += 1
        elif column > key_column:
            node, key_column = line, column
        else:
            break
    return best + 1


def _nth_item(lines: list[str], first: int, end: int, dash: int, wanted: int) -> tuple[int, int] | None:
    """(line index, column of its content) of item ``wanted`` of the block sequence whose dashes sit
    at column ``dash``; None when the sequence is shorter."""
    seen = -1
    for i in range(first, end):
        shape = _shape(lines[i])
        if shape is None:
            continue
        if shape[0] < dash or (shape[0] == dash and not lines[i].lstrip(" ").startswith("-")):
            return None
        if shape[0] == dash:
            seen += 1
            if seen == wanted:
                return i, shape[1]
    return None


def finding_dict(finding: Finding, text_of: Callable[[str], str | None]) -> dict[str, Any]:
    """The finding's fields plus ``expected``, ``file`` (relative to the root) and ``line`` (1-based)."""
    data = finding.to_dict()
    data["expected"] = finding.expected
    data["file"] = finding.source or None
    text = text_of(finding.source) if finding.source else None
    data["line"] = field_line(text, finding) if text is not None else None
    return dict(sorted(data.items()))


def to_json(reports: Mapping[str, Report], text_of: Callable[[str], str | None] = lambda _: None) -> str:
    """Stable JSON: schema 1, totals, groups in story order; keys sorted inside each group."""
    order = group_order(reports)
    groups = {
        tree: {
            "findings": [finding_dict(f, text_of) for f in reports[tree].sorted_findings()],
            "summary": dict(sorted(reports[tree].counts().items())),
        }
        for tree in order
    }
    data = {"schema": SCHEMA, "summary": dict(sorted(totals(reports).items())), "group_order": order, "groups": groups}
    return json.dumps(data, indent=2) + "\n"
