"""The one registry of scenario policies: which concern modules declare rules, and the order in which
they run and the README lists them.

Adding a rule: write its check in the concern module it belongs to and add a ``Rule`` to that module's
``RULES``; nothing here changes. It runs (and is listed) after the rules ``ORDER`` names; put its id in
``ORDER`` only to move it up. A new concern is a new module in ``policies/`` added to ``CONCERNS``.
"""

from __future__ import annotations

from shopgen.validate.findings import Finding
from shopgen.validate.manifests import Manifest, Manifests
from shopgen.validate.policies import alb, autoscaling, gitops, overprovisioning, probes, references, shutdown
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.rules import Rule, collect, rules_markdown

CONCERNS = (shutdown, probes, alb, autoscaling, overprovisioning, references, gitops)

# The order findings come in and the README's policy table shows (tests/test_ci_files.py compares
# the README with ``policy_table_markdown``): changing it changes both.
ORDER = (
    "policy.grace-period",
    "policy.prestop-vs-deregistration",
    "policy.prestop-vs-endpoint-propagation",
    "policy.readiness-probe",
    "policy.alb-healthcheck-follows-readiness",
    "policy.alb-readiness-gate",
    "policy.liveness-not-readiness",
    "policy.liveness-no-dependencies",
    "policy.liveness-tolerates-saturation",
    "policy.startup-budget",
    "policy.hpa-requests",
    "policy.hpa-replicas-pinned",
    "policy.hpa-memory-vs-heap",
    "policy.hpa-min-max",
    "policy.overprovisioning-priority",
    "policy.overprovisioning-not-default",
    "policy.overprovisioning-reservation",
    "policy.rollout-safety",
    "policy.emptydir-consolidation",
    "policy.reference",
    "policy.external-secret",
    "policy.cluster-kind-allowed",
)


def policies() -> tuple[Rule, ...]:
    """Every scenario policy the concern modules declare, in registry order (read anew on each call)."""
    return collect(CONCERNS, ORDER)


POLICIES: tuple[Rule, ...] = policies()
POLICY_BY_ID = {rule.id: rule for rule in POLICIES}


def run_policies(manifests: list[Manifest], ctx: PolicyContext) -> list[Finding]:
    """Every scenario policy over one stage's manifests (layer 3)."""
    idx = Manifests(manifests)
    findings: list[Finding] = []
    for rule in policies():
        findings += rule.findings(rule.check(idx, ctx), "policy")
    return findings


def policy_table_markdown() -> str:
    """The scenario policies as the README documents them."""
    return rules_markdown(policies())
