"""The story's settings as frozen, closed pydantic models: app, cluster, the declared services
(declaration.py), stores, ingress, autoscaling, Karpenter, secrets, GitOps, and the whole Config.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator

from shopgen.config.consistency import FieldError, check_shop
from shopgen.config.declaration import ServiceDecl, StoreOverride
from shopgen.config.extensions import LoadedExtensions, StageExtensions
from shopgen.config.platform import PlatformConfig
from shopgen.config.profiles import DEFAULT_PROFILE, profile_names
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
)
from shopgen.errors import StageError
from shopgen.story.stages import get_stage

REPO_URL_PLACEHOLDER = "https://github.com/CHANGE-ME/shop-gitops.git"
ALB_NAME_LIMIT = 32  # AWS: a load balancer name has at most 32 characters
IAM_ROLE_NAME_LIMIT = 64


class Stores(Model):
    """Where the stores keep data, and per-store overrides: ``stores.<name>`` (e.g. catalog-mysql) sets the
    image, CPU or memory of a store a service declares (``services.<owner>.stores.<key>`` names it too).
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, validate_default=True)
    __pydantic_extra__: dict[str, StoreOverride] = Field(init=False)

    storage_class: DnsLabel | None = Field(None, description="StatefulSets claim volumes of this class; none: emptyDir")
    storage_size: MemoryQuantity = "10Gi"

    def overrides(self) -> dict[str, StoreOverride]:
        return dict(self.__pydantic_extra__ or {})


class Cluster(Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=100), Visible] = "part01"
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"), Visible] = "us-west-2"
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]{2}$"), Visible] = "1.35"


class Ingress(Model):
    service: DnsLabel = Field("ui", description="the service the ALB exposes (it needs a readiness endpoint)")
    load_balancer_name: Text | None = Field(
        None, description="default <cluster>-<namespace>-<service>; at most 32 chars"
    )
    scheme: Literal["internet-facing", "internal"] = "internet-facing"
    deregistration_delay_seconds: Seconds = Field(
        60, description="the exposed service's preStop sleep covers it plus endpoint propagation (prestop)"
    )


class Hpa(Model):
    targets: tuple[DnsLabel, ...] = Field(("ui",), description="services the HPA scales; each needs a CPU request")
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

    @field_validator("targets")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("lists a service twice")
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
    repo_url: Annotated[str, Field(pattern=r"^(https://|ssh://|git@)\S+$"), Visible] = Field(
        REPO_URL_PLACEHOLDER,
        description="THE ONE VALUE TO SET: this repository's clone URL, which Argo CD pulls from",
    )
    initial_stage: Text = "baseline"
    target_revision: Annotated[str, Field(min_length=1, pattern=r"^\S+$"), Visible] = "main"

    @field_validator("initial_stage")
    @classmethod
    def _known_stage(cls, value: str) -> str:
        try:
            get_stage(value)  # its message names the stages and the closest one
        except StageError as exc:
            raise ValueError(str(exc)) from None
        return value


ProfileName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*$", max_length=64), Visible]


class App(Model):
    profile: ProfileName = Field(DEFAULT_PROFILE, description="the release profile the services start from")
    name: DnsLabel = Field("shop", description="app.kubernetes.io/part-of of every object; the profile names its app")
    image_digests: dict[DnsLabel, Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$"), Visible]] = Field(
        default_factory=dict,
        description="pin services by digest, e.g. {ui: 'sha256:…'}: image becomes <repo>:<tag>@<digest>",
    )

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in profile_names():
            raise ValueError(f"unknown profile {value!r}; profiles: {', '.join(profile_names())}")
        return value


class Config(Model):
    """The whole story's settings. ``shopgen init`` writes these defaults to shopgen.yaml."""

    namespace: DnsLabel = "shop"
    app: App = App()
    cluster: Cluster = Cluster()
    services: dict[DnsLabel, ServiceDecl] = Field(
        default_factory=dict, description="the profile's services; add your own or override their fields"
    )
    stores: Stores = Stores()
    ingress: Ingress = Ingress()
    autoscaling: Autoscaling = Autoscaling()
    karpenter: Karpenter = Karpenter()
    overprovisioning: Overprovisioning = Overprovisioning()
    secrets: Secrets = Secrets()
    gitops: GitOps = GitOps()
    platform: PlatformConfig = PlatformConfig()
    extensions: dict[Text, StageExtensions] = Field(
        default_factory=dict,
        description="your own manifests and patches, per stage, from that stage on (README, Extensions)",
    )
    # The files ``extensions`` names, read when the config is loaded (config.load); None: not read.
    _loaded_extensions: LoadedExtensions | None = PrivateAttr(None)

    @field_validator("extensions")
    @classmethod
    def _extension_stages(cls, value: dict[str, StageExtensions]) -> dict[str, StageExtensions]:
        for stage in value:
            try:
                get_stage(stage)  # its message names the stages and the closest one
            except StageError as exc:
                raise FieldError(("extensions", stage), str(exc)) from None
        return value

    def loaded_extensions(self) -> LoadedExtensions | None:
        """The extension files' contents (None when the config declares none).

        A config that declares extensions but was not loaded from a file (``parse`` without ``base``)
        has nothing they could be relative to: an error, never a render that silently leaves them out.
        """
        if not self.extensions:
            return None
        if self._loaded_extensions is None:
            from shopgen.errors import ConfigError

            raise ConfigError("extensions: declared, but the files were not read (load the config from a file)")
        return self._loaded_extensions

    @property
    def load_balancer_name(self) -> str:
        return self.ingress.load_balancer_name or f"{self.cluster.name}-{self.namespace}-{self.ingress.service}"

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
        check_shop(self)
        return self
