"""Add-ons under Argo CD: the names the cluster side shares, the add-on Applications, the bootstrap.

Every name the cluster side uses (IAM roles, the interruption queue, service accounts, the VPC's Name
tag, Secrets Manager keys) is derived once here and handed to both the terraform templates and the
Helm values, so the two can never disagree. The Argo CD objects are plain dicts: a dozen small objects
with no shared structure gain nothing from cdk8s, and building them needs no Node.js.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shopgen.config import IAM_ROLE_NAME_LIMIT, Config
from shopgen.config.platform import Chart
from shopgen.errors import ConfigError

ARGOCD_NAMESPACE = "argocd"
ARGOCD_SERVER_SERVICE = "argocd-server"  # the argo-cd chart with fullnameOverride "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
# Deleting an Application with this finalizer deletes what it synced (root: its child Applications).
CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# The shop Application uses wave "10" (constructs/argocd.py): the add-ons and their CRDs come first,
# and the ClusterSecretStore only once External Secrets (its CRD and webhook) is healthy.
ADDON_WAVE = -20
PLATFORM_CONFIG_WAVE = -10
PLATFORM_CONFIG = "platform-config"
SQS_QUEUE_NAME_LIMIT = 80

_CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
_CLUSTER_ROLE = ("rbac.authorization.k8s.io", "ClusterRole")
_CLUSTER_ROLE_BINDING = ("rbac.authorization.k8s.io", "ClusterRoleBinding")
_MUTATING_WEBHOOK = ("admissionregistration.k8s.io", "MutatingWebhookConfiguration")
_VALIDATING_WEBHOOK = ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")
_NAMESPACE = ("", "Namespace")  # CreateNamespace=true (external-secrets)
_INGRESS_CLASS = ("networking.k8s.io", "IngressClass")
_INGRESS_CLASS_PARAMS = ("elbv2.k8s.aws", "IngressClassParams")
_CLUSTER_SECRET_STORE = ("external-secrets.io", "ClusterSecretStore")


@dataclass(frozen=True)
class PlatformNames:
    """Names terraform creates and the Helm values, Applications and manifests refer to."""

    cluster: str
    region: str
    vpc: str  # the VPC's Name tag: the AWS Load Balancer Controller finds the VPC by it
    cluster_role: str
    node_group_role: str
    karpenter_controller_role: str
    karpenter_node_role: str  # exactly the EC2NodeClass's role
    karpenter_queue: str
    aws_lb_controller_role: str
    ebs_csi_role: str
    external_secrets_role: str
    secret_prefix: str  # Secrets Manager keys are <secret_prefix>/<secret>

    def iam_roles(self) -> dict[str, str]:
        return {
            "cluster_role_name": self.cluster_role,
            "node_group_role_name": self.node_group_role,
            "karpenter_controller_role_name": self.karpenter_controller_role,
            "karpenter_node_role_name": self.karpenter_node_role,
            "aws_lb_controller_role_name": self.aws_lb_controller_role,
            "ebs_csi_role_name": self.ebs_csi_role,
            "external_secrets_role_name": self.external_secrets_role,
        }


@dataclass(frozen=True)
class Addon:
    """A cluster add-on Argo CD installs from its upstream chart with values from charts/<name>/."""

    name: str  # Application, Helm release and charts/<name>/
    namespace: str
    service_account: str  # the one terraform binds an IAM role to (Pod Identity)
    chart: Chart
    values: dict[str, Any]
    why: str  # the comment at the top of charts/<name>/values.yaml
    cluster_kinds: tuple[tuple[str, str], ...]  # cluster-scoped kinds the chart installs
    server_side_apply: bool = True  # big CRDs exceed the client-side apply annotation limit
    # Fields of the chart's objects that Argo CD must neither diff nor overwrite on sync
    # (spec.ignoreDifferences entries; the Application then also gets RespectIgnoreDifferences=true).
    ignore_differences: tuple[dict[str, Any], ...] = ()


def platform_names(cfg: Config) -> PlatformNames:
    """Every derived name, checked against AWS's limits with an error that names the setting."""
    cluster = cfg.cluster.name
    names = PlatformNames(
        cluster=cluster,
        region=cfg.cluster.region,
        vpc=f"{cluster}-vpc",
        cluster_role=f"{cluster}-cluster",
        node_group_role=f"{cluster}-system-nodes",
        karpenter_controller_role=f"{cluster}-karpenter",
        karpenter_node_role=cfg.karpenter_node_role,
        karpenter_queue=f"{cluster}-karpenter",
        aws_lb_controller_role=f"{cluster}-lb-controller",
        ebs_csi_role=f"{cluster}-ebs-csi",
        external_secrets_role=f"{cluster}-external-secrets",
        secret_prefix=f"{cluster}/{cfg.namespace}",
    )
    for role in names.iam_roles().values():
        if len(role) > IAM_ROLE_NAME_LIMIT:
            raise ConfigError(
                f"cluster.name: derived IAM role name {role!r} has {len(role)} characters, AWS allows "
                f"{IAM_ROLE_NAME_LIMIT}; choose a shorter cluster name"
            )
    if len(names.karpenter_queue) > SQS_QUEUE_NAME_LIMIT or not re.fullmatch(r"[A-Za-z0-9_-]+", names.karpenter_queue):
        raise ConfigError(
            f"cluster.name: derived SQS queue name {names.karpenter_queue!r} is not a valid queue name "
            f"(letters, digits, '-' and '_', at most {SQS_QUEUE_NAME_LIMIT})"
        )
    return names


