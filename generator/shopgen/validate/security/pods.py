"""The pod security baseline: non-root, no privilege escalation, no capabilities, read-only root, seccomp,
resources, no needless API token, nothing privileged or sharing the node's namespaces.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shopgen.validate.manifests import Manifests, Pod, every_container, quantity
from shopgen.validate.rules import Hit, Rule, hit


def _security_value(pod: Pod, container: Mapping[str, Any], key: str) -> Any:
    """A securityContext field as the kubelet applies it: the container's, else the pod's."""
    own = container.get("securityContext") or {}
    if key in own:
        return own[key]
    return (pod.spec.get("securityContext") or {}).get(key)


def check_run_as_non_root(idx: Manifests) -> Iterator[Hit]:
    """A container running as root turns any escape or writable host path into root on the node."""
    for pod, parts, container in every_container(idx):
        if (
            _security_value(pod, container, "runAsNonRoot") is not True
            or _security_value(pod, container, "runAsUser") == 0
        ):
            yield hit(
                pod.manifest,
                (*parts, "securityContext", "runAsNonRoot"),
                f"container {container.get('name')} may run as root (runAsNonRoot is not true)",
                "set securityContext.runAsNonRoot: true and a non-zero runAsUser the image supports",
            )


def check_allow_privilege_escalation(idx: Manifests) -> Iterator[Hit]:
    """Without it, setuid binaries in the image can gain more privileges than the container started with."""
    for pod, parts, container in every_container(idx):
        if (container.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
            yield hit(
                pod.manifest,
                (*parts, "securityContext", "allowPrivilegeEscalation"),
                f"container {container.get('name')} does not set allowPrivilegeEscalation: false",
                "set securityContext.allowPrivilegeEscalation: false",
            )


def check_capabilities_drop_all(idx: Manifests) -> Iterator[Hit]:
    """The runtime's default capabilities (NET_RAW, CHOWN, ...) are more than a web service needs."""
    for pod, parts, container in every_container(idx):
        drop = ((container.get("securityContext") or {}).get("capabilities") or {}).get("drop") or []
        if "ALL" not in [str(d).upper() for d in drop]:
            yield hit(
                pod.manifest,
                (*parts, "securityContext", "capabilities", "drop"),
                f"container {container.get('name')} keeps the runtime's default capabilities",
                "set securityContext.capabilities.drop: [ALL] and add back only what the image needs",
            )


