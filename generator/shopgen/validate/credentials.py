"""The one answer to "does a field or variable named NAME hold a credential?".

``shopgen diff`` masks the values of such names and ``shopgen validate`` flags literal values under
them (env vars, ConfigMap keys, terraform and Helm assignments). Both ask ``is_credential_name``, so
a value diff prints in clear is never one validate would call a credential, and the reverse.
"""

from __future__ import annotations

import re

# Words: acronym runs, capitalised or lower-case words and digit runs; ``_``, ``-``, ``.`` separate.
# DB_PWD -> db pwd, dbPassword -> db password, AWSAccessKey -> aws access key, password2 -> password 2.
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_ENV_STYLE = re.compile(r"[A-Z0-9_]+")

# A name whose last word is a credential noun holds one.
_CREDENTIAL_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token", "tokens",
        "apikey", "privatekey", "credential", "credentials",
    }
)  # fmt: skip
# ``key`` alone is a map key or a key name; these qualifiers make it key material.
_KEY_QUALIFIERS = frozenset(
    {"api", "private", "access", "secret", "session", "client", "tls", "signing", "encryption", "auth", "master"}
)
# Trailing words that say how the credential is stored, not what it points at: ``secret_string``,
# terraform's write-only ``secret_string_wo``, ``password_hash``, ``SECRET_KEY_BASE``, ``DB_PASSWORD_2``.
_FORM_WORDS = frozenset(
    {"value", "string", "wo", "hash", "base", "b64", "base64", "encoded", "plain", "plaintext", "raw", "data"}
)
# A name ending in one of these names or points at a credential (secretKeyRef, secret_name,
# passwordFile, token_path, kms_key_id, secret_arn): its value is readable and is no credential.
_REFERENCE_WORDS = frozenset(
    {
        "ref", "refs", "name", "names", "id", "ids", "selector", "selectors", "store", "path", "paths", "file",
        "files", "arn", "kind", "namespace", "mode", "type", "provider", "url", "uri", "endpoint",
        "seconds", "interval", "duration", "ttl", "policy", "version",
    }
)  # fmt: skip


def is_credential_name(name: str) -> bool:
    """Whether a field, key or env var named ``name`` holds a credential.

    - A reference is no credential: a name ending in a reference word (``secret_name``, ``secretKeyRef``,
      ``passwordSecretRef``, ``kms_key_id``), except ``..._access_key_id``, half of an AWS key pair.
    - Helm's ``existingSecret...`` names a Secret already in the cluster (or a key in it), and
      camelCase ``secretKey`` is External Secrets' field naming a key of the Secret it writes.
    - Otherwise, after dropping storage-form words (``_string``, ``_wo``, ``_hash``, digits), a credential
      noun must end the name: ``DB_PWD``, ``client_secret``, ``secret_string_wo``, ``tokens``. A noun
      further left only qualifies the thing named (``secret_prefix``, ``external_secrets_service_account``),
      and flagging those would make validate reject names that hold none.
    - ``key`` ends a credential when qualified (``api_key``, ``privateKey``, ``AWS_SECRET_ACCESS_KEY``) or
      in an upper-case env var name of two or more words (``STRIPE_KEY``); a lone ``key`` is a map key.
    """
    words = [w.lower() for w in _WORD.findall(name)]
    if not words:
        return False
    if words[-3:] == ["access", "key", "id"]:
        return True
    if words[-1] in _REFERENCE_WORDS or words[:2] == ["existing", "secret"] or name == "secretKey":
        return False
    while words and (words[-1] in _FORM_WORDS or words[-1].isdigit()):
        words.pop()
    if not words:
        return False
    if words[-1] in _CREDENTIAL_WORDS:
        return True
    if words[-1] != "key" or len(words) < 2:
        return False
    return words[-2] in _KEY_QUALIFIERS or bool(_ENV_STYLE.fullmatch(name))
