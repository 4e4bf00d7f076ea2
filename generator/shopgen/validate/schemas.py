"""Layer 1: built-in kinds, strictly (unknown fields are errors), against one Kubernetes version.

The schemas are the ``-strict`` JSON schemas shipped by kubernetes-validate, read in-process: the
shared definitions file (1.5 MB) is parsed once per ``BuiltinSchemas`` object and one jsonschema
validator is kept per kind, where the kubernetes-validate CLI re-reads everything per resource.
Custom resources are not this layer's business (layer 2, ``crds.py``).
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from kubernetes_validate import utils as kv
from kubernetes_validate.version import __version__ as kv_version
from referencing import Registry, Resource

from shopgen.errors import ConfigError
from shopgen.validate.findings import Finding, resource_identity
from shopgen.validate.jsonerrors import problems

LAYER = "schemas"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


def supported_versions() -> list[str]:
    """Kubernetes versions (``1.25.0`` …) kubernetes-validate has schemas for, oldest first."""
    return sorted(set(kv.all_versions()), key=lambda v: tuple(int(p) for p in v.split(".")))


def resolve_version(k8s_version: str) -> str:
    """Map ``1.35`` / ``v1.35`` / ``1.35.2`` to the package's schema version ``1.35.0``.

    Schemas only change between minor releases, so any patch of a supported minor is accepted.
    """
    versions = supported_versions()
    by_minor = {tuple(int(p) for p in v.split(".")[:2]): v for v in versions}
    match = _VERSION.match(k8s_version.strip())
    found = by_minor.get((int(match.group(1)), int(match.group(2)))) if match else None
    if found is None:
        first, last = (".".join(v.split(".")[:2]) for v in (versions[0], versions[-1]))
        raise ConfigError(
            f"--k8s-version {k8s_version!r} is not supported: kubernetes-validate {kv_version} has "
            f"schemas for Kubernetes {first} to {last}; pass a version in that range, "
            f"for example --k8s-version 1.35"
        )
    return found


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``) (the core group)."""
    group, _, version = api_version.rpartition("/")
    return group, version


class BuiltinSchemas:
    """Validates built-in kinds of one Kubernetes version; reuse one object for a whole run."""

    def __init__(self, k8s_version: str = "1.35") -> None:
        self.version = resolve_version(k8s_version)
        self.minor = ".".join(self.version.split(".")[:2])
        self._dir = f"kubernetes-json-schema/v{self.version}-local-strict"
        definitions = kv.schema_contents(f"{self._dir}/_definitions.json", self.version)
        self._registry: Registry = Resource.from_contents(definitions) @ Registry()
        self._kinds: set[tuple[str, str, str]] = set()
        for schema in definitions.get("$defs", {}).values():
            for gvk in schema.get("x-kubernetes-group-version-kind", ()):
                self._kinds.add((gvk["group"], gvk["version"], gvk["kind"]))
        self._groups = frozenset(group for group, _, _ in self._kinds)
        self._validators: dict[tuple[str, str], Draft202012Validator | None] = {}

    def is_builtin(self, api_version: str) -> bool:
        """True when the apiVersion's group belongs to Kubernetes itself (so not a CRD's)."""
        return split_api_version(api_version)[0] in self._groups

    def _validator(self, api_version: str, kind: str) -> Draft202012Validator | None:
        key = (api_version, kind)
        if key not in self._validators:
            group, version = split_api_version(api_version)
            validator = None
            if (group, version, kind) in self._kinds:
                # kubernetes-validate's file naming: apps/v1 Deployment -> deployment-apps-v1.json
                suffix = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
                schema = kv.schema_contents(f"{self._dir}/{kind.lower()}-{suffix}.json", self.version)
                validator = Draft202012Validator(schema, registry=self._registry)
            self._validators[key] = validator
        return self._validators[key]

    def validate(self, resource: dict[str, Any], source: str = "") -> list[Finding]:
        """All schema problems of one built-in resource (every error, not only the first)."""
        kind, namespace, name = resource_identity(resource)
        api_version = str(resource.get("apiVersion", ""))

        def finding(rule: str, path: str, message: str, hint: str) -> Finding:
            return Finding(rule, "error", kind, namespace, name, path, message, hint, LAYER, source)

        validator = self._validator(api_version, kind)
        if validator is None:
            return [
                finding(
                    "schema.unknown-kind",
                    "",
                    f"{api_version} {kind} does not exist in Kubernetes {self.minor}",
                    "check apiVersion and kind against the API reference of that version (`kubectl api-resources`)",
                )
            ]
        return [
            finding(f"schema.{p.code}", p.path, p.message, p.hint)
            for error in validator.iter_errors(resource)
            for p in problems(error)
        ]
