"""Redaction: applied to every manifest before it is compared, so no view can leak a credential.

Which names hold one is ``is_credential_name``'s call, the same validate makes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shopgen.validate.credentials import is_credential_name

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"  # holds a whole manifest, Secrets too


def digest(value: Any) -> str:
    """``sha256:`` + the first 12 hex digits of the value's text: shows *that* it changed, never *what*."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def redact(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a manifest with every credential replaced by its digest (Secret data, password: …)."""
    is_secret = manifest.get("kind") == "Secret"
    out: dict[str, Any] = {}
    for key, value in manifest.items():
        if is_secret and key in ("data", "stringData"):
            out[key] = _digest_all(value)
        else:
            out[key] = _redact(value, key)
    return out


def _redact(value: Any, key: str | None) -> Any:
    if isinstance(value, dict):
        name = value.get("name")
        # env entries, Helm parameters: {name: DB_PASSWORD, value: "..."}
        env_like = isinstance(name, str) and "value" in value and is_credential_name(name)
        return {k: _digest_all(v) if env_like and k == "value" else _redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item, key) for item in value]  # items inherit the list's key
    if value is None or isinstance(value, bool) or key is None:
        return value
    if key == _LAST_APPLIED or is_credential_name(key):
        return digest(value)
    return value


def _digest_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _digest_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_digest_all(v) for v in value]
    return value if value is None else digest(value)


def _plain(value: Any) -> Any:
    """Plain JSON-like data: string keys, lists, and no dates/bytes (safe YAML can produce both)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value
