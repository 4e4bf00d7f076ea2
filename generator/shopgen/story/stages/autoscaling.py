"""Stage 3: the HPA on its targets, Karpenter nodes, PDBs, and stores protected from consolidation."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shopgen.story.stages.base import DO_NOT_DISRUPT, POD_ANNOTATION, Contract, Stage, and_list, plural
from shopgen.story.state import AppService, DesiredState, Hpa, NodeClass, NodePool, Pdb, Store

if TYPE_CHECKING:
    from shopgen.config import Config


def _autoscaling(state: DesiredState, cfg: Config) -> DesiredState:
    """HPA on its targets, Karpenter nodes, and what consolidation needs: PDBs and protected stores."""
    hpa = cfg.autoscaling.hpa
    karpenter = cfg.karpenter
    services = tuple(replace(s, replicas=None) if s.name in hpa.targets else s for s in state.services)

    def running(svc: AppService) -> int:
        return hpa.min_replicas if svc.replicas is None else svc.replicas

    return replace(
        state,
        services=services,
        hpas=tuple(
            Hpa(
                target=target,
                min_replicas=hpa.min_replicas,
                max_replicas=hpa.max_replicas,
                cpu_utilization=hpa.cpu_utilization,
                memory_utilization=hpa.memory_utilization,
            )
            for target in hpa.targets
        ),
        pdbs=tuple(
            Pdb(service=s.name, max_unavailable=cfg.autoscaling.pdb_max_unavailable)
            for s in services
            if running(s) >= 2
        ),
        # Data on emptyDir (or in memory) dies with the pod: consolidation must not move a store.
        stores=tuple(replace(s, do_not_disrupt=not _on_a_volume(s)) for s in state.stores),
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


def _on_a_volume(store: Store) -> bool:
    return store.workload == "StatefulSet" and store.data_path is not None and store.storage_class is not None


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    return [
        (
            "HPA",
            f"{', '.join(cfg.autoscaling.hpa.targets)}: min {cfg.autoscaling.hpa.min_replicas}, max "
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


def words(cfg: Config) -> dict[str, str]:
    """The prose's placeholders: the HPA's targets and values, the NodePool and EC2NodeClass names."""
    hpa = cfg.autoscaling.hpa
    targets = list(hpa.targets)
    first = targets[0] if targets else cfg.ingress.service
    pool, nodeclass = cfg.karpenter.nodepool.name, cfg.karpenter.nodeclass.name
    return {
        "hpa_values": f"{', '.join(targets) or 'on no service'} (autoscaling/v2): min {hpa.min_replicas}, max "
        f"{hpa.max_replicas}, CPU {hpa.cpu_utilization}%"
        + (f", memory {hpa.memory_utilization}%" if hpa.memory_utilization is not None else ""),
        "scaled": f"the {and_list(targets)} Deployment{'s leave' if len(targets) > 1 else ' leaves'}"
        if targets
        else "no Deployment leaves",
        "ignored": f"the {first}'s replicas" if len(targets) <= 1 else f"the replicas of {and_list(targets)}",
        "kept": plural(cfg.services[first].replicas, "pod") if first in cfg.services else "pods",
        "karpenter": f"NodePool and EC2NodeClass `{pool}`"
        if pool == nodeclass
        else f"NodePool `{pool}` and EC2NodeClass `{nodeclass}`",
    }


STAGE = Stage(
    readme_values=readme_values,
    words=words,
    name="autoscaling",
    title="Autoscaling: pods and nodes scale out with load",
    story="Pods and nodes scale out with load.",
    removes=("no ready target",),
    fix="HPA {hpa_values}; {scaled} spec.replicas to the HPA; Karpenter {karpenter} (v1 API); a "
    "PodDisruptionBudget for each app service with 2 or more replicas; the backing stores are "
    "protected from consolidation.",
    why="The course kept `replicas: 2`, which makes Argo CD and the HPA fight; shopgen leaves it out, "
    "and Argo CD ignores {ignored} with RespectIgnoreDifferences=true, which applies the live "
    "count instead of dropping the field (dropping it would reset the {hpa} to 1 pod for a moment), so "
    "the {hpa} keeps its {kept} through the promotion from readiness. "
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