def addons(cfg: Config) -> tuple[Addon, ...]:
    """The add-ons Argo CD installs, in a fixed order; External Secrets only with secrets.provider external-secrets.

    metrics-server is an EKS add-on (terraform/eks.tf), so Argo CD does not install it.
    """
    names = platform_names(cfg)
    charts = cfg.platform.charts
    result = [
        Addon(
            name="karpenter",
            # kube-system: where Karpenter's docs install it and the karpenter submodule's default.
            namespace="kube-system",
            service_account="karpenter",
            chart=charts.karpenter,
            values={
                "settings": {"clusterName": names.cluster, "interruptionQueue": names.karpenter_queue},
                "serviceAccount": {"create": True, "name": "karpenter"},
                # The nodes' IMDS hop limit is 1 (eks module v21), so pods cannot ask IMDS for the region.
                "controller": {"env": [{"name": "AWS_REGION", "value": names.region}]},
            },
            why=(
                "settings.interruptionQueue is the SQS queue terraform/karpenter.tf creates; the service account is\n"
                "the one its Pod Identity association names. The cluster endpoint is looked up by Karpenter itself."
            ),
            cluster_kinds=(_CRD, _CLUSTER_ROLE, _CLUSTER_ROLE_BINDING),
        ),
        Addon(
            name="aws-load-balancer-controller",
            namespace="kube-system",
            service_account="aws-load-balancer-controller",
            chart=charts.aws_load_balancer_controller,
            values={
                "clusterName": names.cluster,
                "region": names.region,
                "vpcTags": {"Name": names.vpc},
                "serviceAccount": {"create": True, "name": "aws-load-balancer-controller"},
                "enableServiceMutatorWebhook": False,
            },
            why=(
                "vpcTags, not vpcId: the VPC ID exists only after terraform apply, and pods cannot ask IMDS for it\n"
                "(hop limit 1), so the controller finds the VPC by the Name tag terraform/vpc.tf gives it. The\n"
                "controller reads one tag only (aws-load-balancer-controller issue #4633): Name is enough.\n"
                "No Service mutator webhook: the shop uses an Ingress, and the webhook would make every Service\n"
                "creation in the cluster (the other add-ons' too) fail while this controller is not ready."
            ),
            cluster_kinds=(
                _CRD,
                _CLUSTER_ROLE,
                _CLUSTER_ROLE_BINDING,
                _MUTATING_WEBHOOK,
                _VALIDATING_WEBHOOK,
                _INGRESS_CLASS,
                _INGRESS_CLASS_PARAMS,
            ),
            ignore_differences=_lb_controller_webhook_tls("kube-system"),
        ),
    ]
    if cfg.secrets.provider == "external-secrets":
        result.append(
            Addon(
                name="external-secrets",
                namespace="external-secrets",
                service_account="external-secrets",
                chart=charts.external_secrets,
                values={"installCRDs": True, "serviceAccount": {"create": True, "name": "external-secrets"}},
                why=(
                    "The controller's service account is the one terraform/addons-iam.tf binds to a role that may\n"
                    f"read only {names.secret_prefix}/* in Secrets Manager. ClusterSecretStore: platform/."
                ),
                cluster_kinds=(_CRD, _CLUSTER_ROLE, _CLUSTER_ROLE_BINDING, _VALIDATING_WEBHOOK, _NAMESPACE),
            )
        )
    return tuple(result)


