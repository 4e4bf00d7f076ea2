"""Every constant the simulation rests on: a named parameter with its default, unit and source.

A prediction is only as good as these. Each one a manifest does not hold is listed here, printed by
``shopgen simulate --explain`` and overridable with ``--set NAME=VALUE``; the ones marked
"calibrate me" are orders of magnitude, to be replaced by a measurement of your own shop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shopgen.errors import ConfigError, did_you_mean

RUNTIME_KINDS = ("jvm", "go", "node", "nginx", "other")

CALIBRATE = "calibrate me"


@dataclass(frozen=True)
class Assumption:
    name: str
    value: float
    unit: str
    source: str
    meaning: str


def _per_runtime(
    prefix: str, values: Mapping[str, float], unit: str, source: str, meaning: str
) -> tuple[Assumption, ...]:
    return tuple(Assumption(f"{prefix}.{kind}", values[kind], unit, source, meaning) for kind in RUNTIME_KINDS)


DEFAULTS: tuple[Assumption, ...] = (
    # Load: the course's `vegeta attack -rate=100 -duration=1000s`, vegeta's default -timeout.
    Assumption("load.rate", 100, "req/s", "the course's vegeta attack -rate=100", "requests per second at the peak"),
    Assumption("load.duration", 1000, "s", "the course's vegeta attack -duration=1000s", "length of each scenario"),
    Assumption("load.ramp", 0, "s", "vegeta starts at full rate", "surge: seconds from 0 to the full rate"),
    Assumption("load.client_timeout", 30, "s", "vegeta README: -timeout defaults to 30s", "the client gives up"),
    Assumption(
        "rollout.at", 60, "s", "scenario design", "rollout: when the exposed service's new version starts rolling"
    ),
    Assumption(
        "rollout.warm_up", 600, "s", "scenario design", "rollout: the shop serves the load this long before t = 0"
    ),
    # ALB and the AWS Load Balancer Controller.
    Assumption("alb.healthcheck_interval", 15, "s", "LBC annotation docs: healthcheck-interval-seconds", "interval"),
    Assumption("alb.healthcheck_timeout", 5, "s", "LBC annotation docs: healthcheck-timeout-seconds", "timeout"),
    Assumption("alb.healthy_threshold", 2, "checks", "LBC annotation docs: healthy-threshold-count", "to healthy"),
    Assumption(
        "alb.unhealthy_threshold", 2, "checks", "LBC annotation docs: unhealthy-threshold-count", "to unhealthy"
    ),
    Assumption(
        "alb.deregistration_delay", 300, "s", "ELB docs: deregistration_delay.timeout_seconds default", "when unset"
    ),
    Assumption(
        "alb.idle_timeout", 60, "s", "ELB docs: idle_timeout.timeout_seconds default", "the ALB answers 504 after this"
    ),
    Assumption(
        "lbc.registration_delay",
        5,
        "s",
        f"{CALIBRATE}; kubernetes#67592: removal runs in parallel with preStop",
        "pod event -> target (de)registered",
    ),
    # Pods.
    Assumption("pod.image_pull", 10, "s", CALIBRATE, "first pull of an image on a node"),
    Assumption("pod.start_jitter", 0.1, "fraction", CALIBRATE, "start-up time varies by up to this fraction"),
    Assumption("pod.probe_cost", 0.001, "CPU s", CALIBRATE, "CPU time of one health or probe request"),
    Assumption(
        "pod.stop_accepting_after_sigterm",
        0,
        "s",
        f"{CALIBRATE}; graceful servers close their listener at SIGTERM",
        "SIGTERM -> the app refuses new requests",
    ),
    *_per_runtime(
        "request_cost",
        {"jvm": 0.020, "node": 0.005, "go": 0.002, "nginx": 0.0005, "other": 0.010},
        "CPU s",
        f"{CALIBRATE}: no public benchmark of the retail app; orders of magnitude per runtime",
        "CPU time one request costs the exposed service (its calls folded in)",
    ),
    *_per_runtime(
        "warmup_factor",
        {"jvm": 3, "node": 1, "go": 1, "nginx": 1, "other": 1},
        "x",
        f"{CALIBRATE}: a JVM interprets until its JIT compiles the hot paths",
        "request cost multiplier right after start, falling to 1",
    ),
    *_per_runtime(
        "warmup_seconds",
        {"jvm": 60, "node": 0, "go": 0, "nginx": 0, "other": 0},
        "s",
        CALIBRATE,
        "how long the warm-up multiplier takes to fall to 1",
    ),
    *_per_runtime(
        "memory_used",
        {"jvm": 0.5, "node": 0.4, "go": 0.2, "nginx": 0.1, "other": 0.4},
        "fraction of request",
        f"{CALIBRATE}; above a 60 % memory target the HPA holds a JVM at its maximum",
        "memory a running pod uses",
    ),
    # Nodes.
    Assumption(
        "node.system_cpu",
        0.6,
        "cores",
        f"{CALIBRATE}: Argo CD, the controllers and CoreDNS on each managed node",
        "CPU the managed node group's system pods request and use, per node",
    ),
    Assumption(
        "node.system_memory", 1.5, "GiB", CALIBRATE, "memory the managed node group's system pods request, per node"
    ),
    Assumption("node.daemonset_cpu", 0.15, "cores", f"{CALIBRATE}: aws-node, kube-proxy, CSI", "per node, every node"),
    Assumption("node.daemonset_memory", 0.25, "GiB", CALIBRATE, "per node, every node"),
    Assumption(
        "node.other_pods_cpu_use",
        1.0,
        "fraction of request",
        f"{CALIBRATE}: pods outside the request path are taken to use what they request",
        "CPU the shop's other pods use",
    ),
    # Karpenter.
    Assumption("karpenter.batch_idle", 1, "s", "Karpenter docs: BATCH_IDLE_DURATION", "batch closes when idle"),
    Assumption("karpenter.batch_max", 10, "s", "Karpenter docs: BATCH_MAX_DURATION", "batch closes at the latest"),
    Assumption(
        "karpenter.launch_to_ready",
        45,
        "s",
        f"{CALIBRATE}; karpenter-provider-aws#6165: 30-40 s typical, up to ~70 s",
        "node launch -> Ready",
    ),
    Assumption("karpenter.launch_jitter", 10, "s", CALIBRATE, "launch time varies by up to this much"),
    # HPA (Kubernetes docs, Horizontal Pod Autoscaling).
    Assumption("hpa.sync_period", 15, "s", "Kubernetes HPA docs: --horizontal-pod-autoscaler-sync-period", "loop"),
    Assumption("hpa.tolerance", 0.1, "ratio", "Kubernetes HPA docs: tolerance", "no change within it"),
    Assumption("hpa.metrics_window", 15, "s", "metrics-server resolution", "CPU averaged over"),
    Assumption("hpa.scale_down_stabilization", 300, "s", "Kubernetes HPA docs: default behavior", "window"),
    Assumption("sim.tick", 0.5, "s", "model resolution", "traffic is routed and served in steps of this length"),
)

_BY_NAME = {a.name: a for a in DEFAULTS}

# Steps and periods: a zero would stop the simulated clock.
POSITIVE = frozenset(
    {
        "load.duration",
        "sim.tick",
        "hpa.sync_period",
        "hpa.metrics_window",
        "alb.healthcheck_interval",
        "alb.healthy_threshold",
        "alb.unhealthy_threshold",
        "karpenter.batch_max",
    }
)


class Assumptions(Mapping[str, float]):
    """The effective values: the defaults with ``--set`` overrides."""

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        self._values = {a.name: float(a.value) for a in DEFAULTS}
        self.overridden: dict[str, float] = {}
        for name, value in (overrides or {}).items():
            if name not in _BY_NAME:
                raise ConfigError(f"--set {name}: no such assumption{did_you_mean(name, _BY_NAME)}")
            self._values[name] = float(value)
            self.overridden[name] = float(value)

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def runtime(self, prefix: str, kind: str) -> float:
        return self._values[f"{prefix}.{kind if kind in RUNTIME_KINDS else 'other'}"]

    def describe(self) -> dict[str, dict[str, object]]:
        """For the JSON: every assumption's value and where it comes from."""
        return {
            a.name: {
                "value": _plain(self._values[a.name]),
                "unit": a.unit,
                "source": "set on the command line" if a.name in self.overridden else a.source,
                "meaning": a.meaning,
            }
            for a in DEFAULTS
        }


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def parse_sets(pairs: Iterable[str]) -> dict[str, float]:
    """``--set NAME=VALUE`` options as numbers; a malformed one is a usage error naming it."""
    parsed: dict[str, float] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--set {pair!r}: expected NAME=VALUE (see `shopgen simulate --explain`)")
        if name not in _BY_NAME:
            raise ConfigError(f"--set {name}: no such assumption{did_you_mean(name, _BY_NAME)}")
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"--set {name}: {raw!r} is not a number") from None
        if value < 0 or value != value or value in (float("inf"),):
            raise ConfigError(f"--set {name}: must be a finite number >= 0 (got {raw})")
        if value == 0 and name in POSITIVE:
            raise ConfigError(f"--set {name}: must be greater than 0: the model steps or waits by it (got {raw})")
        parsed[name] = value
    return parsed
