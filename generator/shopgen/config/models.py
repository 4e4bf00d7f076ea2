"""The story's settings as frozen, closed pydantic models: app, cluster, services and their probes,
stores, ingress, autoscaling, Karpenter, secrets, GitOps, and the whole Config that holds them.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from shopgen.config.platform import PlatformConfig
from shopgen.config.types import (
    CpuQuantity,
    DnsLabel,
    Duration,
    ImageRef,
    MemoryQuantity,
    Model,
    Percent,
    PositiveInt,
    Seconds,
    Text,
    Visible,
    memory_bytes,
)
from shopgen.story.facts import SERVICE_NAMES, SYNTHETIC_PREFIX, SYNTHETIC_TEMPLATE
from shopgen.story.stages import stage_names

REPO_URL_PLACEHOLDER = "https://github.com/CHANGE-ME/shop-gitops.git"
ALB_NAME_LIMIT = 32  # AWS: a load balancer name has at most 32 characters
IAM_ROLE_NAME_LIMIT = 64


class Resources(Model):
    cpu: CpuQuantity
    memory: MemoryQuantity
    memory_limit: MemoryQuantity

    @model_validator(mode="after")
    def _sizes(self) -> Resources:
        # CpuQuantity and MemoryQuantity refuse zero and sizes below 1m / 1Mi.
        if memory_bytes(self.memory_limit) < memory_bytes(self.memory):
            raise ValueError(f"memory_limit ({self.memory_limit}) must be >= memory ({self.memory})")
        return self


class ReadinessProbe(Model):
    # The course's ui readinessProbe (the readiness stage).
    period_seconds: Seconds = 5
    timeout_seconds: Seconds = 5
    failure_threshold: PositiveInt = 3
    success_threshold: PositiveInt = 3


# The shortest liveness failure window shopgen accepts: a JVM saturated by the surge can stall its
# health endpoint for tens of seconds; a shorter window restarts it mid-load (the course's warning).
LIVENESS_MIN_WINDOW_SECONDS = 30


class LivenessProbe(Model):
    """A deadlock detector, never a load signal: a 60 s window by default, on the liveness endpoint.

    The course kept liveness commented out because its values (period 3, failure 3, timeout 1) restart
    a JVM that is only slow under the surge; readiness stays the fast signal.
    """

    enabled: bool = Field(True, description="false: no livenessProbe at all (readiness and startup stay)")
    period_seconds: Seconds = 10
    failure_threshold: PositiveInt = 6
    timeout_seconds: Seconds | None = Field(None, description="default: the readiness probe's timeout")

    @model_validator(mode="after")
    def _window(self) -> LivenessProbe:
        window = self.period_seconds * self.failure_threshold
        if window < LIVENESS_MIN_WINDOW_SECONDS:
            raise ValueError(
                f"period_seconds x failure_threshold is {window}s; a liveness probe must tolerate at least "
                f"{LIVENESS_MIN_WINDOW_SECONDS}s of a saturated process (default 10 x 6 = 60s)"
            )
        return self


class StartupProbe(Model):
    """Covers a slow start so liveness never kills a JVM that is still booting.

    Its budget is twice the start-up time: a startup probe costs nothing once the pod is up, and a
    fresh node (image pull, the OpenTelemetry agent the 0.7.1 Java images load) starts slower.
    """

    period_seconds: Seconds = 5
    start_seconds: Seconds = Field(30, description="time the service needs to start (course: initialDelaySeconds)")

    @property
    def failure_threshold(self) -> int:
        return math.ceil(2 * self.start_seconds / self.period_seconds)


class ServiceConfig(Model):
    replicas: PositiveInt = 1
    resources: Resources
    readiness: ReadinessProbe = ReadinessProbe()
    liveness: LivenessProbe = LivenessProbe()
    startup: StartupProbe = StartupProbe()
    shutdown_seconds: Seconds = Field(10, description="time the process needs to finish in-flight work")
    prestop_sleep_seconds: Seconds = Field(10, description="preStop sleep (prestop stage)")
    termination_grace_period_seconds: Seconds = Field(20, description=">= prestop sleep + shutdown")

    @model_validator(mode="after")
    def _liveness_waits_for_readiness(self) -> ServiceConfig:
        timeout = self.liveness.timeout_seconds
        if timeout is not None and timeout < self.readiness.timeout_seconds:
            raise ValueError(
                f"liveness.timeout_seconds ({timeout}) must be >= readiness.timeout_seconds "
                f"({self.readiness.timeout_seconds}): a slow answer takes a pod out of rotation, never restarts it"
            )
        return self

    @model_validator(mode="after")
    def _grace_covers_shutdown(self) -> ServiceConfig:
        needed = self.prestop_sleep_seconds + self.shutdown_seconds
        if self.termination_grace_period_seconds < needed:
            raise ValueError(
                f"termination_grace_period_seconds ({self.termination_grace_period_seconds}) must be >= "
                f"prestop_sleep_seconds + shutdown_seconds ({needed})"
            )
        return self


def _svc(cpu: str, memory: str, start: int, **values: Any) -> ServiceConfig:
    return ServiceConfig(
        resources=Resources(cpu=cpu, memory=memory, memory_limit=memory),
        startup=StartupProbe(start_seconds=start),
        **values,
    )


class Services(Model):
    """Per-service settings (replicas 3/3/2 are the course's)."""

    catalog: ServiceConfig = _svc("128m", "256Mi", 30, replicas=3)
    # The Spring services start in 60 s on a fresh node with the OpenTelemetry agent of their images.
    carts: ServiceConfig = _svc("128m", "512Mi", 60, replicas=3)
    orders: ServiceConfig = _svc("128m", "512Mi", 60)
    checkout: ServiceConfig = _svc("128m", "256Mi", 30)
    assets: ServiceConfig = _svc("128m", "128Mi", 30)
    ui: ServiceConfig = _svc(
        "128m", "512Mi", 60, replicas=2, prestop_sleep_seconds=80, termination_grace_period_seconds=90
    )

    def get(self, name: str) -> ServiceConfig:
        """Settings of an app service; synthetic clones share their template's."""
        if name.startswith(SYNTHETIC_PREFIX):
            name = SYNTHETIC_TEMPLATE
        return getattr(self, name)


class StoreConfig(Model):
    cpu: CpuQuantity = "100m"
    memory: MemoryQuantity
    # None: the release's image for this store (app.STORES), resolved where the store is rendered.
    image: ImageRef | None = Field(
        None,
        description="container image; null: the release's (public ECR mirrors of the Docker official images; "
        "DynamoDB local from Docker Hub)",
    )


class Stores(Model):
    """Backing stores: memory request = limit, a CPU request, no CPU limit."""

    catalog_mysql: StoreConfig = StoreConfig(memory="512Mi")
    carts_dynamodb: StoreConfig = StoreConfig(memory="512Mi")
    orders_postgresql: StoreConfig = StoreConfig(memory="256Mi")
    orders_rabbitmq: StoreConfig = StoreConfig(memory="256Mi")
    checkout_redis: StoreConfig = StoreConfig(memory="128Mi")
    storage_class: DnsLabel | None = Field(None, description="StatefulSets claim volumes of this class; none: emptyDir")
    storage_size: MemoryQuantity = "10Gi"

    def get(self, name: str) -> StoreConfig:
        return getattr(self, name.replace("-", "_"))


class Cluster(Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=100), Visible] = "part01"
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"), Visible] = "us-west-2"
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]{2}$"), Visible] = "1.35"


