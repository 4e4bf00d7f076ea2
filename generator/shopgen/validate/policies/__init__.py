"""Layer 3: scenario policies — mistakes that only show up under load or during a rollout.

No common linter checks most of these (none compares a grace period with the preStop sleep, none
checks that an HPA's target requests what its metrics measure), so each is a small rule with a
stable id, run over the manifests of one stage. Numbers the rules assume (endpoint propagation,
start and shutdown times) come from a ``PolicyContext``, built from the config by ``for_stage``.

One module per concern declares its rules next to their checks (``RULES``); ``registry`` collects
them in the documented order. This package only re-exports what the rest of shopgen imports.
"""

from __future__ import annotations

from shopgen.validate.manifests import (
    DEFAULT_GRACE_SECONDS,
    Manifest,
    Manifests,
    PathParts,
    Pod,
    identity,
    pod_of,
    probe_budget,
    quantity,
)
from shopgen.validate.policies.autoscaling import heap_share_of_request
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.policies.registry import (
    POLICIES,
    POLICY_BY_ID,
    policies,
    policy_table_markdown,
    run_policies,
)
from shopgen.validate.policies.shutdown import max_unavailable
from shopgen.validate.rules import Hit, Rule, hit, rules_markdown, with_sources

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "POLICIES",
    "POLICY_BY_ID",
    "Hit",
    "Manifest",
    "Manifests",
    "PathParts",
    "Pod",
    "PolicyContext",
    "Rule",
    "heap_share_of_request",
    "hit",
    "identity",
    "max_unavailable",
    "pod_of",
    "policies",
    "policy_table_markdown",
    "probe_budget",
    "quantity",
    "rules_markdown",
    "run_policies",
    "with_sources",
]
