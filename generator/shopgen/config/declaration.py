"""The service declaration: what a service is (image, port, runtime, endpoints, settings, secrets,
calls, stores, size, security), as data. Stages derive their fixes from it (story/shop.py); a release
profile (shopgen/profiles/) is written in this format, and shopgen.yaml adds services or overrides
fields of the profile's.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from shopgen.config.types import (
    CpuQuantity,
    DnsLabel,
    ImageRef,
    MemoryQuantity,
    Model,
    PositiveInt,
    Seconds,
    Text,
    Visible,
    memory_bytes,
)
from shopgen.story.facts import RUNTIMES, STORE_KINDS

# An environment variable name (POSIX: letters, digits, underscores; not starting with a digit).
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=253), Visible]
# An HTTP path a probe or a scraper requests.
HttpPath = Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$", max_length=1024), Visible]
# A key of a Secret's data (Kubernetes: letters, digits, '-', '_', '.').
SecretKey = Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253), Visible]
# A Linux capability as Kubernetes spells it (without CAP_).
Capability = Annotated[str, Field(pattern=r"^[A-Z][A-Z_]*$", max_length=64), Visible]
Port = Annotated[int, Field(ge=1, le=65535)]
# A pod field the downward API hands to an environment variable.
FieldPath = Annotated[
    str,
    Field(
        pattern=r"^(metadata\.(name|namespace|uid)|spec\.(nodeName|serviceAccountName)|status\.(hostIP|hostIPs|podIP|podIPs)"
        r"|metadata\.(labels|annotations)\['[A-Za-z0-9./_-]+'\])$"
    ),
    Visible,
]
RuntimeKind = Literal["jvm", "go", "node", "nginx", "other"]
StoreKindName = Literal["mysql", "postgresql", "redis", "rabbitmq", "dynamodb-local"]
# maxSurge / maxUnavailable: a count or a percentage (a count is taken as its digits: see shorthand()).
RolloutAmount = Annotated[str, Field(pattern=r"^([0-9]{1,6}|[0-9]{1,3}%)$"), Visible]


class ImageDecl(Model):
    repository: Annotated[
        str, Field(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$"), Visible
    ]
    tag: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"), Visible]
    digest: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$"), Visible] | None = Field(
        None, description="pins the image: <repository>:<tag>@<digest>"
    )
    pull_secrets: tuple[DnsLabel, ...] = Field(
        (), description="Secrets of type dockerconfigjson for a private registry"
    )

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


class RuntimeDecl(Model):
    kind: RuntimeKind = "other"
    start_seconds: Seconds | None = Field(None, description="time to start on a fresh node; null: the kind's default")
    shutdown_seconds: Seconds = Field(10, description="time the process needs to finish in-flight work")

    @property
    def start(self) -> int:
        return self.start_seconds if self.start_seconds is not None else RUNTIMES[self.kind].start_seconds


class HealthDecl(Model):
    readiness: HttpPath | None = Field(None, description="answers 200 when the service can take traffic")
    liveness: HttpPath | None = Field(None, description="answers 200 unless the process is hung")


class SecretRef(Model):
    secret: DnsLabel
    key: SecretKey


class CallDecl(Model):
    env: EnvName | None = Field(None, description="the setting that receives the callee's URL")
    with_port: bool = Field(False, description="http://<callee>:80 instead of http://<callee>")


class StoreDecl(Model):
    kind: StoreKindName
    image: ImageRef | None = Field(None, description="null: public ECR's mirror of the official image")
    args: tuple[Text, ...] = ()
    database: DnsLabel | None = Field(
        None, description="the database to create (mysql, postgresql); null: the service's name"
    )
    credentials: DnsLabel | None = Field(None, description="the Secret with its credentials; null: <service>-db")
    cpu: CpuQuantity = "100m"
    memory: MemoryQuantity | None = Field(None, description="request = limit; null: the kind's default")


class StoreOverride(Model):
    """stores.<name> in shopgen.yaml: a profile store's size or image."""

    image: ImageRef | None = None
    cpu: CpuQuantity | None = None
    memory: MemoryQuantity | None = None


class SecurityDecl(Model):
    profile: Literal["restricted", "exception"] = Field(
        "restricted", description="restricted: non-root uid 1000, read-only root, ALL capabilities dropped"
    )
    reason: Text | None = Field(None, description="why an exception or an added capability is needed")
    add_capabilities: tuple[Capability, ...] = ()

    @model_validator(mode="after")
    def _explained(self) -> SecurityDecl:
        if (self.profile == "exception" or self.add_capabilities) and not self.reason:
            raise ValueError("an exception or an added capability needs a reason (security.reason)")
        if self.reason and "=" in self.reason:
            raise ValueError(
                "security.reason may not contain '=' (checkov reads its skip annotations up to the first '=')"
            )
        extra = [c for c in self.add_capabilities if c != "NET_BIND_SERVICE"]
        if self.profile == "restricted" and extra:
            raise ValueError(
                f"the restricted profile adds NET_BIND_SERVICE only, not {extra[0]}; declare profile: exception"
            )
        return self