class Ingress(Model):
    load_balancer_name: Text | None = Field(None, description="default <cluster>-<namespace>-ui; at most 32 chars")
    scheme: Literal["internet-facing", "internal"] = "internet-facing"
    deregistration_delay_seconds: Seconds = Field(60, description="below the ui's preStop sleep (prestop)")


class Hpa(Model):
    target: Text = "ui"
    min_replicas: PositiveInt = 2
    max_replicas: PositiveInt = 10
    cpu_utilization: Percent = 55
    memory_utilization: Percent | None = Field(
        60,
        description=(
            "the course's second metric; null drops it (a JVM keeps its heap, so the HPA, which follows "
            "the largest metric, may never scale in)"
        ),
    )

    @field_validator("target")
    @classmethod
    def _known_service(cls, value: str) -> str:
        if value not in SERVICE_NAMES:
            raise ValueError(f"must be one of the app services: {', '.join(SERVICE_NAMES)}")
        return value

    @model_validator(mode="after")
    def _min_le_max(self) -> Hpa:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) must be >= min_replicas ({self.min_replicas})")
        return self


class Autoscaling(Model):
    hpa: Hpa = Hpa()
    pdb_max_unavailable: PositiveInt = 1


class NodePool(Model):
    name: DnsLabel = "default"
    architectures: tuple[Literal["amd64", "arm64"], ...] = ("amd64",)
    instance_categories: tuple[Annotated[str, Field(pattern=r"^[a-z]+$"), Visible], ...] = ("t", "c", "m", "r")
    capacity_types: tuple[Literal["spot", "on-demand", "reserved"], ...] = ("spot", "on-demand")
    cpu_limit: PositiveInt = 1000
    consolidate_after: Duration = "1m"
    expire_after: Duration = "720h"

    @field_validator("architectures", "instance_categories", "capacity_types")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one value")
        if len(set(value)) != len(value):
            raise ValueError("lists a value twice")
        return value


