"""The platform layer (SPEC §8): terraform/ parses and is formatted, names agree across terraform and
the Helm values, the Argo CD objects and the ClusterSecretStore pass their CRDs, nothing is secret.

terraform init/validate/plan cannot run here (no registry access): see README, "What could not run".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from shopgen import yamlio
from shopgen.config import defaults, parse
from shopgen.errors import ConfigError
from shopgen.render.platform import (
    addon_applications,
    argocd_apps_values,
    bootstrap_objects,
    cluster_secret_store,
    render_platform,
)
from shopgen.render.platform.addons import IN_CLUSTER
from shopgen.render.platform.terraform import attributes, hcl
from shopgen.render.tree import HEADER
from shopgen.story.shop import resolve
from shopgen.story.stages import desired_states

from conftest import CRD_DIR, run_cli

hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is a test dependency (pip install python-hcl2)")

SHOP_WAVE = 10  # the shop Application's sync wave (constructs/argocd.py)
EXACT_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


def _cfg(**overrides: Any):
    return parse(overrides, "test")


@pytest.fixture(scope="module")
def cfg():
    return _cfg()


@pytest.fixture(scope="module")
def files(cfg) -> dict[str, str]:
    return render_platform(cfg)[0]


def parse_hcl(text: str) -> dict[str, Any]:
    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    return hcl2.loads(text, serialization_options=options)


class Terraform:
    """The rendered terraform/ folder parsed, with ``${var.x}`` / ``${local.x}`` resolved to literals."""

    def __init__(self, files: dict[str, str]) -> None:
        self.parsed = {p: parse_hcl(t) for p, t in files.items() if p.startswith("terraform/") and p.endswith(".tf")}
        self.locals: dict[str, Any] = {}
        self.variables: dict[str, dict[str, Any]] = {}
        self.modules: dict[str, dict[str, Any]] = {}
        self.resources: dict[tuple[str, str], dict[str, Any]] = {}
        self.ephemerals: dict[tuple[str, str], dict[str, Any]] = {}
        self.data: dict[tuple[str, str], dict[str, Any]] = {}
        for doc in self.parsed.values():
            for block in doc.get("locals", []):
                self.locals.update(block)
            for block in doc.get("variable", []):
                self.variables.update(block)
            for block in doc.get("module", []):
                self.modules.update(block)
            for kind, target in (("resource", self.resources), ("ephemeral", self.ephemerals), ("data", self.data)):
                for block in doc.get(kind, []):
                    for rtype, named in block.items():
                        for name, body in named.items():
                            target[rtype, name] = body

    def resolve(self, value: Any) -> Any:
        """Literal value of an expression made of literals, var.* defaults and local.* values."""
        if not isinstance(value, str):
            return value
        whole = re.fullmatch(r"\$\{(var|local)\.(\w+)\}", value)
        if whole:
            return self.resolve(self._lookup(*whole.groups()))
        return re.sub(r"\$\{(var|local)\.(\w+)\}", lambda m: str(self.resolve(self._lookup(*m.groups()))), value)

    def _lookup(self, kind: str, name: str) -> Any:
        return self.variables[name]["default"] if kind == "var" else self.locals[name]


@pytest.fixture(scope="module")
def tf(files) -> Terraform:
    return Terraform(files)


def values(files: dict[str, str], addon: str) -> dict[str, Any]:
    return yamlio.load_text(files[f"charts/{addon}/values.yaml"], addon)


def app(files: dict[str, str], name: str) -> dict[str, Any]:
    return yamlio.to_plain(yamlio.load_text(files[f"argocd/addons/{name}.yaml"], name))


# --- terraform/ -------------------------------------------------------------------------------


def test_terraform_files_are_the_documented_set(files):
    tf_files = sorted(p for p in files if p.startswith("terraform/") and p.endswith(".tf"))
    assert tf_files == [
        f"terraform/{n}.tf"
        for n in (
            "addons-iam",
            "argocd",
            "backend",
            "eks",
            "karpenter",
            "outputs",
            "providers",
            "secrets",
            "variables",
            "versions",
            "vpc",
        )
    ]
    for path, text in files.items():
        assert text.startswith(HEADER), f"{path} lacks the generated header"


def test_every_tf_file_parses(tf):
    assert len(tf.parsed) == 11
    assert tf.parsed["terraform/backend.tf"] == {}, "no backend configured: terraform's local state file"


def test_no_rendered_file_asks_for_a_hand_edit(files):
    """Every setting is in shopgen.yaml: a generated file that says "uncomment" invites an edit synth reverts."""
    for path, text in files.items():
        assert "uncomment" not in text.lower(), path


def test_the_s3_backend_comes_from_the_config(tmp_path):
    default = parse_hcl(
        render_platform(_cfg(platform={"terraform_backend": {"bucket": "my-tfstate"}}))[0]["terraform/backend.tf"]
    )
    assert default["terraform"][0]["backend"][0]["s3"] == {
        "bucket": "my-tfstate",
        "key": "shopgen/part01/terraform.tfstate",
        "region": "us-west-2",
        "encrypt": True,
        "use_lockfile": True,
    }
    backend = {"bucket": "team.state-1", "key": "eks/prod.tfstate", "region": "eu-central-1", "use_lockfile": False}
    files = render_platform(_cfg(platform={"terraform_backend": backend}))[0]
    s3 = parse_hcl(files["terraform/backend.tf"])["terraform"][0]["backend"][0]["s3"]
    assert s3 == {**backend, "encrypt": True}
    if terraform_binary() is not None:
        assert_fmt_clean(files, tmp_path)


@pytest.mark.parametrize(
    ("backend", "field"),
    [
        ({"bucket": "Has_Upper"}, "platform.terraform_backend.bucket"),
        ({"bucket": "ok-bucket", "key": "/abs"}, "platform.terraform_backend.key"),
        ({"bucket": "ok-bucket", "region": "mars"}, "platform.terraform_backend.region"),
        ({"key": "x"}, "platform.terraform_backend.bucket"),
    ],
)
def test_a_bad_backend_is_refused_naming_the_field(backend, field, tmp_path):
    (tmp_path / "shopgen.yaml").write_text(yamlio.dump({"platform": {"terraform_backend": backend}}))
    result = run_cli("synth", "--out", tmp_path)
    assert result.code == 2 and field in result.err, result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shopgen.yaml"]


def test_versions_pin_terraform_and_provider_majors(tf):
    terraform = tf.parsed["terraform/versions.tf"]["terraform"][0]
    assert terraform["required_version"] == ">= 1.11, < 2.0"  # ephemeral resources + write-only arguments
    providers = terraform["required_providers"][0]
    assert providers == {
        "aws": {"source": "hashicorp/aws", "version": "~> 6.0"},
        "helm": {"source": "hashicorp/helm", "version": "~> 3.0"},
        "kubernetes": {"source": "hashicorp/kubernetes", "version": "~> 3.0"},
        "random": {"source": "hashicorp/random", "version": "~> 3.7"},
    }


def test_module_sources_and_pinned_versions(tf):
    expected = {
        "vpc": ("terraform-aws-modules/vpc/aws", "~> 6.0"),
        "eks": ("terraform-aws-modules/eks/aws", "~> 21.0"),
        "karpenter": ("terraform-aws-modules/eks/aws//modules/karpenter", "~> 21.0"),
        "aws_lb_controller_pod_identity": ("terraform-aws-modules/eks-pod-identity/aws", "~> 2.7"),
        "ebs_csi_pod_identity": ("terraform-aws-modules/eks-pod-identity/aws", "~> 2.7"),
    }
    assert {name: (m["source"], m["version"]) for name, m in tf.modules.items()} == expected


def test_vpc_as_spec_8(tf, cfg):
    vpc = tf.modules["vpc"]
    assert tf.resolve(vpc["cidr"]) == "10.0.0.0/16"
    assert tf.variables["az_count"]["default"] == 3
    assert vpc["enable_nat_gateway"] is True
    assert tf.resolve(vpc["single_nat_gateway"]) is True
    assert vpc["public_subnet_tags"] == {"kubernetes.io/role/elb": 1}
    private_tags = {k: tf.resolve(v) for k, v in vpc["private_subnet_tags"].items()}
    assert private_tags == {"kubernetes.io/role/internal-elb": 1, "karpenter.sh/discovery": cfg.cluster.name}


def test_eks_cluster_node_group_and_addons(tf, cfg):
    eks = tf.modules["eks"]
    assert tf.resolve(eks["name"]) == "part01"
    assert tf.resolve(eks["kubernetes_version"]) == "1.35"
    assert set(eks["addons"]) == {
        "coredns",
        "kube-proxy",
        "vpc-cni",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
        "metrics-server",
    }
    assert eks["addons"]["vpc-cni"]["before_compute"] is True
    assert eks["addons"]["eks-pod-identity-agent"]["before_compute"] is True
    (system,) = eks["eks_managed_node_groups"].values()
    assert system["ami_type"] == "BOTTLEROCKET_x86_64"
    assert system["capacity_type"] == "ON_DEMAND"
    sizes = {k: tf.resolve(system[k]) for k in ("min_size", "max_size", "desired_size")}
    assert sizes == {"min_size": 2, "max_size": 5, "desired_size": 3}
    assert tf.resolve(system["instance_types"]) == ["t3.large"]
    assert {k: tf.resolve(v) for k, v in eks["node_security_group_tags"].items()} == {
        "karpenter.sh/discovery": cfg.cluster.name
    }


def test_karpenter_submodule_and_spot_role(tf, cfg):
    karpenter = tf.modules["karpenter"]
    assert karpenter["node_iam_role_use_name_prefix"] is False
    assert tf.resolve(karpenter["node_iam_role_name"]) == cfg.karpenter_node_role == "KarpenterNodeRole-part01"
    assert "create_pod_identity_association" not in karpenter  # v21's default: true
    spot = tf.resources["aws_iam_service_linked_role", "spot"]
    assert spot["aws_service_name"] == "spot.amazonaws.com"
    assert spot["count"] == "${var.create_spot_service_linked_role ? 1 : 0}"
    assert tf.variables["create_spot_service_linked_role"]["default"] is True


def test_variables_carry_the_config_values(tf):
    defaults = {name: v["default"] for name, v in tf.variables.items()}
    assert defaults == {
        "region": "us-west-2",
        "cluster_name": "part01",
        "kubernetes_version": "1.35",
        "vpc_cidr": "10.0.0.0/16",
        "az_count": 3,
        "single_nat_gateway": True,
        "endpoint_public_access_cidrs": ["0.0.0.0/0"],
        "node_instance_types": ["t3.large"],
        "node_min_size": 2,
        "node_max_size": 5,
        "node_desired_size": 3,
        "create_spot_service_linked_role": True,
        "gitops_repo_url": "https://github.com/CHANGE-ME/shop-gitops.git",
        "gitops_target_revision": "main",
    }
    # Names the rendered trees use cannot be overridden in terraform alone.
    for name in ("region", "cluster_name", "gitops_repo_url", "gitops_target_revision"):
        (validation,) = tf.variables[name]["validation"]
        assert validation["condition"] == f'${{var.{name} == "{defaults[name]}"}}'
        assert "shopgen.yaml" in validation["error_message"]


def test_secrets_manager_secrets_never_hold_a_value_in_state(tf, cfg):
    secrets = {k[1]: v for k, v in tf.resources.items() if k[0] == "aws_secretsmanager_secret"}
    versions = {k[1]: v for k, v in tf.resources.items() if k[0] == "aws_secretsmanager_secret_version"}
    expected = {s.name: s.keys for s in resolve(defaults()).credential_secrets}
    assert {tf.resolve(s["name"]) for s in secrets.values()} == {f"part01/shop/{name}" for name in expected}
    for label, secret in secrets.items():
        assert secret["recovery_window_in_days"] == 0
        version = versions[label]
        assert set(version) == {"secret_id", "secret_string_wo", "secret_string_wo_version"}
        assert version["secret_string_wo_version"] == 1
        name = tf.resolve(secret["name"]).rsplit("/", 1)[1]
        keys = re.findall(r'"([a-z-]+)" = ', version["secret_string_wo"])
        assert tuple(keys) == expected[name], f"{name}: JSON keys must be exactly SPEC §6's"
        for ref in re.findall(r"ephemeral\.random_password\.(\w+)\.result", version["secret_string_wo"]):
            assert ("random_password", ref) in tf.ephemerals
    assert not [k for k in tf.resources if k[0] == "random_password"], "a random_password resource is kept in state"


def test_argocd_bootstrap_by_helm_with_application_health(tf, cfg):
    argocd = tf.resources["helm_release", "argocd"]
    apps = tf.resources["helm_release", "argocd_apps"]
    assert (argocd["chart"], argocd["version"]) == ("argo-cd", cfg.platform.charts.argo_cd.version)
    assert (apps["chart"], apps["version"]) == ("argocd-apps", cfg.platform.charts.argocd_apps.version)
    assert "${helm_release.argocd}" in apps["depends_on"]
    assert (
        '"resource.customizations.health.argoproj.io_Application" = local.application_health_lua'
        in (argocd["values"][1])
    )
    lua = tf.locals["application_health_lua"]
    assert "obj.status.health.status" in lua and "return hs" in lua
    assert not [k for k in tf.resources if k[0] == "kubernetes_manifest"], "SPEC §8: no kubernetes_manifest"


def test_outputs_tell_how_to_reach_the_cluster_and_argocd(tf):
    outputs: dict[str, Any] = {}
    for block in tf.parsed["terraform/outputs.tf"]["output"]:
        outputs.update(block)
    assert outputs["configure_kubectl"]["value"] == (
        "aws eks update-kubeconfig --region ${var.region} --name ${module.eks.cluster_name}"
    )
    assert {"cluster_name", "region", "argocd_port_forward", "argocd_initial_admin_password"} <= set(outputs)
    assert "svc/argocd-server" in outputs["argocd_port_forward"]["value"]
    assert "argocd-initial-admin-secret" in outputs["argocd_initial_admin_password"]["value"]


def terraform_binary() -> str | None:
    found = shutil.which("terraform")
    if found:
        return found
    return "/usr/local/bin/terraform" if Path("/usr/local/bin/terraform").exists() else None


def assert_fmt_clean(files: dict[str, str], root: Path) -> None:
    """Write terraform/ under ``root`` and run the real `terraform fmt -check -recursive` on it."""
    for path, text in files.items():
        if path.startswith("terraform/"):
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1"}
    out = subprocess.run(
        [str(terraform_binary()), "fmt", "-check", "-diff", "-recursive", str(root / "terraform")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, f"terraform fmt would change:\n{out.stdout}{out.stderr}"


def test_terraform_fmt_check_passes(files, tmp_path):
    if terraform_binary() is None:
        pytest.skip("terraform is not installed here: `terraform fmt -check` could not run (it is not on PyPI)")
    assert_fmt_clean(files, tmp_path)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "cluster": {"name": "a-much-longer-cluster-name-x", "region": "eu-central-1"},
            "namespace": "11-senario",
            "ingress": {"load_balancer_name": "surge-ui"},
        },
        {"secrets": {"provider": "none"}},
        {"platform": {"node_group": {"instance_types": ["m7i.xlarge", "c7i.large"]}, "az_count": 6}},
    ],
)
def test_render_is_deterministic_and_formatted_for_other_configs(overrides):
    cfg = _cfg(**overrides)
    first, second = render_platform(cfg)[0], render_platform(_cfg(**overrides))[0]
    assert first == second
    for path, text in first.items():
        if path.endswith(".tf"):
            parse_hcl(text)
        if path.endswith(".yaml"):
            yamlio.load_text(text, path)
    # fmt alignment must not depend on the lengths of the names (checked where terraform exists).
    if terraform_binary() is not None:
        with tempfile.TemporaryDirectory() as tmp:
            assert_fmt_clean(first, Path(tmp))


# Literal secrets in HCL or YAML: an assignment of a quoted non-reference value to a credential-ish key.
# The key must end in a credential word (so "secret_prefix" or "external_secrets_role_name" are names),
# the value must not be a reference (ephemeral.*, local.*, var.*, ${...}).
_SECRET_ASSIGNMENT = re.compile(
    r"""(?ix)(?<![\w-])["']?[\w-]*(password|passwd|secret|token|access[_-]?key(?:[_-]id)?|private[_-]?key|api[_-]?key)
    ["']?\s*[=:]\s*["']?(?!\$\{|ephemeral\.|local\.|var\.|data\.)[^"'\s,}]{4,}"""
)


def test_no_secret_value_in_any_rendered_file(files):
    for path, text in files.items():
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            assert not _SECRET_ASSIGNMENT.search(line), f"{path}: literal credential? {line.strip()}"
            assert not re.search(r"AKIA[0-9A-Z]{16}|-----BEGIN", line), f"{path}: key material: {line.strip()}"
    assert "secret_string " not in files["terraform/secrets.tf"]  # only the write-only secret_string_wo


def test_secret_scanner_catches_a_literal():
    assert _SECRET_ASSIGNMENT.search('  password = "hunter22"')
    assert _SECRET_ASSIGNMENT.search("  root-password: s3cretvalue")
    assert _SECRET_ASSIGNMENT.search('  "aws-access-key-id" = "AKIDEXAMPLE"')
    assert not _SECRET_ASSIGNMENT.search('  "password" = ephemeral.random_password.x.result')
    assert not _SECRET_ASSIGNMENT.search('  external_secrets_role_name = "part01-external-secrets"')


# --- charts/, argocd/addons/, platform/ --------------------------------------------------------


def test_every_values_yaml_parses(files):
    charts = [p for p in files if p.startswith("charts/")]
    assert sorted(charts) == [
        "charts/aws-load-balancer-controller/values.yaml",
        "charts/external-secrets/values.yaml",
        "charts/karpenter/values.yaml",
    ]
    for path in charts:
        assert isinstance(yamlio.load_text(files[path], path), dict)


def test_chart_versions_are_pinned(files, tf):
    pinned = []
    for name in ("karpenter", "aws-load-balancer-controller", "external-secrets"):
        upstream = app(files, name)["spec"]["sources"][0]
        pinned.append(upstream["targetRevision"])
    pinned += [tf.resources["helm_release", r]["version"] for r in ("argocd", "argocd_apps")]
    for version in pinned:
        assert EXACT_VERSION.match(version), f"{version!r} is not an exact version"
    with pytest.raises(ConfigError, match=r"platform\.charts\.karpenter\.version"):
        _cfg(platform={"charts": {"karpenter": {"version": "1.x"}}})
    with pytest.raises(ConfigError, match=r"platform\.charts\.argo_cd\.version"):
        _cfg(platform={"charts": {"argo_cd": {"version": "latest"}}})


def test_addon_applications_are_multi_source_with_waves_before_the_shop(files, cfg):
    names = sorted(p.removeprefix("argocd/addons/") for p in files if p.startswith("argocd/addons/"))
    assert names == [
        "aws-load-balancer-controller.yaml",
        "external-secrets.yaml",
        "karpenter.yaml",
        "platform-config.yaml",
    ]
    assert not [p for p in files if re.fullmatch(r"argocd/[^/]+", p)], "argocd/ top level belongs to the shop"
    waves = {}
    for name in ("karpenter", "aws-load-balancer-controller", "external-secrets"):
        application = app(files, name)
        spec = application["spec"]
        assert spec["project"] == "platform"
        upstream, ours = spec["sources"]
        assert ours == {"repoURL": cfg.gitops.repo_url, "targetRevision": "main", "ref": "values"}
        assert upstream["helm"]["valueFiles"] == [f"$values/charts/{name}/values.yaml"]
        assert f"charts/{name}/values.yaml" in files
        assert {"CreateNamespace=true", "ServerSideApply=true"} <= set(spec["syncPolicy"]["syncOptions"])
        waves[name] = int(application["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    karpenter = app(files, "karpenter")["spec"]["sources"][0]
    assert karpenter["repoURL"] == "oci://public.ecr.aws/karpenter/karpenter" and karpenter["path"] == "."
    platform = app(files, "platform-config")
    waves["platform-config"] = int(platform["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    assert platform["spec"]["source"]["path"] == "platform"
    assert max(waves.values()) < SHOP_WAVE
    assert waves["external-secrets"] < waves["platform-config"], "the store needs External Secrets' CRD"


def test_repo_prefix_reaches_every_argocd_path(cfg):
    files = render_platform(cfg, repo_prefix="deploy/shop/")[0]
    karpenter = yamlio.to_plain(yamlio.load_text(files["argocd/addons/karpenter.yaml"], "k"))
    assert karpenter["spec"]["sources"][0]["helm"]["valueFiles"] == ["$values/deploy/shop/charts/karpenter/values.yaml"]
    platform = yamlio.to_plain(yamlio.load_text(files["argocd/addons/platform-config.yaml"], "p"))
    assert platform["spec"]["source"]["path"] == "deploy/shop/platform"
    root = yamlio.load_text(files["terraform/values/argocd-apps.yaml"], "v")["applications"]["root"]
    assert root["source"]["path"] == "deploy/shop/argocd"


def test_cluster_secret_store_is_aws_secrets_manager_with_pod_identity(files):
    store = yamlio.to_plain(yamlio.load_text(files["platform/clustersecretstore-aws-secrets-manager.yaml"], "s"))
    assert store["apiVersion"] == "external-secrets.io/v1"
    assert "namespace" not in store["metadata"]  # cluster-scoped
    aws = store["spec"]["provider"]["aws"]
    assert aws == {"service": "SecretsManager", "region": "us-west-2"}  # no auth: Pod Identity
    assert store["spec"]["conditions"] == [{"namespaces": ["shop"]}]


def test_names_in_helm_values_equal_the_names_terraform_creates(files, tf, cfg):
    """One test, both sides: parsed HCL against parsed values, Applications and the stage manifests."""
    cluster = tf.resolve(tf.modules["eks"]["name"])
    region = tf.variables["region"]["default"]
    karpenter_tf = tf.modules["karpenter"]
    lbc_tf = tf.modules["aws_lb_controller_pod_identity"]["associations"]["controller"]
    eso_tf = tf.resources["aws_eks_pod_identity_association", "external_secrets"]

    karpenter = values(files, "karpenter")
    assert karpenter["settings"]["clusterName"] == cluster
    assert karpenter["settings"]["interruptionQueue"] == tf.resolve(karpenter_tf["queue_name"])
    assert karpenter["serviceAccount"]["name"] == tf.resolve(karpenter_tf["service_account"])
    assert app(files, "karpenter")["spec"]["destination"]["namespace"] == tf.resolve(karpenter_tf["namespace"])
    state = desired_states(cfg)["autoscaling"]
    assert state.nodeclass.role == tf.resolve(karpenter_tf["node_iam_role_name"])  # the EC2NodeClass's role
    assert state.nodeclass.discovery_tag == cluster

    lbc = values(files, "aws-load-balancer-controller")
    assert (lbc["clusterName"], lbc["region"]) == (cluster, region)
    assert lbc["vpcTags"] == {"Name": tf.resolve(tf.modules["vpc"]["name"])}
    assert "vpcId" not in lbc
    assert lbc["serviceAccount"]["name"] == tf.resolve(lbc_tf["service_account"])
    assert app(files, "aws-load-balancer-controller")["spec"]["destination"]["namespace"] == tf.resolve(
        lbc_tf["namespace"]
    )

    eso = values(files, "external-secrets")
    assert eso["serviceAccount"]["name"] == tf.resolve(eso_tf["service_account"])
    assert app(files, "external-secrets")["spec"]["destination"]["namespace"] == tf.resolve(eso_tf["namespace"])
    store = yamlio.load_text(files["platform/clustersecretstore-aws-secrets-manager.yaml"], "s")
    assert store["spec"]["provider"]["aws"]["region"] == region
    # The ExternalSecrets of the stages read exactly the secrets terraform creates, inside the only
    # prefix External Secrets' IAM policy allows.
    secret_names = {
        tf.resolve(body["name"]) for (kind, _), body in tf.resources.items() if kind == "aws_secretsmanager_secret"
    }
    assert {s.remote_key for s in state.external_secrets} == secret_names
    assert {s.store for s in state.external_secrets} == {store["metadata"]["name"]}
    (statement,) = tf.data["aws_iam_policy_document", "external_secrets"]["statement"]
    (arn,) = (tf.resolve(r) for r in statement["resources"])
    assert arn.endswith(f":secret:{cluster}/{cfg.namespace}/*")
    assert all(name.startswith(f"{cluster}/{cfg.namespace}/") for name in secret_names)
    assert not [a for a in statement["actions"] if not a.startswith("secretsmanager:")]


# --- CRD validation -----------------------------------------------------------------------------


def argocd_apps_chart_render(chart_values: dict[str, Any]) -> list[dict[str, Any]]:
    """What the argocd-apps 2.x templates make of its values (projects.yaml, applications.yaml):
    maps keyed by name; namespace/additionalLabels/additionalAnnotations/finalizers to metadata."""
    objects = []
    for kind, key in (("AppProject", "projects"), ("Application", "applications")):
        for name, data in chart_values.get(key, {}).items():
            data = dict(data)
            metadata: dict[str, Any] = {"name": name, "namespace": data.pop("namespace")}
            for src, dst in (("additionalLabels", "labels"), ("additionalAnnotations", "annotations")):
                if src in data:
                    metadata[dst] = data.pop(src)
            if "finalizers" in data:
                metadata["finalizers"] = data.pop("finalizers")
            objects.append({"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": data})
    return objects


def _validate(objects: list[tuple[str, dict[str, Any]]]):
    from shopgen.validate import validate_resources

    return validate_resources(objects, crd_dir=CRD_DIR)


needs_crds = pytest.mark.skipif(not CRD_DIR.is_dir(), reason=f"upstream CRDs not found at {CRD_DIR}")


@needs_crds
def test_addon_applications_and_cluster_secret_store_pass_their_crds(files):
    objects = [
        (path, yamlio.to_plain(yamlio.load_text(text, path)))
        for path, text in files.items()
        if path.startswith(("argocd/", "platform/"))
    ]
    report = _validate(objects)
    assert report.custom_validated == len(objects) == 5
    assert not report.findings, report.to_text()


@needs_crds
def test_appproject_and_root_in_the_helm_values_are_valid_argocd_objects(files, cfg):
    chart_values = yamlio.to_plain(yamlio.load_text(files["terraform/values/argocd-apps.yaml"], "v"))
    rendered = argocd_apps_chart_render(chart_values)
    project, root = bootstrap_objects(cfg)
    assert rendered == [project, root], "the values must render exactly the objects shopgen built"
    report = _validate([("argocd-apps", o) for o in rendered])
    assert report.custom_validated == 2
    assert not report.findings, report.to_text()
    spec = project["spec"]
    assert set(spec["sourceRepos"]) == {
        cfg.gitops.repo_url,
        "oci://public.ecr.aws/karpenter/karpenter",
        "https://aws.github.io/eks-charts",
        "https://charts.external-secrets.io",
    }
    assert {d["namespace"] for d in spec["destinations"]} == {"argocd", "kube-system", "external-secrets"}
    assert all(d["server"] == IN_CLUSTER for d in spec["destinations"])
    kinds = {(k["group"], k["kind"]) for k in spec["clusterResourceWhitelist"]}
    assert ("external-secrets.io", "ClusterSecretStore") in kinds
    assert ("apiextensions.k8s.io", "CustomResourceDefinition") in kinds
    assert not {k for k in kinds if k[0] == "karpenter.sh"}, "NodePools are the shop's, not the platform's"
    assert root["spec"]["project"] == "platform"
    assert root["spec"]["source"] == {
        "repoURL": cfg.gitops.repo_url,
        "targetRevision": "main",
        "path": "argocd",
        "directory": {"recurse": True},
    }
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


@needs_crds
def test_crd_validation_rejects_a_broken_application(cfg):
    broken = json.loads(json.dumps(addon_applications(cfg)["karpenter"]))
    broken["spec"]["sources"][0]["helm"]["valuesFile"] = "typo"
    report = _validate([("broken", broken)])
    assert report.failing(), "an unknown field must fail (closed schema)"
    store = cluster_secret_store(cfg)
    store["spec"]["provider"]["aws"]["service"] = "Vault"
    assert _validate([("store", store)]).failing()


# --- AWS Load Balancer Controller: the webhook certificate stays put ----------------------------

LBC = "aws-load-balancer-controller"
# What the chart's templates name them (namePrefix = chart name without "-controller").
LBC_TLS_SECRET = "aws-load-balancer-tls"
LBC_WEBHOOKS = "aws-load-balancer-webhook"
CA_BUNDLE = ".webhooks[]?.clientConfig.caBundle"


def test_lb_controller_ignores_its_generated_webhook_tls_and_respects_it_on_sync(files):
    """The chart renders a new CA per `helm template`; Argo CD must neither diff nor re-apply it."""
    spec = app(files, LBC)["spec"]
    namespace = spec["destination"]["namespace"]
    assert spec["ignoreDifferences"] == [
        {"kind": "Secret", "name": LBC_TLS_SECRET, "namespace": namespace, "jsonPointers": ["/data"]},
        {
            "group": "admissionregistration.k8s.io",
            "kind": "MutatingWebhookConfiguration",
            "name": LBC_WEBHOOKS,
            "jqPathExpressions": [CA_BUNDLE],
        },
        {
            "group": "admissionregistration.k8s.io",
            "kind": "ValidatingWebhookConfiguration",
            "name": LBC_WEBHOOKS,
            "jqPathExpressions": [CA_BUNDLE],
        },
    ]
    assert spec["syncPolicy"]["syncOptions"] == [
        "CreateNamespace=true",
        "ServerSideApply=true",
        "RespectIgnoreDifferences=true",
    ]
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    # Fixed certificates would be the other way out; they must never reach the repository.
    assert "webhookTLS" not in values(files, LBC)
    assert "keepTLSSecret" not in values(files, LBC), "keepTLSSecret needs Helm lookup, which Argo CD never runs"


def test_no_other_addon_ignores_differences(files):
    for name in ("karpenter", "external-secrets", "platform-config"):
        spec = app(files, name)["spec"]
        assert "ignoreDifferences" not in spec, name
        assert "RespectIgnoreDifferences=true" not in spec["syncPolicy"].get("syncOptions", []), name


def _jq_delete(expression: str, document: dict[str, Any]) -> dict[str, Any]:
    """What Argo CD does with a jqPathExpressions entry: evaluate ``del(<expression>)`` on the object."""
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed: the jq path of ignoreDifferences was not evaluated")
    done = subprocess.run(
        [jq, "-c", f"del({expression})"], input=json.dumps(document), capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def _json_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901 lookup (what an ignoreDifferences jsonPointers entry selects)."""
    for token in pointer.split("/")[1:]:
        document = document[token.replace("~1", "/").replace("~0", "~")]
    return document


