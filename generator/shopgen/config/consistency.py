"""Checks across the declared services: every reference resolves and every fix the stages derive is
possible. Each failure names the one field to change (FieldError), as a config error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from shopgen.errors import did_you_mean
from shopgen.story.facts import RESERVED_NAMES
from shopgen.story.shop import grace_period, prestop_allowance, prestop_sleep

if TYPE_CHECKING:
    from shopgen.config.models import Config

NAME_LIMIT = 63  # a Service name is a DNS label


class FieldError(ValueError):
    """A cross-field error that belongs to one specific field path."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _listing(names: object) -> str:
    return ", ".join(sorted(names)) or "none"  # type: ignore[call-overload]


def _unknown_service(name: str, services: Iterable[str]) -> str:
    return f"services: {_listing(services)}{did_you_mean(name, services)}"


def check_shop(cfg: Config) -> None:
    """Raise a FieldError for the first declaration that breaks a reference or makes a fix impossible."""
    services = cfg.services
    if not services:
        raise FieldError(("services",), "declares no service; a shop needs at least the one the ALB exposes")
    stores: dict[str, tuple[str, ...]] = {}
    for name, svc in services.items():
        if name in RESERVED_NAMES:
            raise FieldError(("services", name), f"{name!r} is a name shopgen's own objects use; choose another")
        for callee in svc.calls:
            if callee == name:
                raise FieldError(("services", name, "calls", callee), "a service does not call itself")
            if callee not in services:
                raise FieldError(
                    ("services", name, "calls", callee),
                    f"calls {callee!r}, which is not declared; {_unknown_service(callee, services)}",
                )
            if services[callee].health.readiness is None:
                raise FieldError(
                    ("services", callee, "health", "readiness"),
                    f"{callee} is called by {name} and declares no readiness endpoint: its Service would send "
                    "requests to pods that cannot serve them yet (the readiness stage probes it)",
                )
        for key in svc.stores:
            store = f"{name}-{key}"
            loc = ("services", name, "stores", key)
            if len(store) > NAME_LIMIT:
                raise FieldError(loc, f"the store's name {store!r} is longer than {NAME_LIMIT} characters")
            if store in services or store in stores:
                raise FieldError(loc, f"the store's name {store!r} is taken by another service or store")
            stores[store] = loc
    for store in cfg.stores.overrides():
        if store not in stores:
            raise FieldError(
                ("stores", store),
                f"no service declares a store named {store!r}; stores: {_listing(stores)} (or a setting: "
                f"storage_class, storage_size){did_you_mean(store, stores)}",
            )
    for name in cfg.app.image_digests:
        if name not in services:
            raise FieldError(
                ("app", "image_digests", name), f"unknown service {name!r}; {_unknown_service(name, services)}"
            )
    _check_exposure(cfg)
    _check_autoscaling(cfg)
    for name in services:
        _check_shutdown(cfg, name)


def _check_exposure(cfg: Config) -> None:
    exposed = cfg.ingress.service
    if exposed not in cfg.services:
        raise FieldError(
            ("ingress", "service"),
            f"the ALB exposes {exposed!r}, which is not declared; {_unknown_service(exposed, cfg.services)}",
        )
    if cfg.services[exposed].health.readiness is None:
        raise FieldError(
            ("services", exposed, "health", "readiness"),
            f"{exposed} is exposed by the ALB (ingress.service) and declares no readiness endpoint: the ALB health "
            "check and the pod readiness gate follow it",
        )


def _check_autoscaling(cfg: Config) -> None:
    for i, target in enumerate(cfg.autoscaling.hpa.targets):
        loc = ("autoscaling", "hpa", "targets", str(i))
        if target not in cfg.services:
            raise FieldError(loc, f"{target!r} is not a declared service; {_unknown_service(target, cfg.services)}")
        if cfg.services[target].resources.cpu is None:
            raise FieldError(
                ("services", target, "resources", "cpu"),
                f"{target} is an HPA target (autoscaling.hpa.targets) without a CPU request: CPU utilization is "
                "measured against the request",
            )


def _check_shutdown(cfg: Config, name: str) -> None:
    svc = cfg.services[name]
    exposed = name == cfg.ingress.service
    least = prestop_allowance(exposed=exposed, deregistration_delay=cfg.ingress.deregistration_delay_seconds)
    sleep = prestop_sleep(cfg, name)
    if sleep < least:
        covers = (
            f"the ALB's deregistration delay ({cfg.ingress.deregistration_delay_seconds}s) + endpoint propagation"
            if exposed
            else "endpoint propagation"
        )
        raise FieldError(
            ("services", name, "prestop_sleep_seconds"),
            f"({sleep}) must be >= {least}: the sleep covers {covers}, while requests still arrive",
        )
    grace = grace_period(cfg, name)
    needed = sleep + svc.runtime.shutdown_seconds
    if grace < needed:
        raise FieldError(
            ("services", name, "termination_grace_period_seconds"),
            f"({grace}) must be >= preStop sleep + runtime.shutdown_seconds ({sleep} + "
            f"{svc.runtime.shutdown_seconds} = {needed})",
        )
