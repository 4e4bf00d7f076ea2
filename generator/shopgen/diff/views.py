"""The views of a diff: the count line, text for a terminal, markdown for a pull request, JSON.

Every view walks the same flat, ordered list of entries, so they always agree.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shopgen import yamlio
from shopgen.diff.compare import MISSING, FieldChange, ResourceDiff, ResourceKey
from shopgen.diff.paths import Named, format_path
from shopgen.diff.trees import AnyDiff, Moved, TreeDiff

# ---------------------------------------------------------------------------------------------------
# One flat, ordered list of what changed: every view walks the same entries in the same order.

_SIGNS = {"added": "+", "changed": "~", "removed": "-"}


@dataclass(frozen=True)
class _Entry:
    group: str | None
    change: Literal["added", "changed", "removed"]
    kind: str  # "file" for a file entry
    name: str
    key: ResourceKey | None = None
    fields: tuple[FieldChange, ...] = ()
    manifest: dict[str, Any] | None = None
    moved: tuple[str, str] | None = None
    lines: tuple[int, int] | None = None


def _resource_entries(group: str | None, diff: ResourceDiff, moves: Mapping[ResourceKey, Moved]) -> list[_Entry]:
    entries = [_Entry(group, "added", k.kind, k.display_name, k, manifest=m) for k, m in diff.added]
    fields_of = dict(diff.changed)
    for key in sorted(fields_of.keys() | moves.keys(), key=lambda k: k.sort_key):
        move = moves.get(key)
        entries.append(
            _Entry(
                group, "changed", key.kind, key.display_name, key,
                fields=tuple(fields_of.get(key, ())),
                moved=(move.old_file, move.new_file) if move else None,
            )
        )  # fmt: skip
    entries += [_Entry(group, "removed", k.kind, k.display_name, k, manifest=m) for k, m in diff.removed]
    return entries


def _entries(diff: AnyDiff, order: Sequence[str] = ()) -> list[_Entry]:
    """Groups named in ``order`` first, in that order (e.g. the stages in story order), then the rest by name."""
    if isinstance(diff, ResourceDiff):
        return _resource_entries(None, diff, {})
    entries: list[_Entry] = []
    rank = {group: i for i, group in enumerate(order)}
    groups = diff.groups.keys() | {m.group for m in diff.moved}
    for group in sorted(groups, key=lambda g: (rank.get(g, len(rank)), g)):
        moves = {m.key: m for m in diff.moved if m.group == group}
        entries += _resource_entries(group, diff.groups.get(group, ResourceDiff()), moves)
    for f in diff.files:
        top = f.path.split("/")[0] if "/" in f.path else "."
        entries.append(_Entry(top, f.status, "file", f.path, fields=f.fields, lines=(f.added_lines, f.removed_lines)))
    return entries


def _counts(entries: Iterable[_Entry]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {change: Counter() for change in _SIGNS}
    for e in entries:
        counts[e.change][e.kind] += 1
    return counts


def count_line(diff: AnyDiff) -> str:
    """Terraform-style summary, e.g. ``+1 HorizontalPodAutoscaler, ~3 Deployment, -1 Service``.

    Additions, then changes (a moved resource counts as changed), then removals; kinds alphabetical
    within each, files last; "no changes" when there are none.
    """
    parts: list[str] = []
    for change, counter in _counts(_entries(diff)).items():
        sign = _SIGNS[change]
        parts += [f"{sign}{n} {kind}" for kind, n in sorted(counter.items()) if kind != "file"]
        if counter["file"]:
            parts.append(f"{sign}{counter['file']} file{'s' if counter['file'] > 1 else ''}")
    return ", ".join(parts) if parts else "no changes"


# ---------------------------------------------------------------------------------------------------
# Rendering values


def render_value(value: Any) -> str:
    """A value on one line: compact JSON (strings quoted, so "1" and 1 differ visibly)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str)


def _field_line(change: FieldChange) -> str:
    where = change.path_text or "(document)"
    if change.old is MISSING:
        return f"{where}: (added) {render_value(change.new)}"
    if change.new is MISSING:
        return f"{where}: (removed) {render_value(change.old)}"
    return f"{where}: {render_value(change.old)} → {render_value(change.new)}"


def _title(e: _Entry) -> str:
    if e.kind == "file":
        added, removed = e.lines or (0, 0)
        counts = {"added": f"+{added}", "removed": f"-{removed}"}.get(e.change, f"+{added}/-{removed}")
        return f"{_SIGNS[e.change]} {e.name} ({counts} lines)"
    return f"{_SIGNS[e.change]} {e.kind} {e.name}"


