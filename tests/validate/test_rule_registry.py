"""The recipe "a new validate rule is one function in one module", proven on a throw-away rule.

The rule is added as a concern module adds one: a check function and a ``Rule`` in that module's
``RULES``, with nothing changed in the registry. ``monkeypatch`` puts the module back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shopgen.validate.findings import Finding
from shopgen.validate.manifests import Manifests
from shopgen.validate.policies import PolicyContext, policy_table_markdown, run_policies
from shopgen.validate.policies import probes as concern
from shopgen.validate.policies.registry import CONCERNS, ORDER, POLICIES, policies
from shopgen.validate.rules import Hit, Rule, hit, rules_markdown
from shopgen.validate.security import pods, run_security, security_rules, security_table_markdown

THROWAWAY = "policy.throwaway-namespace"
NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}


def check_throwaway(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """Fires on every Namespace: enough to see the rule run."""
    for namespace in idx.of_kind("Namespace"):
        yield hit(namespace, ("metadata", "name"), "a throw-away finding", "nothing to fix")


RULE = Rule(
    THROWAWAY, "warning", "every Namespace (a test's throw-away rule)", "nothing: it proves the recipe", check_throwaway
)


def add_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole edit a new rule needs: its ``Rule`` appended to the ``RULES`` of its concern module."""
    monkeypatch.setattr(concern, "RULES", (*concern.RULES, RULE))


def test_run_policies_reports_the_new_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    add_rule(monkeypatch)
    found = [f for f in run_policies([NAMESPACE], PolicyContext()) if f.rule == THROWAWAY]
    assert found == [
        Finding(
            THROWAWAY,
            "warning",
            "Namespace",
            None,
            "shop",
            "metadata.name",
            "a throw-away finding",
            "nothing to fix",
            "policy",
        )
    ]


def test_policy_table_lists_the_new_rule_after_the_ordered_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    add_rule(monkeypatch)
    table = policy_table_markdown().splitlines()
    assert table[:-1] == rules_markdown(POLICIES).splitlines()  # every existing row unchanged, in place
    assert (
        table[-1] == f"| `{THROWAWAY}` | every Namespace (a test's throw-away rule) | nothing: it proves the recipe |"
    )


def test_every_rule_has_a_failing_fixture_demands_one_for_the_new_rule() -> None:
    from test_policies import CASES  # the check tests/validate/test_policies.py makes, against the live registry

    def uncovered() -> list[str]:
        return sorted({r.id for r in (*policies(), *security_rules())} - {case.rule for case in CASES})

    assert uncovered() == []
    with pytest.MonkeyPatch.context() as patch:
        add_rule(patch)
        assert uncovered() == [THROWAWAY]
    assert uncovered() == []  # restored: the module's RULES are what it declares


def test_a_security_rule_is_added_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    def check_namespace(idx: Manifests) -> Iterator[Hit]:
        for namespace in idx.of_kind("Namespace"):
            yield hit(namespace, "", "a throw-away finding", "nothing to fix")

    added = Rule("security.throwaway-namespace", "info", "every Namespace", "nothing", check_namespace)
    monkeypatch.setattr(pods, "RULES", (*pods.RULES, added))
    assert [f.rule for f in run_security([NAMESPACE])] == ["security.throwaway-namespace"]
    assert "`security.throwaway-namespace`" in security_table_markdown()


def test_order_places_only_declared_rules_and_comes_first() -> None:
    declared = [rule.id for module in CONCERNS for rule in module.RULES]
    assert len(declared) == len(set(declared)), "two rules share an id"
    assert set(ORDER) <= set(declared), f"ORDER names rules no concern declares: {set(ORDER) - set(declared)}"
    assert [rule.id for rule in policies()][: len(ORDER)] == list(ORDER)
