"""``shopgen validate``: layered checks of rendered manifests that report findings, never exit.

Layers: ``schemas`` (built-in kinds, strict), ``crds`` (custom resources, closed schemas + CEL);
later layers (policies, security baseline) add findings to the same ``Report``.
"""

from shopgen.validate.engine import Validator, validate_resources
from shopgen.validate.findings import ExpectedFinding, Finding, Report

__all__ = ["ExpectedFinding", "Finding", "Report", "Validator", "validate_resources"]
