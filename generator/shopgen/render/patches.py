"""Patches as kustomize applies them, on plain objects: strategic merge, JSON 6902, and target matching.

Pure: every function returns a new object and never changes its arguments.

Strategic merge (``strategic_merge``), the subset of Kubernetes' rules that extensions need:

- mappings merge key by key, recursively; a ``null`` value deletes the key;
- a list whose field has a Kubernetes patch merge key merges item by item on that key
  (``MERGE_KEYS``: containers, initContainers, ephemeralContainers, volumes, env, imagePullSecrets
  and resourceClaims by ``name``; a container's ports by ``containerPort``, a Service's by ``port``;
  volumeMounts by ``mountPath``; volumeDevices by ``devicePath``; hostAliases by ``ip``): a patch
  item with the key of an existing item merges into it, and an item holding ``$patch: delete``
  removes the item with its key; the result lists the patch's items first, in its order, then the
  items it does not name (Kubernetes' order, which kustomize follows); a merge key that is not a
  string or a number is refused;
- every other list (tolerations, args, command, envFrom, …) and every scalar is replaced; a
  ``$patch: delete`` item in such a list is refused (it has no key to find the item by);
- ``$patch: replace`` in a mapping replaces the whole mapping, ``$patch: delete`` deletes it; other
  ``$`` directives (``$retainKeys``, ``$setElementOrder``) are refused rather than half-applied.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

# Field name -> merge key of its list items (Kubernetes' patchMergeKey, for the fields extensions touch).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "resourceClaims": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "ports": "containerPort",  # a Service's ports (items with "port" and no "containerPort") merge by "port"
}
DIRECTIVE = "$patch"


class PatchError(ValueError):
    """A patch that cannot apply; the message says where in the object."""


def strategic_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the strategic-merge ``patch`` applied (its identity fields are not merged)."""
    body = copy.deepcopy(patch)
    body.pop("apiVersion", None)
    body.pop("kind", None)
    if isinstance(body.get("metadata"), dict):
        body["metadata"].pop("name", None)
        body["metadata"].pop("namespace", None)
    result = _merge_map(copy.deepcopy(base), body, "")
    if result is None:
        raise PatchError("$patch: delete on the whole object (delete it by leaving it out instead)")
    return result


def _merge_map(base: dict[str, Any], patch: dict[str, Any], where: str) -> dict[str, Any] | None:
    directive = patch.pop(DIRECTIVE, None)
    if directive == "delete":
        return None
    if directive == "replace":
        return _clean(patch, where)
    if directive is not None:
        raise PatchError(f"{where or '/'}: unknown directive $patch: {directive}")
    for key, value in patch.items():
        here = f"{where}/{key}"
        if key.startswith("$"):
            raise PatchError(f"{here}: the directive {key} is not supported (only $patch)")
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged = _merge_map(base[key], value, here)
            if merged is None:
                base.pop(key)
            else:
                base[key] = merged
        elif isinstance(value, list) and isinstance(base.get(key), list) and _merge_key(key, value, base[key]):
            base[key] = _merge_list(base[key], value, _merge_key(key, value, base[key]), here)
        elif isinstance(value, list) and _merge_key(key, value, []):
            base[key] = _merge_list([], value, _merge_key(key, value, []), here)
        else:
            cleaned = _clean(value, here)
            if cleaned is None:
                base.pop(key, None)
            else:
                base[key] = cleaned
    return base


def _merge_key(field: str, patch: Sequence[Any], base: Sequence[Any]) -> str | None:
    key = MERGE_KEYS.get(field)
    if key is None:
        return None
    items = [i for i in (*patch, *base) if isinstance(i, dict)]
    if len(items) != len(patch) + len(base):
        return None  # a list of scalars under such a name: replaced
    if field == "ports" and items and not any("containerPort" in i for i in items):
        return "port"  # a Service's ports
    return key


def _merge_list(base: list[Any], patch: list[dict[str, Any]], key: str, where: str) -> list[Any]:
    """Kubernetes' order (as kustomize builds it): the patch's items first, in its order, each merged
    into the base item with its key; then the base items the patch does not name, in their order."""
    by_key = {old.get(key): old for old in base if isinstance(old, dict) and _scalar(old.get(key))}
    named: set[Any] = set()
    merged_items: list[Any] = []
    for item in patch:
        if key not in item:
            raise PatchError(f"{where}: an item without its merge key {key!r}")
        if not _scalar(item[key]):
            raise PatchError(
                f"{where}: the merge key {key!r} of an item must be a string or a number, "
                f"not a {type(item[key]).__name__}"
            )
        named.add(item[key])
        here = f"{where}[{key}={item[key]}]"
        if item.get(DIRECTIVE) == "delete":
            continue
        merged = _merge_map(by_key.get(item[key], {}), dict(item), here)
        if merged is not None:
            merged_items.append(merged)
    return merged_items + [
        old for old in base if not (isinstance(old, dict) and _scalar(old.get(key)) and old[key] in named)
    ]


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _clean(value: Any, where: str) -> Any:
    """A value the patch adds: nulls inside it delete nothing, so they (and delete directives) drop out."""
    if isinstance(value, dict):
        return _merge_map({}, dict(value), where)
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict) and item.get(DIRECTIVE) == "delete":
                raise PatchError(
                    f"{where}[{i}]: $patch: delete needs a list merged by key (containers, env, volumes, …); "
                    "this list is replaced whole: give it without the item"
                )
        return [_clean(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def json6902(base: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """``base`` with the RFC 6902 ``operations`` applied; a failing one raises PatchError naming it."""
    import jsonpatch

    result = copy.deepcopy(base)
    for index, op in enumerate(operations):
        try:
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, KeyError, IndexError, TypeError) as exc:
            detail = str(exc) or type(exc).__name__
            raise PatchError(f"operation {index} ({op.get('op')} {op.get('path')}) fails: {detail}") from None
    if not isinstance(result, dict):
        raise PatchError("the operations replace the whole object with something that is not an object")
    return result


def identity_of(manifest: dict[str, Any]) -> tuple[str, str, str, str, str | None]:
    """(group, version, kind, name, namespace) of an object."""
    api_version = str(manifest.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    metadata = manifest.get("metadata") or {}
    return group, version, str(manifest.get("kind", "")), str(metadata.get("name", "")), metadata.get("namespace")


def matches(manifest: dict[str, Any], selector: dict[str, str | None]) -> bool:
    """True when every field ``selector`` gives (group, version, kind, name, namespace) equals the object's."""
    group, version, kind, name, namespace = identity_of(manifest)
    actual = {"group": group, "version": version, "kind": kind, "name": name, "namespace": namespace}
    return all(actual[field] == wanted for field, wanted in selector.items() if wanted is not None)


def patch_selector(patch: dict[str, Any]) -> dict[str, str | None]:
    """What a strategic-merge patch without a target selects: its own apiVersion, kind, name (and namespace)."""
    group, version, kind, name, namespace = identity_of(patch)
    return {
        "group": group if "apiVersion" in patch else None,
        "version": version if "apiVersion" in patch else None,
        "kind": kind,
        "name": name,
        "namespace": namespace,
    }


def describe(selector: dict[str, str | None]) -> str:
    kind = selector.get("kind") or "any kind"
    if selector.get("group"):
        kind = f"{selector['group']}/{kind}"
    where = f" in namespace {selector['namespace']}" if selector.get("namespace") else ""
    return f"{kind} {selector.get('name') or '(any name)'}{where}"
