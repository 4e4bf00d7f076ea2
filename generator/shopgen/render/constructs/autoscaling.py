"""HorizontalPodAutoscaler and PodDisruptionBudget for an app service."""

from __future__ import annotations

from constructs import Construct

from shopgen.render.constructs.base import Component, api_object, selector_labels, standard_labels
from shopgen.story.state import Hpa, Pdb


class HorizontalAutoscaler(Component):
    def __init__(self, scope: Construct, id: str, *, hpa: Hpa, namespace: str, part_of: str) -> None:
        super().__init__(scope, id)
        api_object(
            self,
            api_version="autoscaling/v2",
            kind="HorizontalPodAutoscaler",
            name=hpa.target,
            namespace=namespace,
            labels=standard_labels(name=hpa.target, component="service", part_of=part_of),
            body={
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": hpa.target},
                    "minReplicas": hpa.min_replicas,
                    "maxReplicas": hpa.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": resource,
                                "target": {"type": "Utilization", "averageUtilization": value},
                            },
                        }
                        for resource, value in (("cpu", hpa.cpu_utilization), ("memory", hpa.memory_utilization))
                        if value is not None
                    ],
                }
            },
        )


class DisruptionBudget(Component):
    def __init__(self, scope: Construct, id: str, *, pdb: Pdb, namespace: str, part_of: str) -> None:
        super().__init__(scope, id)
        labels = standard_labels(name=pdb.service, component="service", part_of=part_of)
        api_object(
            self,
            api_version="policy/v1",
            kind="PodDisruptionBudget",
            name=pdb.service,
            namespace=namespace,
            labels=labels,
            body={
                "spec": {"maxUnavailable": pdb.max_unavailable, "selector": {"matchLabels": selector_labels(labels)}}
            },
        )