class NodeClass(Model):
    name: DnsLabel = "default"
    ami_alias: Annotated[str, Field(pattern=r"^[a-z0-9]+@[A-Za-z0-9.\-_]+$"), Visible] = Field(
        "bottlerocket@latest", description="pin a version (bottlerocket@v1.x.y) for production"
    )
    system_reserved_cpu: CpuQuantity = "100m"
    system_reserved_memory: MemoryQuantity = "100Mi"


class Karpenter(Model):
    nodepool: NodePool = NodePool()
    nodeclass: NodeClass = NodeClass()


class Overprovisioning(Model):
    replicas: PositiveInt = 10
    memory: MemoryQuantity = "100Mi"
    image: ImageRef = "public.ecr.aws/eks-distro/kubernetes/pause:3.7"
    priority_value: Annotated[int, Field(lt=0, ge=-1_000_000_000)] = -1


class Secrets(Model):
    provider: Literal["external-secrets", "none"] = "external-secrets"
    store: DnsLabel = "aws-secrets-manager"
    refresh_interval: Duration = "1h"


class GitOps(Model):
    # \S is Unicode-aware: it admits U+200B and U+202E, which Visible refuses.
    repo_url: Annotated[str, Field(pattern=r"^(https://|ssh://|git@)\S+$"), Visible] = REPO_URL_PLACEHOLDER
    initial_stage: Text = "baseline"
    target_revision: Annotated[str, Field(min_length=1, pattern=r"^\S+$"), Visible] = "main"

    @field_validator("initial_stage")
    @classmethod
    def _known_stage(cls, value: str) -> str:
        if value not in stage_names():
            raise ValueError(f"unknown stage {value!r}; stages: {', '.join(stage_names())}")
        return value


class App(Model):
    image_tag: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"), Visible] = "0.7.1"
    image_registry: Annotated[str, Field(pattern=r"^[a-z0-9.\-:/]+$"), Visible] = "public.ecr.aws/aws-containers"
    image_digests: dict[Text, Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$"), Visible]] = Field(
        default_factory=dict,
        description="pin app services by digest, e.g. {ui: 'sha256:…'}: image becomes <repo>:<tag>@<digest>",
    )
    synthetic_services: Annotated[int, Field(ge=0, le=999)] = Field(
        0, description="benchmarks only: extra clones of the checkout service (synthetic-001, …) to measure growth"
    )

    @field_validator("image_digests")
    @classmethod
    def _known_services(cls, digests: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(digests) - set(SERVICE_NAMES))
        if unknown:
            raise ValueError(f"unknown app service {unknown[0]!r}; app services: {', '.join(SERVICE_NAMES)}")
        return digests


class Config(Model):
    """The whole story's settings. ``shopgen init`` writes these defaults to shopgen.yaml."""

    namespace: DnsLabel = "shop"
    app: App = App()
    cluster: Cluster = Cluster()
    services: Services = Services()
    stores: Stores = Stores()
    ingress: Ingress = Ingress()
    autoscaling: Autoscaling = Autoscaling()
    karpenter: Karpenter = Karpenter()
    overprovisioning: Overprovisioning = Overprovisioning()
    secrets: Secrets = Secrets()
    gitops: GitOps = GitOps()
    platform: PlatformConfig = PlatformConfig()

    @property
    def load_balancer_name(self) -> str:
        return self.ingress.load_balancer_name or f"{self.cluster.name}-{self.namespace}-ui"

    @property
    def karpenter_node_role(self) -> str:
        """The IAM role terraform creates for Karpenter's nodes (no name prefix: the EC2NodeClass names it)."""
        return f"KarpenterNodeRole-{self.cluster.name}"

    @model_validator(mode="after")
    def _derived_names(self) -> Config:
        name = self.load_balancer_name
        if len(name) > ALB_NAME_LIMIT:
            raise FieldError(
                ("ingress", "load_balancer_name"),
                f"derived load balancer name {name!r} has {len(name)} characters, AWS allows "
                f"{ALB_NAME_LIMIT}; set ingress.load_balancer_name",
            )
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", name) or name.startswith("internal-"):
            raise FieldError(
                ("ingress", "load_balancer_name"),
                f"{name!r} is not a valid load balancer name (letters, digits, inner hyphens)",
            )
        if len(self.karpenter_node_role) > IAM_ROLE_NAME_LIMIT:
            raise FieldError(
                ("cluster", "name"),
                f"derived Karpenter node role {self.karpenter_node_role!r} is longer than "
                f"{IAM_ROLE_NAME_LIMIT} characters",
            )
        ui = self.services.ui
        if self.ingress.deregistration_delay_seconds <= 0 or ui.prestop_sleep_seconds <= 0:
            raise FieldError(("ingress", "deregistration_delay_seconds"), "must be greater than zero")
        return self


class FieldError(ValueError):
    """A cross-field error that belongs to one specific field path."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
