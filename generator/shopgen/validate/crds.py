"""Layer 2: custom resources against their CRD, closed as the API server closes them, plus CEL.

CRD schemas never say ``additionalProperties: false`` because the API server prunes unknown fields
silently; for a generator a pruned field is a bug, so objects are closed here (unless
``x-kubernetes-preserve-unknown-fields``) and unknown fields are errors with their full path. Then
every ``x-kubernetes-validations`` rule on the path of a present field runs with cel-python.
A custom resource is never passed silently: without its CRD it is reported "not validated".
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator

from shopgen.errors import ConfigError
from shopgen.validate.cel import CelEngine, CompiledRule, to_cel
from shopgen.validate.findings import Finding, Report, Severity, format_path, join_path, resource_identity
from shopgen.validate.jsonerrors import problems
from shopgen.validate.schemas import split_api_version

LAYER = "crds"

# CRD files reach megabytes (Argo CD's ApplicationSet is 1.4 MB): libyaml parses them ~10x faster
# than a pure-Python loader. PyYAML comes with kubernetes-validate.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# "Basic shape" of metadata: the API server validates ObjectMeta itself, not the CRD schema.
_METADATA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
    },
}
# Keys that mean nothing to jsonschema (or would mislead it: ``nullable``, ``format`` int32/int64).
_DROPPED = frozenset({"description", "default", "example", "externalDocs", "nullable", "format", "title"})


@dataclass(frozen=True)
class CrdVersion:
    """One version of one CRD, with its closed jsonschema validator built once."""

    group: str
    kind: str
    name: str
    schema: dict[str, Any]
    source: str
    validator: Draft4Validator
    # ids of schema nodes whose subtree has CEL rules or list-type constraints (the walk skips the rest)
    interesting: frozenset[int]


@dataclass
class _CrdFile:
    path: Path
    text: str
    parsed: bool = False


@dataclass
class CrdCatalog:
    """CRDs found under a folder, parsed lazily: only files that can define a requested kind."""

    root: Path
    _files: list[_CrdFile] = field(default_factory=list)
    _crds: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _sources: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_dir(cls, root: Path) -> CrdCatalog:
        """Every ``*.yaml``/``*.yml`` under ``root`` (recursive); a missing folder is a usage error."""
        if not root.is_dir():
            raise ConfigError(f"--crd-dir {root}: not a directory; pass the folder that holds the CRD files")
        catalog = cls(root)
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
            try:
                catalog._files.append(_CrdFile(path, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"--crd-dir: cannot read {path}: {exc}") from None
        return catalog

    def find(self, group: str, kind: str) -> tuple[dict[str, Any], str] | None:
        """The CRD (and its file) defining ``kind`` in ``group``, or None."""
        key = (group, kind)
        if key not in self._crds:
            # Cheap text test first; if it misses (odd formatting), parse everything before giving up.
            # The patterns start with a literal so the regex engine can skip through megabytes quickly.
            group_line = re.compile(rf"group:[ \t]*[\"']?{re.escape(group)}[\"']?[ \t]*$", re.MULTILINE)
            kind_line = re.compile(rf"kind:[ \t]*[\"']?{re.escape(kind)}[\"']?[ \t]*$", re.MULTILINE)
            for crd_file in self._files:
                if not crd_file.parsed and group_line.search(crd_file.text) and kind_line.search(crd_file.text):
                    self._parse(crd_file)
            if key not in self._crds:
                for crd_file in self._files:
                    if not crd_file.parsed:
                        self._parse(crd_file)
        if key not in self._crds:
            return None
        return self._crds[key], self._sources[key]

    def _parse(self, crd_file: _CrdFile) -> None:
        crd_file.parsed = True
        try:
            docs = list(yaml.load_all(crd_file.text, Loader=_YAML_LOADER))
        except yaml.YAMLError as exc:
            raise ConfigError(f"--crd-dir: {crd_file.path} is not valid YAML: {exc}") from None
        for doc in _crd_documents(docs):
            spec = doc.get("spec") or {}
            names = spec.get("names") or {}
            key = (str(spec.get("group", "")), str(names.get("kind", "")))
            if key not in self._crds:  # first file wins, in sorted path order
                self._crds[key] = doc
                self._sources[key] = str(crd_file.path)


def _crd_documents(docs: list[Any]) -> Iterator[dict[str, Any]]:
    """CRDs in a file, also inside a ``kind: List`` (what ``kubectl get crd -o yaml`` prints)."""
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            yield from _crd_documents(doc["items"])
        elif doc.get("kind") == "CustomResourceDefinition" and str(doc.get("apiVersion", "")).startswith(
            "apiextensions.k8s.io/"
        ):
            yield doc


def closed_schema(node: Any, *, root: bool = False) -> Any:
    """The CRD's OpenAPI v3 schema as jsonschema (draft 4) that rejects what the API server prunes."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: closed_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = closed_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [closed_schema(sub) for sub in value]
        elif key not in _DROPPED and not key.startswith("x-kubernetes-"):
            out[key] = value
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if root or node.get("x-kubernetes-embedded-resource"):
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props["metadata"] = _METADATA
    is_object = out.get("type") == "object" or "properties" in out
    if is_object and "additionalProperties" not in out and not node.get("x-kubernetes-preserve-unknown-fields"):
        # Structural schemas prune every field they do not list, also in a bare ``type: object``.
        out["additionalProperties"] = False
    return out


