"""Comparing manifests as data: field changes, resources by kind + namespace + name, and contracts.

Named list items are matched by name, so reordering is no change; values are redacted before comparing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shopgen.diff.paths import WILDCARD, Named, Path, Segment, format_path, parse_path
from shopgen.diff.redaction import _plain, redact
from shopgen.errors import ShopgenError

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
# Contracts: the changes a set of path patterns does not cover


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
