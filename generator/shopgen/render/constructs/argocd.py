"""Argo CD wiring of the shop: AppProject `shop` and Application `shop`."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from shopgen.render.constructs.base import Component, api_object, standard_labels

ARGOCD_NAMESPACE = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
SHOP_SYNC_WAVE = "10"  # after the add-ons and their CRDs (argocd/addons/ use lower waves)
# Cluster-scoped kinds the shop's stages render, exactly (extensions may add built-in ones: ShopProject).
CLUSTER_KINDS = (
    ("", "Namespace"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("karpenter.sh", "NodePool"),
    ("karpenter.k8s.aws", "EC2NodeClass"),
)


class ShopProject(Component):
    """``extra_cluster_kinds``: (group, kind) of the cluster-scoped kinds the extensions add."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repo_url: str,
        namespace: str,
        part_of: str,
        extra_cluster_kinds: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(scope, id)
        kinds = [*CLUSTER_KINDS, *(k for k in extra_cluster_kinds if k not in CLUSTER_KINDS)]
        api_object(
            self,
            api_version="argoproj.io/v1alpha1",
            kind="AppProject",
            name="shop",
            namespace=ARGOCD_NAMESPACE,
            labels=standard_labels(name="shop", component="gitops", part_of=part_of),
            body={
                "spec": {
                    "description": "The shop: one stage of the surge story at a time, from this repository only.",
                    "sourceRepos": [repo_url],
                    "destinations": [{"server": IN_CLUSTER, "namespace": namespace}],
                    "clusterResourceWhitelist": [{"group": group, "kind": kind} for group, kind in kinds],
                }
            },
        )


class ShopApplication(Component):
    """Points Argo CD at environments/<active stage>; ``hpa_targets`` get their replicas ignored."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repo_url: str,
        target_revision: str,
        path: str,
        namespace: str,
        hpa_targets: tuple[str, ...],
        part_of: str,
    ) -> None:
        super().__init__(scope, id)
        sync_options = ["CreateNamespace=false", "ServerSideApply=true", "PruneLast=true"]
        spec: dict[str, Any] = {
            "project": "shop",
            "source": {"repoURL": repo_url, "targetRevision": target_revision, "path": path},
            "destination": {"server": IN_CLUSTER, "namespace": namespace},
        }
        if hpa_targets:
            # The HPA owns replicas from the autoscaling stage on; without this selfHeal fights it.
            # The target's Deployment leaves spec.replicas out from then on. Under server-side apply,
            # dropping a field Argo CD owned would reset it to the default of 1 for a moment (Kubernetes,
            # "Horizontal Pod Autoscaling: Migrating Deployments and StatefulSets to horizontal
            # autoscaling"). RespectIgnoreDifferences=true makes Argo CD pre-patch the desired object
            # with the live values of the ignored fields before applying it (Argo CD, "Sync Options:
            # Respect ignore differences configs"), so the promotion from readiness applies the live
            # replica count and the ui keeps its pods. It applies to objects that exist already: a
            # cluster bootstrapped straight at this stage starts the ui at 1 until the HPA raises it.
            spec["ignoreDifferences"] = [
                {
                    "group": "apps",
                    "kind": "Deployment",
                    "name": target,
                    "namespace": namespace,
                    "jsonPointers": ["/spec/replicas"],
                }
                for target in hpa_targets
            ]
            sync_options.append("RespectIgnoreDifferences=true")
        spec["syncPolicy"] = {"automated": {"prune": True, "selfHeal": True}, "syncOptions": sync_options}
        api_object(
            self,
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            name="shop",
            namespace=ARGOCD_NAMESPACE,
            labels=standard_labels(name="shop", component="gitops", part_of=part_of),
            annotations={"argocd.argoproj.io/sync-wave": SHOP_SYNC_WAVE},
            body={"spec": spec},
            # Deleting the Application deletes what it synced (teardown).
            finalizers=["resources-finalizer.argocd.argoproj.io"],
        )
