"""``PolicyContext``: the numbers the scenario policies assume that the manifests do not say (timings,
externally provided Secrets, GitOps settings), built from the config by ``for_stage``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shopgen.validate.manifests import Manifest, ignored_replica_targets

if TYPE_CHECKING:
    from shopgen.config import Config


@dataclass(frozen=True)
class PolicyContext:
    """What the manifests do not say: timings, externally provided Secrets, GitOps settings.

    ``endpoint_propagation_seconds`` defaults to 5 s: after a pod starts terminating, the
    EndpointSlice controller removes it and every node's kube-proxy reprograms its rules; that
    takes about a second on an idle cluster and a few seconds on a loaded one, so 5 s is a
    conservative bound (the prestop stage's 10 s sleep leaves twice that). The ALB's deregistration
    delay is read from the Ingress annotation; ``default_deregistration_delay_seconds`` (300 s, the
    AWS default) applies when the annotation does not set it.
    """

    endpoint_propagation_seconds: int = 5
    default_deregistration_delay_seconds: int = 300
    default_start_seconds: int = 30
    startup_margin: int = 2  # a startupProbe's budget over the start time: fresh nodes start slower
    liveness_min_window_seconds: int = 30  # a saturated JVM stalls its health endpoint this long
    default_shutdown_seconds: int = 10
    start_seconds: Mapping[str, int] = field(default_factory=dict)  # per app service name
    shutdown_seconds: Mapping[str, int] = field(default_factory=dict)  # per app service name
    external_secrets: frozenset[str] = frozenset()  # Secrets created outside shopgen
    replicas_ignored: frozenset[tuple[str, str]] = frozenset()  # (kind, name) whose /spec/replicas Argo CD ignores
    gitops_ignores_hpa_replicas: bool = False  # True: every HPA target's /spec/replicas is ignored
    few_replicas: int = 2  # at or below this many replicas a rollout must not take pods away
    overprovisioning_reserve: Mapping[str, str] = field(default_factory=dict)  # resource -> per pause pod
    dependency_health_paths: tuple[str, ...] = ("/actuator/health",)
    karpenter_consolidation: bool | None = None  # None: consolidating when a stage renders such a NodePool
    # (group, kind) AppProject shop lets Argo CD sync at cluster scope; None: no AppProject to check against
    cluster_whitelist: frozenset[tuple[str, str]] | None = None
    # The scope ("Cluster" or "Namespaced") a custom kind's CRD declares, None when no CRD is known
    crd_scope: Callable[[str, str], str | None] = field(default=lambda group, kind: None)

    @classmethod
    def for_stage(
        cls,
        cfg: Config,
        stage: str,
        *,
        extra_manifests: Iterable[Manifest] = (),
        project: Manifest | None = None,
        crd_scope: Callable[[str, str], str | None] | None = None,
    ) -> PolicyContext:
        """The context of one stage of ``cfg``; ``extra_manifests`` may hold the Argo CD Application,
        ``project`` the AppProject the stage syncs under, ``crd_scope`` the scope of a custom kind."""
        from shopgen.story.shop import resolve
        from shopgen.story.stages import get_stage

        get_stage(stage)  # an unknown stage is a StageError naming the stages
        shop = resolve(cfg)
        external = frozenset(s.name for s in shop.credential_secrets) if cfg.secrets.provider == "none" else frozenset()
        return cls(
            start_seconds={s.name: s.start_seconds for s in shop.services},
            shutdown_seconds={s.name: s.shutdown_seconds for s in shop.services},
            external_secrets=external,
            replicas_ignored=frozenset(ignored_replica_targets(extra_manifests)),
            overprovisioning_reserve={"memory": cfg.overprovisioning.memory},
            cluster_whitelist=cluster_whitelist(project) if project is not None else None,
            crd_scope=crd_scope or (lambda group, kind: None),
        )

    def start_of(self, service: str) -> int:
        return self.start_seconds.get(service, self.default_start_seconds)

    def shutdown_of(self, service: str) -> int:
        return self.shutdown_seconds.get(service, self.default_shutdown_seconds)


def cluster_whitelist(project: Manifest) -> frozenset[tuple[str, str]]:
    """The (group, kind) entries of an AppProject's spec.clusterResourceWhitelist."""
    spec = project.get("spec") if isinstance(project.get("spec"), dict) else {}
    entries = spec.get("clusterResourceWhitelist") if isinstance(spec, dict) else None
    return frozenset((str(e.get("group", "")), str(e.get("kind", ""))) for e in entries or [] if isinstance(e, dict))
