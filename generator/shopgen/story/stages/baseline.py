"""Stage 1: the shop as first deployed, fragile on purpose (no probes, no autoscaling, round robin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopgen.story import facts as app_facts
from shopgen.story.stages.base import Contract, Stage
from shopgen.story.state import (
    AppService,
    DesiredState,
    ExternalSecret,
    Ingress,
    Namespace,
    Resources,
    RollingUpdate,
    Store,
)

if TYPE_CHECKING:
    from shopgen.config import Config


def _baseline(_: DesiredState, cfg: Config) -> DesiredState:
    """The retail store sample app as first deployed: no probes, no autoscaling, round-robin ALB."""
    return build_baseline(cfg)


def build_baseline(cfg: Config) -> DesiredState:
    services = tuple(_app_service(facts, cfg) for facts in app_facts.service_facts(cfg.app.synthetic_services))
    stores = tuple(_store(facts, cfg) for facts in app_facts.STORES)
    secrets: tuple[ExternalSecret, ...] = ()
    if cfg.secrets.provider == "external-secrets":
        secrets = tuple(
            ExternalSecret(
                name=s.name,
                owner=s.name.split("-")[0],
                keys=s.keys,
                remote_key=f"{cfg.cluster.name}/{cfg.namespace}/{s.name}",
                store=cfg.secrets.store,
                refresh_interval=cfg.secrets.refresh_interval,
            )
            for s in app_facts.CREDENTIAL_SECRETS
        )
    return DesiredState(
        namespace=Namespace(name=cfg.namespace),
        services=services,
        stores=stores,
        ingress=Ingress(
            name="ui",
            service="ui",
            load_balancer_name=cfg.load_balancer_name,
            scheme=cfg.ingress.scheme,
            target_group_attributes=("load_balancing.algorithm.type=round_robin",),
        ),
        external_secrets=secrets,
    )


def _app_service(facts: app_facts.ServiceFacts, cfg: Config) -> AppService:
    settings = cfg.services.get(facts.name)
    res = settings.resources
    return AppService(
        name=facts.name,
        image=_image(facts, cfg),
        replicas=settings.replicas,
        strategy=RollingUpdate(max_unavailable=facts.upstream_max_unavailable, max_surge=facts.upstream_max_surge),
        resources=Resources(cpu=res.cpu, memory=res.memory, memory_limit=res.memory_limit),
        config=facts.config,
        env=facts.env,
        secret_env=facts.secret_env,
        prometheus_path=facts.prometheus_path,
        hardened=facts.hardened,
        add_capabilities=facts.add_capabilities,
    )


def _image(facts: app_facts.ServiceFacts, cfg: Config) -> str:
    image = f"{cfg.app.image_registry}/{facts.image}:{cfg.app.image_tag}"
    digest = cfg.app.image_digests.get(facts.name)
    return f"{image}@{digest}" if digest else image


def _store(facts: app_facts.StoreFacts, cfg: Config) -> Store:
    settings = cfg.stores.get(facts.name)
    return Store(
        name=facts.name,
        owner=facts.owner,
        component=facts.component,
        workload=facts.workload,
        image=settings.image or facts.image,  # stores.<name>.image, else the release's
        container=facts.container,
        ports=facts.ports,
        env=facts.env,
        secret_env=facts.secret_env,
        args=facts.args,
        data_path=facts.data_path,
        cpu=settings.cpu,
        memory=settings.memory,
        storage_class=cfg.stores.storage_class if facts.workload == "StatefulSet" else None,
        storage_size=cfg.stores.storage_size,
    )


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    s = cfg.services
    return [
        ("namespace", f"`{cfg.namespace}`"),
        ("image tag", f"`{cfg.app.image_tag}`"),
        ("replicas", ", ".join(f"{n} {getattr(s, n).replicas}" for n in type(s).model_fields)),
        ("ui rollout", "maxSurge 50%, maxUnavailable 0"),
        ("ALB", f"`{cfg.load_balancer_name}`, round_robin"),
        ("credentials", cfg.secrets.provider),
    ]


STAGE = Stage(
    readme_values=readme_values,
    name="baseline",
    title="Baseline: the shop as first deployed",
    story="Under 100 req/s the ui fails: there are no probes, so pods that are not ready yet get "
    "traffic, and nothing scales.",
    fix="The shop of the retail store sample app 0.7.1 with no probes: ui with 2 replicas rolling out "
    "with maxSurge 50% / maxUnavailable 0, an ALB Ingress with round-robin target groups.",
    why="This is the fragile starting point the rest of the story repairs. Where the course left "
    "things out, shopgen completes them: standard app.kubernetes.io labels, credentials from "
    "External Secrets, and hardening on every pod (seccomp RuntimeDefault, no privilege "
    "escalation, no service-account token).",
    contract=Contract(),
    transform=_baseline,
    watch="`kubectl get pods -n {namespace} -l app.kubernetes.io/name=ui -w`: ui pods restart or are not "
    "ready and still receive traffic; 5xx and timeouts in vegeta's report.",
)