class Resources(Model):
    cpu: CpuQuantity | None = Field(None, description="CPU request (never a limit); an HPA target needs one")
    # Required: a container without a memory request and limit overpacks nodes, and one leak OOM-kills
    # its neighbours (the security baseline's error).
    memory: MemoryQuantity = Field(description="memory request")
    memory_limit: MemoryQuantity | None = Field(None, description="null: the request")

    @model_validator(mode="after")
    def _sizes(self) -> Resources:
        if memory_bytes(self.limit) < memory_bytes(self.memory):
            raise ValueError(f"memory_limit ({self.memory_limit}) must be >= memory ({self.memory})")
        return self

    @property
    def limit(self) -> str:
        return self.memory_limit or self.memory


class Rollout(Model):
    """Before the prestop stage: the service's own strategy (upstream's maxUnavailable 1 by default)."""

    max_surge: RolloutAmount | None = None
    max_unavailable: RolloutAmount = "1"

    @staticmethod
    def amount(value: str | None) -> int | str | None:
        """A count as the int Kubernetes takes, a percentage as its string."""
        return int(value) if value is not None and value.isdigit() else value


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

    Its budget is twice the start-up time (runtime.start_seconds): a startup probe costs nothing once
    the pod is up, and a fresh node (image pull, an agent the image loads) starts slower.
    """

    period_seconds: Seconds = 5

    def failure_threshold(self, start_seconds: int) -> int:
        return math.ceil(2 * start_seconds / self.period_seconds)


class ServiceDecl(Model):
    """One service of the shop. Every field but image and resources.memory has a default."""

    image: ImageDecl
    port: Port = Field(8080, description="the container port (named http); the Service listens on 80")
    runtime: RuntimeDecl = RuntimeDecl()
    health: HealthDecl = HealthDecl()
    metrics_path: HttpPath | None = Field(None, description="Prometheus scrape path; null: no scrape annotations")
    settings: dict[EnvName, Text] = Field(default_factory=dict, description="non-secret env, in the ConfigMap")
    env: dict[EnvName, Text] = Field(
        default_factory=dict, description="env on the container itself (the runtime's flags, e.g. JAVA_OPTS)"
    )
    secrets: dict[EnvName, SecretRef] = Field(default_factory=dict, description="env from a key of a Secret")
    fields: dict[EnvName, FieldPath] = Field(
        default_factory=dict, description="env from the pod's own fields (downward API), e.g. spec.nodeName"
    )
    calls: dict[DnsLabel, CallDecl] = Field(
        default_factory=dict, description="services it calls: {service: SETTING receiving http://<service>}"
    )
    stores: dict[DnsLabel, StoreDecl] = Field(default_factory=dict, description="its backing stores: <service>-<key>")
    replicas: PositiveInt = 1
    resources: Resources
    security: SecurityDecl = SecurityDecl()
    rollout: Rollout = Rollout()
    readiness: ReadinessProbe = ReadinessProbe()
    liveness: LivenessProbe = LivenessProbe()
    startup: StartupProbe = StartupProbe()
    prestop_sleep_seconds: Seconds | None = Field(None, description="null: derived from the exposure (prestop)")
    termination_grace_period_seconds: Seconds | None = Field(None, description="null: preStop sleep + shutdown")

    @model_validator(mode="after")
    def _one_source_per_variable(self) -> ServiceDecl:
        seen: dict[str, str] = {}
        calls = [c.env for c in self.calls.values()]
        for source, names in (
            ("settings", self.settings),
            ("env", self.env),
            ("fields", self.fields),
            ("secrets", self.secrets),
            ("calls", calls),
        ):
            for name in names:
                if name is None:
                    continue
                if name in seen:
                    raise ValueError(f"{name} is set by both {seen[name]} and {source}")
                seen[name] = source
        return self

    @model_validator(mode="after")
    def _liveness_waits_for_readiness(self) -> ServiceDecl:
        timeout = self.liveness.timeout_seconds
        if timeout is not None and timeout < self.readiness.timeout_seconds:
            raise ValueError(
                f"liveness.timeout_seconds ({timeout}) must be >= readiness.timeout_seconds "
                f"({self.readiness.timeout_seconds}): a slow answer takes a pod out of rotation, never restarts it"
            )
        return self


def store_memory(store: StoreDecl) -> str:
    return store.memory or STORE_KINDS[store.kind].memory


def shorthand(service: Any) -> Any:
    """A declaration's short forms in their long form: ``security: restricted``, ``calls: [a, b]`` and
    ``calls: {a: SETTING}``.

    Applied to the raw data before validation (strict JSON validation takes each field in one form).
    """
    if not isinstance(service, dict):
        return service
    result = dict(service)
    rollout = result.get("rollout")
    if isinstance(rollout, dict):  # a count is written as a number; the field holds counts and percentages
        result["rollout"] = {k: str(v) if type(v) is int else v for k, v in rollout.items()}
    if isinstance(result.get("security"), str):
        result["security"] = {"profile": result["security"]}
    calls = result.get("calls")
    if isinstance(calls, list) and all(isinstance(c, str) for c in calls) and len(set(calls)) == len(calls):
        calls = {c: {} for c in calls}  # a list item only declares the call
    if isinstance(calls, dict):
        # {callee: SETTING} names the setting; {callee: null} removes a call the profile declares.
        result["calls"] = {k: {"env": v} if isinstance(v, str) else v for k, v in calls.items()}
    return result
