"""ExternalSecret: a credential Secret filled from AWS Secrets Manager, never from the repository."""

from __future__ import annotations

from constructs import Construct

from shopgen.render.constructs.base import Component, api_object, standard_labels
from shopgen.story.state import ExternalSecret as ExternalSecretSpec


class ExternalSecret(Component):
    def __init__(self, scope: Construct, id: str, *, secret: ExternalSecretSpec, namespace: str, part_of: str) -> None:
        super().__init__(scope, id)
        api_object(
            self,
            api_version="external-secrets.io/v1",
            kind="ExternalSecret",
            name=secret.name,
            namespace=namespace,
            labels=standard_labels(name=secret.owner, component="credentials", part_of=part_of),
            body={
                "spec": {
                    "refreshInterval": secret.refresh_interval,
                    "secretStoreRef": {"kind": "ClusterSecretStore", "name": secret.store},
                    "target": {"name": secret.name, "creationPolicy": "Owner"},
                    "data": [
                        {"secretKey": key, "remoteRef": {"key": secret.remote_key, "property": key}}
                        for key in secret.keys
                    ],
                }
            },
        )
