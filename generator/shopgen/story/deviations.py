"""The one table of deliberate deviations from the security baseline and from checkov, for one shop.

Each row says which shopgen rule it corresponds to (None when no shopgen rule mirrors the check),
which checkov checks it skips, which workloads it applies to and why. The same row feeds both
the stage's expected findings (validate/expected.py) and the ``checkov.io/skip<N>`` annotations
on each workload (``skip_annotations``), so a reason is written once and reads the same in
``shopgen validate`` and in checkov's report. A service's own exceptions (``security``) come from its
declaration with the reason it states (``Traits``); the rest hold for every shop.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shopgen.story.facts import STORE_COMPONENTS

if TYPE_CHECKING:
    from shopgen.story.shop import Shop

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
COMPONENT = "app.kubernetes.io/component"
SKIP_PREFIX = "checkov.io/skip"


@dataclass(frozen=True)
class Traits:
    """What the rows need to know about a shop's services: their declared exceptions and their reasons."""

    exceptions: tuple[tuple[str, str], ...] = ()  # (service, reason): security profile "exception"
    capability_adders: tuple[tuple[str, str], ...] = ()  # (service, reason): add_capabilities
    release_uid_1000: frozenset[str] = frozenset()  # restricted services running the profile's release images
    other_uid_1000: frozenset[str] = frozenset()  # restricted services of the user's own
    secret_readers: frozenset[str] = frozenset()  # services and stores with env from Secrets
    release: str | None = None

    @classmethod
    def of(cls, shop: Shop) -> Traits:
        def tagged(image: str) -> bool:
            return shop.release is not None and image.split("@")[0].endswith(f":{shop.release}")

        restricted = [s for s in shop.services if s.hardened]
        return cls(
            exceptions=tuple((s.name, s.security_reason or "") for s in shop.services if not s.hardened),
            capability_adders=tuple((s.name, s.security_reason or "") for s in shop.services if s.add_capabilities),
            release_uid_1000=frozenset(s.name for s in restricted if tagged(s.image)),
            other_uid_1000=frozenset(s.name for s in restricted if not tagged(s.image)),
            secret_readers=frozenset(s.name for s in (*shop.services, *shop.stores) if s.secret_env),
            release=shop.release,
        )


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


def _service_in(names: frozenset[str]) -> Callable[[Workload], bool]:
    return lambda w: _app_service(w) and w.name in names


def _store(w: Workload) -> bool:
    return w.component in STORE_COMPONENTS


def _pause(w: Workload) -> bool:
    return w.component == "overprovisioning"


def _reads_secrets(names: frozenset[str]) -> Callable[[Workload], bool]:
    return lambda w: (_app_service(w) or _store(w)) and w.name in names


def _any(_: Workload) -> bool:
    return True


@dataclass(frozen=True)
class Deviation:
    rule: str | None  # the shopgen rule that reports it (its expected finding), or None
    checks: tuple[str, ...]  # checkov check ids it skips
    applies_to: str  # the resources, in words (for the README)
    applies: Callable[[Workload], bool]
    reason: str


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


def _by_reason(pairs: tuple[tuple[str, str], ...]) -> dict[str, frozenset[str]]:
    """{reason: the services that give it}, in declaration order of the reasons."""
    groups: dict[str, list[str]] = {}
    for name, reason in pairs:
        groups.setdefault(reason, []).append(name)
    return {reason: frozenset(names) for reason, names in groups.items()}


def _names(names: frozenset[str]) -> str:
    return ", ".join(sorted(names))


