"""The ui's internet-facing ALB Ingress (AWS Load Balancer Controller annotations)."""

from __future__ import annotations

from constructs import Construct

from shopgen.render.constructs.base import Component, api_object, standard_labels
from shopgen.story.state import Ingress as IngressSpec

PREFIX = "alb.ingress.kubernetes.io/"


class AlbIngress(Component):
    def __init__(self, scope: Construct, id: str, *, ingress: IngressSpec, namespace: str, part_of: str) -> None:
        super().__init__(scope, id)
        annotations = {
            f"{PREFIX}backend-protocol": "HTTP",
            f"{PREFIX}load-balancer-name": ingress.load_balancer_name,
            f"{PREFIX}scheme": ingress.scheme,
            f"{PREFIX}target-group-attributes": ",".join(ingress.target_group_attributes),
            f"{PREFIX}target-type": "ip",
        }
        if ingress.healthcheck_path is not None:
            annotations[f"{PREFIX}healthcheck-path"] = ingress.healthcheck_path
        api_object(
            self,
            api_version="networking.k8s.io/v1",
            kind="Ingress",
            name=ingress.name,
            namespace=namespace,
            labels=standard_labels(name=ingress.service, component="ingress", part_of=part_of),
            annotations=dict(sorted(annotations.items())),
            body={
                "spec": {
                    "ingressClassName": "alb",
                    "rules": [
                        {
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {"service": {"name": ingress.service, "port": {"name": "http"}}},
                                    }
                                ]
                            }
                        }
                    ],
                }
            },
        )