def test_ignored_paths_select_exactly_the_generated_tls_material(files):
    """Evaluated on objects shaped like the chart's webhook.yaml, not just compared as strings."""
    client = {"service": {"name": "aws-load-balancer-webhook-service", "namespace": "kube-system", "path": "/x"}}
    webhook_config = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": LBC_WEBHOOKS},
        "webhooks": [
            {"name": name, "clientConfig": {"caBundle": "Q0E=", **client}, "failurePolicy": "Fail"}
            for name in ("vingressclassparams.elbv2.k8s.aws", "vtargetgroupbinding.elbv2.k8s.aws")
        ],
    }
    (expression,) = app(files, LBC)["spec"]["ignoreDifferences"][2]["jqPathExpressions"]
    expected = json.loads(json.dumps(webhook_config))
    for webhook in expected["webhooks"]:
        del webhook["clientConfig"]["caBundle"]
    assert _jq_delete(expression, webhook_config) == expected, "only every webhook's caBundle may be ignored"
    no_webhooks = {"kind": "MutatingWebhookConfiguration", "metadata": {"name": LBC_WEBHOOKS}}
    assert _jq_delete(expression, no_webhooks) == no_webhooks, "the path must not fail on an empty config"

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": LBC_TLS_SECRET, "namespace": "kube-system"},
        "type": "kubernetes.io/tls",
        "data": {"ca.crt": "Q0E=", "tls.crt": "Q1JU", "tls.key": "S0VZ"},
    }
    (pointer,) = app(files, LBC)["spec"]["ignoreDifferences"][0]["jsonPointers"]
    assert _json_pointer(secret, pointer) == secret["data"], "the chart's three TLS keys, nothing else"


