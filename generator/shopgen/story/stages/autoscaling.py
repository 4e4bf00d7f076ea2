"""Stage 3: the HPA on the ui, Karpenter nodes, PDBs, and stores protected from consolidation."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.story.stages.base import DO_NOT_DISRUPT, POD_ANNOTATION, Contract, Stage
from shopgen.story.state import AppService, DesiredState, Hpa, NodeClass, NodePool, Pdb

if TYPE_CHECKING:
    from shopgen.config import Config


def _autoscaling(state: DesiredState, cfg: Config) -> DesiredState:
    """HPA on the ui, Karpenter nodes, and what consolidation needs: PDBs and protected stores."""
    hpa = cfg.autoscaling.hpa
    karpenter = cfg.karpenter
    services = tuple(replace(s, replicas=None) if s.name == hpa.target else s for s in state.services)

    def running(svc: AppService) -> int:
        return hpa.min_replicas if svc.replicas is None else svc.replicas

    return replace(
        state,
        services=services,
        hpas=(
            Hpa(
                target=hpa.target,
                min_replicas=hpa.min_replicas,
                max_replicas=hpa.max_replicas,
                cpu_utilization=hpa.cpu_utilization,
                memory_utilization=hpa.memory_utilization,
            ),
        ),
        pdbs=tuple(
            Pdb(service=s.name, max_unavailable=cfg.autoscaling.pdb_max_unavailable)
            for s in services
            if running(s) >= 2
        ),
        stores=tuple(replace(s, do_not_disrupt=True) for s in state.stores),
        nodepool=NodePool(
            name=karpenter.nodepool.name,
            nodeclass=karpenter.nodeclass.name,
            architectures=karpenter.nodepool.architectures,
            instance_categories=karpenter.nodepool.instance_categories,
            capacity_types=karpenter.nodepool.capacity_types,
            cpu_limit=karpenter.nodepool.cpu_limit,
            consolidate_after=karpenter.nodepool.consolidate_after,
            expire_after=karpenter.nodepool.expire_after,
        ),
        nodeclass=NodeClass(
            name=karpenter.nodeclass.name,
            ami_alias=karpenter.nodeclass.ami_alias,
            role=cfg.karpenter_node_role,
            discovery_tag=cfg.cluster.name,
            system_reserved_cpu=karpenter.nodeclass.system_reserved_cpu,
            system_reserved_memory=karpenter.nodeclass.system_reserved_memory,
        ),
    )


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    return [
        (
            "HPA",
            f"{cfg.autoscaling.hpa.target}: min {cfg.autoscaling.hpa.min_replicas}, max "
            f"{cfg.autoscaling.hpa.max_replicas}, CPU {cfg.autoscaling.hpa.cpu_utilization}%"
            + (
                f", memory {cfg.autoscaling.hpa.memory_utilization}%"
                if cfg.autoscaling.hpa.memory_utilization is not None
                else " (no memory metric)"
            ),
        ),
        (
            "NodePool",
            f"`{cfg.karpenter.nodepool.name}`: {', '.join(cfg.karpenter.nodepool.capacity_types)}; "
            f"CPU limit {cfg.karpenter.nodepool.cpu_limit}; consolidateAfter "
            f"{cfg.karpenter.nodepool.consolidate_after}",
        ),
        (
            "EC2NodeClass",
            f"`{cfg.karpenter.nodeclass.ami_alias}`, role `{cfg.karpenter_node_role}` "
            "(pin the AMI alias version for production)",
        ),
        (
            "PodDisruptionBudget",
            f"maxUnavailable {cfg.autoscaling.pdb_max_unavailable} per service with >= 2 replicas",
        ),
    ]


STAGE = Stage(
    readme_values=readme_values,
    name="autoscaling",
    title="Autoscaling: pods and nodes scale out with load",
    story="Pods and nodes scale out with load.",
    fix="HPA ui (autoscaling/v2): min 2, max 10, CPU 55%, memory 60%; the ui Deployment leaves "
    "spec.replicas to the HPA; Karpenter NodePool and EC2NodeClass `default` (v1 API); a "
    "PodDisruptionBudget for each app service with 2 or more replicas; the backing stores are "
    "protected from consolidation.",
    why="The course kept `replicas: 2`, which makes Argo CD and the HPA fight; shopgen leaves it out, "
    "and Argo CD ignores the ui's replicas with RespectIgnoreDifferences=true, which applies the live "
    "count instead of dropping the field (dropping it would reset the ui to 1 pod for a moment), so "
    "the ui keeps its 2 pods through the promotion from readiness. "
    "The course applied Karpenter v1beta1; shopgen renders the v1 API. Karpenter consolidation "
    "evicts pods, so PDBs keep services up and `karpenter.sh/do-not-disrupt` keeps the stores, "
    "whose data lives on emptyDir.",
    contract=Contract(
        adds=("HorizontalPodAutoscaler", "PodDisruptionBudget", "NodePool", "EC2NodeClass"),
        changes=(
            ("Deployment", "spec.replicas"),
            ("Deployment", POD_ANNOTATION.format(DO_NOT_DISRUPT)),
            ("StatefulSet", POD_ANNOTATION.format(DO_NOT_DISRUPT)),
        ),
    ),
    transform=_autoscaling,
    watch="`kubectl get hpa {hpa} -n {namespace} -w` and `kubectl get nodeclaims -w`: replicas and nodes "
    "follow the load.",
)