# ---------------------------------------------------------------------------------------------------
# Text view


def to_text(diff: AnyDiff, *, order: Sequence[str] = ()) -> str:
    """For a terminal: the count line, then one line per resource or file with its field changes."""
    entries = _entries(diff, order)
    lines = [count_line(diff)]
    heading: str | None = None
    for e in entries:
        here = "files" if e.kind == "file" else e.group
        if here is not None and here != heading:
            heading = here
            lines += ["", f"[{heading}]"]
        lines.append(_title(e))
        if e.moved:
            lines.append(f"    moved: {e.moved[0]} → {e.moved[1]}")
        lines += [f"    {_field_line(c)}" for c in e.fields]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------
# Markdown view (pull-request comment)

_NOT_IN_FULL = " †"


def to_markdown(
    diff: AnyDiff,
    *,
    title: str,
    limit: int = 65536,
    command: str = "shopgen diff",
    heading: str = "##",
    order: Sequence[str] = (),
) -> str:
    """A pull-request comment that always fits in ``limit`` characters (GitHub's is 65536).

    Title (a ``heading`` line), count line, a table of every resource, then a collapsed section per
    resource. When it does not fit, whole sections are left out (their rows are marked), and if even
    the table does not fit, whole rows; a closing note says what was left out and that ``command``
    shows everything. ``order`` puts those groups first (see ``_entries``).
    """
    head = f"{heading} {_one_line(title)}\n\n**{count_line(diff)}**\n"
    entries = _entries(diff, order)
    if not entries:
        return _checked(head, limit)
    tree = isinstance(diff, TreeDiff)
    header = (
        "| tree | kind | name | change | fields changed |\n|---|---|---|---|---|\n"
        if tree
        else ("| kind | name | change | fields changed |\n|---|---|---|---|\n")
    )
    sections = [_section(e) for e in entries]
    full = head + "\n" + header + "".join(_row(e, tree, False) for e in entries) + "".join(sections)
    if len(full) <= limit:
        return full
    over = len(full) - limit

    # Keep every row; fill what is left with whole sections, in order, skipping any that do not fit.
    marked_rows = [_row(e, tree, True) for e in entries]
    note_room = len(_note(len(entries), over, command))
    budget = limit - len(head) - 1 - len(header) - sum(map(len, marked_rows)) - note_room
    if budget >= 0:
        shown = []
        for section in sections:
            if section and len(section) <= budget:
                budget -= len(section)
                shown.append(True)
            else:
                shown.append(not section)
        rows = [_row(e, tree, not ok) for e, ok in zip(entries, shown, strict=True)]
        missing = shown.count(False)
        body = "".join(s for s, ok in zip(sections, shown, strict=True) if ok and s)
        return _checked(head + "\n" + header + "".join(rows) + body + _note(missing, over, command), limit)

    # Not even the table fits: keep the rows that do, then one row saying how many were left out.
    note_room = len(_note(len(entries), over, command, rows_left=len(entries)))
    rest_room = len(_rest_row(len(entries), tree))
    budget = limit - len(head) - 1 - len(header) - note_room - rest_room
    if budget < 0:
        raise ValueError(f"to_markdown: limit {limit} is too small for the title, count line and a note")
    kept = []
    for e in entries:
        row = _row(e, tree, True)
        if len(row) > budget:
            break
        budget -= len(row)
        kept.append(row)
    left = len(entries) - len(kept)
    text = (
        head
        + "\n"
        + header
        + "".join(kept)
        + (_rest_row(left, tree) if left else "")
        + _note(len(entries), over, command, rows_left=left)
    )
    return _checked(text, limit)


