"""An app service: ServiceAccount, ConfigMap, Service and Deployment (upstream's, as the stages change it)."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from shopgen.render.constructs.base import (
    Component,
    api_object,
    pod_security_context,
    resources,
    secret_env,
    selector_labels,
    standard_labels,
)
from shopgen.story.facts import SERVICE_PORT
from shopgen.story.state import AppService, HttpProbe


def _probe(probe: HttpProbe) -> dict[str, Any]:
    spec: dict[str, Any] = {"httpGet": {"path": probe.path, "port": probe.port}}
    spec["periodSeconds"] = probe.period_seconds
    if probe.timeout_seconds is not None:
        spec["timeoutSeconds"] = probe.timeout_seconds
    if probe.success_threshold is not None:
        spec["successThreshold"] = probe.success_threshold
    spec["failureThreshold"] = probe.failure_threshold
    return spec


class Microservice(Component):
    def __init__(self, scope: Construct, id: str, *, service: AppService, namespace: str, part_of: str) -> None:
        super().__init__(scope, id)
        svc = service
        labels = standard_labels(name=svc.name, component="service", part_of=part_of)
        selector = selector_labels(labels)
        common = {"namespace": namespace, "labels": labels}

        api_object(
            self,
            api_version="v1",
            kind="ServiceAccount",
            name=svc.name,
            body={"automountServiceAccountToken": False},
            **common,
        )
        api_object(self, api_version="v1", kind="ConfigMap", name=svc.name, body={"data": dict(svc.config)}, **common)
        if svc.reachable:  # a worker nothing calls gets no Service: nothing would send it traffic
            api_object(
                self,
                api_version="v1",
                kind="Service",
                name=svc.name,
                body={
                    "spec": {
                        "type": "ClusterIP",
                        "selector": selector,
                        "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
                    }
                },
                **common,
            )
        api_object(
            self,
            api_version="apps/v1",
            kind="Deployment",
            name=svc.name,
            body={"spec": self._deployment_spec(svc, labels, selector)},
            **common,
        )

    @staticmethod
    def _deployment_spec(svc: AppService, labels: dict[str, str], selector: dict[str, str]) -> dict[str, Any]:
        rolling: dict[str, Any] = {}
        if svc.strategy.max_surge is not None:
            rolling["maxSurge"] = svc.strategy.max_surge
        rolling["maxUnavailable"] = svc.strategy.max_unavailable

        container: dict[str, Any] = {
            "name": svc.name,
            "image": svc.image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": svc.port, "protocol": "TCP"}],
            "envFrom": [{"configMapRef": {"name": svc.name}}],
        }
        env = [{"name": k, "value": v} for k, v in svc.env]
        env += [{"name": k, "valueFrom": {"fieldRef": {"fieldPath": path}}} for k, path in svc.field_env]
        env += secret_env(svc.secret_env)
        if env:
            container["env"] = env
        requested = resources(
            cpu=svc.resources.cpu, memory=svc.resources.memory, memory_limit=svc.resources.memory_limit
        )
        if requested:
            container["resources"] = requested
        if svc.startup is not None:
            container["startupProbe"] = _probe(svc.startup)
        if svc.liveness is not None:
            container["livenessProbe"] = _probe(svc.liveness)
        if svc.readiness is not None:
            container["readinessProbe"] = _probe(svc.readiness)
        if svc.prestop_sleep_seconds is not None:
            container["lifecycle"] = {
                "preStop": {"exec": {"command": ["/bin/sh", "-c", f"sleep {svc.prestop_sleep_seconds}"]}}
            }
        capabilities: dict[str, Any] = {"drop": ["ALL"]}
        if svc.add_capabilities:
            capabilities = {"add": list(svc.add_capabilities), **capabilities}
        security: dict[str, Any] = {"allowPrivilegeEscalation": False, "capabilities": capabilities}
        if svc.hardened:
            security |= {"readOnlyRootFilesystem": True, "runAsNonRoot": True, "runAsUser": 1000}
        else:
            security["readOnlyRootFilesystem"] = False  # a declared exception (assets' nginx writes to its root fs)
        container["securityContext"] = security
        container["volumeMounts"] = [{"name": "tmp-volume", "mountPath": "/tmp"}]

        annotations: dict[str, str] = {}
        if svc.prometheus_path is not None:
            annotations = {
                "prometheus.io/path": svc.prometheus_path,
                "prometheus.io/port": str(svc.port),
                "prometheus.io/scrape": "true",
            }
        template_meta: dict[str, Any] = {"labels": labels}
        if annotations:
            template_meta["annotations"] = annotations

        pod: dict[str, Any] = {
            "serviceAccountName": svc.name,
            "automountServiceAccountToken": False,
            "securityContext": pod_security_context(hardened=svc.hardened),
        }
        if svc.termination_grace_period_seconds is not None:
            pod["terminationGracePeriodSeconds"] = svc.termination_grace_period_seconds
        if svc.pull_secrets:
            pod["imagePullSecrets"] = [{"name": name} for name in svc.pull_secrets]
        pod["containers"] = [container]
        pod["volumes"] = [{"name": "tmp-volume", "emptyDir": {"medium": "Memory"}}]

        spec: dict[str, Any] = {}
        if svc.replicas is not None:
            spec["replicas"] = svc.replicas
        spec["selector"] = {"matchLabels": selector}
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
        spec["template"] = {"metadata": template_meta, "spec": pod}
        return spec
