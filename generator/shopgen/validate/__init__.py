"""``shopgen validate``: layered checks of rendered manifests that report findings, never exit.

Layers: ``schemas`` (built-in kinds, strict), ``crds`` (custom resources, closed schemas + CEL);
later layers (policies, security baseline) add findings to the same ``Report``.

The exports load on first use (PEP 562): ``diff`` imports only the credential classifier from this
package and must not pay for the schema and CEL engines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopgen.validate.engine import Validator, validate_resources
    from shopgen.validate.findings import ExpectedFinding, Finding, Report

_HOME = {
    "Validator": "shopgen.validate.engine",
    "validate_resources": "shopgen.validate.engine",
    "ExpectedFinding": "shopgen.validate.findings",
    "Finding": "shopgen.validate.findings",
    "Report": "shopgen.validate.findings",
}
__all__ = ["ExpectedFinding", "Finding", "Report", "Validator", "validate_resources"]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
