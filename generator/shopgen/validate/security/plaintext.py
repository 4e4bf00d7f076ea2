"""Plaintext credentials in rendered manifests (Secret data, env literals, ConfigMap keys, credentials
embedded in any string), and ``credential_in_value``, which the text scan shares.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from shopgen.validate.credentials import is_credential_name
from shopgen.validate.manifests import Manifest, Manifests, PathParts, pod_of
from shopgen.validate.rules import Hit, Rule, hit

_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
_URL_PASSWORD = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@")
_FLAG_CREDENTIAL = re.compile(r"--?([A-Za-z][A-Za-z0-9_-]*)=(\S+)")


def is_reference(value: str) -> bool:
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
    if match and not is_reference(match.group(1)):
        return "a password in a URL"
    for flag in _FLAG_CREDENTIAL.finditer(value):
        if is_credential_name(flag.group(1)) and not is_reference(flag.group(2)):
            return f"a --{flag.group(1)} value"
    return None


def _plaintext_in_manifest(manifest: Manifest) -> Iterator[tuple[PathParts, str]]:
    kind = manifest.get("kind")
    if kind == "Secret":
        for section in ("data", "stringData"):
            for key, value in (manifest.get(section) or {}).items():
                if value not in (None, ""):
                    yield (section, key), f"Secret {section} {key!r} holds a value in the repository"
    if kind == "ConfigMap":
        for key, value in (manifest.get("data") or {}).items():
            if isinstance(value, str) and is_credential_name(key) and not is_reference(value):
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
            if isinstance(value, str) and is_credential_name(name) and not is_reference(value):
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


RULES: tuple[Rule, ...] = (
    Rule(
        "security.plaintext-credential",
        "error",
        "no credential in the rendered trees: Secret data, credential-named env literals and ConfigMap keys, "
        "AWS key ids, private keys, URL passwords (terraform via scan_text_for_credentials)",
        "credentials readable by everyone with the repository, in its history forever",
        check_plaintext_credentials,
    ),
)
