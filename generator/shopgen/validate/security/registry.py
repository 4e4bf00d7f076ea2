"""The one registry of the security baseline: which concern modules declare rules, in the order they
run and the README lists them (pods, then images, then plaintext credentials).

Adding a rule: write its check in the concern module it belongs to and add a ``Rule`` to that module's
``RULES``; nothing here changes.
"""

from __future__ import annotations

from shopgen.validate.findings import Finding
from shopgen.validate.manifests import Manifest, Manifests
from shopgen.validate.rules import Rule, collect, rules_markdown
from shopgen.validate.security import images, plaintext, pods

CONCERNS = (pods, images, plaintext)


def security_rules() -> tuple[Rule, ...]:
    """Every security rule the concern modules declare, in registry order (read anew on each call)."""
    return collect(CONCERNS)


SECURITY_RULES: tuple[Rule, ...] = security_rules()
SECURITY_BY_ID = {rule.id: rule for rule in SECURITY_RULES}


def run_security(manifests: list[Manifest]) -> list[Finding]:
    """The security baseline over one stage's manifests (layer 4)."""
    idx = Manifests(manifests)
    findings: list[Finding] = []
    for rule in security_rules():
        findings += rule.findings(rule.check(idx), "security")
    return findings


def security_table_markdown() -> str:
    """The security baseline rules as the README documents them."""
    return rules_markdown(security_rules())
