"""GitOps: Argo CD syncs a stage only if its AppProject allows every cluster-scoped kind the stage holds.

The render allows the built-in cluster-scoped kinds an extension adds (story/kinds.py); a custom
resource's scope is known only from its CRD, so this rule reads it there (``--crd-dir``).
"""

from __future__ import annotations

from collections.abc import Iterator

from shopgen.story.kinds import api_group, builtin_cluster_scoped
from shopgen.validate.manifests import Manifests, identity
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.rules import Hit, Rule, hit


def allowed(whitelist: frozenset[tuple[str, str]], group: str, kind: str) -> bool:
    """Argo CD's match: each of group and kind equal, or ``*``."""
    return any(g in (group, "*") and k in (kind, "*") for g, k in whitelist)


def check_cluster_kind_allowed(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """Every cluster-scoped object of the stage is of a kind the AppProject whitelists."""
    if ctx.cluster_whitelist is None:  # no AppProject to compare with (a stage checked on its own)
        return
    for manifest in idx.all:
        kind, group = str(manifest.get("kind") or ""), api_group(manifest.get("apiVersion"))
        builtin = builtin_cluster_scoped(manifest.get("apiVersion"), kind)
        if not builtin and ctx.crd_scope(group, kind) != "Cluster":
            continue
        if allowed(ctx.cluster_whitelist, group, kind):
            continue
        shown = f"{group}/{kind}" if group else kind
        yield hit(
            manifest,
            "kind",
            f"{shown} is cluster-scoped and AppProject shop does not allow it (clusterResourceWhitelist): "
            f"Argo CD refuses to sync {identity(manifest)[2]}, and with it the stage",
            "drop the object, or, for a custom resource, allow its kind in the AppProject (argocd/appproject-shop.yaml "
            "is generated: shopgen derives only built-in kinds)",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "policy.cluster-kind-allowed",
        "error",
        "every cluster-scoped object (built-in, or a custom resource whose CRD says scope: Cluster) is of a kind "
        "AppProject shop whitelists",
        "a sync that Argo CD refuses: the stage, extensions included, never reaches the cluster",
        check_cluster_kind_allowed,
    ),
)
