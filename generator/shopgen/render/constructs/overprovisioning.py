"""Overprovisioning: a negative-priority PriorityClass and pause pods that hold spare room."""

from __future__ import annotations

from constructs import Construct

from shopgen.render.constructs.base import Component, api_object, pod_security_context, selector_labels, standard_labels
from shopgen.story.state import Overprovisioning as OverprovisioningSpec

NAME = "overprovisioning"


class Overprovisioning(Component):
    def __init__(self, scope: Construct, id: str, *, spec: OverprovisioningSpec, namespace: str, part_of: str) -> None:
        super().__init__(scope, id)
        labels = standard_labels(name=NAME, component=NAME, part_of=part_of)
        selector = selector_labels(labels)
        api_object(
            self,
            api_version="scheduling.k8s.io/v1",
            kind="PriorityClass",
            name=NAME,
            namespace=None,
            labels=labels,
            body={
                "value": spec.priority_value,
                "globalDefault": False,
                "description": "Pause pods that reserve spare capacity; any real pod preempts them.",
            },
        )
        container = {
            "name": "pause",
            "image": spec.image,
            "imagePullPolicy": "IfNotPresent",
            # Memory only, as the course: the pods reserve memory room on each node.
            "resources": {"limits": {"memory": spec.memory}, "requests": {"memory": spec.memory}},
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": 65535,
            },
        }
        api_object(
            self,
            api_version="apps/v1",
            kind="Deployment",
            name=NAME,
            namespace=namespace,
            labels=labels,
            body={
                "spec": {
                    "replicas": spec.replicas,
                    "selector": {"matchLabels": selector},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "priorityClassName": NAME,
                            "automountServiceAccountToken": False,
                            "terminationGracePeriodSeconds": 0,
                            "securityContext": pod_security_context(hardened=False),
                            "affinity": {
                                "podAntiAffinity": {
                                    "requiredDuringSchedulingIgnoredDuringExecution": [
                                        {
                                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                                            "topologyKey": "kubernetes.io/hostname",
                                        }
                                    ]
                                }
                            },
                            "containers": [container],
                        },
                    },
                }
            },
        )
