"""Stage 1: the shop as first deployed, fragile on purpose (no probes, no autoscaling, round robin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopgen.story.shop import Service, StoreSpec, resolve
from shopgen.story.stages.base import Contract, Stage, plural
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
    """The shop as first deployed: no probes, no autoscaling, round-robin ALB."""
    return build_baseline(cfg)


def build_baseline(cfg: Config) -> DesiredState:
    shop = resolve(cfg)
    secrets: tuple[ExternalSecret, ...] = ()
    if cfg.secrets.provider == "external-secrets":
        secrets = tuple(
            ExternalSecret(
                name=s.name,
                owner=s.owner,
                keys=s.keys,
                remote_key=f"{cfg.cluster.name}/{cfg.namespace}/{s.name}",
                store=cfg.secrets.store,
                refresh_interval=cfg.secrets.refresh_interval,
            )
            for s in shop.credential_secrets
        )
    return DesiredState(
        namespace=Namespace(name=cfg.namespace),
        services=tuple(_app_service(svc) for svc in shop.services),
        stores=tuple(_store(store, cfg) for store in shop.stores),
        ingress=Ingress(
            name=shop.exposed,
            service=shop.exposed,
            load_balancer_name=cfg.load_balancer_name,
            scheme=cfg.ingress.scheme,
            target_group_attributes=("load_balancing.algorithm.type=round_robin",),
        ),
        external_secrets=secrets,
        part_of=shop.name,
    )


def _app_service(svc: Service) -> AppService:
    return AppService(
        name=svc.name,
        image=svc.image,
        replicas=svc.replicas,
        strategy=RollingUpdate(max_unavailable=svc.max_unavailable, max_surge=svc.max_surge),
        resources=Resources(cpu=svc.cpu, memory=svc.memory, memory_limit=svc.memory_limit),
        config=svc.config,
        env=svc.env,
        secret_env=svc.secret_env,
        prometheus_path=svc.metrics_path,
        hardened=svc.hardened,
        add_capabilities=svc.add_capabilities,
        port=svc.port,
        pull_secrets=svc.pull_secrets,
        reachable=svc.reachable,
        field_env=svc.field_env,
    )


def _store(spec: StoreSpec, cfg: Config) -> Store:
    return Store(
        name=spec.name,
        owner=spec.owner,
        component=spec.component,
        workload=spec.workload,
        image=spec.image,
        container=spec.container,
        ports=spec.ports,
        env=spec.env,
        secret_env=spec.secret_env,
        args=spec.args,
        data_path=spec.data_path,
        cpu=spec.cpu,
        memory=spec.memory,
        storage_class=cfg.stores.storage_class if spec.workload == "StatefulSet" else None,
        storage_size=cfg.stores.storage_size,
    )


def _rollout(svc: Service) -> list[str]:
    """The service's own rollout strategy; maxSurge only when it declares one."""
    return ([f"maxSurge {svc.max_surge}"] if svc.max_surge is not None else []) + [
        f"maxUnavailable {svc.max_unavailable}"
    ]


def readme_values(cfg: Config) -> list[tuple[str, str]]:
    """The values that matter in this stage, for its README."""
    shop = resolve(cfg)
    tags = {name: decl.image.tag for name, decl in cfg.services.items()}
    exposed = shop.service(shop.exposed)
    return [
        ("namespace", f"`{cfg.namespace}`"),
        (
            "image tag",
            f"`{next(iter(tags.values()))}`"
            if len(set(tags.values())) == 1
            else ", ".join(f"{name} `{tag}`" for name, tag in tags.items()),
        ),
        ("replicas", ", ".join(f"{s.name} {s.replicas}" for s in shop.services)),
        (f"{exposed.name} rollout", ", ".join(_rollout(exposed))),
        ("ALB", f"`{cfg.load_balancer_name}`, round_robin"),
        ("credentials", cfg.secrets.provider),
    ]


def words(cfg: Config) -> dict[str, str]:
    """The prose's placeholders: the shop's name, and the exposed service's replicas and rollout."""
    from shopgen.config.profiles import load_profile

    exposed = resolve(cfg).service(cfg.ingress.service)
    return {
        "shop": load_profile(cfg.app.profile).shop or f"`{cfg.app.name}`",
        "replicas": plural(exposed.replicas, "replica"),
        "rollout": " / ".join(_rollout(exposed)),
    }


STAGE = Stage(
    readme_values=readme_values,
    words=words,
    name="baseline",
    title="Baseline: the shop as first deployed",
    story="Under 100 req/s the {exposed} fails: there are no probes, so pods that are not ready yet get "
    "traffic, and nothing scales.",
    fix="The shop of {shop} with no probes: {exposed} with {replicas} rolling out with {rollout}, an ALB "
    "Ingress with round-robin target groups.",
    why="This is the fragile starting point the rest of the story repairs. Where the course left "
    "things out, shopgen completes them: standard app.kubernetes.io labels, credentials from "
    "External Secrets, and hardening on every pod (seccomp RuntimeDefault, no privilege "
    "escalation, no service-account token).",
    contract=Contract(),
    transform=_baseline,
    watch="`kubectl get pods -n {namespace} -l app.kubernetes.io/name={exposed} -w`: {exposed} pods restart "
    "or are not ready and still receive traffic; 5xx and timeouts in vegeta's report.",
)
