"""Facts of the retail store sample app at 0.7.1 (dist/kubernetes/deploy.yaml and the course's base/).

These are not settings: they are what the images expect. Tunable values live in config/.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

IMAGE_REGISTRY = "public.ecr.aws/aws-containers"
JAVA_OPTS = "-XX:MaxRAMPercentage=75.0 -Djava.security.egd=file:/dev/urandom"
HTTP_PORT = 8080  # every app service listens on the named container port `http`


@dataclass(frozen=True)
class SecretKeyEnv:
    """An environment variable read from a key of a credential Secret."""

    env: str
    secret: str
    key: str


@dataclass(frozen=True)
class ServiceFacts:
    name: str
    image: str  # repository name under IMAGE_REGISTRY (carts' image is "…-cart")
    runtime: str  # Go, Spring Boot, NestJS, nginx
    liveness_path: str
    readiness_path: str
    prometheus_path: str | None
    config: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...] = ()
    secret_env: tuple[SecretKeyEnv, ...] = ()
    add_capabilities: tuple[str, ...] = ()
    hardened: bool = True  # runs as uid 1000 with a read-only root filesystem (assets does not)
    upstream_max_surge: str | None = None
    upstream_max_unavailable: int | str = 1


@dataclass(frozen=True)
class StoreFacts:
    name: str
    owner: str  # the app service it belongs to
    component: str  # app.kubernetes.io/component, as upstream names it
    workload: str  # StatefulSet or Deployment
    image: str  # the release's image; stores.<name>.image in the config overrides it
    container: str
    ports: tuple[tuple[str, int], ...]
    env: tuple[tuple[str, str], ...] = ()
    secret_env: tuple[SecretKeyEnv, ...] = ()
    args: tuple[str, ...] = ()
    data_path: str | None = None  # where the data volume is mounted (None: data in memory)


@dataclass(frozen=True)
class CredentialSecret:
    """A Secret the shop reads credentials from; never rendered with values."""

    name: str
    keys: tuple[str, ...] = field(default_factory=tuple)


SPRING = "Spring Boot"

SERVICES: tuple[ServiceFacts, ...] = (
    ServiceFacts(
        name="catalog",
        image="retail-store-sample-catalog",
        runtime="Go",
        liveness_path="/health",
        readiness_path="/health",
        prometheus_path="/metrics",
        config=(
            ("DB_ENDPOINT", "catalog-mysql:3306"),
            ("DB_READ_ENDPOINT", "catalog-mysql:3306"),
            ("DB_NAME", "catalog"),
        ),
        secret_env=(
            SecretKeyEnv("DB_USER", "catalog-db", "username"),
            SecretKeyEnv("DB_PASSWORD", "catalog-db", "password"),
        ),
    ),
    ServiceFacts(
        name="carts",
        image="retail-store-sample-cart",
        runtime=SPRING,
        liveness_path="/actuator/health/liveness",
        readiness_path="/actuator/health/readiness",
        prometheus_path="/actuator/prometheus",
        config=(
            ("SPRING_PROFILES_ACTIVE", "dynamodb"),
            ("CARTS_DYNAMODB_TABLENAME", "Items"),
            ("CARTS_DYNAMODB_CREATETABLE", "true"),
            ("CARTS_DYNAMODB_ENDPOINT", "http://carts-dynamodb:8000"),
        ),
        env=(("JAVA_OPTS", JAVA_OPTS),),
        # Dummy keys DynamoDB local ignores; upstream keeps them in the ConfigMap, shopgen in a Secret.
        secret_env=(
            SecretKeyEnv("AWS_ACCESS_KEY_ID", "carts-dynamodb", "aws-access-key-id"),
            SecretKeyEnv("AWS_SECRET_ACCESS_KEY", "carts-dynamodb", "aws-secret-access-key"),
        ),
    ),
    ServiceFacts(
        name="orders",
        image="retail-store-sample-orders",
        runtime=SPRING,
        liveness_path="/actuator/health/liveness",
        readiness_path="/actuator/health/readiness",
        prometheus_path="/actuator/prometheus",
        config=(
            ("SPRING_PROFILES_ACTIVE", "rabbitmq"),
            ("SPRING_DATASOURCE_URL", "jdbc:postgresql://orders-postgresql:5432/orders"),
            ("SPRING_RABBITMQ_ADDRESSES", "amqp://orders-rabbitmq:5672"),
        ),
        env=(("JAVA_OPTS", JAVA_OPTS),),
        secret_env=(
            SecretKeyEnv("SPRING_DATASOURCE_USERNAME", "orders-db", "username"),
            SecretKeyEnv("SPRING_DATASOURCE_PASSWORD", "orders-db", "password"),
        ),
    ),
    ServiceFacts(
        name="checkout",
        image="retail-store-sample-checkout",
        runtime="NestJS",
        liveness_path="/health",
        readiness_path="/health",
        prometheus_path="/metrics",
        config=(("REDIS_URL", "redis://checkout-redis:6379"), ("ENDPOINTS_ORDERS", "http://orders:80")),
    ),
    ServiceFacts(
        name="assets",
        image="retail-store-sample-assets",
        runtime="nginx",
        liveness_path="/health.html",
        readiness_path="/health.html",
        prometheus_path=None,
        config=(("PORT", "8080"),),
        hardened=False,  # nginx needs root and a writable root filesystem (upstream)
    ),
    ServiceFacts(
        name="ui",
        image="retail-store-sample-ui",
        runtime=SPRING,
        liveness_path="/actuator/health/liveness",
        readiness_path="/actuator/health/readiness",
        prometheus_path="/actuator/prometheus",
        config=(
            ("ENDPOINTS_CATALOG", "http://catalog"),
            ("ENDPOINTS_CARTS", "http://carts"),
            ("ENDPOINTS_CHECKOUT", "http://checkout"),
            ("ENDPOINTS_ORDERS", "http://orders"),
            ("ENDPOINTS_ASSETS", "http://assets"),
        ),
        env=(("JAVA_OPTS", JAVA_OPTS),),
        add_capabilities=("NET_BIND_SERVICE",),
        upstream_max_surge="50%",  # the course's ui overlay
        upstream_max_unavailable=0,
    ),
)

STORES: tuple[StoreFacts, ...] = (
    StoreFacts(
        name="catalog-mysql",
        owner="catalog",
        component="mysql",
        workload="StatefulSet",
        image="public.ecr.aws/docker/library/mysql:5.7",
        container="mysql",
        ports=(("mysql", 3306),),
        env=(("MYSQL_DATABASE", "catalog"),),
        secret_env=(
            SecretKeyEnv("MYSQL_ROOT_PASSWORD", "catalog-db", "root-password"),
            SecretKeyEnv("MYSQL_USER", "catalog-db", "username"),
            SecretKeyEnv("MYSQL_PASSWORD", "catalog-db", "password"),
        ),
        args=("--ignore-db-dir=lost+found",),
        data_path="/var/lib/mysql",
    ),
    StoreFacts(
        name="carts-dynamodb",
        owner="carts",
        component="dynamodb",
        workload="Deployment",
        # Docker Hub on purpose: no public ECR copy of 1.13.1 is confirmed (AWS publishes DynamoDB local at
        # public.ecr.aws/aws-dynamodb-local/aws-dynamodb-local, newer versions). An expected finding of
        # security.image-registry-rate-limit; stores.carts_dynamodb.image points it at a copy you trust.
        image="amazon/dynamodb-local:1.13.1",
        container="dynamodb",
        ports=(("dynamodb", 8000),),
    ),
    StoreFacts(
        name="orders-postgresql",
        owner="orders",
        component="postgresql",
        workload="StatefulSet",
        image="public.ecr.aws/docker/library/postgres:16.1",
        container="postgresql",
        ports=(("postgresql", 5432),),
        env=(("POSTGRES_DB", "orders"), ("PGDATA", "/data/pgdata")),
        secret_env=(
            SecretKeyEnv("POSTGRES_USER", "orders-db", "username"),
            SecretKeyEnv("POSTGRES_PASSWORD", "orders-db", "password"),
        ),
        data_path="/data",
    ),
    StoreFacts(
        name="orders-rabbitmq",
        owner="orders",
        component="rabbitmq",
        workload="StatefulSet",
        image="public.ecr.aws/docker/library/rabbitmq:3-management",
        container="rabbitmq",
        ports=(("amqp", 5672), ("http", 15672)),
        data_path="/var/lib/rabbitmq/mnesia",
    ),
    StoreFacts(
        name="checkout-redis",
        owner="checkout",
        component="redis",
        workload="Deployment",
        image="public.ecr.aws/docker/library/redis:6.0-alpine",
        container="redis",
        ports=(("redis", 6379),),
    ),
)

CREDENTIAL_SECRETS: tuple[CredentialSecret, ...] = (
    CredentialSecret("catalog-db", ("username", "password", "root-password")),
    CredentialSecret("orders-db", ("username", "password")),
    CredentialSecret("carts-dynamodb", ("aws-access-key-id", "aws-secret-access-key")),
)

SERVICE_NAMES: tuple[str, ...] = tuple(s.name for s in SERVICES)
STORE_NAMES: tuple[str, ...] = tuple(s.name for s in STORES)


SYNTHETIC_PREFIX = "synthetic-"
SYNTHETIC_TEMPLATE = "checkout"  # a service with no store and no credentials: clones stay independent


def service_facts(synthetic: int = 0) -> tuple[ServiceFacts, ...]:
    """The six app services, plus ``synthetic`` clones of the template for measuring growth (benchmarks)."""
    if not synthetic:
        return SERVICES
    template = next(s for s in SERVICES if s.name == SYNTHETIC_TEMPLATE)
    clones = tuple(replace(template, name=f"{SYNTHETIC_PREFIX}{i:03d}") for i in range(1, synthetic + 1))
    return SERVICES + clones
