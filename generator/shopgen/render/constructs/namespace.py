"""The shop's Namespace (cluster-scoped: no metadata.namespace)."""

from __future__ import annotations

from constructs import Construct

from shopgen.render.constructs.base import Component, api_object, standard_labels
from shopgen.story.state import Namespace as NamespaceSpec


class Namespace(Component):
    def __init__(self, scope: Construct, id: str, *, namespace: NamespaceSpec, part_of: str) -> None:
        super().__init__(scope, id)
        labels = standard_labels(name=namespace.name, component="namespace", part_of=part_of)
        labels.update(dict(namespace.labels))
        api_object(
            self, api_version="v1", kind="Namespace", name=namespace.name, namespace=None, labels=labels, body={}
        )