def _lb_controller_webhook_tls(namespace: str) -> tuple[dict[str, Any], ...]:
    """ignoreDifferences entries for the webhook TLS material of the AWS Load Balancer Controller chart.

    The chart makes a new CA and serving certificate (genCA/genSignedCert) on every render. Its
    keepTLSSecret reuses the live Secret through Helm's ``lookup``, which ``helm template`` (how Argo CD
    renders charts) does not run (aws-load-balancer-controller issues #1828, #2071). Without these
    entries the Application is OutOfSync on every refresh and selfHeal replaces the CA under running
    webhooks. Ignoring the Secret's data and the webhooks' caBundle, with RespectIgnoreDifferences=true
    so a sync keeps the live values too, keeps the pair the first sync created. Fixed certificates in
    charts/<addon>/values.yaml instead would put a private key in git: never.

    Names from the chart's templates (_helpers.tpl, webhook.yaml): the namePrefix helper strips
    "-controller" from the chart name when there is no nameOverride (none here), so Secret
    ``aws-load-balancer-tls`` and webhook configurations ``aws-load-balancer-webhook``. The jq path is
    the one Argo CD's "Diffing Customization" docs give for a webhook's caBundle.
    """
    webhooks = "aws-load-balancer-webhook"
    ca_bundle = (".webhooks[]?.clientConfig.caBundle",)
    return (
        {"kind": "Secret", "name": "aws-load-balancer-tls", "namespace": namespace, "jsonPointers": ("/data",)},
        {"group": _MUTATING_WEBHOOK[0], "kind": _MUTATING_WEBHOOK[1], "name": webhooks, "jqPathExpressions": ca_bundle},
        {
            "group": _VALIDATING_WEBHOOK[0],
            "kind": _VALIDATING_WEBHOOK[1],
            "name": webhooks,
            "jqPathExpressions": ca_bundle,
        },
    )


def _labels(name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "platform",
        "app.kubernetes.io/part-of": "retail-store",
        "app.kubernetes.io/managed-by": "shopgen",
    }


def addon_applications(cfg: Config, *, repo_prefix: str = "") -> dict[str, dict[str, Any]]:
    """One Application per add-on (pinned upstream chart + this repository's values), then platform-config."""
    repo, revision = cfg.gitops.repo_url, cfg.gitops.target_revision
    apps: dict[str, dict[str, Any]] = {}
    for addon in addons(cfg):
        chart = addon.chart
        helm = {"releaseName": addon.name, "valueFiles": [f"$values/{repo_prefix}charts/{addon.name}/values.yaml"]}
        if chart.repo_url.startswith("oci://"):
            # Argo CD >= 3.1 pulls OCI artifacts natively; for a Helm chart the path is always ".".
            upstream = {"repoURL": chart.repo_url, "targetRevision": chart.version, "path": ".", "helm": helm}
        else:
            upstream = {"repoURL": chart.repo_url, "chart": chart.chart, "targetRevision": chart.version, "helm": helm}
        sync_options = ["CreateNamespace=true"] + (["ServerSideApply=true"] if addon.server_side_apply else [])
        spec: dict[str, Any] = {
            "project": "platform",
            "sources": [upstream, {"repoURL": repo, "targetRevision": revision, "ref": "values"}],
            "destination": {"server": IN_CLUSTER, "namespace": addon.namespace},
        }
        if addon.ignore_differences:
            spec["ignoreDifferences"] = [
                {key: list(value) if isinstance(value, tuple) else value for key, value in entry.items()}
                for entry in addon.ignore_differences
            ]
            # Without it ignoreDifferences only affects the diff: a sync would still apply the fresh render.
            sync_options.append("RespectIgnoreDifferences=true")
        spec["syncPolicy"] = {"automated": {"prune": True, "selfHeal": True}, "syncOptions": sync_options}
        apps[addon.name] = _application(addon.name, wave=ADDON_WAVE, spec=spec)
    if cfg.secrets.provider == "external-secrets":
        apps[PLATFORM_CONFIG] = _application(
            PLATFORM_CONFIG,
            wave=PLATFORM_CONFIG_WAVE,
            spec={
                "project": "platform",
                "source": {"repoURL": repo, "targetRevision": revision, "path": f"{repo_prefix}platform"},
                "destination": {"server": IN_CLUSTER, "namespace": "external-secrets"},
                "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
            },
        )
    return apps


