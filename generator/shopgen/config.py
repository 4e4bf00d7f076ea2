"""Typed configuration: every tunable value of the story, with the course's values as defaults.

Validated once, here, at the boundary: unknown keys, wrong types, non-positive sizes and impossible
combinations are rejected with the field path (and the YAML line when the file gives it).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shopgen import yamlio
from shopgen.app import SERVICE_NAMES, SYNTHETIC_PREFIX, SYNTHETIC_TEMPLATE
from shopgen.errors import ConfigError
from shopgen.platform_config import PlatformConfig, Text, Visible, invisible_character, shown

CONFIG_FILENAME = "shopgen.yaml"
STAGE_NAMES = ("baseline", "readiness", "autoscaling", "overprovisioning", "alb", "prestop")
REPO_URL_PLACEHOLDER = "https://github.com/CHANGE-ME/shop-gitops.git"
ALB_NAME_LIMIT = 32  # AWS: a load balancer name has at most 32 characters
IAM_ROLE_NAME_LIMIT = 64

_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_CPU = r"^([1-9][0-9]*m|[0-9]+(\.[0-9]+)?)$"
_MEMORY = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"
_DURATION = r"^([0-9]+(s|m|h))+$"
# A container image reference: [host[:port]/]path[:tag][@digest] (distribution/reference grammar, simplified).
_IMAGE = (
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)

_MEMORY_FACTORS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
MIN_MEMORY_BYTES = 2**20  # 1Mi: below it no container starts (and "100" means 100 bytes, not 100Mi)
MIN_CPU_MILLIS = 1  # 1m: Kubernetes' CPU precision, and its smallest request
# Go's time.Duration is an int64 of nanoseconds: 2562047h47m16.854775807s at most.
GO_DURATION_MAX_NS = 2**63 - 1
_DURATION_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def _memory_exact(quantity: str) -> Decimal:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity).groups()  # type: ignore[union-attr]
    return Decimal(number) * _MEMORY_FACTORS[unit]


def memory_bytes(quantity: str) -> float:
    """Bytes of a Kubernetes memory quantity (for comparisons, never for output)."""
    return float(_memory_exact(quantity))


def _cpu_exact(quantity: str) -> Decimal:
    return Decimal(quantity[:-1]) if quantity.endswith("m") else Decimal(quantity) * 1000


def cpu_millis(quantity: str) -> float:
    return float(_cpu_exact(quantity))


def _cpu_runs(value: str) -> str:
    millis = _cpu_exact(value)
    if millis < MIN_CPU_MILLIS:
        raise ValueError(f"{shown(value)} is below 1m, the smallest CPU quantity Kubernetes takes")
    if millis != millis.to_integral_value():
        raise ValueError(f"{shown(value)} is finer than 1m, the precision of a Kubernetes CPU quantity")
    return value


def _memory_runs(value: str) -> str:
    if _memory_exact(value) < MIN_MEMORY_BYTES:
        raise ValueError(
            f"{shown(value)} is below 1Mi, too little to run anything (a plain number counts bytes: write e.g. 256Mi)"
        )
    return value


def _fits_go_duration(value: str) -> str:
    seconds = 0
    for digits, unit in re.findall(r"([0-9]+)([smh])", value):
        if len(digits.lstrip("0")) > 19:  # more than any int64 holds; int() of thousands of digits is refused
            seconds = GO_DURATION_MAX_NS
            break
        seconds += int(digits) * _DURATION_UNIT_SECONDS[unit]
    if seconds * 10**9 > GO_DURATION_MAX_NS:
        raise ValueError(
            f"{shown(value)} is longer than a Go duration holds (2562047h47m16s at most); "
            "the controllers that read it would refuse it"
        )
    return value


# Pattern first (its message says what form is expected), then what the form alone cannot say.
DnsLabel = Annotated[str, Field(pattern=_DNS_LABEL, min_length=1, max_length=63), Visible]
# Kubernetes CPU quantity, e.g. 128m; at least 1m, in whole millicores.
CpuQuantity = Annotated[str, Field(pattern=_CPU), AfterValidator(_cpu_runs), Visible]
# Kubernetes memory quantity, e.g. 256Mi; at least 1Mi.
MemoryQuantity = Annotated[str, Field(pattern=_MEMORY), AfterValidator(_memory_runs), Visible]
# Go duration, e.g. 1m or 720h; at most Go's largest time.Duration.
Duration = Annotated[str, Field(pattern=_DURATION), AfterValidator(_fits_go_duration), Visible]
PositiveInt = Annotated[int, Field(gt=0, le=1_000_000)]
Seconds = Annotated[int, Field(gt=0, le=86_400)]
Percent = Annotated[int, Field(gt=0, le=100)]


class Model(BaseModel):
    """Frozen, closed: an unknown key is an error, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)


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
    image: Annotated[str, Field(pattern=_IMAGE, max_length=255), Visible] | None = Field(
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
    image: Annotated[str, Field(pattern=_IMAGE, max_length=255), Visible] = (
        "public.ecr.aws/eks-distro/kubernetes/pause:3.7"
    )
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
        if value not in STAGE_NAMES:
            raise ValueError(f"unknown stage {value!r}; stages: {', '.join(STAGE_NAMES)}")
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
            raise _FieldError(
                ("ingress", "load_balancer_name"),
                f"derived load balancer name {name!r} has {len(name)} characters, AWS allows "
                f"{ALB_NAME_LIMIT}; set ingress.load_balancer_name",
            )
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", name) or name.startswith("internal-"):
            raise _FieldError(
                ("ingress", "load_balancer_name"),
                f"{name!r} is not a valid load balancer name (letters, digits, inner hyphens)",
            )
        if len(self.karpenter_node_role) > IAM_ROLE_NAME_LIMIT:
            raise _FieldError(
                ("cluster", "name"),
                f"derived Karpenter node role {self.karpenter_node_role!r} is longer than "
                f"{IAM_ROLE_NAME_LIMIT} characters",
            )
        ui = self.services.ui
        if self.ingress.deregistration_delay_seconds <= 0 or ui.prestop_sleep_seconds <= 0:
            raise _FieldError(("ingress", "deregistration_delay_seconds"), "must be greater than zero")
        return self


class _FieldError(ValueError):
    """A cross-field error that belongs to one specific field path."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def defaults() -> Config:
    return Config()


def parse(data: Any, source: str, raw: Any = None) -> Config:
    """Validate plain data into a Config; errors name the field path and, when known, the line."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of settings, not {type(data).__name__}")
    _refuse_surrogates(data, source, raw, ())
    merged = _merge(defaults().model_dump(mode="json"), data)
    try:
        # JSON mode keeps strict typing (no "3" for 3, no 1 for True) while taking YAML lists as tuples.
        return Config.model_validate_json(json.dumps(merged))
    except _FieldError as exc:
        raise ConfigError(_located(source, raw, exc.loc, exc.message)) from None
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, _FieldError):
                lines.append(_located(source, raw, cause.loc, cause.message))
                continue
            loc = tuple(str(p) for p in error["loc"])
            lines.append(_located(source, raw, loc, _message(error)))
        raise ConfigError("\n  ".join(lines)) from None  # one error line, then indented ones


