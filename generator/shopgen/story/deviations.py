"""The one table of deliberate deviations from the security baseline and from checkov.

Each row says which shopgen rule it corresponds to (None when no shopgen rule mirrors the check),
which checkov checks it skips, which workloads it applies to and why. The same row feeds both
the stage's expected findings (validate/expected.py) and the ``checkov.io/skip<N>`` annotations
on each workload (``skip_annotations``), so a reason is written once and reads the same in
``shopgen validate`` and in checkov's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shopgen.story import facts as app_facts

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
COMPONENT = "app.kubernetes.io/component"
SKIP_PREFIX = "checkov.io/skip"

_STORE_COMPONENTS = frozenset(s.component for s in app_facts.STORES)
_UNHARDENED_SERVICES = frozenset(s.name for s in app_facts.SERVICES if not s.hardened)
_UID_1000_SERVICES = frozenset(s.name for s in app_facts.SERVICES if s.hardened)
_CAPABILITY_ADDERS = frozenset(s.name for s in app_facts.SERVICES if s.add_capabilities)
_SECRET_ENV_READERS = frozenset(s.name for s in (*app_facts.SERVICES, *app_facts.STORES) if s.secret_env)


@dataclass(frozen=True)
class Workload:
    """What a deviation row looks at: a workload's kind, name and component label."""

    kind: str
    name: str
    component: str | None
    images: tuple[str, ...] = ()

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> Workload | None:
        """The workload a rendered manifest is, or None for kinds that run no pod."""
        kind = manifest.get("kind")
        if kind not in WORKLOAD_KINDS:
            return None
        meta = manifest.get("metadata") or {}
        pod = ((manifest.get("spec") or {}).get("template") or {}).get("spec") or {}
        images = tuple(str(c.get("image", "")) for c in pod.get("containers") or [])
        return cls(str(kind), str(meta.get("name", "")), (meta.get("labels") or {}).get(COMPONENT), images)


def _app_service(w: Workload) -> bool:
    return w.kind == "Deployment" and w.component == "service"


def _unhardened_service(w: Workload) -> bool:
    return _app_service(w) and w.name in _UNHARDENED_SERVICES


def _uid_1000_service(w: Workload) -> bool:
    return _app_service(w) and w.name in _UID_1000_SERVICES


def _capability_adder(w: Workload) -> bool:
    return _app_service(w) and w.name in _CAPABILITY_ADDERS


def _store(w: Workload) -> bool:
    return w.component in _STORE_COMPONENTS


def _pause(w: Workload) -> bool:
    return w.component == "overprovisioning"


def _secret_env_reader(w: Workload) -> bool:
    return (_app_service(w) or _store(w)) and w.name in _SECRET_ENV_READERS


def _any(_: Workload) -> bool:
    return True


@dataclass(frozen=True)
class Deviation:
    rule: str | None  # the shopgen rule that reports it (its expected finding), or None
    checks: tuple[str, ...]  # checkov check ids it skips
    applies_to: str  # the resources, in words (for the README)
    applies: Callable[[Workload], bool]
    reason: str


ASSETS_ROOT = (
    "assets runs its nginx image as upstream does: nginx needs root and a writable root filesystem, and "
    "forcing runAsNonRoot or a read-only root breaks the pod"
)
STORES_ROOT = (
    "the backing stores run their upstream images as upstream does: their entrypoints need root and their "
    "default capabilities to set up their data directories before dropping privileges"
)
STORES_WRITABLE = (
    "the backing stores run their upstream images as upstream does: they write sockets, pid and config files "
    "outside their data volume, so a read-only root filesystem breaks them"
)
STORES_NO_PROBES = (
    "the backing stores run their upstream images without probes, as upstream and the course do; shopgen adds "
    "probes to the app services only"
)
NO_CPU_LIMITS = (
    "no CPU limits, deliberately: CFS quota throttling causes the latency spikes under load this story warns "
    "about; CPU requests reserve the capacity"
)
PAUSE_MEMORY_ONLY = (
    "the pause pods request memory only, as the course does: they hold memory room on each node and any real "
    "pod preempts them"
)


