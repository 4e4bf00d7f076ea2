"""The desired state that stage transforms change: plain frozen dataclasses, no Kubernetes objects.

Each stage's fix is a pure function DesiredState -> DesiredState (stages.py); constructs turn a
DesiredState into manifests. Frozen values make equal parts of different stages equal (and hashable),
which lets the renderer build each distinct component once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shopgen.story.facts import SecretKeyEnv


@dataclass(frozen=True)
class HttpProbe:
    path: str
    port: int
    period_seconds: int
    failure_threshold: int
    timeout_seconds: int | None = None
    success_threshold: int | None = None


@dataclass(frozen=True)
class RollingUpdate:
    max_unavailable: int | str
    max_surge: int | str | None = None


@dataclass(frozen=True)
class Resources:
    cpu: str | None  # None: no CPU request declared
    memory: str | None
    memory_limit: str | None


@dataclass(frozen=True)
class AppService:
    """An app service the shop declares: ServiceAccount, ConfigMap, Service, Deployment."""

    name: str
    image: str
    replicas: int | None  # None: an HPA owns the replica count
    strategy: RollingUpdate
    resources: Resources
    config: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...]
    secret_env: tuple[SecretKeyEnv, ...]
    prometheus_path: str | None
    hardened: bool
    add_capabilities: tuple[str, ...] = ()
    readiness: HttpProbe | None = None
    liveness: HttpProbe | None = None
    startup: HttpProbe | None = None
    prestop_sleep_seconds: int | None = None
    termination_grace_period_seconds: int | None = None
    port: int = 8080  # the named container port `http`
    pull_secrets: tuple[str, ...] = ()
    reachable: bool = True  # something sends it requests: a ClusterIP Service (a worker has none)
    field_env: tuple[tuple[str, str], ...] = ()  # (variable, pod field path): the downward API


@dataclass(frozen=True)
class Store:
    """A backing store of an app service (database, queue, cache) and its Service."""

    name: str
    owner: str
    component: str
    workload: str  # StatefulSet or Deployment
    image: str
    container: str
    ports: tuple[tuple[str, int], ...]
    env: tuple[tuple[str, str], ...]
    secret_env: tuple[SecretKeyEnv, ...]
    args: tuple[str, ...]
    data_path: str | None
    cpu: str
    memory: str
    storage_class: str | None = None
    storage_size: str = "10Gi"
    do_not_disrupt: bool = False


@dataclass(frozen=True)
class Ingress:
    name: str
    service: str
    load_balancer_name: str
    scheme: str
    target_group_attributes: tuple[str, ...]
    healthcheck_path: str | None = None


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Hpa:
    target: str
    min_replicas: int
    max_replicas: int
    cpu_utilization: int
    memory_utilization: int | None  # None: CPU alone (a JVM's heap keeps memory up)


@dataclass(frozen=True)
class Pdb:
    service: str
    max_unavailable: int


@dataclass(frozen=True)
class NodePool:
    name: str
    nodeclass: str
    architectures: tuple[str, ...]
    instance_categories: tuple[str, ...]
    capacity_types: tuple[str, ...]
    cpu_limit: int
    consolidate_after: str
    expire_after: str


@dataclass(frozen=True)
class NodeClass:
    name: str
    ami_alias: str
    role: str
    discovery_tag: str
    system_reserved_cpu: str
    system_reserved_memory: str


@dataclass(frozen=True)
class Overprovisioning:
    replicas: int
    memory: str
    image: str
    priority_value: int


@dataclass(frozen=True)
class ExternalSecret:
    """A Secret the shop reads, produced by External Secrets from AWS Secrets Manager."""

    name: str
    owner: str
    keys: tuple[str, ...]
    remote_key: str
    store: str
    refresh_interval: str


@dataclass(frozen=True)
class DesiredState:
    namespace: Namespace
    services: tuple[AppService, ...]
    stores: tuple[Store, ...]
    ingress: Ingress
    external_secrets: tuple[ExternalSecret, ...] = ()
    hpas: tuple[Hpa, ...] = ()
    pdbs: tuple[Pdb, ...] = ()
    nodepool: NodePool | None = None
    nodeclass: NodeClass | None = None
    overprovisioning: Overprovisioning | None = None
    part_of: str = "retail-store"
    notes: tuple[str, ...] = field(default=())

    def service(self, name: str) -> AppService:
        return next(s for s in self.services if s.name == name)
