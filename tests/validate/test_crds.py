"""Layer 2: custom resources against the real upstream CRDs in ../shared/crds, closed, plus CEL."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shopgen.errors import ConfigError
from shopgen.validate import Finding, Report, Validator, validate_resources

from conftest import CRD_DIR, show_findings

pytestmark = pytest.mark.skipif(not CRD_DIR.is_dir(), reason=f"upstream CRDs not found at {CRD_DIR}")

# Written as SPEC §2 says.
NODEPOOL: dict[str, Any] = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "default"},
    "spec": {
        "template": {
            "metadata": {"labels": {"intent": "apps"}},
            "spec": {
                "requirements": [
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["t", "c", "m", "r"]},
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]},
                ],
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                "expireAfter": "720h",
            },
        },
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
        "limits": {"cpu": "1000"},
    },
}

EC2NODECLASS: dict[str, Any] = {
    "apiVersion": "karpenter.k8s.aws/v1",
    "kind": "EC2NodeClass",
    "metadata": {"name": "default"},
    "spec": {
        "amiSelectorTerms": [{"alias": "bottlerocket@latest"}],
        "role": "KarpenterNodeRole-part01",
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "part01"}}],
        "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "part01"}}],
        "kubelet": {"systemReserved": {"cpu": "100m", "memory": "100Mi"}},
        "tags": {"intent": "apps", "NodeType": "default"},
    },
}

EXTERNAL_SECRET: dict[str, Any] = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "ExternalSecret",
    "metadata": {"name": "catalog-db", "namespace": "shop"},
    "spec": {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"},
        "target": {"name": "catalog-db", "creationPolicy": "Owner"},
        "data": [
            {"secretKey": "username", "remoteRef": {"key": "part01/shop/catalog-db", "property": "username"}},
            {"secretKey": "password", "remoteRef": {"key": "part01/shop/catalog-db", "property": "password"}},
        ],
    },
}

# No auth block: EKS Pod Identity.
CLUSTER_SECRET_STORE: dict[str, Any] = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "ClusterSecretStore",
    "metadata": {"name": "aws-secrets-manager"},
    "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "us-west-2"}}},
}

APP_PROJECT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AppProject",
    "metadata": {"name": "shop", "namespace": "argocd"},
    "spec": {
        "description": "The shop, one stage at a time",
        "sourceRepos": ["https://github.com/example/shop-gitops.git"],
        "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "shop"}],
        "clusterResourceWhitelist": [
            {"group": "", "kind": "Namespace"},
            {"group": "scheduling.k8s.io", "kind": "PriorityClass"},
            {"group": "karpenter.sh", "kind": "NodePool"},
            {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass"},
        ],
    },
}

APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "shop", "namespace": "argocd", "annotations": {"argocd.argoproj.io/sync-wave": "10"}},
    "spec": {
        "project": "shop",
        "source": {
            "repoURL": "https://github.com/example/shop-gitops.git",
            "path": "environments/autoscaling",
            "targetRevision": "main",
        },
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": [
                "CreateNamespace=false",
                "ServerSideApply=true",
                "PruneLast=true",
                "RespectIgnoreDifferences=true",
            ],
        },
        "ignoreDifferences": [
            {
                "group": "autoscaling",
                "kind": "HorizontalPodAutoscaler",
                "name": "ui",
                "jsonPointers": ["/spec/replicas"],
            },
        ],
    },
}

VALID = {
    "nodepool.yaml": NODEPOOL,
    "ec2nodeclass.yaml": EC2NODECLASS,
    "externalsecret.yaml": EXTERNAL_SECRET,
    "clustersecretstore.yaml": CLUSTER_SECRET_STORE,
    "appproject.yaml": APP_PROJECT,
    "application.yaml": APPLICATION,
}


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(k8s_version="1.35", crd_dir=CRD_DIR)


def changed(resource: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    copied = copy.deepcopy(resource)
    change(copied)
    return copied


def check(validator: Validator, resource: dict[str, Any]) -> list[Finding]:
    return validator.validate([("test.yaml", resource)]).findings


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, show_findings(findings)
    return findings[0]


@pytest.mark.parametrize("source", sorted(VALID))
def test_valid_objects_pass_with_every_rule_evaluated(validator: Validator, source: str) -> None:
    report = validator.validate([(source, VALID[source])])
    assert report.findings == [], show_findings(report.findings)
    assert report.cel_not_evaluated == 0
    assert report.custom_validated == 1


def test_karpenter_rules_really_run(validator: Validator) -> None:
    report = validator.validate([("a", NODEPOOL), ("b", EC2NODECLASS)])
    assert report.findings == [], show_findings(report.findings)
    assert report.cel_evaluated > 40  # rules on present fields, items counted once each
    assert report.cel_not_applicable == 3  # NodePool's transition rules (oldSelf)
    assert report.cel_not_evaluated == 0


NODECLASS_BREAKS = [
    pytest.param(
        lambda o: o["spec"]["amiSelectorTerms"][0].update(alias="bottlerocket"),
        "spec.amiSelectorTerms[0].alias",
        "'alias' is improperly formatted, must match the format 'family@version'",
        id="alias-without-at",
    ),
    pytest.param(
        lambda o: o["spec"]["amiSelectorTerms"][0].update(alias="ubuntu@latest"),
        "spec.amiSelectorTerms[0].alias",
        "family is not supported, must be one of the following: 'al2', 'al2023', 'bottlerocket', "
        "'windows2019', 'windows2022', 'windows2025'",
        id="alias-unknown-family",
    ),
    pytest.param(
        lambda o: o["spec"]["amiSelectorTerms"][0].update(alias="windows2022@v1"),
        "spec.amiSelectorTerms[0].alias",
        "windows families may only specify version 'latest'",
        id="windows-alias-version",
    ),
    pytest.param(
        lambda o: o["spec"].update(role=""),
        "spec.role",
        "role cannot be empty",
        id="empty-role",
    ),
    pytest.param(
        lambda o: o["spec"].update(instanceProfile="KarpenterInstanceProfile"),
        "spec",
        "must specify exactly one of ['role', 'instanceProfile']",
        id="role-and-instance-profile",
    ),
    pytest.param(
        lambda o: o["spec"]["tags"].update({"kubernetes.io/cluster/part01": "owned"}),
        "spec.tags",
        "tag contains a restricted tag matching kubernetes.io/cluster/",
        id="tag-kubernetes-cluster",
    ),
    pytest.param(
        lambda o: o["spec"]["tags"].update({"karpenter.sh/nodepool": "default"}),
        "spec.tags",
        "tag contains a restricted tag matching karpenter.sh/nodepool",
        id="tag-nodepool",
    ),
    pytest.param(
        lambda o: o["spec"]["tags"].update({"eks:eks-cluster-name": "part01"}),
        "spec.tags",
        "tag contains a restricted tag matching eks:eks-cluster-name",
        id="tag-eks-cluster-name",
    ),
    pytest.param(
        lambda o: o["spec"]["tags"].update({"": "x"}),
        "spec.tags",
        "empty tag keys aren't supported",
        id="tag-empty-key",
    ),
    pytest.param(
        lambda o: o["spec"]["subnetSelectorTerms"][0]["tags"].update({"karpenter.sh/discovery": ""}),
        "spec.subnetSelectorTerms[0].tags",
        "empty tag keys or values aren't supported",
        id="subnet-tag-empty-value",
    ),
    pytest.param(
        lambda o: o["spec"]["securityGroupSelectorTerms"][0].update(id="sg-123"),
        "spec.securityGroupSelectorTerms",
        "'id' is mutually exclusive, cannot be set with a combination of other fields in a security group "
        "selector term",
        id="security-group-id-and-tags",
    ),
    pytest.param(
        lambda o: o["spec"]["amiSelectorTerms"].append({"tags": {"team": "x"}}),
        "spec.amiSelectorTerms",
        "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms",
        id="alias-with-other-terms",
    ),
    pytest.param(
        lambda o: o["spec"]["kubelet"]["systemReserved"].update(gpu="1"),
        "spec.kubelet.systemReserved",
        "valid keys for systemReserved are ['cpu','memory','ephemeral-storage','pid']",
        id="system-reserved-key",
    ),
    pytest.param(
        lambda o: o["spec"]["kubelet"]["systemReserved"].update(cpu="-100m"),
        "spec.kubelet.systemReserved",
        "systemReserved value cannot be a negative resource quantity",
        id="system-reserved-negative",
    ),
    pytest.param(
        lambda o: o["spec"].update(amiFamily="AL2023"),
        "spec",
        "if set, amiFamily must be 'Bottlerocket' or 'Custom' when using a Bottlerocket alias",
        id="ami-family-mismatch",
    ),
]


@pytest.mark.parametrize(("change", "path", "message"), NODECLASS_BREAKS)
def test_ec2nodeclass_rule_breaks(validator: Validator, change: Callable[..., Any], path: str, message: str) -> None:
    finding = only(check(validator, changed(EC2NODECLASS, change)))
    assert (finding.rule, finding.severity, finding.path, finding.message) == ("crd.cel-rule", "error", path, message)
    assert finding.layer == "crds" and finding.kind == "EC2NodeClass" and finding.name == "default"
    assert finding.hint.startswith("rule: ")


def _requirements(o: dict[str, Any]) -> list[dict[str, Any]]:
    return o["spec"]["template"]["spec"]["requirements"]


NODEPOOL_BREAKS = [
    pytest.param(
        lambda o: _requirements(o).append({"key": "kubernetes.io/hostname", "operator": "In", "values": ["a"]}),
        "spec.template.spec.requirements[3].key",
        'label "kubernetes.io/hostname" is restricted',
        id="requirement-hostname",
    ),
    pytest.param(
        lambda o: _requirements(o).append({"key": "karpenter.sh/custom", "operator": "Exists"}),
        "spec.template.spec.requirements[3].key",
        'label domain "karpenter.sh" is restricted',
        id="requirement-karpenter-domain",
    ),
    pytest.param(
        lambda o: _requirements(o).append({"key": "karpenter.k8s.aws/made-up", "operator": "Exists"}),
        "spec.template.spec.requirements[3].key",
        'label domain "karpenter.k8s.aws" is restricted',
        id="requirement-aws-domain",
    ),
    pytest.param(
        lambda o: _requirements(o).append({"key": "team", "operator": "In", "values": []}),
        "spec.template.spec.requirements",
        "requirements with operator 'In' must have a value defined",
        id="in-without-values",
    ),
    pytest.param(
        lambda o: _requirements(o).append({"key": "team", "operator": "Gt", "values": ["1", "2"]}),
        "spec.template.spec.requirements",
        "requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value",
        id="gt-two-values",
    ),
    pytest.param(
        lambda o: _requirements(o)[0].update(minValues=2),
        "spec.template.spec.requirements",
        "requirements with 'minValues' must have at least that many values specified in the 'values' field",
        id="min-values",
    ),
    pytest.param(
        lambda o: o["spec"]["template"]["metadata"]["labels"].update({"kubernetes.io/hostname": "x"}),
        "spec.template.metadata.labels",
        'label "kubernetes.io/hostname" is restricted',
        id="label-hostname",
    ),
    pytest.param(
        lambda o: o["spec"]["template"]["spec"]["nodeClassRef"].update(name=""),
        "spec.template.spec.nodeClassRef.name",
        "name may not be empty",
        id="node-class-ref-empty-name",
    ),
    pytest.param(
        lambda o: o["spec"].update(replicas=2),
        "spec",
        "only 'limits.nodes' is supported on static NodePools",
        id="static-with-cpu-limit",
    ),
    pytest.param(
        lambda o: o["spec"]["disruption"].update(budgets=[{"nodes": "10%", "schedule": "0 9 * * *"}]),
        "spec.disruption.budgets",
        "'schedule' must be set with 'duration'",
        id="budget-schedule-without-duration",
    ),
]


@pytest.mark.parametrize(("change", "path", "message"), NODEPOOL_BREAKS)
def test_nodepool_rule_breaks(validator: Validator, change: Callable[..., Any], path: str, message: str) -> None:
    findings = check(validator, changed(NODEPOOL, change))
    matching = [f for f in findings if f.rule == "crd.cel-rule" and f.path == path and f.message == message]
    assert len(matching) == 1, show_findings(findings)
    assert all(f.severity == "error" for f in findings), show_findings(findings)


def test_nodepool_label_nodepool_is_restricted_once(validator: Validator) -> None:
    findings = check(
        validator,
        changed(NODEPOOL, lambda o: o["spec"]["template"]["metadata"]["labels"].update({"karpenter.sh/nodepool": "x"})),
    )
    assert [(f.path, f.message) for f in findings] == [
        ("spec.template.metadata.labels", 'label "karpenter.sh/nodepool" is restricted')
    ], show_findings(findings)


def test_rule_that_errors_at_runtime_is_an_error(validator: Validator) -> None:
    pool = changed(NODEPOOL, lambda o: _requirements(o).append({"key": "team", "operator": "Gt", "values": ["ten"]}))
    finding = only(check(validator, pool))
    assert (finding.rule, finding.severity, finding.path) == (
        "crd.cel-error",
        "error",
        "spec.template.spec.requirements",
    )
    assert "ten" in finding.message


def test_cluster_secret_store_reserved_session_tag(validator: Validator) -> None:
    store = changed(
        CLUSTER_SECRET_STORE, lambda o: o["spec"]["provider"]["aws"].update(customSessionTags={"esoNamespace": "x"})
    )
    finding = only(check(validator, store))
    assert finding.path == "spec.provider.aws.customSessionTags"
    assert finding.message == (
        "customSessionTags cannot contain automatically injected reserved keys: "
        "esoNamespace, esoStoreName, esoStoreKind"
    )


def test_unknown_field_in_custom_resource_has_full_path(validator: Validator) -> None:
    typo = changed(NODEPOOL, lambda o: o["spec"]["template"]["spec"]["nodeClassRef"].update(nmae="default"))
    finding = only(check(validator, typo))
    assert (finding.rule, finding.path) == ("crd.unknown-field", "spec.template.spec.nodeClassRef.nmae")
    assert finding.message == "unknown field 'nmae'"
    assert finding.hint == "did you mean 'name'?"


@pytest.mark.parametrize(
    ("resource", "change", "path"),
    [
        (
            EXTERNAL_SECRET,
            lambda o: o["spec"]["data"][1]["remoteRef"].update(propertyy="x"),
            "spec.data[1].remoteRef.propertyy",
        ),
        (CLUSTER_SECRET_STORE, lambda o: o["spec"]["provider"]["aws"].update(regoin="x"), "spec.provider.aws.regoin"),
        (
            APPLICATION,
            lambda o: o["spec"]["syncPolicy"]["automated"].update(prune_=True),
            "spec.syncPolicy.automated.prune_",
        ),
        (APP_PROJECT, lambda o: o["spec"]["destinations"][0].update(cluster="x"), "spec.destinations[0].cluster"),
        (EC2NODECLASS, lambda o: o.update(extra={}), "extra"),
    ],
)
def test_unknown_fields_everywhere(
    validator: Validator, resource: dict[str, Any], change: Callable[..., Any], path: str
) -> None:
    finding = only(check(validator, changed(resource, change)))
    assert (finding.rule, finding.severity, finding.path) == ("crd.unknown-field", "error", path)


def test_field_under_preserve_unknown_fields_is_not_reported(validator: Validator) -> None:
    values = {"anything": {"goes": ["here", 1, True]}, "replicaCount": 3}
    app = changed(APPLICATION, lambda o: o["spec"]["source"].update(helm={"valuesObject": values}))
    assert check(validator, app) == []


def test_schema_types_and_enums(validator: Validator) -> None:
    bad = changed(NODEPOOL, lambda o: o["spec"]["disruption"].update(consolidationPolicy="Sometimes"))
    bad["spec"]["template"]["spec"]["requirements"][0]["operator"] = "Maybe"
    findings = check(validator, bad)
    assert {(f.rule, f.path) for f in findings} >= {
        ("crd.invalid", "spec.disruption.consolidationPolicy"),
        ("crd.invalid", "spec.template.spec.requirements[0].operator"),
    }, show_findings(findings)
    assert all(f.severity == "error" for f in findings)


def test_missing_required_field_is_named(validator: Validator) -> None:
    finding = only(check(validator, changed(EXTERNAL_SECRET, lambda o: o["spec"]["data"][0]["remoteRef"].pop("key"))))
    assert (finding.rule, finding.path) == ("crd.missing-field", "spec.data[0].remoteRef.key")


def test_int_or_string_accepts_both(validator: Validator) -> None:
    as_int = changed(NODEPOOL, lambda o: o["spec"]["limits"].update(cpu=1000))
    assert check(validator, as_int) == []
    as_list = changed(NODEPOOL, lambda o: o["spec"]["limits"].update(cpu=[1000]))
    finding = only(check(validator, as_list))
    assert (finding.path, finding.message) == ("spec.limits.cpu", "expected integer or string, got an array")


def test_unserved_version_is_reported(validator: Validator) -> None:
    old = changed(EXTERNAL_SECRET, lambda o: o.update(apiVersion="external-secrets.io/v1beta1"))
    finding = only(check(validator, old))
    assert (finding.rule, finding.severity) == ("crd.version-not-served", "error")
    assert "external-secrets.io/v1beta1 ExternalSecret" in finding.message
    assert finding.hint == "use apiVersion external-secrets.io/v1"
    assert (finding.kind, finding.namespace, finding.name, finding.source) == (
        "ExternalSecret",
        "shop",
        "catalog-db",
        "test.yaml",
    )


def test_unknown_version_is_reported(validator: Validator) -> None:
    finding = only(check(validator, changed(NODEPOOL, lambda o: o.update(apiVersion="karpenter.sh/v1beta1"))))
    assert finding.rule == "crd.unknown-version"


def test_custom_resource_without_crd_is_not_validated_warning(validator: Validator) -> None:
    monitor = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "ui"}}
    finding = only(check(validator, monitor))
    assert (finding.rule, finding.severity, finding.kind, finding.name) == (
        "crd.not-validated",
        "warning",
        "ServiceMonitor",
        "ui",
    )
    assert "not validated" in finding.message


def test_no_crd_dir_means_every_custom_resource_is_not_validated() -> None:
    report = validate_resources([(name, doc) for name, doc in VALID.items()], crd_dir=None)
    assert len(report.findings) == len(VALID)
    assert {(f.rule, f.severity) for f in report.findings} == {("crd.not-validated", "warning")}
    assert report.exit_code("error") == 0
    assert report.exit_code("warning") == 1
    assert report.custom_validated == 0


def test_missing_crd_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--crd-dir"):
        validate_resources([], crd_dir=tmp_path / "nope")


def test_report_json_counts(validator: Validator) -> None:
    report = validator.validate([(name, doc) for name, doc in sorted(VALID.items())])
    broken = changed(EC2NODECLASS, lambda o: o["spec"].update(role=""))
    validator.validate([("broken.yaml", broken)], report)
    data = json.loads(report.to_json())
    summary = data["summary"]
    assert summary["resources_checked"] == len(VALID) + 1
    assert summary["custom_validated"] == len(VALID) + 1
    assert summary["cel_not_applicable"] == 3
    assert summary["cel_not_evaluated"] == 0
    assert summary["cel_evaluated"] == report.cel_evaluated > 0
    assert summary["errors"] == 1
    assert [f["path"] for f in data["findings"]] == ["spec.role"]
    assert report.to_json() == report.to_json()  # stable


# A small CRD of our own, to pin behaviour the upstream CRDs do not exercise.
WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.size.lowerAscii() == self.size
              message: size must be lower case
              fieldPath: .size
            - rule: self.replicas <= 10
              messageExpression: "'too many replicas: ' + string(self.replicas)"
            - rule: self.name.quantityish() == 1
            - rule: self.mode == oldSelf.mode
            properties:
              size: {type: string}
              name: {type: string, default: widget}
              mode: {type: string, default: fast}
              replicas: {type: integer, default: 1}
              port:
                x-kubernetes-int-or-string: true
              nickname: {type: string, nullable: true}
              marker: {type: object}
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [port]
                items:
                  type: object
                  properties:
                    port: {type: integer}
                    name: {type: string}
              template:
                type: object
                x-kubernetes-embedded-resource: true
                properties:
                  spec:
                    type: object
                    x-kubernetes-preserve-unknown-fields: true
  - name: v1beta1
    served: false
    storage: false
    schema:
      openAPIV3Schema: {type: object}
"""


