"""A stage's extensions, applied to its rendered objects: the user's resources join the stage under
``extensions/``, then every patch of this stage and the earlier ones applies, in story order, to
shopgen's objects and the extension resources alike. So the files on disk are exactly what Argo CD
applies, and validate and diff see the patched objects.

Pure: works on (path, manifest) pairs and returns new ones; a patched object is a new dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopgen.config.extensions import ExtensionPatch, LoadedExtensions
from shopgen.errors import ConfigError
from shopgen.render.patches import PatchError, describe, json6902, matches, patch_selector, strategic_merge
from shopgen.story.kinds import api_group, builtin_cluster_scoped

FOLDER = "extensions"

Pair = tuple[str, dict[str, Any]]  # (path relative to the stage folder, manifest)


def extension_path(manifest: dict[str, Any]) -> str:
    return f"{FOLDER}/{manifest['kind'].lower()}-{manifest['metadata']['name']}.yaml"


def extend_stage(stage: str, pairs: Sequence[Pair], loaded: LoadedExtensions) -> list[Pair]:
    """``pairs`` (shopgen's objects of ``stage``) plus the extension resources, with every patch applied."""
    resources, patches = loaded.applying(stage)
    result = list(pairs)
    paths = {path for path, _ in result}
    for res in resources:
        manifest = res.manifest()
        path = extension_path(manifest)
        if path in paths:
            raise ConfigError(
                f"{res.field} ({res.file}): {manifest['kind']} {manifest['metadata']['name']} renders to "
                f"environments/{stage}/{path}, which another resource of the stage already uses"
            )
        clash = next((m for _, m in result if _same_object(m, manifest)), None)
        if clash is not None:
            raise ConfigError(
                f"{res.field} ({res.file}): stage {stage} already has {manifest['kind']} "
                f"{manifest['metadata']['name']}; change it with a patch instead"
            )
        paths.add(path)
        result.append((path, manifest))
    for patch in patches:
        result = _apply(stage, result, patch)
    _refuse_duplicates(stage, result)
    return result


def _refuse_duplicates(stage: str, pairs: Sequence[Pair]) -> None:
    """No two objects of the patched stage are one object (a patch keeps identities; this proves it)."""
    seen: dict[tuple[Any, ...], str] = {}
    for path, manifest in pairs:
        ident = _identity(manifest)
        key = (ident["the API group"], ident["kind"], ident["metadata.name"], ident["metadata.namespace"] or "")
        if key in seen:
            raise ConfigError(
                f"stage {stage}: environments/{stage}/{seen[key]} and environments/{stage}/{path} are one object, "
                f"{ident['kind']} {ident['metadata.name']}, after the extensions' patches"
            )
        seen[key] = path


def _identity(manifest: dict[str, Any]) -> dict[str, Any]:
    """What makes an object the object it is: its API group, kind, name and namespace (None: missing)."""
    api_version = manifest.get("apiVersion")
    metadata = manifest.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return {
        "the API group": api_group(api_version) if isinstance(api_version, str) else None,
        "kind": manifest.get("kind"),
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
    }


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    return "(the core group)" if value == "" else str(value)


def _same_object(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same kind and name, and the same namespace (an object without one lands in the shop's)."""
    if a.get("kind") != b.get("kind") or api_group(a.get("apiVersion")) != api_group(b.get("apiVersion")):
        return False
    meta_a, meta_b = a.get("metadata") or {}, b.get("metadata") or {}
    if meta_a.get("name") != meta_b.get("name"):
        return False
    ns_a, ns_b = meta_a.get("namespace"), meta_b.get("namespace")
    return ns_a == ns_b or ns_a is None or ns_b is None


def _apply(stage: str, pairs: list[Pair], patch: ExtensionPatch) -> list[Pair]:
    body = patch.body()
    if patch.target is not None:
        selector: dict[str, str | None] = patch.target.model_dump()
    else:
        selector = patch_selector(body)
    hits = [i for i, (_, m) in enumerate(pairs) if matches(m, selector)]
    if not hits:
        later = "" if patch.stage == stage else f" (it applies from stage {patch.stage} on)"
        raise ConfigError(
            f"{patch.describe()}: matches no object in stage {stage}{later}; looked for {describe(selector)}"
        )
    result = list(pairs)
    for i in hits:
        path, manifest = result[i]
        try:
            patched = json6902(manifest, body) if patch.kind == "json6902" else strategic_merge(manifest, body)
        except PatchError as exc:
            raise ConfigError(
                f"{patch.describe()}: on {manifest.get('kind')} {manifest.get('metadata', {}).get('name')} "
                f"in stage {stage}: {exc}"
            ) from None
        before, after = _identity(manifest), _identity(patched)
        changed = [
            f"{field} from {_shown(before[field])} to {_shown(after[field])}"
            for field in before
            if before[field] != after[field]
        ]
        if changed:
            raise ConfigError(
                f"{patch.describe()}: on {manifest.get('kind')} {manifest.get('metadata', {}).get('name')} "
                f"in stage {stage}: changes {', '.join(changed)}; a patch changes an object, never which "
                "object it is (add a resource for another one)"
            )
        result[i] = (path, patched)
    return result


def cluster_kinds(loaded: LoadedExtensions | None) -> list[tuple[str, str]]:
    """(group, kind) of every built-in cluster-scoped kind the extension resources add, sorted.

    Read from the loaded resources: the same as from the patched objects, since a patch that would
    change an object's API group or kind is refused (``_apply``).
    """
    if loaded is None:
        return []
    found = set()
    for res in loaded.resources:
        manifest = res.manifest()
        if builtin_cluster_scoped(manifest.get("apiVersion"), manifest.get("kind")):
            found.add((api_group(manifest["apiVersion"]), manifest["kind"]))
    return sorted(found)


def extension_summary(loaded: LoadedExtensions | None, stage: str) -> str | None:
    """``extensions: 1 object, 2 patches (from autoscaling)``, or None when none applies to ``stage``."""
    if loaded is None:
        return None
    resources, patches = loaded.applying(stage)
    if not resources and not patches:
        return None
    sources = list(dict.fromkeys([*(r.stage for r in resources), *(p.stage for p in patches)]))
    objects = f"{len(resources)} object" + ("" if len(resources) == 1 else "s")
    changes = f"{len(patches)} patch" + ("" if len(patches) == 1 else "es")
    order = {name: i for i, name in enumerate(_stage_names())}
    return f"extensions: {objects}, {changes} (from {', '.join(sorted(sources, key=order.__getitem__))})"


def _stage_names() -> list[str]:
    from shopgen.story.stages import stage_names

    return list(stage_names())