def _interesting_nodes(node: Any, found: set[int]) -> bool:
    """Collect ids of schema nodes that have, or lead to, CEL rules or list-type constraints."""
    if not isinstance(node, dict):
        return False
    here = bool(node.get("x-kubernetes-validations")) or node.get("x-kubernetes-list-type") in ("set", "map")
    children = list((node.get("properties") or {}).values())
    children += [node[k] for k in ("items", "additionalProperties") if isinstance(node.get(k), dict)]
    for child in children:
        here = _interesting_nodes(child, found) or here
    if here:
        found.add(id(node))
    return here


def with_defaults(schema: Any, value: Any) -> Any:
    """A plain copy of ``value`` as the API server stores it: nulls pruned, defaults applied."""
    if not isinstance(schema, dict):
        return _plain(value)
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = props.get(key) if props else (extra if isinstance(extra, dict) else None)
            if item is None and sub is not None and not sub.get("nullable"):
                continue
            out[str(key)] = with_defaults(sub, item)
        for key, sub in (props or {}).items():
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = with_defaults(sub, copy.deepcopy(sub["default"]))
        return out
    if isinstance(value, list):
        items = schema.get("items")
        return [with_defaults(items, item) for item in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class CrdValidator:
    """Validates custom resources; keeps closed validators and compiled CEL rules for the run."""

    def __init__(self, crd_dir: Path | None, cel: CelEngine | None = None) -> None:
        self.crd_dir = crd_dir
        self._catalog = CrdCatalog.from_dir(crd_dir) if crd_dir is not None else None
        self._cel = cel or CelEngine()
        self._versions: dict[tuple[str, str, str], CrdVersion | Finding] = {}

    def validate(self, resource: dict[str, Any], source: str, report: Report) -> None:
        """Add the findings of one custom resource to ``report`` (and count CEL rules)."""
        kind, namespace, name = resource_identity(resource)
        api_version = str(resource.get("apiVersion", ""))
        group, version = split_api_version(api_version)
        crd_version = self._crd_version(group, version, kind)
        if isinstance(crd_version, Finding):
            report.add(replace(crd_version, namespace=namespace, name=name, source=source))
            return
        report.custom_validated += 1
        check = _Check(self._cel, crd_version, report, kind, namespace, name, source)
        check.run(resource)

    def scope(self, group: str, kind: str) -> str | None:
        """The ``spec.scope`` (Cluster or Namespaced) of the CRD defining ``kind``, None when none is known."""
        found = self._catalog.find(group, kind) if self._catalog is not None and group else None
        scope = (found[0].get("spec") or {}).get("scope") if found is not None else None
        return scope if isinstance(scope, str) else None

    def _crd_version(self, group: str, version: str, kind: str) -> CrdVersion | Finding:
        key = (group, version, kind)
        if key not in self._versions:
            self._versions[key] = self._load_version(group, version, kind)
        return self._versions[key]

    def _load_version(self, group: str, version: str, kind: str) -> CrdVersion | Finding:
        def finding(rule: str, severity: Severity, message: str, hint: str) -> Finding:
            return Finding(rule, severity, kind, None, "", "", message, hint, LAYER)

        api_version = f"{group}/{version}"
        if self._catalog is None:
            return finding(
                "crd.not-validated",
                "warning",
                f"{api_version} {kind} is a custom resource and no CRD folder was given: not validated",
                "pass --crd-dir with the CRDs of the installed charts (for example `kubectl get crd -o yaml`)",
            )
        found = self._catalog.find(group, kind)
        if found is None:
            return finding(
                "crd.not-validated",
                "warning",
                f"no CRD for {kind} in group {group!r} under {self.crd_dir}: not validated",
                "add the CRD of the chart that owns this kind to the --crd-dir folder",
            )
        crd, crd_source = found
        versions = {str(v.get("name")): v for v in crd.get("spec", {}).get("versions") or []}
        served = [name for name, v in versions.items() if v.get("served")]
        served_text = ", ".join(f"{group}/{name}" for name in served) or "none"
        # Suggest the storage version when it is served, else the first served one (CRD order).
        preferred = next((n for n in served if versions[n].get("storage")), served[0] if served else None)
        hint = f"use apiVersion {group}/{preferred}" if preferred else "the CRD serves no version"
        if version not in versions:
            return finding(
                "crd.unknown-version",
                "error",
                f"{kind} has no version {version!r} in its CRD (served: {served_text})",
                hint,
            )
        if not versions[version].get("served"):
            return finding(
                "crd.version-not-served",
                "error",
                f"{api_version} {kind} is in the CRD but not served (served: {served_text})",
                hint,
            )
        schema = (versions[version].get("schema") or {}).get("openAPIV3Schema") or {"type": "object"}
        interesting: set[int] = set()
        _interesting_nodes(schema, interesting)
        return CrdVersion(
            group=group,
            kind=kind,
            name=version,
            schema=schema,
            source=crd_source,
            validator=Draft4Validator(closed_schema(schema, root=True)),
            interesting=frozenset(interesting),
        )


@dataclass
class _Check:
    """The checks of one resource against one CRD version."""

    cel: CelEngine
    crd: CrdVersion
    report: Report
    kind: str
    namespace: str | None
    name: str
    source: str
    schema_error_paths: list[tuple[str | int, ...]] = field(default_factory=list)

    def add(self, rule: str, severity: Severity, path: str, message: str, hint: str) -> None:
        self.report.add(
            Finding(rule, severity, self.kind, self.namespace, self.name, path, message, hint, LAYER, self.source)
        )

    def run(self, resource: dict[str, Any]) -> None:
        stored = with_defaults(self.crd.schema, resource)
        for error in self.crd.validator.iter_errors(stored):
            self.schema_error_paths.append(tuple(error.absolute_path))
            for p in problems(error):
                self.add(f"crd.{p.code}", "error", p.path, p.message, p.hint)
        if id(self.crd.schema) in self.crd.interesting:
            self._walk(self.crd.schema, stored, to_cel(stored), ())

    def _walk(self, schema: dict[str, Any], plain: Any, value: Any, path: tuple[str | int, ...]) -> None:
        rules = schema.get("x-kubernetes-validations")
        if rules:
            for rule in rules:
                self._rule(rule, value, path)
        list_type = schema.get("x-kubernetes-list-type")
        if list_type in ("set", "map") and isinstance(plain, list):
            self._unique(schema, plain, path)
        interesting = self.crd.interesting
        if isinstance(plain, dict):
            props = schema.get("properties")
            extra = schema.get("additionalProperties")
            for key, item in plain.items():
                sub = props.get(key) if props is not None else extra
                if isinstance(sub, dict) and id(sub) in interesting and item is not None:
                    self._walk(sub, item, value[key], (*path, key))
        elif isinstance(plain, list):
            sub = schema.get("items")
            if isinstance(sub, dict) and id(sub) in interesting:
                for index, item in enumerate(plain):
                    self._walk(sub, item, value[index], (*path, index))

    def _rule(self, rule: dict[str, Any], value: Any, path: tuple[str | int, ...]) -> None:
        text = str(rule.get("rule", ""))
        compiled = self.cel.compile(text)
        where = join_path(format_path(path), str(rule.get("fieldPath") or ""))
        if compiled.transition:
            self.report.cel_not_applicable += 1
            return
        if compiled.parse_error or compiled.unsupported:
            self.report.cel_not_evaluated += 1
            why = (
                f"cel-python cannot parse it ({compiled.parse_error})"
                if compiled.parse_error
                else "it uses " + ", ".join(compiled.unsupported) + ", which shopgen does not provide"
            )
            self.add("crd.cel-not-evaluated", "warning", where, f"CEL rule not evaluated: {why}", f"rule: {text}")
            return
        self.report.cel_evaluated += 1
        outcome = self.cel.evaluate(compiled, value)
        if outcome.passed:
            return
        if outcome.error is not None:
            if any(bad[: len(path)] == path for bad in self.schema_error_paths):
                return  # a consequence of a schema error already reported at or below this field
            # The API server rejects an object whose rule errors at runtime (e.g. a missing key).
            self.add(
                "crd.cel-error", "error", where, f"CEL rule failed with an error: {outcome.error}", f"rule: {text}"
            )
            return
        self.add("crd.cel-rule", "error", where, self._message(rule, text, value), f"rule: {text}")

    def _message(self, rule: dict[str, Any], text: str, value: Any) -> str:
        expression = rule.get("messageExpression")
        if expression:
            compiled: CompiledRule = self.cel.compile(str(expression))
            if compiled.program is not None:
                try:
                    result = compiled.program.evaluate({"self": value})
                except Exception:  # fall back to the static message, as the API server does
                    result = None
                if isinstance(result, str) and result.strip():
                    return str(result)
        return str(rule.get("message") or f"failed rule: {text}")

    def _unique(self, schema: dict[str, Any], items: list[Any], path: tuple[str | int, ...]) -> None:
        keys = schema.get("x-kubernetes-list-map-keys") if schema.get("x-kubernetes-list-type") == "map" else None
        seen: set[str] = set()
        for index, item in enumerate(items):
            identity = [item.get(k) if isinstance(item, dict) else item for k in keys] if keys else item
            marker = json.dumps(identity, sort_keys=True, default=str)
            if marker in seen:
                what = f"the same {', '.join(keys)}" if keys else "the same value"
                self.add(
                    "crd.duplicate-item",
                    "error",
                    format_path((*path, index)),
                    f"duplicate list item: {what} as an earlier item",
                    "lists of this type must have unique entries; remove or merge the duplicate",
                )
            seen.add(marker)