@functools.cache
def deviations(traits: Traits) -> tuple[Deviation, ...]:
    """Every row for a shop: its declared exceptions first, then the rows every shop shares."""
    rows: list[Deviation] = []
    for reason, names in _by_reason(traits.exceptions).items():
        applies = _service_in(names)
        rows.append(
            Deviation(
                "security.run-as-non-root", ("CKV_K8S_23", "CKV_K8S_40"), f"{_names(names)} Deployment", applies, reason
            )
        )
        rows.append(
            Deviation(
                "security.read-only-root-filesystem", ("CKV_K8S_22",), f"{_names(names)} Deployment", applies, reason
            )
        )
    rows += [
        Deviation("security.run-as-non-root", ("CKV_K8S_23", "CKV_K8S_40"), "backing stores", _store, STORES_ROOT),
        Deviation(
            "security.capabilities-drop-all", ("CKV_K8S_28", "CKV_K8S_37"), "backing stores", _store, STORES_ROOT
        ),
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
    ]
    if traits.release_uid_1000:
        rows.append(
            Deviation(
                None,
                ("CKV_K8S_40",),
                "app services running as uid 1000",
                _service_in(traits.release_uid_1000),
                "uid 1000 is the upstream images' user and owns the app files; checkov wants a uid of 10000 or more, "
                f"which the {traits.release} images are not built for",
            )
        )
    if traits.other_uid_1000:
        rows.append(
            Deviation(
                None,
                ("CKV_K8S_40",),
                f"{_names(traits.other_uid_1000)} (uid 1000)",
                _service_in(traits.other_uid_1000),
                "the restricted security profile runs every service as uid 1000, non-root; checkov wants a uid of "
                "10000 or more, which images built for a fixed uid 1000 do not run as",
            )
        )
    for reason, names in _by_reason(traits.capability_adders).items():
        rows.append(Deviation(None, ("CKV_K8S_25",), f"{_names(names)} Deployment", _service_in(names), reason))
    rows += [
        Deviation(
            None,
            ("CKV_K8S_35",),
            "workloads that read credentials",
            _reads_secrets(traits.secret_readers),
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
    ]
    return tuple(rows)


def deviations_for(manifest: Mapping[str, Any], traits: Traits) -> list[Deviation]:
    """The rows that apply to a rendered manifest (none for kinds that run no pod)."""
    workload = Workload.of(manifest)
    return [] if workload is None else [d for d in deviations(traits) if d.applies(workload)]


def _check_order(check: str) -> tuple[str, int]:
    match = re.fullmatch(r"(CKV2?)_K8S_([0-9]+)", check)
    return (match.group(1), int(match.group(2))) if match else (check, 0)


def checkov_reasons(manifest: Mapping[str, Any], traits: Traits) -> dict[str, str]:
    """{checkov check id: reason} for a manifest, in check order (CKV_K8S_8 before CKV_K8S_10)."""
    reasons: dict[str, str] = {}
    for row in deviations_for(manifest, traits):
        for check in row.checks:
            if reasons.setdefault(check, row.reason) != row.reason:
                raise ValueError(f"two deviation rows skip {check} on the same resource with different reasons")
    return dict(sorted(reasons.items(), key=lambda item: _check_order(item[0])))


def skip_annotations(manifest: Mapping[str, Any], traits: Traits) -> dict[str, str]:
    """``{"checkov.io/skip1": "CKV_K8S_xx=<reason>", ...}`` for a rendered manifest.

    Numbered in check order so the bytes are stable. checkov splits the value at ``=``, so a reason
    must never contain one (the tests hold every row to that).
    """
    return {
        f"{SKIP_PREFIX}{n:02d}": f"{check}={reason}"
        for n, (check, reason) in enumerate(checkov_reasons(manifest, traits).items(), 1)
    }


def deviations_markdown(traits: Traits) -> str:
    """The table as the README documents it (for the default profile's shop)."""
    lines = ["| applies to | shopgen rule | checkov checks | reason |", "|---|---|---|---|"]
    for row in deviations(traits):
        rule = f"`{row.rule}`" if row.rule else "—"
        checks = ", ".join(f"`{c}`" for c in row.checks)
        reason = row.reason.replace("|", "\\|")
        lines.append(f"| {row.applies_to} | {rule} | {checks} | {reason} |")
    return "\n".join(lines) + "\n"
