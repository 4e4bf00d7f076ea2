"""Probes: traffic goes only to ready pods, liveness restarts only a stuck process (never a busy or
dependency-starved one), and a slow starter gets a startup budget.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shopgen.validate.manifests import (
    PROBE_DEFAULTS,
    Manifest,
    Manifests,
    as_dict,
    as_list,
    identity,
    probe_budget,
)
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.rules import Hit, Rule, hit


def check_readiness_probe(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """A Service (and the ALB behind it) only skips pods that report not ready."""
    for pod, service in idx.served_pods().values():
        ports = _target_ports(service)
        containers = list(pod.containers())
        serving = [(p, c) for p, c in containers if _serves(c, ports)] or containers[:1]
        for parts, container in serving:
            if not as_dict(container.get("readinessProbe")):
                yield hit(
                    pod.manifest,
                    (*parts, "readinessProbe"),
                    f"Service {identity(service)[2]} sends traffic to container {container.get('name')}, which has "
                    "no readinessProbe: a starting or overloaded pod gets requests it cannot serve",
                    "add a readinessProbe on the service's readiness endpoint (shopgen: the readiness stage)",
                )


def _target_ports(service: Manifest) -> list[Any]:
    return [
        as_dict(p).get("targetPort", as_dict(p).get("port")) for p in as_list(as_dict(service.get("spec")).get("ports"))
    ]


def _serves(container: Mapping[str, Any], targets: list[Any]) -> bool:
    for port in as_list(container.get("ports")):
        port = as_dict(port)
        if port.get("name") in targets or port.get("containerPort") in targets:
            return True
    return False


def _normalized_probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    normal = {**PROBE_DEFAULTS, **probe}
    if "httpGet" in normal:
        normal["httpGet"] = {"path": "/", "scheme": "HTTP", **as_dict(normal["httpGet"])}
    return normal


def check_liveness_not_readiness(idx: Manifests, _: PolicyContext) -> Iterator[Hit]:
    """An identical liveness probe restarts a pod that is only busy, turning overload into an outage."""
    for pod in idx.pods:
        for parts, container in pod.containers():
            live, ready = as_dict(container.get("livenessProbe")), as_dict(container.get("readinessProbe"))
            if live and ready and _normalized_probe(live) == _normalized_probe(ready):
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe"),
                    "livenessProbe is the same check as readinessProbe (same handler, endpoint and thresholds): "
                    "under load the pod is restarted instead of only taken out of rotation",
                    "point liveness at a process-only endpoint, or give it a longer failure budget",
                )


def check_liveness_no_dependencies(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """A liveness check that follows a database restarts every pod when the database blips."""
    for pod in idx.pods:
        for parts, container in pod.containers():
            path = as_dict(as_dict(container.get("livenessProbe")).get("httpGet")).get("path")
            if isinstance(path, str) and _checks_dependencies(path, ctx):
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe", "httpGet", "path"),
                    f"livenessProbe uses {path!r}, which checks downstream dependencies: one slow database "
                    "restarts every pod at once",
                    "use the liveness group (/actuator/health/liveness for Spring Boot) or a static endpoint",
                )


def _checks_dependencies(path: str, ctx: PolicyContext) -> bool:
    clean = path.split("?", 1)[0].rstrip("/") or "/"
    if clean == "/actuator/health":  # Spring Boot's aggregate health: every indicator, databases included
        return True
    if clean.startswith("/actuator/health/"):
        return clean.rsplit("/", 1)[1] not in ("liveness", "ping")
    return clean in {p.rstrip("/") for p in ctx.dependency_health_paths}


def check_liveness_tolerates_saturation(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """A liveness probe that acts within seconds restarts a process that is only saturated by the surge."""
    for pod in idx.pods:
        for parts, container in pod.containers():
            live, ready = as_dict(container.get("livenessProbe")), as_dict(container.get("readinessProbe"))
            if not live:
                continue
            window = probe_budget(live) - int(live.get("initialDelaySeconds", 0))
            if window < ctx.liveness_min_window_seconds:
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe"),
                    f"livenessProbe restarts the container after {window}s of failed checks: a process saturated "
                    "by the surge answers late for longer than that and is restarted in the middle of the load",
                    f"make periodSeconds x failureThreshold >= {ctx.liveness_min_window_seconds}s (shopgen: 10 x 6 "
                    "= 60s), or drop liveness (services.<name>.liveness.enabled: false)",
                )
            live_timeout = int(live.get("timeoutSeconds", PROBE_DEFAULTS["timeoutSeconds"]))
            ready_timeout = int(ready.get("timeoutSeconds", PROBE_DEFAULTS["timeoutSeconds"])) if ready else 0
            if live_timeout < ready_timeout:
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe", "timeoutSeconds"),
                    f"livenessProbe times out after {live_timeout}s, sooner than readinessProbe ({ready_timeout}s): "
                    "an answer slow enough only to leave rotation counts as a liveness failure",
                    f"set livenessProbe.timeoutSeconds >= {ready_timeout} (the readiness timeout)",
                )


def check_startup_budget(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """Liveness (or a short startupProbe) kills a slow JVM before it ever finishes starting."""
    for pod in idx.pods:
        if not pod.is_app_service:
            continue
        start = ctx.start_of(pod.name)
        wanted = ctx.startup_margin * start
        for parts, container in pod.containers():
            startup, live = as_dict(container.get("startupProbe")), as_dict(container.get("livenessProbe"))
            if startup and probe_budget(startup) < wanted:
                yield hit(
                    pod.manifest,
                    (*parts, "startupProbe"),
                    f"startupProbe gives up after {probe_budget(startup)}s; {pod.name} needs {start}s to start, and "
                    f"twice that ({wanted}s) on a fresh node pulling its image: the container is killed in a "
                    "restart loop exactly when scale-out needs it",
                    f"raise failureThreshold x periodSeconds to >= {wanted} (twice "
                    f"services.{pod.name}.startup.start_seconds); a startupProbe costs nothing once the pod is up",
                )
            elif not startup and live and probe_budget(live) < wanted:
                yield hit(
                    pod.manifest,
                    (*parts, "livenessProbe"),
                    f"{pod.name} needs {start}s to start ({wanted}s on a fresh node) but has no startupProbe, and "
                    f"liveness kills it after {probe_budget(live)}s: the container may never finish starting",
                    f"add a startupProbe on the liveness endpoint whose failureThreshold x periodSeconds >= {wanted}",
                )


RULES: tuple[Rule, ...] = (
    Rule(
        "policy.readiness-probe",
        "error",
        "every container a Service sends traffic to has a readinessProbe",
        "requests reach pods that are starting or overloaded (the baseline's failure under 100 req/s)",
        check_readiness_probe,
    ),
    Rule(
        "policy.liveness-not-readiness",
        "error",
        "livenessProbe is not the identical probe spec as readinessProbe",
        "overloaded pods are restarted instead of only taken out of rotation, turning a slowdown into an outage",
        check_liveness_not_readiness,
    ),
    Rule(
        "policy.liveness-no-dependencies",
        "error",
        "livenessProbe never uses an endpoint that checks downstream dependencies (Spring's /actuator/health)",
        "one slow database restarts every pod of every service that uses it, at the same moment",
        check_liveness_no_dependencies,
    ),
    Rule(
        "policy.liveness-tolerates-saturation",
        "error",
        "a livenessProbe's failure window (period x failures) is at least 30 s and it times out no sooner than "
        "readiness",
        "a JVM saturated by the surge is restarted mid-load instead of only leaving rotation",
        check_liveness_tolerates_saturation,
    ),
    Rule(
        "policy.startup-budget",
        "error",
        "a slow starter has a startupProbe whose budget (period x failures) is twice its start time",
        "liveness kills a JVM that is still starting on a fresh node: a restart loop exactly when scale-out "
        "needs new pods",
        check_startup_budget,
    ),
)