def _checked(text: str, limit: int) -> str:
    if len(text) > limit:
        raise ValueError(f"to_markdown: limit {limit} is too small for the title, count line and a note")
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code that survives backticks inside ``text``."""
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if fence != "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _row(e: _Entry, tree: bool, not_in_full: bool) -> str:
    change = e.change + (", moved" if e.moved else "")
    if not_in_full and _has_section(e):
        change += _NOT_IN_FULL
    if e.kind == "file":
        added, removed = e.lines or (0, 0)
        what = f"+{added}/-{removed} lines" + (f", {_fields_summary(e.fields)}" if e.fields else "")
    elif e.change == "changed":
        what = _fields_summary(e.fields) if e.fields else "none (file moved)"
    else:
        what = "—"
    cells = [e.kind, _code(e.name), change, what]
    if tree:
        cells.insert(0, e.group or "")
    return "| " + " | ".join(_cell(c) for c in cells) + " |\n"


def _fields_summary(fields: Sequence[FieldChange]) -> str:
    """The count plus the names of the first few fields: short enough that 300 rows fit a comment."""
    leaves: list[str] = []
    for c in fields:
        leaf = next((s for s in reversed(c.path) if isinstance(s, str)), format_path(c.path[-1:]))
        if leaf not in leaves:
            leaves.append(leaf)
    shown = ", ".join(leaves[:3]) + (", …" if len(leaves) > 3 else "")
    return f"{len(fields)}: {shown}" if len(shown) <= 60 else str(len(fields))


def _rest_row(left: int, tree: bool) -> str:
    cells = ["…", f"{left} more not shown", "…", "…"]
    if tree:
        cells.insert(0, "…")
    return "| " + " | ".join(cells) + " |\n"


def _note(missing: int, over: int, command: str, *, rows_left: int | None = None) -> str:
    """The closing note: what was left out, by how much the whole diff overflows, how to see it all."""
    if not missing:
        return ""
    what = f"{missing} resource{'s' if missing > 1 else ''} not shown in full"
    if rows_left is None:
        what += f" (rows marked †; {over:,} characters over the limit)"
    else:
        what += f", {rows_left} of them not even in the table ({over:,} characters over the limit)"
    return f"\n> {what}: run `{command}` locally for the full diff.\n"


def _has_section(e: _Entry) -> bool:
    return bool(e.fields or e.manifest is not None or e.moved)


def _section(e: _Entry) -> str:
    """A collapsed section with a fenced diff block: whole, so a cut can only drop it, never split it."""
    if not _has_section(e):
        return ""
    lines: list[str] = []
    if e.moved:
        lines.append(f"  moved: {e.moved[0]} → {e.moved[1]}")
    if e.manifest is not None:
        sign = "+" if e.change == "added" else "-"
        lines += [f"{sign} {line}" for line in yamlio.dump(e.manifest).splitlines()]
    for c in e.fields:
        where = c.path_text or "(document)"
        if c.old is not MISSING:
            lines.append(f"- {where}: {render_value(c.old)}")
        if c.new is not MISSING:
            lines.append(f"+ {where}: {render_value(c.new)}")
    body = "\n".join(lines)
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`{3,}", body)), default=0) + 1)
    where = f"{e.group}: " if e.group else ""
    count = len(e.fields)
    fields = f" ({count} field{'s' if count > 1 else ''})" if count else ""
    summary = html.escape(f"{where}{_title(e)}{fields}")
    return f"\n<details><summary>{summary}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>\n"


# ---------------------------------------------------------------------------------------------------
# JSON view


def to_json(diff: AnyDiff, *, order: Sequence[str] = ()) -> str:
    """Machine-readable and byte-stable: keys sorted, lists in the diff's canonical order."""
    return json_text(json_doc(diff, order=order))


def json_text(doc: Mapping[str, Any]) -> str:
    """A JSON document as every JSON view prints it: keys sorted, indented, UTF-8 kept."""
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"


def json_doc(diff: AnyDiff, *, order: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON view as data, for a caller that adds keys of its own (``diff --against``)."""
    entries = _entries(diff, order)
    counts = _counts(entries)
    doc: dict[str, Any] = {
        "summary": count_line(diff),
        "counts": {change: {k: n for k, n in c.items() if k != "file"} for change, c in counts.items()},
        "resources": [_json_entry(e) for e in entries if e.kind != "file"],
    }
    if isinstance(diff, TreeDiff):
        doc["counts"]["files"] = {change: c["file"] for change, c in counts.items()}
        doc["files"] = [
            {
                "path": f.path,
                "change": f.status,
                "added_lines": f.added_lines,
                "removed_lines": f.removed_lines,
                "fields": [_json_field(c) for c in f.fields],
            }
            for f in diff.files
        ]
    return doc


def _json_entry(e: _Entry) -> dict[str, Any]:
    assert e.key is not None
    out: dict[str, Any] = {
        "group": e.group,
        "change": e.change,
        "kind": e.key.kind,
        "namespace": e.key.namespace,
        "name": e.key.name,
        "fields": [_json_field(c) for c in e.fields],
    }
    if e.manifest is not None:
        out["manifest"] = e.manifest
    if e.moved:
        out["moved"] = {"from": e.moved[0], "to": e.moved[1]}
    return out


def _json_field(c: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": c.path_text,
        "segments": [{"name": s.name} if isinstance(s, Named) else s for s in c.path],
        "change": c.change,
    }
    if c.old is not MISSING:
        out["old"] = c.old
    if c.new is not MISSING:
        out["new"] = c.new
    return out
