"""Semantic diff between two sets of manifests or two rendered trees, and its text/markdown/json views.

A reviewer of a promotion wants "the ui Deployment gained a readinessProbe", not forty lines of YAML
moved around, so manifests are compared as data: resources by kind + namespace + name, mappings by
key, lists of named things (containers, env, ports, HPA metrics) by name, so reordering is no change.
Credentials are replaced by a short digest *before* comparing, so no view can ever print one.
Pure functions only: no files, no git, no rendering (the CLI feeds this module texts or manifests).
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import enum
import hashlib
import html
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shopgen import yamlio
from shopgen.errors import ConfigError, ShopgenError
from shopgen.validate.credentials import is_credential_name

# ---------------------------------------------------------------------------------------------------
# Paths


@dataclass(frozen=True, order=True)
class Named:
    """A list item identified by its name (a container, an env var, an HPA metric's resource name)."""

    name: str


Segment = str | Named | int
Path = tuple[Segment, ...]
WILDCARD = "*"

_BARE_KEY = re.compile(r"[^.\[\]\"\\/\s]+")
_BARE_NAME = re.compile(r"[^\[\]\"\\\s]+")


def format_path(path: Sequence[Segment]) -> str:
    """``spec.template.spec.containers[ui].readinessProbe``; keys with ``.``, ``/`` or spaces are quoted."""
    out: list[str] = []
    for segment in path:
        if isinstance(segment, Named):
            name = segment.name
            plain = (
                _BARE_NAME.fullmatch(name) and not _is_index(name) and name != WILDCARD and not name.startswith("name=")
            )
            out.append(f"[{name}]" if plain else f"[name={json.dumps(name, ensure_ascii=False)}]")
        elif isinstance(segment, int):
            out.append(f"[{segment}]")
        elif segment == WILDCARD:
            out.append("[*]")  # any one segment; a key that is literally "*" reads back the same
        elif _BARE_KEY.fullmatch(segment):
            out.append(f".{segment}" if out else segment)
        else:
            out.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(out)


def parse_path(text: str) -> Path:
    """The inverse of format_path; also reads ``[*]`` / ``*`` as the wildcard used by changes_within."""
    segments: list[Segment] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "[":
            end, segment = _parse_bracket(text, i)
            segments.append(segment)
            i = end
            continue
        if char == ".":
            if not segments:
                raise _bad_path(text, i, "a path cannot start with '.'")
            i += 1
        elif segments:
            raise _bad_path(text, i, "expected '.' or '[' between segments")
        match = _BARE_KEY.match(text, i)
        if match is None:
            raise _bad_path(text, i, "expected a key (quote keys with '.', '/' or spaces: [\"a.b/c\"])")
        segments.append(match.group())
        i = match.end()
    return tuple(segments)


def _parse_bracket(text: str, start: int) -> tuple[int, Segment]:
    """One ``[...]`` segment starting at ``start``: index, wildcard, quoted key, or item name."""
    body_start = start + 1
    if text.startswith('"', body_start) or text.startswith('name="', body_start):
        named = text.startswith("name=", body_start)
        quote_at = body_start + (5 if named else 0)
        try:
            value, end = json.JSONDecoder().raw_decode(text, quote_at)
        except json.JSONDecodeError:
            raise _bad_path(text, quote_at, "unterminated quoted string") from None
        if not text.startswith("]", end):
            raise _bad_path(text, end, "expected ']' after the quoted string")
        return end + 1, Named(value) if named else value
    end = text.find("]", body_start)
    if end < 0:
        raise _bad_path(text, start, "missing ']'")
    body = text[body_start:end]
    if body == WILDCARD:
        return end + 1, WILDCARD
    if _is_index(body):
        return end + 1, int(body)
    if not _BARE_NAME.fullmatch(body):
        raise _bad_path(text, body_start, 'expected an index, "*", a name or a quoted key inside [...]')
    return end + 1, Named(body)


def _is_index(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _bad_path(text: str, at: int, problem: str) -> ConfigError:
    return ConfigError(f"invalid field path {text!r} at character {at + 1}: {problem}")


def changes_within(changes: Iterable[FieldChange], patterns: Iterable[Sequence[Segment] | str]) -> list[FieldChange]:
    """The changes NOT covered by any pattern: what a stage changed outside its contract.

    A pattern covers a change when it is a prefix of the change's path; ``"*"`` matches any one segment
    (a key, a named item or an index). Patterns may be given as path strings (parse_path syntax).
    A change above a pattern is covered when everything it adds or removes lies under patterns:
    adding ``annotations: {karpenter.sh/do-not-disrupt: "true"}`` where there were no annotations is
    the same fix as adding that one annotation.
    """
    parsed = [parse_path(p) if isinstance(p, str) else tuple(p) for p in patterns]
    return [c for c in changes if not _covered(c, parsed)]


def _covered(change: FieldChange, patterns: list[Path]) -> bool:
    if any(_covers(p, change.path) for p in patterns):
        return True
    if not any(len(p) > len(change.path) and _covers(p[: len(change.path)], change.path) for p in patterns):
        return False
    old, new = change.old, change.new
    if old is MISSING:
        old = type(new)() if isinstance(new, dict | list) else old
    if new is MISSING:
        new = type(old)() if isinstance(old, dict | list) else new
    if not (isinstance(old, dict) and isinstance(new, dict)) and not (isinstance(old, list) and isinstance(new, list)):
        return False
    parts = diff_values(old, new, change.path)
    if not parts or (len(parts) == 1 and parts[0].path == change.path):
        return False  # an empty mapping added, or a list of scalars: nothing below to match
    return all(_covered(part, patterns) for part in parts)


def _covers(pattern: Path, path: Path) -> bool:
    if len(pattern) > len(path):
        return False
    return all(p == WILDCARD or _same_segment(p, s) for p, s in zip(pattern, path, strict=False))


def _same_segment(a: Segment, b: Segment) -> bool:
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------------------------
# The diff model


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING
"""Stands for "no such field" on one side of a FieldChange (None is a real YAML value)."""


@dataclass(frozen=True)
class FieldChange:
    """One field that differs; ``old`` is MISSING when the field was added, ``new`` when removed."""

    path: Path
    old: Any
    new: Any

    @property
    def change(self) -> Literal["added", "removed", "changed"]:
        if self.old is MISSING:
            return "added"
        return "removed" if self.new is MISSING else "changed"

    @property
    def path_text(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class ResourceKey:
    """A Kubernetes object's identity; namespace is None for cluster-scoped objects."""

    kind: str
    namespace: str | None
    name: str

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace or "", self.name)

    @property
    def display_name(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def __str__(self) -> str:
        return f"{self.kind} {self.display_name}"


@dataclass(frozen=True)
class ResourceDiff:
    """Resources added, removed and changed, each list sorted by (kind, namespace, name).

    Manifests and values are already redacted (credentials replaced by ``sha256:…`` digests).
    """

    added: list[tuple[ResourceKey, dict[str, Any]]] = field(default_factory=list)
    removed: list[tuple[ResourceKey, dict[str, Any]]] = field(default_factory=list)
    changed: list[tuple[ResourceKey, list[FieldChange]]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


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
# Redaction: applied to every manifest before it is compared, so no view can leak a credential.
# Which names hold one is ``is_credential_name``'s call, the same validate makes.

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"  # holds a whole manifest, Secrets too


def digest(value: Any) -> str:
    """``sha256:`` + the first 12 hex digits of the value's text: shows *that* it changed, never *what*."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def redact(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a manifest with every credential replaced by its digest (Secret data, password: …)."""
    is_secret = manifest.get("kind") == "Secret"
    out: dict[str, Any] = {}
    for key, value in manifest.items():
        if is_secret and key in ("data", "stringData"):
            out[key] = _digest_all(value)
        else:
            out[key] = _redact(value, key)
    return out


def _redact(value: Any, key: str | None) -> Any:
    if isinstance(value, dict):
        name = value.get("name")
        # env entries, Helm parameters: {name: DB_PASSWORD, value: "..."}
        env_like = isinstance(name, str) and "value" in value and is_credential_name(name)
        return {k: _digest_all(v) if env_like and k == "value" else _redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item, key) for item in value]  # items inherit the list's key
    if value is None or isinstance(value, bool) or key is None:
        return value
    if key == _LAST_APPLIED or is_credential_name(key):
        return digest(value)
    return value


def _digest_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _digest_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_digest_all(v) for v in value]
    return value if value is None else digest(value)


def _plain(value: Any) -> Any:
    """Plain JSON-like data: string keys, lists, and no dates/bytes (safe YAML can produce both)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


# ---------------------------------------------------------------------------------------------------
# Comparing values


def diff_values(old: Any, new: Any, path: Path = ()) -> list[FieldChange]:
    """Field changes between two plain values, in a canonical order (keys sorted, named items by name)."""
    out: list[FieldChange] = []
    _diff(old, new, tuple(path), out)
    return out


def _diff(old: Any, new: Any, path: Path, out: list[FieldChange]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            _diff(old.get(key, MISSING), new.get(key, MISSING), (*path, key), out)
    elif isinstance(old, list) and isinstance(new, list):
        _diff_lists(old, new, path, out)
    elif old is MISSING and new is MISSING:
        return
    elif not _equal(old, new):
        out.append(FieldChange(path, old, new))


def _diff_lists(old: list[Any], new: list[Any], path: Path, out: list[FieldChange]) -> None:
    if all(not isinstance(v, dict | list) for v in (*old, *new)):
        if not _equal(old, new):  # command, args, values: one value, order matters
            out.append(FieldChange(path, old, new))
        return
    identify = _identity(old, new)
    if identify is None:
        for i in range(max(len(old), len(new))):
            _diff(old[i] if i < len(old) else MISSING, new[i] if i < len(new) else MISSING, (*path, i), out)
        return
    by_name_old = {identify(item): item for item in old}
    by_name_new = {identify(item): item for item in new}
    for name in sorted(by_name_old.keys() | by_name_new.keys()):
        _diff(by_name_old.get(name, MISSING), by_name_new.get(name, MISSING), (*path, Named(name)), out)


def _by_name(item: dict[str, Any]) -> Any:
    return item.get("name")


def _by_metric(item: dict[str, Any]) -> Any:
    """HPA metrics: ``{type: Resource, resource: {name: cpu}}`` is the metric "cpu"."""
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        return None
    source = item.get(kind[0].lower() + kind[1:])
    if not isinstance(source, dict):
        return None
    metric = source.get("metric")
    return source.get("name") or (metric.get("name") if isinstance(metric, dict) else None)


def _by_key(item: dict[str, Any]) -> Any:
    return item.get("key")  # NodePool requirements, configMap volume items


def _by_mount_path(item: dict[str, Any]) -> Any:
    return item.get("mountPath")  # volumeMounts whose names repeat (one volume, several subPaths)


_IDENTITIES: tuple[Callable[[dict[str, Any]], Any], ...] = (_by_name, _by_metric, _by_key, _by_mount_path)


def _identity(old: list[Any], new: list[Any]) -> Callable[[dict[str, Any]], str] | None:
    """The first identity that names every item on both sides uniquely, or None (compare by index)."""
    if not all(isinstance(v, dict) for v in (*old, *new)):
        return None
    for identify in _IDENTITIES:
        ok = True
        for side in (old, new):
            names = [identify(item) for item in side]
            if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
                ok = False
                break
        if ok:
            return identify
    return None


def _equal(a: Any, b: Any) -> bool:
    """Equality that keeps YAML types apart: ``1``, ``1.0``, ``true`` and ``"1"`` all differ."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# ---------------------------------------------------------------------------------------------------
# Resources


def resource_key(manifest: Mapping[str, Any]) -> ResourceKey | None:
    """The identity of a Kubernetes object, or None when it is not one (no kind or metadata.name)."""
    kind = manifest.get("kind")
    metadata = manifest.get("metadata")
    if not isinstance(kind, str) or not kind or not isinstance(metadata, Mapping):
        return None
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name:
        return None
    return ResourceKey(kind, namespace if isinstance(namespace, str) and namespace else None, name)


def _index(manifests: Iterable[Mapping[str, Any]], side: str) -> dict[ResourceKey, dict[str, Any]]:
    found: dict[ResourceKey, dict[str, Any]] = {}
    for position, manifest in enumerate(manifests, start=1):
        key = resource_key(manifest) if isinstance(manifest, Mapping) else None
        if key is None:
            raise ShopgenError(
                f"{side} manifest #{position} is not a Kubernetes object (it needs kind and metadata.name)"
            )
        if key in found:
            raise ShopgenError(f"{side} manifests hold {key} twice; a diff needs each object once")
        found[key] = redact(_plain(manifest))
    return found


def _compare(old: Mapping[ResourceKey, dict[str, Any]], new: Mapping[ResourceKey, dict[str, Any]]) -> ResourceDiff:
    def ordered(keys: Iterable[ResourceKey]) -> list[ResourceKey]:
        return sorted(keys, key=lambda k: k.sort_key)

    changed = []
    for key in ordered(old.keys() & new.keys()):
        fields = diff_values(old[key], new[key])
        if fields:
            changed.append((key, fields))
    return ResourceDiff(
        added=[(k, new[k]) for k in ordered(new.keys() - old.keys())],
        removed=[(k, old[k]) for k in ordered(old.keys() - new.keys())],
        changed=changed,
    )


def diff_resources(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> ResourceDiff:
    """Compare two collections of manifests object by object (kind + namespace + name).

    Raises ShopgenError when a collection holds something that is not an object, or one object twice.
    """
    return _compare(_index(old, "old"), _index(new, "new"))


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


def _entries(diff: AnyDiff) -> list[_Entry]:
    if isinstance(diff, ResourceDiff):
        return _resource_entries(None, diff, {})
    entries: list[_Entry] = []
    for group in sorted(diff.groups.keys() | {m.group for m in diff.moved}):
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


def to_text(diff: AnyDiff) -> str:
    """For a terminal: the count line, then one line per resource or file with its field changes."""
    entries = _entries(diff)
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


def to_markdown(diff: AnyDiff, *, title: str, limit: int = 65536, command: str = "shopgen diff") -> str:
    """A pull-request comment that always fits in ``limit`` characters (GitHub's is 65536).

    Title, count line, a table of every resource, then a collapsed section per resource. When it does
    not fit, whole sections are left out (their rows are marked), and if even the table does not fit,
    whole rows; a closing note says what was left out and that ``command`` shows everything.
    """
    head = f"## {_one_line(title)}\n\n**{count_line(diff)}**\n"
    entries = _entries(diff)
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


def to_json(diff: AnyDiff) -> str:
    """Machine-readable and byte-stable: keys sorted, lists in the diff's canonical order."""
    entries = _entries(diff)
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
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"


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
