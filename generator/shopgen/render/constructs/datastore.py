"""A backing store (MySQL, PostgreSQL, RabbitMQ, DynamoDB local, Redis): its workload and Service."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from shopgen.render.constructs.base import (
    Component,
    api_object,
    pod_security_context,
    secret_env,
    selector_labels,
    standard_labels,
)
from shopgen.story.state import Store

DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"


class Datastore(Component):
    def __init__(self, scope: Construct, id: str, *, store: Store, namespace: str, part_of: str) -> None:
        super().__init__(scope, id)
        # Upstream labels a store with its owner's name and its own component (e.g. catalog/mysql).
        labels = standard_labels(name=store.owner, component=store.component, part_of=part_of)
        selector = selector_labels(labels)
        common = {"namespace": namespace, "labels": labels}

        api_object(
            self,
            api_version="v1",
            kind="Service",
            name=store.name,
            body={
                "spec": {
                    "type": "ClusterIP",
                    "selector": selector,
                    "ports": [
                        {"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP"}
                        for port_name, port in store.ports
                    ],
                }
            },
            **common,
        )
        spec: dict[str, Any] = {"replicas": 1}
        if store.workload == "StatefulSet":
            spec["serviceName"] = store.name
        spec["selector"] = {"matchLabels": selector}
        spec["template"] = self._template(store, labels)
        if store.workload == "StatefulSet" and store.data_path and store.storage_class:
            spec["volumeClaimTemplates"] = [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": store.storage_class,
                        "resources": {"requests": {"storage": store.storage_size}},
                    },
                }
            ]
        api_object(self, api_version="apps/v1", kind=store.workload, name=store.name, body={"spec": spec}, **common)

    @staticmethod
    def _template(store: Store, labels: dict[str, str]) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": store.container,
            "image": store.image,
            "imagePullPolicy": "IfNotPresent",
        }
        if store.args:
            container["args"] = list(store.args)
        env = [{"name": k, "value": v} for k, v in store.env] + secret_env(store.secret_env)
        if env:
            container["env"] = env
        container["ports"] = [
            {"name": port_name, "containerPort": port, "protocol": "TCP"} for port_name, port in store.ports
        ]
        # Memory request = limit, a CPU request and no CPU limit.
        container["resources"] = {
            "limits": {"memory": store.memory},
            "requests": {"cpu": store.cpu, "memory": store.memory},
        }
        # The images' entrypoints need root to prepare their data folders: keep their user, block escalation.
        container["securityContext"] = {"allowPrivilegeEscalation": False}
        pod: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "securityContext": pod_security_context(hardened=False),
            "containers": [container],
        }
        if store.data_path:
            container["volumeMounts"] = [{"name": "data", "mountPath": store.data_path}]
            if not store.storage_class or store.workload != "StatefulSet":
                pod["volumes"] = [{"name": "data", "emptyDir": {}}]
        meta: dict[str, Any] = {"labels": labels}
        if store.do_not_disrupt:
            meta["annotations"] = {DO_NOT_DISRUPT: "true"}
        return {"metadata": meta, "spec": pod}
