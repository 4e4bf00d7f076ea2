"""Runs layers 1 (built-in schemas) and 2 (CRDs + CEL) over a list of manifests into one Report.

A ``Validator`` holds everything that is expensive to build (Kubernetes schemas, CRD validators,
compiled CEL rules), so one object serves a whole run and several calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shopgen.validate.crds import CrdValidator
from shopgen.validate.findings import Finding, Report, resource_identity
from shopgen.validate.schemas import BuiltinSchemas


class Validator:
    """Layers 1-2 for one Kubernetes version and one CRD folder (``None``: CRs not validated)."""

    def __init__(self, *, k8s_version: str = "1.35", crd_dir: Path | None = None) -> None:
        self.builtin = BuiltinSchemas(k8s_version)
        self.crds = CrdValidator(crd_dir)

    def validate(self, resources: Iterable[tuple[str, dict[str, Any]]], report: Report | None = None) -> Report:
        """Check every (source, manifest) pair; findings go into ``report`` (a new one by default)."""
        report = report if report is not None else Report()
        for source, resource in resources:
            report.resources_checked += 1
            malformed = _malformed(resource, source)
            if malformed is not None:
                report.add(malformed)
            elif self.builtin.is_builtin(resource["apiVersion"]):
                report.builtin_validated += 1
                report.extend(self.builtin.validate(resource, source))
            else:
                self.crds.validate(resource, source, report)
        return report


def _malformed(resource: Any, source: str) -> Finding | None:
    """A manifest without a string apiVersion and kind cannot be matched to any schema."""
    kind, namespace, name = resource_identity(resource)
    if not isinstance(resource, dict):
        message = f"expected a mapping (a Kubernetes object), got {type(resource).__name__}"
    elif not isinstance(resource.get("apiVersion"), str) or not resource.get("apiVersion"):
        message = "apiVersion is missing or not a string"
    elif not isinstance(resource.get("kind"), str) or not resource.get("kind"):
        message = "kind is missing or not a string"
    else:
        return None
    return Finding(
        "schema.malformed",
        "error",
        kind,
        namespace,
        name,
        "",
        message,
        "every document must have apiVersion, kind and metadata.name",
        "schemas",
        source,
    )


def validate_resources(
    resources: list[tuple[str, dict[str, Any]]],
    *,
    k8s_version: str = "1.35",
    crd_dir: Path | None,
) -> Report:
    """Layers 1-2 over ``(source, manifest)`` pairs; later layers add to the returned Report."""
    return Validator(k8s_version=k8s_version, crd_dir=crd_dir).validate(resources)
