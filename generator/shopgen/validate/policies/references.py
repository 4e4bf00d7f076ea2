"""References: everything a stage names (selectors, ports, ConfigMaps, Secrets, ServiceAccounts,
PriorityClasses, scale targets) exists in it; Secrets made outside shopgen are named once.
"""

from __future__ import annotations

from collections.abc import Iterator

from shopgen.validate.manifests import (
    Manifests,
    PathParts,
    Pod,
    as_dict,
    as_list,
    hpa_target,
    identity,
    ingress_backend_refs,
    priority_value,
)
from shopgen.validate.policies.context import PolicyContext
from shopgen.validate.rules import Hit, Rule, hit


def check_references(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """A reference to nothing fails only at runtime: a pod stuck in CreateContainerConfigError, a dead Service."""
    yield from _pod_references(idx, ctx)
    yield from _service_references(idx)
    yield from _ingress_references(idx)
    yield from _selector_references(idx)


def _secret_keys(idx: Manifests, namespace: str | None) -> dict[str, set[str] | None]:
    """Secrets the stage produces, with their keys when known (None: any key)."""
    produced: dict[str, set[str] | None] = {}
    for secret in idx.of_kind("Secret"):
        if identity(secret)[1] == namespace:
            produced[identity(secret)[2]] = set(as_dict(secret.get("data"))) | set(as_dict(secret.get("stringData")))
    for es in idx.of_kind("ExternalSecret"):
        if identity(es)[1] != namespace:
            continue
        spec = as_dict(es.get("spec"))
        target = as_dict(spec.get("target")).get("name") or identity(es)[2]
        keys = {str(as_dict(d).get("secretKey")) for d in as_list(spec.get("data"))}
        produced[str(target)] = None if spec.get("dataFrom") or as_dict(spec.get("target")).get("template") else keys
    return produced


def _pod_references(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    for pod in idx.pods:
        ns = pod.namespace
        service_account = pod.spec.get("serviceAccountName")
        if service_account and service_account != "default" and service_account not in idx.names("ServiceAccount", ns):
            yield hit(
                pod.manifest,
                pod.path("serviceAccountName"),
                f"ServiceAccount {service_account} does not exist: the pod is never created",
                "render the ServiceAccount or fix the name",
            )
        priority = pod.spec.get("priorityClassName")
        if priority and priority_value(idx, priority) is None:
            yield hit(
                pod.manifest,
                pod.path("priorityClassName"),
                f"PriorityClass {priority} does not exist: the pod is rejected",
                "render the PriorityClass or fix the name",
            )
        for parts, kind, name, key, optional in _config_refs(pod):
            if optional:
                continue
            yield from _check_config_ref(idx, ctx, pod, parts, kind, name, key)


def _config_refs(pod: Pod) -> Iterator[tuple[PathParts, str, str, str | None, bool]]:
    """(path, ConfigMap|Secret, name, key or None, optional) for every reference of a pod."""
    for parts, container in pod.containers(init=True):
        for i, source in enumerate(as_list(container.get("envFrom"))):
            for field_name, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = as_dict(as_dict(source).get(field_name))
                if ref.get("name"):
                    yield (*parts, "envFrom", i, field_name), kind, ref["name"], None, bool(ref.get("optional"))
        for i, env in enumerate(as_list(container.get("env"))):
            value_from = as_dict(as_dict(env).get("valueFrom"))
            for field_name, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = as_dict(value_from.get(field_name))
                if ref.get("name"):
                    yield (
                        (*parts, "env", i, "valueFrom", field_name),
                        kind,
                        ref["name"],
                        ref.get("key"),
                        bool(ref.get("optional")),
                    )
    for i, volume in enumerate(as_list(pod.spec.get("volumes"))):
        volume = as_dict(volume)
        if as_dict(volume.get("configMap")).get("name"):
            ref = volume["configMap"]
            yield (*pod.prefix, "volumes", i, "configMap"), "ConfigMap", ref["name"], None, bool(ref.get("optional"))
        if as_dict(volume.get("secret")).get("secretName"):
            ref = volume["secret"]
            yield (*pod.prefix, "volumes", i, "secret"), "Secret", ref["secretName"], None, bool(ref.get("optional"))


def _check_config_ref(
    idx: Manifests, ctx: PolicyContext, pod: Pod, parts: PathParts, kind: str, name: str, key: str | None
) -> Iterator[Hit]:
    if kind == "ConfigMap":
        found = idx.get("ConfigMap", pod.namespace, name)
        keys: set[str] | None = (
            None if found is None else set(as_dict(found.get("data"))) | set(as_dict(found.get("binaryData")))
        )
        exists = found is not None
    else:
        produced = _secret_keys(idx, pod.namespace)
        exists, keys = name in produced, produced.get(name)
        if not exists and name in ctx.external_secrets:
            return  # reported once per Secret by check_external_secrets
    if not exists:
        yield hit(
            pod.manifest,
            parts,
            f"{kind} {name} does not exist in this stage"
            + (" (nor an ExternalSecret producing it)" if kind == "Secret" else "")
            + ": the pod stays in CreateContainerConfigError",
            f"render the {kind} or fix the name"
            + (" (a Secret made outside shopgen: secrets.provider: none)" if kind == "Secret" else ""),
        )
    elif key is not None and keys is not None and key not in keys:
        yield hit(
            pod.manifest,
            (*parts, "key"),
            f"{kind} {name} has no key {key!r} (it has {', '.join(sorted(keys)) or 'none'})",
            f"add the key to the {kind} (or its ExternalSecret) or fix the reference",
        )


def _service_references(idx: Manifests) -> Iterator[Hit]:
    for service in idx.of_kind("Service"):
        spec = as_dict(service.get("spec"))
        if not as_dict(spec.get("selector")):
            continue  # selector-less Services (ExternalName, manual endpoints) select nothing on purpose
        pods = idx.pods_selected_by(service)
        if not pods:
            yield hit(
                service,
                ("spec", "selector"),
                "the selector matches no pod in this stage: the Service has no endpoints",
                "make the selector match the workload's pod template labels",
            )
            continue
        for i, port in enumerate(as_list(spec.get("ports"))):
            target = as_dict(port).get("targetPort")
            if isinstance(target, str) and not all(
                any(as_dict(p).get("name") == target for _, c in pod.containers() for p in as_list(c.get("ports")))
                for pod in pods
            ):
                yield hit(
                    service,
                    ("spec", "ports", i, "targetPort"),
                    f"named targetPort {target!r} is not a container port of every selected pod: traffic to "
                    "those pods fails",
                    "name the container port the same as the Service's targetPort",
                )


def _ingress_references(idx: Manifests) -> Iterator[Hit]:
    for ingress in idx.of_kind("Ingress"):
        namespace = identity(ingress)[1]
        for parts, backend in ingress_backend_refs(ingress):
            service = idx.get("Service", namespace, str(backend.get("name")))
            if service is None:
                yield hit(
                    ingress,
                    (*parts, "name"),
                    f"backend Service {backend.get('name')} does not exist: the load balancer has no targets",
                    "render the Service or fix the name",
                )
                continue
            port = as_dict(backend.get("port"))
            ports = as_list(as_dict(service.get("spec")).get("ports"))
            if "name" in port and not any(as_dict(p).get("name") == port["name"] for p in ports):
                yield hit(
                    ingress,
                    (*parts, "port", "name"),
                    f"Service {backend.get('name')} has no port named {port['name']!r}",
                    "use a port name the Service declares",
                )
            if "number" in port and not any(as_dict(p).get("port") == port["number"] for p in ports):
                yield hit(
                    ingress,
                    (*parts, "port", "number"),
                    f"Service {backend.get('name')} has no port {port['number']}",
                    "use a port the Service declares",
                )


def _selector_references(idx: Manifests) -> Iterator[Hit]:
    for pdb in idx.of_kind("PodDisruptionBudget"):
        selector = as_dict(as_dict(pdb.get("spec")).get("selector"))
        if not idx.pods_matching(selector, identity(pdb)[1]):
            yield hit(
                pdb,
                ("spec", "selector"),
                "the selector matches no pod in this stage: the budget protects nothing",
                "make the selector match the workload's pod template labels",
            )
    for hpa in idx.of_kind("HorizontalPodAutoscaler"):
        if hpa_target(idx, hpa) is None:
            ref = as_dict(as_dict(hpa.get("spec")).get("scaleTargetRef"))
            yield hit(
                hpa,
                ("spec", "scaleTargetRef"),
                f"scale target {ref.get('kind')}/{ref.get('name')} does not exist: the HPA scales nothing",
                "point scaleTargetRef at a rendered Deployment or StatefulSet",
            )


def check_external_secrets(idx: Manifests, ctx: PolicyContext) -> Iterator[Hit]:
    """Secrets created outside shopgen are not in the tree; say so once, instead of 'missing'."""
    users: dict[tuple[str | None, str], list[str]] = {}
    for pod in idx.pods:
        for _parts, kind, name, _key, _optional in _config_refs(pod):
            if kind == "Secret" and name in ctx.external_secrets and name not in _secret_keys(idx, pod.namespace):
                users.setdefault((pod.namespace, name), []).append(f"{pod.kind}/{pod.name}")
    for (namespace, name), refs in sorted(users.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        yield Hit(
            "Secret",
            namespace,
            name,
            "",
            f"Secret {name} is provided outside shopgen (used by {', '.join(sorted(set(refs)))}); it is not in "
            "the rendered tree",
            "create it before syncing (the runbook's kubectl create secret generic command), or use "
            "secrets.provider: external-secrets",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "policy.reference",
        "error",
        "selectors, named ports, ConfigMaps, Secrets (or ExternalSecret targets), ServiceAccounts and "
        "PriorityClasses a stage refers to exist in it",
        "pods stuck in CreateContainerConfigError, Services without endpoints, HPAs and PDBs acting on nothing",
        check_references,
    ),
    Rule(
        "policy.external-secret",
        "warning",
        "a Secret the pods read is provided outside shopgen (secrets.provider: none)",
        "a sync whose pods wait for a Secret nobody created; the finding names it (expected for that provider)",
        check_external_secrets,
    ),
)