def _refuse_surrogates(data: Any, source: str, raw: Any, loc: tuple[str, ...]) -> None:
    """A lone surrogate (YAML "\\uD800") is no character: JSON, UTF-8 and the config hash cannot carry it.

    Checked before parse's JSON round trip, which would otherwise fail as "<root>: Invalid JSON".
    """
    if isinstance(data, str):
        if _SURROGATE.search(data):
            raise ConfigError(_located(source, raw, loc, f"{shown(data)} contains {invisible_character(data)}"))
    elif isinstance(data, dict):
        for key, value in data.items():
            if _SURROGATE.search(key):
                raise ConfigError(_located(source, raw, (*loc, key), f"the key contains {invisible_character(key)}"))
            _refuse_surrogates(value, source, raw, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            _refuse_surrogates(value, source, raw, (*loc, str(index)))


_SURROGATE = re.compile("[\ud800-\udfff]")

_PATTERN_HELP = {
    _DNS_LABEL: "is not a DNS label (lowercase letters, digits and inner '-', at most 63)",
    _CPU: "is not a CPU quantity of at least 1m (whole millicores like 128m, or cores like 0.5)",
    _MEMORY: "is not a memory quantity (e.g. 256Mi or 1Gi)",
    _DURATION: "is not a duration (e.g. 30s, 1m, 720h)",
    _IMAGE: "is not a container image reference (e.g. registry.example.com/pause:3.7)",
}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The defaults with the user's values laid over them; mappings merge, everything else replaces."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown setting (check the spelling; `shopgen init` lists every setting)"
    if kind == "missing":
        return "required setting is missing"
    if kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        value = error.get("input")
        text = f"{shown(value)} {_PATTERN_HELP.get(pattern, 'has the wrong form (pattern ' + pattern + ')')}"
        found = invisible_character(value) if isinstance(value, str) else None
        # e.g. NEL (U+0085) or U+2028, which a \S pattern refuses as whitespace: say which character it is.
        return f"{text}; it contains {found}" if found else text
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _located(source: str, raw: Any, loc: tuple[str, ...], message: str) -> str:
    # A key is shown escaped when it holds what a terminal would obey (ESC, bidi overrides, surrogates).
    path = ".".join(part if part.isprintable() else shown(part) for part in loc) or "<root>"
    # List indexes are ASCII digits; a key like "²" is a key (str.isdigit() is True for it, int() refuses it).
    parts = tuple(int(p) if p.isascii() and p.isdigit() else p for p in loc)
    line = yamlio.line_of(raw, parts) if raw is not None else None
    where = f"{source}:{line}" if line else source
    return f"{where}: {path}: {message}"


def load_config(path: Path | None, *, out_root: Path) -> tuple[Config, str]:
    """Load ``path`` (or ``<out_root>/shopgen.yaml`` when present, else the defaults).

    Returns the config and a description of where it came from.
    """
    if path is None:
        candidate = out_root / CONFIG_FILENAME
        if not candidate.exists():
            return defaults(), "embedded defaults"
        path = candidate
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file")
    raw = yamlio.load_file(path)
    if raw is None:
        raise ConfigError(f"{path}: no settings (an empty file); write {{}} in it for the embedded defaults")
    data = yamlio.to_plain(raw, str(path))
    return parse(data, str(path), raw), str(path)