@needs_crds
def test_lb_controller_application_passes_the_argocd_crd_with_its_ignore_differences(files):
    application = app(files, LBC)
    report = _validate([(LBC, application)])
    assert report.custom_validated == 1
    assert not report.findings, report.to_text()
    # The schema does see the new fields: a misspelt key or a missing kind fails (closed, required).
    typo = json.loads(json.dumps(application))
    typo["spec"]["ignoreDifferences"][1]["jqPathExpression"] = typo["spec"]["ignoreDifferences"][1].pop(
        "jqPathExpressions"
    )
    assert _validate([("typo", typo)]).failing(), "an unknown ignoreDifferences field must fail"
    kindless = json.loads(json.dumps(application))
    del kindless["spec"]["ignoreDifferences"][0]["kind"]
    assert _validate([("kindless", kindless)]).failing(), "ignoreDifferences[].kind is required"


# --- secrets.provider none, config errors --------------------------------------------------------


def test_secrets_provider_none_renders_no_secret_machinery():
    files = render_platform(_cfg(secrets={"provider": "none"}))[0]
    assert "terraform/secrets.tf" not in files
    assert not [p for p in files if p.startswith("platform/") or "external-secrets" in p]
    assert "external_secrets" not in files["terraform/addons-iam.tf"]
    project = yamlio.load_text(files["terraform/values/argocd-apps.yaml"], "v")["projects"]["platform"]
    assert "external-secrets.io" not in {k["group"] for k in project["clusterResourceWhitelist"]}
    tf = Terraform(files)
    assert not [k for k in tf.resources if k[0].startswith("aws_secretsmanager")]