@pytest.fixture(scope="module")
def widget_validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    folder = tmp_path_factory.mktemp("crds")
    (folder / "nested").mkdir()
    (folder / "nested" / "widgets.yaml").write_text("---\napiVersion: v1\nkind: ConfigMap\n---\n" + WIDGET_CRD)
    # What `kubectl get crd -o yaml` prints: a List of CRDs.
    gadget = WIDGET_CRD.replace("widgets", "gadgets").replace("Widget", "Gadget").replace("\n", "\n    ")
    (folder / "cluster.yml").write_text(f"apiVersion: v1\nkind: List\nitems:\n  - {gadget}")
    return Validator(crd_dir=folder)


def widget(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": "s", **spec}}


def test_widget_defaults_apply_and_unsupported_function_is_not_evaluated(widget_validator: Validator) -> None:
    report = widget_validator.validate([("w.yaml", widget())])
    finding = only(report.findings)
    assert (finding.rule, finding.severity, finding.path) == ("crd.cel-not-evaluated", "warning", "spec")
    assert "quantityish" in finding.message
    assert (report.cel_evaluated, report.cel_not_applicable, report.cel_not_evaluated) == (2, 1, 1)
    assert report.exit_code("error") == 0


def test_widget_field_path_and_message_expression(widget_validator: Validator) -> None:
    findings = [f for f in check(widget_validator, widget(size="XL", replicas=11)) if f.rule == "crd.cel-rule"]
    assert sorted((f.path, f.message) for f in findings) == [
        ("spec", "too many replicas: 11"),
        ("spec.size", "size must be lower case"),
    ]


def test_widget_structural_features(widget_validator: Validator) -> None:
    ok = widget(
        port="http",
        nickname=None,
        marker={},
        template={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"free": "form"}},
    )
    assert [f.rule for f in check(widget_validator, ok)] == ["crd.cel-not-evaluated"]
    bad = widget(
        port=1.5,
        marker={"x": 1},
        tags=["a", "a"],
        ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"}],
        template={"oops": 1},
    )
    problems = {(f.rule, f.path) for f in check(widget_validator, bad) if f.rule != "crd.cel-not-evaluated"}
    assert problems == {
        ("crd.invalid", "spec.port"),
        ("crd.unknown-field", "spec.marker.x"),
        ("crd.duplicate-item", "spec.tags[1]"),
        ("crd.duplicate-item", "spec.ports[1]"),
        ("crd.unknown-field", "spec.template.oops"),
    }


def test_crds_inside_a_list_are_found(widget_validator: Validator) -> None:
    gadget = {**widget(size="XL"), "kind": "Gadget"}
    assert [f.message for f in check(widget_validator, gadget) if f.rule == "crd.cel-rule"] == [
        "size must be lower case"
    ]


def test_widget_unserved_version(widget_validator: Validator) -> None:
    finding = only(check(widget_validator, {**widget(), "apiVersion": "example.com/v1beta1"}))
    assert finding.rule == "crd.version-not-served"
    assert finding.message.endswith("(served: example.com/v1)")


def test_report_is_a_report() -> None:
    assert isinstance(validate_resources([], crd_dir=CRD_DIR), Report)
