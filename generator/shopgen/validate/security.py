"""Layer 4: the security baseline every pod meets, and no plaintext credential anywhere.

Pod rules read the effective setting (a container's securityContext overrides the pod's). The
credential scan covers rendered manifests (Secret data, env literals, ConfigMap keys, credentials in
URLs or command lines) and, through ``scan_text_for_credentials``, any text file such as terraform.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from shopgen.app import STORE_NAMES
from shopgen.validate.credentials import is_credential_name
from shopgen.validate.findings import Finding
from shopgen.validate.policies import (
    Hit,
    Manifest,
    Manifests,
    PathParts,
    Pod,
    Rule,
    hit,
    pod_of,
    quantity,
    rules_markdown,
)

# --- credential-looking names and values -------------------------------------------------------

_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
_URL_PASSWORD = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@")
_FLAG_CREDENTIAL = re.compile(r"--?([A-Za-z][A-Za-z0-9_-]*)=(\S+)")


def _is_reference(value: str) -> bool:
    """Interpolations and templates point at a value kept elsewhere; they are not the value."""
    stripped = value.strip()
    return (
        not stripped
        or stripped.startswith(("${", "{{", "$(", "<", "ref+"))
        or stripped.lower() in ("null", "~", "true", "false")
    )


def credential_in_value(value: str) -> str | None:
    """What kind of credential a free-text value embeds, if any."""
    if _AWS_KEY_ID.search(value):
        return "an AWS access key id"
    if _PRIVATE_KEY.search(value):
        return "a private key"
    match = _URL_PASSWORD.search(value)
    if match and not _is_reference(match.group(1)):
        return "a password in a URL"
    for flag in _FLAG_CREDENTIAL.finditer(value):
        if is_credential_name(flag.group(1)) and not _is_reference(flag.group(2)):
            return f"a --{flag.group(1)} value"
    return None


# --- pod rules ---------------------------------------------------------------------------------


def _security_value(pod: Pod, container: Mapping[str, Any], key: str) -> Any:
    """A securityContext field as the kubelet applies it: the container's, else the pod's."""
    own = container.get("securityContext") or {}
    if key in own:
        return own[key]
    return (pod.spec.get("securityContext") or {}).get(key)


def _containers(idx: Manifests) -> Iterator[tuple[Pod, PathParts, dict[str, Any]]]:
    for pod in idx.pods:
        for parts, container in pod.containers(init=True):
            yield pod, parts, container


def check_run_as_non_root(idx: Manifests) -> Iterator[Hit]:
    """A container running as root turns any escape or writable host path into root on the node."""
    for pod, parts, container in _containers(idx):
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
    for pod, parts, container in _containers(idx):
        if (container.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
            yield hit(
                pod.manifest,
                (*parts, "securityContext", "allowPrivilegeEscalation"),
                f"container {container.get('name')} does not set allowPrivilegeEscalation: false",
                "set securityContext.allowPrivilegeEscalation: false",
            )


def check_capabilities_drop_all(idx: Manifests) -> Iterator[Hit]:
    """The runtime's default capabilities (NET_RAW, CHOWN, ...) are more than a web service needs."""
    for pod, parts, container in _containers(idx):
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
    for pod, parts, container in _containers(idx):
        if (container.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
            yield hit(
                pod.manifest,
                (*parts, "securityContext", "readOnlyRootFilesystem"),
                f"container {container.get('name')} has a writable root filesystem",
                "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it writes",
            )


def check_seccomp(idx: Manifests) -> Iterator[Hit]:
    """Unconfined containers can call every syscall, including the ones container escapes use."""
    for pod, parts, container in _containers(idx):
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
    for pod, parts, container in _containers(idx):
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
    for pod, parts, container in _containers(idx):
        if quantity(_resources(container, "requests").get("cpu")) is None:
            yield hit(
                pod.manifest,
                (*parts, "resources", "requests", "cpu"),
                f"container {container.get('name')} requests no CPU",
                "set resources.requests.cpu",
            )


def check_cpu_limit(idx: Manifests) -> Iterator[Hit]:
    """Reported for the record: shopgen leaves CPU limits out on purpose (they throttle under load)."""
    for pod, parts, container in _containers(idx):
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
    for pod, parts, container in _containers(idx):
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


# --- image registries --------------------------------------------------------------------------

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
PUBLIC_ECR_LIBRARY = "public.ecr.aws/docker/library"  # AWS's mirror of the Docker official images


def registry_host(image: str) -> str | None:
    """The registry host an image reference names, or None when it names none (the runtime pulls from Docker Hub).

    As the distribution reference grammar reads it: the first path component is a host only when it
    holds a '.' or a ':' or is ``localhost`` (``amazon/dynamodb-local`` is a Docker Hub repository).
    """
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def pulls_from_docker_hub(image: str) -> bool:
    host = registry_host(image)
    return host is None or host.lower() in DOCKER_HUB_HOSTS


def public_ecr_mirror(image: str) -> str | None:
    """The public ECR mirror of a Docker official image (``postgres:16.1``, ``docker.io/library/redis``), else None."""
    if not pulls_from_docker_hub(image):
        return None
    path = image.split("/", 1)[1] if registry_host(image) else image
    path = path.removeprefix("library/").split("@", 1)[0]  # a digest is the registry's: pin the mirror's anew
    return None if "/" in path else f"{PUBLIC_ECR_LIBRARY}/{path}"


def _store_setting(name: str) -> str:
    return f"; in shopgen.yaml: stores.{name.replace('-', '_')}.image" if name in STORE_NAMES else ""


def check_image_registry(idx: Manifests) -> Iterator[Hit]:
    """Docker Hub limits anonymous pulls per source address; every node behind one NAT gateway shares one."""
    for pod, parts, container in _containers(idx):
        image = container.get("image")
        if not isinstance(image, str) or not image or not pulls_from_docker_hub(image):
            continue
        mirror = public_ecr_mirror(image)
        where = (
            f"use its public ECR mirror {mirror}"
            if mirror
            else f"pull it from a registry without anonymous pull limits: its publisher's public ECR repository, "
            f"a pull-through cache or a registry of your own (Docker official images are mirrored at "
            f"{PUBLIC_ECR_LIBRARY}/<name>:<tag>)"
        )
        yield hit(
            pod.manifest,
            (*parts, "image"),
            f"container {container.get('name')} pulls {image} from Docker Hub, which limits anonymous pulls per "
            "source address: nodes behind one NAT gateway share one limit, and a scale-out can hit it",
            where + _store_setting(pod.name),
        )


# --- plaintext credentials ---------------------------------------------------------------------


def _plaintext_in_manifest(manifest: Manifest) -> Iterator[tuple[PathParts, str]]:
    kind = manifest.get("kind")
    if kind == "Secret":
        for section in ("data", "stringData"):
            for key, value in (manifest.get(section) or {}).items():
                if value not in (None, ""):
                    yield (section, key), f"Secret {section} {key!r} holds a value in the repository"
    if kind == "ConfigMap":
        for key, value in (manifest.get("data") or {}).items():
            if isinstance(value, str) and is_credential_name(key) and not _is_reference(value):
                yield ("data", key), f"ConfigMap key {key!r} looks like a credential and holds a literal value"
    yield from _plaintext_in_containers(manifest)
    yield from _embedded_credentials(manifest, ())


def _plaintext_in_containers(manifest: Manifest) -> Iterator[tuple[PathParts, str]]:
    pod = pod_of(manifest)
    if pod is None:
        return
    for parts, container in pod.containers(init=True):
        for i, env in enumerate(container.get("env") or []):
            if not isinstance(env, dict):
                continue
            name, value = str(env.get("name", "")), env.get("value")
            if isinstance(value, str) and is_credential_name(name) and not _is_reference(value):
                yield (*parts, "env", i, "value"), f"env {name} is a literal credential"


def _embedded_credentials(value: Any, path: PathParts) -> Iterator[tuple[PathParts, str]]:
    """Credentials inside any string: AWS key ids, private keys, URL passwords, --password= flags."""
    if isinstance(value, dict):
        for key, item in value.items():
            if path == () and key in ("data", "stringData") and value.get("kind") == "Secret":
                continue  # every Secret value is already reported above
            yield from _embedded_credentials(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _embedded_credentials(item, (*path, i))
    elif isinstance(value, str):
        found = credential_in_value(value)
        if found:
            yield path, f"the value embeds {found}"


def check_plaintext_credentials(idx: Manifests) -> Iterator[Hit]:
    """Anything committed to git is readable by everyone with the repository, forever."""
    for manifest in idx.all:
        seen: set[PathParts] = set()
        for parts, message in _plaintext_in_manifest(manifest):
            if parts in seen:
                continue
            seen.add(parts)
            yield hit(
                manifest,
                parts,
                message,
                "read it from a Secret produced outside git (External Secrets) and rotate the leaked value",
            )


_QUOTED_ASSIGN = re.compile(r'"?([A-Za-z_][A-Za-z0-9_.-]*)"?\s*[=:]\s*"((?:[^"\\]|\\.)*)"')
_YAML_ASSIGN = re.compile(r"""^\s*-?\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*:\s+([^#\s"'{[][^#]*?)\s*(?:#.*)?$""")
_VARIABLE_BLOCK = re.compile(r'^\s*variable\s+"([^"]+)"\s*\{')


def scan_text_for_credentials(path: str, text: str) -> list[Finding]:
    """Credential literals in a text file (terraform, YAML, JSON, .env): one finding per line.

    Catches ``password = "..."`` / ``secret_key: ...`` literals (also nested, as in
    ``jsonencode({ password = "..." })``), a credential-named variable's ``default``, a helm
    ``set { name = "...password" value = "..." }`` pair, AWS access key ids, private keys and
    passwords in URLs. Interpolations (``${...}``, ``{{ ... }}``) and references
    (``random_password.x.result``) are not literals.
    """
    findings: list[Finding] = []
    scope = _Scope()
    for number, line in enumerate(text.splitlines(), start=1):
        message = scope.read(line)
        if message:
            findings.append(
                Finding(
                    "security.plaintext-credential",
                    "error",
                    "File",
                    None,
                    path,
                    f"line {number}",
                    message,
                    "generate it (ephemeral random_password + secret_string_wo) or read it from a secret store; "
                    "rotate the leaked value",
                    "security",
                    path,
                )
            )
    return findings


class _Scope:
    """Line-by-line state: the enclosing ``variable`` block and a pending credential-named ``name``."""

    def __init__(self) -> None:
        self.variable: str | None = None
        self.named_credential: str | None = None

    def read(self, line: str) -> str | None:
        if line.lstrip().startswith(("#", "//")):
            return None
        block = _VARIABLE_BLOCK.match(line)
        if block:
            self.variable = block.group(1)
        elif line.strip().startswith("}"):
            self.variable = self.named_credential = None
        found = credential_in_value(line)
        return self._assignment(line) or (f"the line embeds {found}" if found else None)

    def _assignment(self, line: str) -> str | None:
        pairs = [(m.group(1), m.group(2)) for m in _QUOTED_ASSIGN.finditer(line)]
        yaml = _YAML_ASSIGN.match(line)
        if not pairs and yaml:
            pairs = [(yaml.group(1), yaml.group(2).strip())]
        for key, value in pairs:
            literal = not _is_reference(value) and "${" not in value
            name = key.rsplit(".", 1)[-1]
            if key == "name":
                last = value.rsplit(".", 1)[-1]
                self.named_credential = value if is_credential_name(last) else None
            elif literal and is_credential_name(name):
                return f"{key} is a literal credential"
            elif literal and key == "default" and self.variable and is_credential_name(self.variable):
                return f"variable {self.variable} has a literal default"
            elif literal and key == "value" and self.named_credential:
                return f"the value set for {self.named_credential} is a literal credential"
        return None


SECURITY_RULES: tuple[Rule, ...] = (
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
    Rule(
        "security.image-registry-rate-limit",
        "warning",
        "every container image names a registry other than Docker Hub (no registry host, as in postgres:16.1, "
        "means Docker Hub; so does docker.io)",
        "pods stuck in ImagePullBackOff during a scale-out: Docker Hub limits anonymous pulls per source address, "
        "and a whole cluster behind one NAT gateway shares one",
        check_image_registry,
    ),
    Rule(
        "security.plaintext-credential",
        "error",
        "no credential in the rendered trees: Secret data, credential-named env literals and ConfigMap keys, "
        "AWS key ids, private keys, URL passwords (terraform via scan_text_for_credentials)",
        "credentials readable by everyone with the repository, in its history forever",
        check_plaintext_credentials,
    ),
)

SECURITY_BY_ID = {rule.id: rule for rule in SECURITY_RULES}


def run_security(manifests: list[Manifest]) -> list[Finding]:
    """The security baseline over one stage's manifests (layer 4)."""
    idx = Manifests(manifests)
    findings: list[Finding] = []
    for rule in SECURITY_RULES:
        findings += rule.findings(rule.check(idx), "security")
    return findings


def security_table_markdown() -> str:
    """The security baseline rules as the README documents them."""
    return rules_markdown(SECURITY_RULES)


def scan_texts(files: Iterable[tuple[str, str]]) -> list[Finding]:
    """``scan_text_for_credentials`` over (path, text) pairs, e.g. a rendered terraform/ tree."""
    return [f for path, text in files for f in scan_text_for_credentials(path, text)]
