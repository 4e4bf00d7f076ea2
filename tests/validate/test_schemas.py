"""Layer 1: built-in kinds, strict, against the Kubernetes schemas shipped by kubernetes-validate."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shopgen.errors import ConfigError
from shopgen.validate import Finding, Validator, validate_resources
from shopgen.validate.schemas import BuiltinSchemas, resolve_version, supported_versions

from conftest import show_findings

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "catalog", "namespace": "shop", "labels": {"app.kubernetes.io/name": "catalog"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "catalog"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "catalog"}},
            "spec": {
                "terminationGracePeriodSeconds": 30,
                "containers": [
                    {
                        "name": "catalog",
                        "image": "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.1",
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "envFrom": [{"secretRef": {"name": "catalog-db"}}],
                        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 5},
                        "lifecycle": {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 10"]}}},
                    }
                ],
            },
        },
    },
}

OTHERS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "catalog", "namespace": "shop"},
        "spec": {"selector": {"app.kubernetes.io/name": "catalog"}, "ports": [{"port": 80, "targetPort": "http"}]},
    },
    {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "ui", "namespace": "shop"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ui"},
            "minReplicas": 2,
            "maxReplicas": 20,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
                }
            ],
        },
    },
    {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "ui", "namespace": "shop"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "ui"}}},
    },
    {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "overprovisioning"},
        "value": -10,
        "globalDefault": False,
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "ui",
            "namespace": "shop",
            "annotations": {"alb.ingress.kubernetes.io/scheme": "internet-facing"},
        },
        "spec": {
            "ingressClassName": "alb",
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "ui", "port": {"number": 80}}},
                            }
                        ]
                    }
                }
            ],
        },
    },
]


@pytest.fixture(scope="module")
def schemas() -> BuiltinSchemas:
    return BuiltinSchemas("1.35")


def with_change(path: list[str | int], value: Any, resource: dict[str, Any] = DEPLOYMENT) -> dict[str, Any]:
    copied = copy.deepcopy(resource)
    node: Any = copied
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copied


CONTAINER = ["spec", "template", "spec", "containers", 0]


@pytest.mark.parametrize("resource", [DEPLOYMENT, *OTHERS], ids=lambda r: r["kind"])
def test_valid_built_in_objects_pass(schemas: BuiltinSchemas, resource: dict[str, Any]) -> None:
    findings = schemas.validate(resource, "x.yaml")
    assert findings == [], show_findings(findings)


def test_unknown_field_reported_with_full_path(schemas: BuiltinSchemas) -> None:
    findings = schemas.validate(with_change([*CONTAINER, "imagePullPolicyy"], "Always"), "catalog.yaml")
    assert len(findings) == 1, show_findings(findings)
    finding = findings[0]
    assert finding == Finding(
        rule="schema.unknown-field",
        severity="error",
        kind="Deployment",
        namespace="shop",
        name="catalog",
        path="spec.template.spec.containers[0].imagePullPolicyy",
        message="unknown field 'imagePullPolicyy'",
        hint="did you mean 'imagePullPolicy'?",
        layer="schemas",
        source="catalog.yaml",
    )


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (["metadata", "labelz"], "metadata.labelz"),
        (["spec", "strategyy"], "spec.strategyy"),
        (["spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet", "scheme_"], None),
        (["status2"], "status2"),
    ],
)
def test_unknown_fields_at_every_depth(schemas: BuiltinSchemas, path: list[str | int], where: str | None) -> None:
    findings = schemas.validate(with_change(path, {}))
    expected = where or "spec.template.spec.containers[0].readinessProbe.httpGet.scheme_"
    assert [(f.rule, f.path) for f in findings] == [("schema.unknown-field", expected)], show_findings(findings)


def test_every_error_is_reported_not_only_the_first(schemas: BuiltinSchemas) -> None:
    bad = with_change(["spec", "replicas"], "2")
    bad = with_change([*CONTAINER, "ports", 0, "containerPort"], "8080", bad)
    bad = with_change(["spec", "template", "spec", "terminationGracePeriodSeconds"], "30", bad)
    del bad["spec"]["template"]["spec"]["containers"][0]["name"]
    findings = schemas.validate(bad)
    assert sorted((f.rule, f.path, f.message) for f in findings) == [
        ("schema.invalid", "spec.replicas", "expected integer, got string '2'"),
        (
            "schema.invalid",
            "spec.template.spec.containers[0].ports[0].containerPort",
            "expected integer, got string '8080'",
        ),
        ("schema.invalid", "spec.template.spec.terminationGracePeriodSeconds", "expected integer, got string '30'"),
        ("schema.missing-field", "spec.template.spec.containers[0].name", "required field 'name' is missing"),
    ], show_findings(findings)


def test_quantity_and_int_or_string(schemas: BuiltinSchemas) -> None:
    assert schemas.validate(with_change([*CONTAINER, "resources", "requests", "cpu"], 1)) == []
    findings = schemas.validate(with_change([*CONTAINER, "resources", "requests", "cpu"], ["1"]))
    assert [(f.path, f.message) for f in findings] == [
        ("spec.template.spec.containers[0].resources.requests.cpu", "expected string or number, got an array")
    ]


def test_removed_api_is_unknown_for_the_target_version() -> None:
    hpa = {**OTHERS[2], "apiVersion": "autoscaling/v2beta2"}
    assert BuiltinSchemas("1.25").validate(hpa) == []
    findings = BuiltinSchemas("1.35").validate(hpa)
    assert [(f.rule, f.message) for f in findings] == [
        ("schema.unknown-kind", "autoscaling/v2beta2 HorizontalPodAutoscaler does not exist in Kubernetes 1.35")
    ]


def test_custom_resources_are_not_built_in(schemas: BuiltinSchemas) -> None:
    assert schemas.is_builtin("apps/v1") and schemas.is_builtin("v1") and schemas.is_builtin("networking.k8s.io/v1")
    for api_version in ("karpenter.sh/v1", "karpenter.k8s.aws/v1", "argoproj.io/v1alpha1", "external-secrets.io/v1"):
        assert not schemas.is_builtin(api_version)


def test_engine_sends_built_ins_to_layer_1_only() -> None:
    report = validate_resources([("d.yaml", DEPLOYMENT), *(("o.yaml", r) for r in OTHERS)], crd_dir=None)
    assert report.findings == [], show_findings(report.findings)
    assert (report.resources_checked, report.builtin_validated, report.custom_validated) == (7, 7, 0)


def test_malformed_documents_are_errors() -> None:
    report = Validator().validate([("a.yaml", {"kind": "ConfigMap"}), ("b.yaml", {"apiVersion": "v1"})])
    assert [(f.rule, f.source, f.message) for f in report.sorted_findings()] == [
        ("schema.malformed", "a.yaml", "apiVersion is missing or not a string"),
        ("schema.malformed", "b.yaml", "kind is missing or not a string"),
    ]


@pytest.mark.parametrize(
    ("given", "resolved"),
    [("1.35", "1.35.0"), ("v1.33", "1.33.0"), ("1.30.4", "1.30.0"), ("1.25", "1.25.0"), ("1.37.0", "1.37.0")],
)
def test_version_strings_map_to_schema_versions(given: str, resolved: str) -> None:
    assert resolve_version(given) == resolved


@pytest.mark.parametrize("given", ["1.24", "1.38", "2.0", "latest", ""])
def test_unsupported_version_is_a_config_error(given: str) -> None:
    first, last = supported_versions()[0], supported_versions()[-1]
    with pytest.raises(ConfigError) as info:
        BuiltinSchemas(given)
    message = str(info.value)
    assert "--k8s-version" in message
    assert f"{first.rsplit('.', 1)[0]} to {last.rsplit('.', 1)[0]}" in message


def test_default_version_is_1_35() -> None:
    assert BuiltinSchemas().version == "1.35.0"