def _unpinned_images(w: Workload) -> bool:
    return any("@sha256:" not in image for image in w.images)


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "security.run-as-non-root", ("CKV_K8S_23", "CKV_K8S_40"), "assets Deployment", _unhardened_service, ASSETS_ROOT
    ),
    Deviation(
        "security.read-only-root-filesystem", ("CKV_K8S_22",), "assets Deployment", _unhardened_service, ASSETS_ROOT
    ),
    Deviation("security.run-as-non-root", ("CKV_K8S_23", "CKV_K8S_40"), "backing stores", _store, STORES_ROOT),
    Deviation("security.capabilities-drop-all", ("CKV_K8S_28", "CKV_K8S_37"), "backing stores", _store, STORES_ROOT),
    Deviation("security.read-only-root-filesystem", ("CKV_K8S_22",), "backing stores", _store, STORES_WRITABLE),
    Deviation("policy.readiness-probe", ("CKV_K8S_8", "CKV_K8S_9"), "backing stores", _store, STORES_NO_PROBES),
    Deviation("security.cpu-limit", ("CKV_K8S_11",), "every workload", _any, NO_CPU_LIMITS),
    Deviation("security.cpu-requests", ("CKV_K8S_10",), "overprovisioning pause pods", _pause, PAUSE_MEMORY_ONLY),
    Deviation(
        None,
        ("CKV_K8S_8", "CKV_K8S_9"),
        "overprovisioning pause pods",
        _pause,
        "pause pods run nothing that could be probed: they only hold capacity and no Service sends them traffic",
    ),
    Deviation(
        None,
        ("CKV_K8S_40",),
        "app services running as uid 1000",
        _uid_1000_service,
        "uid 1000 is the upstream images' user and owns the app files; checkov wants a uid of 10000 or more, "
        "which the 0.7.1 images are not built for",
    ),
    Deviation(
        None,
        ("CKV_K8S_25",),
        "ui Deployment",
        _capability_adder,
        "the ui adds NET_BIND_SERVICE as upstream's manifest does, after dropping ALL",
    ),
    Deviation(
        None,
        ("CKV_K8S_35",),
        "workloads that read credentials",
        _secret_env_reader,
        "the app and store images read their credentials from environment variables (upstream's settings); "
        "the values come from Secrets, never from the repository",
    ),
    Deviation(
        None,
        ("CKV_K8S_43",),
        "workloads whose images carry no digest",
        _unpinned_images,
        "images are pinned by tag: the release the course deploys and the stores' upstream tags; "
        "pin the app services by digest with app.image_digests in shopgen.yaml",
    ),
    Deviation(
        None,
        ("CKV_K8S_15",),
        "every workload",
        _any,
        "imagePullPolicy IfNotPresent with pinned tags, as upstream: a pinned tag does not move, and Always "
        "would add a registry round trip to every pod start during a scale-out",
    ),
    Deviation(
        None,
        ("CKV2_K8S_6",),
        "every workload",
        _any,
        "no NetworkPolicy: neither upstream nor the course defines one, and network isolation is outside this "
        "story (the services call each other inside one namespace)",
    ),
)


def deviations_for(manifest: Mapping[str, Any]) -> list[Deviation]:
    """The rows that apply to a rendered manifest (none for kinds that run no pod)."""
    workload = Workload.of(manifest)
    return [] if workload is None else [d for d in DEVIATIONS if d.applies(workload)]


def _check_order(check: str) -> tuple[str, int]:
    match = re.fullmatch(r"(CKV2?)_K8S_([0-9]+)", check)
    return (match.group(1), int(match.group(2))) if match else (check, 0)


def checkov_reasons(manifest: Mapping[str, Any]) -> dict[str, str]:
    """{checkov check id: reason} for a manifest, in check order (CKV_K8S_8 before CKV_K8S_10)."""
    reasons: dict[str, str] = {}
    for row in deviations_for(manifest):
        for check in row.checks:
            if reasons.setdefault(check, row.reason) != row.reason:
                raise ValueError(f"two deviation rows skip {check} on the same resource with different reasons")
    return dict(sorted(reasons.items(), key=lambda item: _check_order(item[0])))


def skip_annotations(manifest: Mapping[str, Any]) -> dict[str, str]:
    """``{"checkov.io/skip1": "CKV_K8S_xx=<reason>", ...}`` for a rendered manifest.

    Numbered in check order so the bytes are stable. checkov splits the value at ``=``, so a reason
    must never contain one (the tests hold every row to that).
    """
    return {
        f"{SKIP_PREFIX}{n:02d}": f"{check}={reason}"
        for n, (check, reason) in enumerate(checkov_reasons(manifest).items(), 1)
    }


def deviations_markdown() -> str:
    """The table as the README documents it."""
    lines = ["| applies to | shopgen rule | checkov checks | reason |", "|---|---|---|---|"]
    for row in DEVIATIONS:
        rule = f"`{row.rule}`" if row.rule else "—"
        checks = ", ".join(f"`{c}`" for c in row.checks)
        reason = row.reason.replace("|", "\\|")
        lines.append(f"| {row.applies_to} | {rule} | {checks} | {reason} |")
    return "\n".join(lines) + "\n"
