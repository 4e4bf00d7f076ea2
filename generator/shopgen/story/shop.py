"""The shop a config declares, resolved: every service and store with its defaults and derived values.

The declarations (config/declaration.py) say what a service is; this module applies the runtime
kinds' defaults, the store catalogue (story/facts.py) and the derivations every stage relies on
(preStop sleep, grace period, start-up budget). Pure: the same config always resolves the same shop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopgen.story.facts import (
    ENDPOINT_PROPAGATION_SECONDS,
    RUNTIMES,
    SERVICE_PORT,
    STORE_KINDS,
    CredentialSecret,
    SecretKeyEnv,
)

if TYPE_CHECKING:
    from shopgen.config import Config
    from shopgen.config.declaration import ServiceDecl, StoreDecl


@dataclass(frozen=True)
class Service:
    """A declared service with every default applied."""

    name: str
    image: str
    port: int
    runtime: str
    start_seconds: int
    shutdown_seconds: int
    readiness_path: str | None
    liveness_path: str | None
    metrics_path: str | None
    config: tuple[tuple[str, str], ...]  # the ConfigMap: settings, then the callees' URLs
    env: tuple[tuple[str, str], ...]  # on the container: the runtime's defaults, then the declared
    field_env: tuple[tuple[str, str], ...]  # (variable, pod field) through the downward API
    secret_env: tuple[SecretKeyEnv, ...]
    calls: tuple[str, ...]
    pull_secrets: tuple[str, ...]
    hardened: bool  # the restricted profile: non-root uid 1000, read-only root
    add_capabilities: tuple[str, ...]
    security_reason: str | None
    replicas: int
    cpu: str | None
    memory: str | None
    memory_limit: str | None
    max_surge: int | str | None
    max_unavailable: int | str
    prestop_sleep_seconds: int  # applied by the prestop stage
    termination_grace_period_seconds: int  # applied by the prestop stage
    exposed: bool
    reachable: bool  # the ALB exposes it or another service calls it: it gets a ClusterIP Service


@dataclass(frozen=True)
class StoreSpec:
    """A backing store of a service, from the catalogue and its declaration."""

    name: str  # <owner>-<key>
    owner: str
    kind: str
    component: str
    workload: str
    image: str
    container: str
    ports: tuple[tuple[str, int], ...]
    env: tuple[tuple[str, str], ...]
    secret_env: tuple[SecretKeyEnv, ...]
    args: tuple[str, ...]
    data_path: str | None
    cpu: str
    memory: str
    profile_image: str | None  # the image the release profile names for it (None: not the profile's store)


@dataclass(frozen=True)
class Shop:
    name: str  # app.kubernetes.io/part-of
    profile: str
    release: str | None
    exposed: str
    services: tuple[Service, ...]
    stores: tuple[StoreSpec, ...]
    credential_secrets: tuple[CredentialSecret, ...]

    def service(self, name: str) -> Service:
        return self._by_name[name]

    @functools.cached_property
    def _by_name(self) -> dict[str, Service]:
        return {s.name: s for s in self.services}


def prestop_allowance(*, exposed: bool, deregistration_delay: int) -> int:
    """The shortest preStop sleep that covers what still sends the pod requests after it starts terminating.

    Every pod: endpoint removal propagating to every kube-proxy. The pod behind the ALB: also the
    target group's deregistration, which keeps sending until it ends.
    """
    return ENDPOINT_PROPAGATION_SECONDS + (deregistration_delay if exposed else 0)


def prestop_sleep(cfg: Config, name: str) -> int:
    declared = cfg.services[name].prestop_sleep_seconds
    if declared is not None:
        return declared
    return prestop_allowance(
        exposed=name == cfg.ingress.service, deregistration_delay=cfg.ingress.deregistration_delay_seconds
    )


def grace_period(cfg: Config, name: str) -> int:
    """terminationGracePeriodSeconds: the preStop sleep, then the shutdown, before SIGKILL."""
    svc = cfg.services[name]
    if svc.termination_grace_period_seconds is not None:
        return svc.termination_grace_period_seconds
    return prestop_sleep(cfg, name) + svc.runtime.shutdown_seconds


def call_url(callee: str, *, with_port: bool) -> str:
    return f"http://{callee}" + (f":{SERVICE_PORT}" if with_port else "")


# The last shops resolved, by the config they came from: stages, READMEs, validation and terraform all
# ask for the same config's shop, and a frozen config always resolves the same shop.
_RESOLVED: list[tuple[Config, Shop]] = []
_RESOLVED_KEEP = 4


def resolve(cfg: Config) -> Shop:
    """The shop ``cfg`` declares, every default applied."""
    for known, shop in _RESOLVED:
        if known is cfg:
            return shop
    shop = _resolve(cfg)
    _RESOLVED.insert(0, (cfg, shop))
    del _RESOLVED[_RESOLVED_KEEP:]
    return shop


def _resolve(cfg: Config) -> Shop:
    from shopgen.config.profiles import load_profile

    called = {callee for decl in cfg.services.values() for callee in decl.calls}
    services = tuple(_service(cfg, name, decl, called) for name, decl in cfg.services.items())
    stores = tuple(
        _store(cfg, name, key, store) for name, decl in cfg.services.items() for key, store in decl.stores.items()
    )
    return Shop(
        name=cfg.app.name,
        profile=cfg.app.profile,
        release=load_profile(cfg.app.profile).release,
        exposed=cfg.ingress.service,
        services=services,
        stores=stores,
        credential_secrets=_credential_secrets(cfg),
    )


def _service(cfg: Config, name: str, decl: ServiceDecl, called: set[str]) -> Service:
    calls = [(call.env, call_url(callee, with_port=call.with_port)) for callee, call in decl.calls.items() if call.env]
    env = dict(RUNTIMES[decl.runtime.kind].env) | decl.env
    digest = cfg.app.image_digests.get(name) or decl.image.digest
    image = f"{decl.image.repository}:{decl.image.tag}" + (f"@{digest}" if digest else "")
    return Service(
        name=name,
        image=image,
        port=decl.port,
        runtime=decl.runtime.kind,
        start_seconds=decl.runtime.start,
        shutdown_seconds=decl.runtime.shutdown_seconds,
        readiness_path=decl.health.readiness,
        liveness_path=decl.health.liveness,
        metrics_path=decl.metrics_path,
        config=(*decl.settings.items(), *calls),
        env=tuple(env.items()),
        field_env=tuple(decl.fields.items()),
        secret_env=tuple(SecretKeyEnv(var, ref.secret, ref.key) for var, ref in decl.secrets.items()),
        calls=tuple(decl.calls),
        pull_secrets=decl.image.pull_secrets,
        hardened=decl.security.profile == "restricted",
        add_capabilities=decl.security.add_capabilities,
        security_reason=decl.security.reason,
        replicas=decl.replicas,
        cpu=decl.resources.cpu,
        memory=decl.resources.memory,
        memory_limit=decl.resources.limit,
        max_surge=decl.rollout.amount(decl.rollout.max_surge),
        max_unavailable=decl.rollout.amount(decl.rollout.max_unavailable) or 0,
        prestop_sleep_seconds=prestop_sleep(cfg, name),
        termination_grace_period_seconds=grace_period(cfg, name),
        exposed=name == cfg.ingress.service,
        reachable=name == cfg.ingress.service or name in called,
    )


def credentials_secret(owner: str, store: StoreDecl) -> str | None:
    """The Secret a store reads its credentials from (None for kinds without credentials)."""
    if not STORE_KINDS[store.kind].credentials:
        return None
    return store.credentials or f"{owner}-db"


def _store(cfg: Config, owner: str, key: str, decl: StoreDecl) -> StoreSpec:
    kind = STORE_KINDS[decl.kind]
    name = f"{owner}-{key}"
    override = cfg.stores.overrides().get(name)
    env: tuple[tuple[str, str], ...] = kind.env
    if kind.database_env:
        env = ((kind.database_env, decl.database or owner), *env)
    secret = credentials_secret(owner, decl)
    declared = (override.image if override else None) or decl.image
    return StoreSpec(
        name=name,
        owner=owner,
        kind=decl.kind,
        component=kind.component,
        workload=kind.workload,
        image=declared or kind.image,
        container=kind.container,
        ports=kind.ports,
        env=env,
        secret_env=tuple(SecretKeyEnv(var, secret, k) for var, k in kind.credentials) if secret else (),
        args=decl.args,
        data_path=kind.data_path,
        cpu=(override.cpu if override else None) or decl.cpu,
        memory=(override.memory if override else None) or decl.memory or kind.memory,
        profile_image=_profile_store_image(cfg, owner, key),
    )


def _profile_store_image(cfg: Config, owner: str, key: str) -> str | None:
    from shopgen.config.profiles import load_profile

    service = load_profile(cfg.app.profile).layer.get("services", {}).get(owner) or {}
    store = (service.get("stores") or {}).get(key)
    if store is None:
        return None
    return store.get("image") or STORE_KINDS[store["kind"]].image


def _credential_secrets(cfg: Config) -> tuple[CredentialSecret, ...]:
    """Every Secret the shop reads: the stores' credentials (the catalogue's keys) first, then each
    service's own secrets, keys in the order they are first read."""
    owners: dict[str, str] = {}
    keys: dict[str, list[str]] = {}

    def add(secret: str, owner: str, key: str) -> None:
        owners.setdefault(secret, owner)
        if key not in keys.setdefault(secret, []):
            keys[secret].append(key)

    for name, decl in cfg.services.items():
        for store in decl.stores.values():
            secret = credentials_secret(name, store)
            if secret is not None:
                for key in STORE_KINDS[store.kind].credential_keys:
                    add(secret, name, key)
    for name, decl in cfg.services.items():
        for ref in decl.secrets.values():
            add(ref.secret, name, ref.key)
    return tuple(CredentialSecret(secret, owners[secret], tuple(keys[secret])) for secret in owners)