def _application(name: str, *, wave: int, spec: dict[str, Any]) -> dict[str, Any]:
    # No cascade finalizer on purpose: deleting root (teardown) must leave the controllers running
    # until the shop's ALB and Karpenter's nodes are gone, which only they can clean up.
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": ARGOCD_NAMESPACE,
            "labels": _labels(name),
            "annotations": {SYNC_WAVE: str(wave)},
        },
        "spec": spec,
    }


def cluster_secret_store(cfg: Config) -> dict[str, Any]:
    """ClusterSecretStore for the shop's credentials: AWS Secrets Manager in the cluster's region, Pod Identity auth.

    No ``auth`` block: the controller's own credentials (its Pod Identity role) are used. The shop's
    namespace is the only one allowed to use the store, so no other namespace can read its secrets.
    """
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": cfg.secrets.store, "labels": _labels(cfg.secrets.store)},
        "spec": {
            "provider": {"aws": {"service": "SecretsManager", "region": cfg.cluster.region}},
            "conditions": [{"namespaces": [cfg.namespace]}],
        },
    }


def cluster_kinds(cfg: Config) -> list[tuple[str, str]]:
    """The cluster-scoped kinds the platform's Applications create, each once, in a stable order."""
    kinds = [kind for addon in addons(cfg) for kind in addon.cluster_kinds]
    if cfg.secrets.provider == "external-secrets":
        kinds.append(_CLUSTER_SECRET_STORE)
    return sorted(set(kinds), key=lambda k: (k[0], k[1]))


def bootstrap_objects(cfg: Config, *, repo_prefix: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """AppProject ``platform`` and Application ``root`` as Argo CD objects.

    terraform's argocd-apps release creates them (argocd_apps_values maps them onto that chart's
    values), so they never live in argocd/ and Argo CD never fights Helm over them.
    """
    add = addons(cfg)
    repos = [cfg.gitops.repo_url] + [a.chart.repo_url for a in add]
    namespaces = [ARGOCD_NAMESPACE] + [a.namespace for a in add]
    project = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "platform", "namespace": ARGOCD_NAMESPACE, "labels": _labels("platform")},
        "spec": {
            "description": "Cluster add-ons and the Argo CD wiring of this repository (argocd/), pinned charts only.",
            "sourceRepos": list(dict.fromkeys(repos)),
            "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in dict.fromkeys(namespaces)],
            "clusterResourceWhitelist": [{"group": g, "kind": k} for g, k in cluster_kinds(cfg)],
        },
    }
    root = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": "root",
            "namespace": ARGOCD_NAMESPACE,
            "labels": _labels("root"),
            # Teardown deletes root with cascade: its child Applications go, and shop's own
            # finalizer deletes the shop (so selfHeal cannot recreate the Ingress).
            "finalizers": [CASCADE_FINALIZER],
        },
        "spec": {
            "project": "platform",
            "source": {
                "repoURL": cfg.gitops.repo_url,
                "targetRevision": cfg.gitops.target_revision,
                "path": f"{repo_prefix}argocd",
                "directory": {"recurse": True},
            },
            "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }
    return project, root


def argocd_apps_values(project: dict[str, Any], *apps: dict[str, Any]) -> dict[str, Any]:
    """The argocd-apps 2.x chart's values that render exactly ``project`` and ``apps``.

    The chart takes maps keyed by name; metadata goes to namespace/additionalLabels/finalizers and the
    spec's fields are copied as they are.
    """

    def entry(obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        out: dict[str, Any] = {"namespace": meta["namespace"]}
        if meta.get("labels"):
            out["additionalLabels"] = meta["labels"]
        if meta.get("annotations"):
            out["additionalAnnotations"] = meta["annotations"]
        if meta.get("finalizers"):
            out["finalizers"] = meta["finalizers"]
        out.update(obj["spec"])
        return out

    return {
        "projects": {project["metadata"]["name"]: entry(project)},
        "applications": {app["metadata"]["name"]: entry(app) for app in apps},
    }


def argo_cd_values() -> dict[str, Any]:
    """Values of the argo-cd chart (the Application health check is added in terraform/argocd.tf)."""
    return {
        # Stable resource names: service argocd-server (terraform outputs, runbook).
        "fullnameOverride": "argocd",
        # No SSO in this scenario: the admin user is enough, and Dex would be one more pod to run.
        "dex": {"enabled": False},
    }
