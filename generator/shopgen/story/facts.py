"""What shopgen knows about runtimes and backing stores: what their images expect, not settings.

A shop's own services are data (a release profile under shopgen/profiles/ plus shopgen.yaml); this
module holds the catalogue a declaration draws on: each runtime kind's defaults and each store
kind's image, ports, data folder and credential variables.
"""

from __future__ import annotations

from dataclasses import dataclass

# The preStop sleep that covers a terminating pod's endpoint removal: the EndpointSlice controller and
# every node's kube-proxy take about a second idle and a few seconds loaded; 10 s leaves twice the 5 s
# the policies assume.
ENDPOINT_PROPAGATION_SECONDS = 10
DEFAULT_SHUTDOWN_SECONDS = 10  # time a process needs to finish in-flight work after SIGTERM
SERVICE_PORT = 80  # every app service's ClusterIP Service listens on 80 -> its named container port `http`


@dataclass(frozen=True)
class SecretKeyEnv:
    """An environment variable read from a key of a credential Secret."""

    env: str
    secret: str
    key: str


@dataclass(frozen=True)
class CredentialSecret:
    """A Secret the shop reads credentials from; never rendered with values."""

    name: str
    owner: str  # the app service whose folder holds its ExternalSecret
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Runtime:
    """Defaults of a runtime kind; a declaration overrides each of them."""

    start_seconds: int
    env: tuple[tuple[str, str], ...] = ()


# Start-up times on a fresh node (image pull included). A JVM sizes its heap from the container's
# memory limit only when told to: MaxRAMPercentage=75 leaves a quarter for metaspace, threads and buffers.
RUNTIMES: dict[str, Runtime] = {
    "jvm": Runtime(60, (("JAVA_OPTS", "-XX:MaxRAMPercentage=75.0"),)),
    "go": Runtime(5),
    "node": Runtime(15),
    "nginx": Runtime(5),
    "other": Runtime(30),
}


@dataclass(frozen=True)
class StoreKind:
    """A backing store shopgen can run: its upstream image's facts."""

    component: str  # app.kubernetes.io/component
    workload: str  # StatefulSet (data on a volume) or Deployment (data in memory)
    container: str
    image: str  # public ECR's mirror of the Docker official image: no anonymous pull limit per NAT address
    ports: tuple[tuple[str, int], ...]
    memory: str  # request = limit
    data_path: str | None = None  # where the data volume is mounted (None: data in memory)
    database_env: str | None = None  # the variable naming the database the image creates
    env: tuple[tuple[str, str], ...] = ()
    credentials: tuple[tuple[str, str], ...] = ()  # (variable, key of the credentials Secret)
    credential_keys: tuple[str, ...] = ()  # the credentials Secret's keys, in the order terraform writes them


STORE_KINDS: dict[str, StoreKind] = {
    "mysql": StoreKind(
        component="mysql",
        workload="StatefulSet",
        container="mysql",
        image="public.ecr.aws/docker/library/mysql:8.0",
        ports=(("mysql", 3306),),
        memory="512Mi",
        data_path="/var/lib/mysql",
        database_env="MYSQL_DATABASE",
        credentials=(
            ("MYSQL_ROOT_PASSWORD", "root-password"),
            ("MYSQL_USER", "username"),
            ("MYSQL_PASSWORD", "password"),
        ),
        credential_keys=("username", "password", "root-password"),
    ),
    "postgresql": StoreKind(
        component="postgresql",
        workload="StatefulSet",
        container="postgresql",
        image="public.ecr.aws/docker/library/postgres:16.1",
        ports=(("postgresql", 5432),),
        memory="256Mi",
        data_path="/data",
        database_env="POSTGRES_DB",
        env=(("PGDATA", "/data/pgdata"),),  # a folder below the mount: initdb refuses a non-empty mount point
        credentials=(("POSTGRES_USER", "username"), ("POSTGRES_PASSWORD", "password")),
        credential_keys=("username", "password"),
    ),
    "rabbitmq": StoreKind(
        component="rabbitmq",
        workload="StatefulSet",
        container="rabbitmq",
        image="public.ecr.aws/docker/library/rabbitmq:3-management",
        ports=(("amqp", 5672), ("http", 15672)),
        memory="256Mi",
        data_path="/var/lib/rabbitmq/mnesia",
    ),
    "redis": StoreKind(
        component="redis",
        workload="Deployment",
        container="redis",
        image="public.ecr.aws/docker/library/redis:6.0-alpine",
        ports=(("redis", 6379),),
        memory="128Mi",
    ),
    "dynamodb-local": StoreKind(
        component="dynamodb",
        workload="Deployment",
        container="dynamodb",
        image="public.ecr.aws/aws-dynamodb-local/aws-dynamodb-local:1.25.1",
        ports=(("dynamodb", 8000),),
        memory="512Mi",
    ),
}
STORE_COMPONENTS: frozenset[str] = frozenset(k.component for k in STORE_KINDS.values())

# Folders and object names shopgen's own components use: a service may not take them.
RESERVED_NAMES: frozenset[str] = frozenset({"overprovisioning", "platform", "namespace"})