def check_read_only_root_filesystem(idx: Manifests) -> Iterator[Hit]:
    """A writable root filesystem lets an attacker change the binaries the container runs."""
    for pod, parts, container in every_container(idx):
        if (container.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
            yield hit(
                pod.manifest,
                (*parts, "securityContext", "readOnlyRootFilesystem"),
                f"container {container.get('name')} has a writable root filesystem",
                "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it writes",
            )


def check_seccomp(idx: Manifests) -> Iterator[Hit]:
    """Unconfined containers can call every syscall, including the ones container escapes use."""
    for pod, parts, container in every_container(idx):
        profile = _security_value(pod, container, "seccompProfile") or {}
        if profile.get("type") not in ("RuntimeDefault", "Localhost"):
            yield hit(
                pod.manifest,
                (*parts, "securityContext", "seccompProfile"),
                f"container {container.get('name')} runs without a seccomp profile (pod or container level)",
                "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
            )


def _resources(container: Mapping[str, Any], section: str) -> Mapping[str, Any]:
    return (container.get("resources") or {}).get(section) or {}


def check_memory(idx: Manifests) -> Iterator[Hit]:
    """Without a memory request the scheduler overpacks nodes; without a limit one leak OOMs the node."""
    for pod, parts, container in every_container(idx):
        for section in ("requests", "limits"):
            if quantity(_resources(container, section).get("memory")) is None:
                yield hit(
                    pod.manifest,
                    (*parts, "resources", section, "memory"),
                    f"container {container.get('name')} sets no memory {section[:-1]}",
                    f"set resources.{section}.memory (shopgen: memory request = limit)",
                )


def check_cpu_requests(idx: Manifests) -> Iterator[Hit]:
    """Without a CPU request a pod gets only leftover CPU and CPU-based autoscaling cannot see it."""
    for pod, parts, container in every_container(idx):
        if quantity(_resources(container, "requests").get("cpu")) is None:
            yield hit(
                pod.manifest,
                (*parts, "resources", "requests", "cpu"),
                f"container {container.get('name')} requests no CPU",
                "set resources.requests.cpu",
            )


def check_cpu_limit(idx: Manifests) -> Iterator[Hit]:
    """Reported for the record: shopgen leaves CPU limits out on purpose (they throttle under load)."""
    for pod, parts, container in every_container(idx):
        if quantity(_resources(container, "limits").get("cpu")) is None:
            yield hit(
                pod.manifest,
                (*parts, "resources", "limits", "cpu"),
                f"container {container.get('name')} has no CPU limit: it may use any idle CPU of its node",
                "nothing to do in shopgen (deliberate); elsewhere, a CPU limit bounds a runaway container",
            )


def _token_needed(idx: Manifests, pod: Pod) -> bool:
    """A pod needs its token when its ServiceAccount is bound to a Role or ClusterRole here."""
    account = pod.spec.get("serviceAccountName") or "default"
    for binding in (*idx.of_kind("RoleBinding"), *idx.of_kind("ClusterRoleBinding")):
        for subject in binding.get("subjects") or []:
            if (
                isinstance(subject, dict)
                and subject.get("kind") == "ServiceAccount"
                and subject.get("name") == account
                and subject.get("namespace", pod.namespace) == pod.namespace
            ):
                return True
    return False


def check_service_account_token(idx: Manifests) -> Iterator[Hit]:
    """A mounted token is a Kubernetes API credential for anyone who gets into the container."""
    for pod in idx.pods:
        mount = pod.spec.get("automountServiceAccountToken")
        if mount is False or _token_needed(idx, pod):
            continue
        if mount is None:
            account = idx.get("ServiceAccount", pod.namespace, pod.spec.get("serviceAccountName") or "default")
            if account is not None and account.get("automountServiceAccountToken") is False:
                continue
        yield hit(
            pod.manifest,
            pod.path("automountServiceAccountToken"),
            "the service-account token is mounted but nothing binds the account to a Role: it is not needed",
            "set automountServiceAccountToken: false (nothing in the shop talks to the Kubernetes API)",
        )


def check_privileged(idx: Manifests) -> Iterator[Hit]:
    """A privileged container is root on the node."""
    for pod, parts, container in every_container(idx):
        if (container.get("securityContext") or {}).get("privileged") is True:
            yield hit(
                pod.manifest,
                (*parts, "securityContext", "privileged"),
                f"container {container.get('name')} is privileged",
                "remove privileged: true",
            )


def check_host_namespaces(idx: Manifests) -> Iterator[Hit]:
    """Sharing the node's network, PID or IPC namespace exposes every other pod on it."""
    for pod in idx.pods:
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.spec.get(key) is True:
                yield hit(
                    pod.manifest,
                    pod.path(key),
                    f"the pod shares the node's {key[4:]} namespace",
                    f"remove {key}: true",
                )


RULES: tuple[Rule, ...] = (
    Rule(
        "security.run-as-non-root",
        "error",
        "every container runs with runAsNonRoot: true",
        "a container escape or writable host path becomes root on the node",
        check_run_as_non_root,
    ),
    Rule(
        "security.allow-privilege-escalation",
        "error",
        "every container sets allowPrivilegeEscalation: false",
        "setuid binaries in the image gain privileges the container was not started with",
        check_allow_privilege_escalation,
    ),
    Rule(
        "security.capabilities-drop-all",
        "error",
        "every container drops ALL capabilities (and adds back only what it needs)",
        "default capabilities such as NET_RAW let a compromised container spoof traffic on the node",
        check_capabilities_drop_all,
    ),
    Rule(
        "security.read-only-root-filesystem",
        "error",
        "every container has a read-only root filesystem",
        "an attacker replaces the binaries or config the container runs",
        check_read_only_root_filesystem,
    ),
    Rule(
        "security.seccomp-runtime-default",
        "error",
        "every container runs with seccompProfile RuntimeDefault (pod or container level)",
        "unconfined syscalls, the ones container escapes use",
        check_seccomp,
    ),
    Rule(
        "security.memory-requests-limits",
        "error",
        "every container sets memory requests and limits",
        "overpacked nodes and one memory leak OOM-killing its neighbours",
        check_memory,
    ),
    Rule(
        "security.cpu-requests",
        "warning",
        "every container requests CPU",
        "pods that get only leftover CPU and that CPU-based autoscaling cannot see",
        check_cpu_requests,
    ),
    Rule(
        "security.cpu-limit",
        "info",
        "notes containers without a CPU limit (shopgen omits them on purpose: expected everywhere)",
        "recorded so the deliberate choice is visible; a CPU limit would throttle the shop under load",
        check_cpu_limit,
    ),
    Rule(
        "security.service-account-token",
        "error",
        "the service-account token is not mounted unless a Role binding needs it",
        "a Kubernetes API credential inside every container for no reason",
        check_service_account_token,
    ),
    Rule(
        "security.privileged",
        "error",
        "no container is privileged",
        "a container that is root on the node",
        check_privileged,
    ),
    Rule(
        "security.host-namespaces",
        "error",
        "no pod shares the node's network, PID or IPC namespace",
        "a pod that sees and reaches every other pod on its node",
        check_host_namespaces,
    ),
)
