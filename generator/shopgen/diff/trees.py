"""Two rendered trees ({path: text}) compared: resources per group, moves between files, other files.

Also reads the Kubernetes objects out of a tree's manifest files (``resources_in``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shopgen import yamlio
from shopgen.diff.compare import FieldChange, ResourceDiff, ResourceKey, _compare, diff_values, resource_key
from shopgen.diff.redaction import _plain, _redact, redact
from shopgen.errors import ConfigError, ShopgenError


@dataclass(frozen=True)
class Moved:
    """A resource that lives in a different file of the same group (its fields may be unchanged)."""

    group: str
    key: ResourceKey
    old_file: str
    new_file: str


@dataclass(frozen=True)
class FileChange:
    """A file that is not compared resource by resource (terraform, README, kustomization, values).

    ``fields`` holds field-level changes when both sides are YAML data (``charts/*/values.yaml``).
    """

    path: str
    status: Literal["added", "removed", "changed"]
    added_lines: int
    removed_lines: int
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class TreeDiff:
    """Two rendered trees compared: resources per group (``environments/<stage>``, ``argocd``,
    ``platform``), resources that moved between files of a group, and every other file by file."""

    groups: dict[str, ResourceDiff] = field(default_factory=dict)
    moved: list[Moved] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.moved and not self.files and all(g.is_empty for g in self.groups.values())


AnyDiff = ResourceDiff | TreeDiff

# ---------------------------------------------------------------------------------------------------
# Trees

RESOURCE_TREES = ("environments", "argocd", "platform")
_YAML_SUFFIXES = (".yaml", ".yml")


def _group_of(path: str) -> str | None:
    """The resource group a file belongs to (``environments/<stage>``, ``argocd``, ``platform``), if any."""
    parts = path.split("/")
    if parts[0] not in RESOURCE_TREES or not path.endswith(_YAML_SUFFIXES):
        return None
    if parts[0] == "environments" and len(parts) > 2:
        return f"environments/{parts[1]}"
    return parts[0]


def _load_docs(text: str, path: str) -> list[Any] | None:
    """Every document of a YAML file as plain data, or None when it does not parse."""
    try:
        return [_plain(d) for d in yamlio.load_manifests(text, path)]
    except ConfigError:
        return None


def _resources_of(text: str, path: str) -> list[dict[str, Any]] | None:
    """The objects of a manifest file, or None when it is not one (kustomization.yaml, bad YAML)."""
    docs = _load_docs(text, path)
    if not docs or not all(isinstance(d, dict) and resource_key(d) is not None for d in docs):
        return None
    return docs


def resources_in(files: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every Kubernetes object in the YAML manifest files of a tree (e.g. one stage folder), unredacted."""
    found: list[dict[str, Any]] = []
    for path in sorted(files):
        if path.endswith(_YAML_SUFFIXES):
            found.extend(_resources_of(files[path], path) or ())
    return found


_Located = dict[ResourceKey, tuple[str, dict[str, Any]]]  # key -> (file, redacted manifest)


def _side(
    files: Mapping[str, str], label: str, parsed: dict[str, list[dict[str, Any]] | None]
) -> tuple[dict[str, _Located], set[str]]:
    """Resources per group (with their file), and the paths to compare file by file.

    ``parsed`` maps file texts to their redacted objects: most files are identical on both sides,
    and parsing YAML is most of a tree diff's time.
    """
    groups: dict[str, _Located] = {}
    plain_files: set[str] = set()
    for path in sorted(files):
        group = _group_of(path)
        text = files[path]
        if group is not None and text not in parsed:
            docs = _resources_of(text, path)
            parsed[text] = None if docs is None else [redact(d) for d in docs]
        docs = parsed[text] if group is not None else None
        if group is None or docs is None:
            plain_files.add(path)
            continue
        bucket = groups.setdefault(group, {})
        for doc in docs:
            key = resource_key(doc)
            assert key is not None  # _resources_of checked every document
            if key in bucket:
                raise ShopgenError(f"{label} tree: {key} is defined twice in {group}: {bucket[key][0]} and {path}")
            bucket[key] = (path, doc)
    return groups, plain_files


def diff_files(old: Mapping[str, str], new: Mapping[str, str]) -> TreeDiff:
    """Compare two trees given as {relative path: text}.

    YAML under environments/, argocd/ and platform/ is compared object by object per group, so a
    resource that moves to another file of its group is a move (plus its field changes), not an
    add and a remove; formatting and comments there are not differences. Every other file that
    differs is reported by file with line counts (and field changes when both sides are YAML data).
    """
    parsed: dict[str, list[dict[str, Any]] | None] = {}
    old_groups, old_plain = _side(old, "old", parsed)
    new_groups, new_plain = _side(new, "new", parsed)
    groups: dict[str, ResourceDiff] = {}
    moved: list[Moved] = []
    for group in sorted(old_groups.keys() | new_groups.keys()):
        before, after = old_groups.get(group, {}), new_groups.get(group, {})
        result = _compare({k: v[1] for k, v in before.items()}, {k: v[1] for k, v in after.items()})
        if not result.is_empty:
            groups[group] = result
        for key in sorted(before.keys() & after.keys(), key=lambda k: k.sort_key):
            if before[key][0] != after[key][0]:
                moved.append(Moved(group, key, before[key][0], after[key][0]))
    files = [
        change
        for path in sorted(old_plain | new_plain)
        if (change := _file_change(path, old.get(path), new.get(path))) is not None
    ]
    return TreeDiff(groups=groups, moved=moved, files=files)


def _file_change(path: str, old: str | None, new: str | None) -> FileChange | None:
    if old == new:
        return None
    if old is None:
        return FileChange(path, "added", len((new or "").splitlines()), 0)
    if new is None:
        return FileChange(path, "removed", 0, len(old.splitlines()))
    added, removed = _line_counts(old, new)
    fields: tuple[FieldChange, ...] = ()
    if path.endswith(_YAML_SUFFIXES):
        before, after = _load_docs(old, path), _load_docs(new, path)
        if before is not None and after is not None:
            before = [redact(d) if isinstance(d, dict) else _redact(d, None) for d in before]
            after = [redact(d) if isinstance(d, dict) else _redact(d, None) for d in after]
            if len(before) == 1 and len(after) == 1:
                fields = tuple(diff_values(before[0], after[0]))
            else:
                fields = tuple(diff_values(before, after))
    return FileChange(path, "changed", added, removed, fields)


def _line_counts(old: str, new: str) -> tuple[int, int]:
    """Lines added and removed, as a unified diff would count them."""
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed
