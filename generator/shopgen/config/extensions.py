"""Extensions: your own manifests and patches, per stage, applied from that stage on.

``extensions.<stage>`` names files the way kustomize's ``resources:`` and ``patches:`` do, relative
to the folder of the config file (the output root, for shopgen.yaml). The models here hold what the
config says; ``load_extensions`` reads the named files (bounded, never outside that folder) once,
when the config is loaded, so a render stays a pure function of the Config it is given.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from shopgen.config.types import Model, Text, Visible
from shopgen.errors import ConfigError


def _relative(value: str) -> str:
    path = PurePosixPath(value)
    if "\\" in value or path.is_absolute() or value.startswith("~"):
        raise ValueError(f"{value!r} must be a path relative to the folder of the config file (with / separators)")
    if ".." in path.parts:
        raise ValueError(f"{value!r} leaves the folder of the config file ('..' is not allowed)")
    if not path.parts or path.parts == (".",):
        raise ValueError(f"{value!r} names no file")
    return value


RelativePath = Annotated[str, Field(min_length=1, max_length=1024), Visible, AfterValidator(_relative)]


class PatchTarget(Model):
    """Which objects a patch applies to, as kustomize's ``target`` (exact values; every one given must match)."""

    group: Text | None = None
    version: Text | None = None
    kind: Text | None = None
    name: Text | None = None
    namespace: Text | None = None

    @model_validator(mode="after")
    def _names_something(self) -> PatchTarget:
        if self.kind is None and self.name is None:
            raise ValueError("a target names at least a kind or a name")
        return self

    def describe(self) -> str:
        kind = f"{self.group}/{self.kind}" if self.group and self.kind else self.kind or "any kind"
        where = f" in namespace {self.namespace}" if self.namespace else ""
        return f"{kind} {self.name or '(any name)'}{where}"


class PatchDecl(Model):
    path: RelativePath
    target: PatchTarget | None = None


class StageExtensions(Model):
    """One stage's extensions: resources added to the stage and patches applied to its objects."""

    resources: tuple[RelativePath, ...] = ()
    patches: tuple[PatchDecl, ...] = ()

    @field_validator("resources")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("lists a file twice")
        return value


# What the render needs of the named files, read once. Documents are kept as JSON text: immutable,
# so a render can never change the loaded config, and cheap to parse again.


@dataclass(frozen=True)
class ExtensionResource:
    stage: str  # the stage that declares it (it applies from there on)
    field: str  # e.g. "extensions.autoscaling.resources[0]"
    file: str  # the path as the config names it
    document: str  # the object, as JSON

    def manifest(self) -> dict[str, Any]:
        return json.loads(self.document)


@dataclass(frozen=True)
class ExtensionPatch:
    stage: str
    field: str  # e.g. "extensions.autoscaling.patches[1]"
    file: str
    kind: Literal["strategic-merge", "json6902"]
    target: PatchTarget | None
    document: str  # a partial object (strategic merge) or a list of operations (JSON 6902), as JSON

    def body(self) -> Any:
        return json.loads(self.document)

    def describe(self) -> str:
        return f"{self.field} ({self.file})"


@dataclass(frozen=True)
class LoadedExtensions:
    resources: tuple[ExtensionResource, ...]
    patches: tuple[ExtensionPatch, ...]
    # (path as the config names it, the file it resolved to, sha256 of its bytes) of every file read
    inputs: tuple[tuple[str, str, str], ...]

    def applying(self, stage: str) -> tuple[list[ExtensionResource], list[ExtensionPatch]]:
        """The resources and patches of ``stage`` and every earlier stage, in story order."""
        from shopgen.story.stages import stage_names

        names = stage_names()
        upto = set(names[: names.index(stage) + 1])
        return [r for r in self.resources if r.stage in upto], [p for p in self.patches if p.stage in upto]

    def digest(self) -> str:
        """One hash of every file's config-relative path and bytes, for the committed config hash: the
        same in every clone, wherever it is (the absolute paths serve only the local no-change cache)."""
        return hashlib.sha256(json.dumps([[rel, sha] for rel, _, sha in self.inputs]).encode()).hexdigest()


def load_extensions(
    extensions: dict[str, StageExtensions], base: Path, source: str, raw: Any = None, *, namespace: str = "shop"
) -> LoadedExtensions:
    """Read every file ``extensions`` names (relative to ``base``); errors name the field and the file.

    Every resource is checked here, before anything is written: its kind and name make a file name
    shopgen owns, and it deploys into ``namespace`` (the shop's, the only one AppProject shop allows).
    """
    from shopgen.story.stages import stage_names

    resources: list[ExtensionResource] = []
    patches: list[ExtensionPatch] = []
    inputs: dict[str, tuple[str, str]] = {}
    for stage in (s for s in stage_names() if s in extensions):  # story order
        ext = extensions[stage]
        for i, rel in enumerate(ext.resources):
            where = _Where(source, raw, stage, "resources", i, rel)
            for doc in _documents(base, rel, where, inputs):
                _check_object(doc, where, namespace)
                resources.append(ExtensionResource(stage, where.field, rel, json.dumps(doc, sort_keys=True)))
        for j, decl in enumerate(ext.patches):
            where = _Where(source, raw, stage, "patches", j, decl.path)
            docs = _documents(base, decl.path, where, inputs)
            for doc in docs:
                patches.append(_patch(doc, decl, where, several=len(docs) > 1))
    read = tuple((rel, target, sha) for rel, (target, sha) in sorted(inputs.items()))
    return LoadedExtensions(tuple(resources), tuple(patches), read)


@dataclass(frozen=True)
class _Where:
    source: str
    raw: Any
    stage: str
    part: str
    index: int
    file: str

    @property
    def field(self) -> str:
        return f"extensions.{self.stage}.{self.part}[{self.index}]"

    def error(self, message: str) -> ConfigError:
        from shopgen import yamlio

        key = self.part if self.part == "resources" else "patches"
        line = yamlio.line_of(self.raw, ("extensions", self.stage, key, self.index)) if self.raw is not None else None
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{where}: {self.field}: {self.file}: {message}")


def _documents(base: Path, rel: str, where: _Where, inputs: dict[str, tuple[str, str]]) -> list[Any]:
    """The YAML documents of one named file, read bounded from inside ``base`` only."""
    from shopgen import untrusted, yamlio

    root = base.resolve()
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise where.error(f"resolves to {target}, outside {root} (a symlink out of the folder of the config file)")
    try:
        data = untrusted.read_bytes(target, untrusted.MANIFEST_LIMIT, error=ConfigError)
    except ConfigError as exc:
        raise where.error(str(exc).removeprefix(f"{target}: ")) from None
    if data is None:
        raise where.error(f"file not found (looked for {target})")
    inputs[rel] = (str(target), hashlib.sha256(data).hexdigest())
    try:
        text = data.decode("utf-8")
        docs = [yamlio.to_plain(doc, rel) for doc in yamlio.load_manifests(text, rel)]
    except UnicodeDecodeError as exc:
        raise where.error(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ConfigError as exc:
        raise where.error(str(exc).removeprefix(f"{rel}: ")) from None
    except Exception as exc:  # RepositoryError and friends from the bounded loader: name the field
        raise where.error(str(exc).removeprefix(f"{rel}: ")) from None
    if not docs:
        raise where.error("holds no YAML document")
    return docs


# Kubernetes' names: a DNS-1123 subdomain for most kinds; RBAC's only refuse '/', '%', '.' and '..'.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_RBAC = "rbac.authorization.k8s.io"
_SUBDOMAIN_HELP = "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters"
NAME_BYTES = 255  # the longest file name most file systems take


def _check_object(doc: Any, where: _Where, shop_namespace: str) -> None:
    from shopgen.story.kinds import api_group, builtin_cluster_scoped

    if not isinstance(doc, dict):
        raise where.error(f"a resource must be a Kubernetes object (a mapping), not a {type(doc).__name__}")
    for key in ("apiVersion", "kind"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise where.error(f"a resource needs {key} (a string)")
    kind = doc["kind"]
    if not _KIND.fullmatch(kind):
        raise where.error(f"kind {kind!r} must be a plain identifier (letters and digits, e.g. ConfigMap)")
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise where.error(f"{kind}: a resource needs metadata.name (a string)")
    name = metadata["name"]
    subdomain = len(name) <= 253 and _DNS_SUBDOMAIN.fullmatch(name) is not None
    if api_group(doc["apiVersion"]) == _RBAC:
        if "/" in name or "%" in name or name in (".", ".."):
            raise where.error(f"{kind}: metadata.name {name!r} may not hold '/' or '%' nor be '.' or '..' (Kubernetes)")
        if not subdomain:
            raise where.error(
                f"{kind}: metadata.name {name!r}: shopgen names its file after it, so it is {_SUBDOMAIN_HELP}"
            )
    elif not subdomain:
        raise where.error(f"{kind}: metadata.name {name!r} must be {_SUBDOMAIN_HELP} (Kubernetes)")
    file = f"{kind.lower()}-{name}.yaml"
    if len(file.encode()) > NAME_BYTES:
        raise where.error(
            f"{kind}: renders to environments/{where.stage}/extensions/{file}, a file name longer than "
            f"{NAME_BYTES} bytes (most file systems refuse it): shorten metadata.name"
        )
    namespace = metadata.get("namespace")
    if namespace is None:
        return  # Argo CD puts it in the Application's destination namespace: the shop's
    if not isinstance(namespace, str):
        raise where.error(f"{kind} {name}: metadata.namespace must be a string")
    if builtin_cluster_scoped(doc["apiVersion"], kind):
        raise where.error(f"{kind} is cluster-scoped: it has no namespace (drop metadata.namespace {namespace})")
    if namespace != shop_namespace:
        raise where.error(
            f"{kind} {name}: metadata.namespace {namespace}: AppProject shop only deploys into namespace "
            f"{shop_namespace} (set it, or leave metadata.namespace out)"
        )


def _patch(doc: Any, decl: PatchDecl, where: _Where, *, several: bool) -> ExtensionPatch:
    if isinstance(doc, list):
        if several:
            raise where.error("a JSON 6902 patch is one list of operations: put it in a file of its own")
        if decl.target is None:
            raise where.error("a JSON 6902 patch (a list of operations) needs a target (kind and name)")
        import jsonpatch

        try:
            jsonpatch.JsonPatch(doc)  # every operation well formed: op, path, and value or from
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
            raise where.error(f"not a JSON 6902 patch: {exc}") from None
        if not all(isinstance(op, dict) for op in doc):
            raise where.error("not a JSON 6902 patch: every operation is a mapping with op and path")
        return ExtensionPatch(where.stage, where.field, where.file, "json6902", decl.target, json.dumps(doc))
    if not isinstance(doc, dict):
        raise where.error(f"a patch is a partial object or a list of JSON 6902 operations, not a {type(doc).__name__}")
    if decl.target is None:
        metadata = doc.get("metadata")
        if not isinstance(doc.get("kind"), str) or not isinstance(metadata, dict) or not metadata.get("name"):
            raise where.error(
                "a strategic-merge patch names its object (kind and metadata.name), or the patch has a target"
            )
    return ExtensionPatch(where.stage, where.field, where.file, "strategic-merge", decl.target, json.dumps(doc))