def test_invalid_platform_settings_name_the_field():
    with pytest.raises(ConfigError, match=r"platform\.node_group: .*max_size \(1\) must be >= min_size \(2\)"):
        _cfg(platform={"node_group": {"max_size": 1}})
    with pytest.raises(ConfigError, match=r"platform\.node_group: desired_size \(9\)"):
        _cfg(platform={"node_group": {"desired_size": 9}})
    with pytest.raises(ConfigError, match=r"platform\.vpc_cidr: .*private IPv4"):
        _cfg(platform={"vpc_cidr": "8.8.0.0/16"})
    with pytest.raises(ConfigError, match=r"platform\.az_count"):
        _cfg(platform={"az_count": 7})
    with pytest.raises(ConfigError, match=r"platform\.terraform_modules\.eks"):
        _cfg(platform={"terraform_modules": {"eks": ">= 21"}})
    with pytest.raises(ConfigError, match=r"platform\.endpoint_public_access_cidrs"):
        _cfg(platform={"endpoint_public_access_cidrs": []})


def test_config_text_never_becomes_hcl_code():
    assert hcl('a"b${c}%{d}\n') == '"a\\"b$${c}%%{d}\\n"'
    assert hcl(["x", 1, True]) == '["x", 1, true]'
    assert attributes([("a", "1"), ("karpenter.sh/discovery", '"x"')], 2) == (
        '  a                        = 1\n  "karpenter.sh/discovery" = "x"'
    )
    files = render_platform(_cfg(gitops={"repo_url": "https://example.com/${evil}.git"}))[0]
    assert "$${evil}" in files["terraform/variables.tf"]
    parse_hcl(files["terraform/variables.tf"])


def test_argocd_apps_values_round_trip(cfg):
    project, root = bootstrap_objects(cfg)
    assert argocd_apps_chart_render(argocd_apps_values(project, root)) == [project, root]


@pytest.mark.parametrize("provider", ["external-secrets", "none"])
def test_the_objects_handed_to_validation_are_the_files(provider: str):
    """synth validates the platform's objects as data (no re-parse): they must be what the files say."""
    files, objects = render_platform(_cfg(secrets={"provider": provider}), repo_prefix="deploy/")
    manifest_files = sorted(p for p in files if p.startswith(("argocd/", "platform/")) and p.endswith(".yaml"))
    assert sorted(objects) == manifest_files
    assert any(p.startswith("platform/") for p in objects) == (provider == "external-secrets")
    for path, manifest in objects.items():
        assert yamlio.load_manifests(files[path], path) == [manifest], path
