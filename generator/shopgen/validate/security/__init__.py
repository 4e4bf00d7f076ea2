"""Layer 4: the security baseline every pod meets, and no plaintext credential anywhere.

Pod rules read the effective setting (a container's securityContext overrides the pod's). The
credential scan covers rendered manifests (Secret data, env literals, ConfigMap keys, credentials in
URLs or command lines) and, through ``scan_text_for_credentials``, any text file such as terraform.

One module per concern declares its rules next to their checks (``RULES``); ``registry`` collects
them. This package only re-exports what the rest of shopgen imports.
"""

from __future__ import annotations

from shopgen.validate.security.images import (
    DOCKER_HUB_HOSTS,
    PUBLIC_ECR_LIBRARY,
    public_ecr_mirror,
    pulls_from_docker_hub,
    registry_host,
)
from shopgen.validate.security.plaintext import credential_in_value
from shopgen.validate.security.registry import (
    SECURITY_BY_ID,
    SECURITY_RULES,
    run_security,
    security_rules,
    security_table_markdown,
)
from shopgen.validate.security.textscan import scan_text_for_credentials, scan_texts

__all__ = [
    "DOCKER_HUB_HOSTS",
    "PUBLIC_ECR_LIBRARY",
    "SECURITY_BY_ID",
    "SECURITY_RULES",
    "credential_in_value",
    "public_ecr_mirror",
    "pulls_from_docker_hub",
    "registry_host",
    "run_security",
    "scan_text_for_credentials",
    "scan_texts",
    "security_rules",
    "security_table_markdown",
]
