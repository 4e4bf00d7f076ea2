"""Settings of the platform layer (terraform/, charts/, argocd/addons/, platform/).

Every version here is pinned exactly (charts) or to one major (terraform modules), so a render is the
same everywhere and a version bump is a reviewed change of shopgen.yaml. Where a value comes from an
upstream release, the comment names the release it was checked against.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from shopgen.config.types import Model, Text, Visible

# An exact chart version: no ranges, no "latest", no wildcards (Argo CD and Helm would resolve those
# at sync time, so two syncs of the same commit could install different code).
ExactVersion = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$"), Visible]
# A terraform module constraint pinned to one major: "~> 21.0" allows 21.x, never 22.
ModuleConstraint = Annotated[str, Field(pattern=r"^~> [0-9]+\.[0-9]+(\.[0-9]+)?$"), Visible]
ChartRepo = Annotated[str, Field(pattern=r"^(https://|oci://)[A-Za-z0-9][A-Za-z0-9.\-/_:]*$"), Visible]
ChartName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63), Visible]
InstanceType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"), Visible]
NodeCount = Annotated[int, Field(ge=0, le=1000)]
# An S3 object key of safe characters (S3's "safe characters" list, and '/').
StateKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*$", max_length=1024), Visible]


class Chart(Model):
    """One upstream Helm chart at one exact version."""

    repo_url: ChartRepo = Field(description="chart repository (https://) or the chart's OCI reference (oci://)")
    chart: ChartName
    version: ExactVersion = Field(description="exact chart version (no ranges: a sync must be reproducible)")


class Charts(Model):
    """The charts Argo CD installs as add-ons, and the two terraform installs to bootstrap Argo CD."""

    # Karpenter v1.14.1: the release of the CRDs in ../shared/crds (aws/karpenter-provider-aws tag
    # v1.14.1); the OCI chart's version is the app version without the "v".
    karpenter: Chart = Chart(repo_url="oci://public.ecr.aws/karpenter/karpenter", chart="karpenter", version="1.14.1")
    # Chart 1.17.1 ships controller v2.17.1 (aws/eks-charts PR #1292 "aws-load-balancer-controller:
    # v2.17.1"; eks-charts issue #1312 names 1.17.1 as the last 1.x chart before 3.x).
    aws_load_balancer_controller: Chart = Chart(
        repo_url="https://aws.github.io/eks-charts", chart="aws-load-balancer-controller", version="1.17.1"
    )
    # external-secrets publishes chart and app with one version: helm-chart-2.9.0 = v2.9.0.
    external_secrets: Chart = Chart(
        repo_url="https://charts.external-secrets.io", chart="external-secrets", version="2.9.0"
    )
    # argo-helm argo-cd-10.3.3 = "Update dependency argoproj/argo-cd to v3.5.1" (argo-helm PR #4015),
    # the release of the Argo CD CRDs in ../shared/crds.
    argo_cd: Chart = Chart(repo_url="https://argoproj.github.io/argo-helm", chart="argo-cd", version="10.3.3")
    # argocd-apps 2.x takes projects/applications as maps keyed by name; 2.0.4 is the newest 2.0.x
    # seen in public bumps (adfinis/helm-charts PR #1672, February 2026).
    argocd_apps: Chart = Chart(repo_url="https://argoproj.github.io/argo-helm", chart="argocd-apps", version="2.0.4")


class TerraformModules(Model):
    """Version constraints of the terraform-aws-modules the platform uses (one major each)."""

    # v6 needs the AWS provider 6 (terraform-aws-vpc PR #1205, v6.0.0).
    vpc: ModuleConstraint = Field("~> 6.0", description="terraform-aws-modules/vpc/aws, one major")
    # v21 renamed cluster_* inputs (name, kubernetes_version, addons) and defaults the karpenter
    # submodule to Pod Identity (docs/UPGRADE-21.0.md); it needs the AWS provider 6.
    eks: ModuleConstraint = Field("~> 21.0", description="terraform-aws-modules/eks/aws and its karpenter submodule")
    # v2 needs the AWS provider 6 (CHANGELOG 2.0.0); 2.7 holds the LB controller policy for v2.17.
    eks_pod_identity: ModuleConstraint = Field("~> 2.7", description="terraform-aws-modules/eks-pod-identity/aws")


class NodeGroup(Model):
    """The managed node group for system pods (Argo CD, the controllers, CoreDNS); Karpenter adds the rest."""

    instance_types: tuple[InstanceType, ...] = Field(
        ("t3.large",),
        description=(
            "course: t3.small (11 pods, 2 GiB each); t3.large (35 pods, 8 GiB) because Argo CD and the three "
            "controllers add ~25 pods and the baseline shop runs here until Karpenter's NodePool (autoscaling)"
        ),
    )
    min_size: NodeCount = Field(2, description="course: 1; 2 keeps the controllers' two replicas on two nodes")
    max_size: NodeCount = Field(5, description="course: 5")
    desired_size: NodeCount = Field(3, description="course: 3")

    @field_validator("instance_types")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one instance type")
        if len(set(value)) != len(value):
            raise ValueError("lists an instance type twice")
        return value

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroup:
        if self.max_size < 1:
            raise ValueError("max_size: must be at least 1")
        if self.min_size > self.max_size:
            raise ValueError(f"max_size ({self.max_size}) must be >= min_size ({self.min_size})")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"desired_size ({self.desired_size}) must be between min_size ({self.min_size}) "
                f"and max_size ({self.max_size})"
            )
        return self


class TerraformBackend(Model):
    """Where terraform keeps its state: an S3 bucket (Terraform's backend "s3"), locked with S3 itself.

    A backend block cannot use variables, so it is rendered from here; it holds no credentials
    (terraform reads those from the environment: AWS_PROFILE, SSO, an instance role).
    """

    # S3's bucket naming rules: 3-63 characters, lowercase letters, digits, dots and hyphens.
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"), Visible] = Field(
        description="an existing S3 bucket, versioning on, kept private (the state names your account's ARNs)"
    )
    key: StateKey | None = Field(
        None, description="object key of the state; default shopgen/<cluster.name>/terraform.tfstate"
    )
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"), Visible] | None = Field(
        None, description="the bucket's region; default cluster.region"
    )
    use_lockfile: bool = Field(True, description="S3-native state locking (Terraform >= 1.10), no DynamoDB table")


class PlatformConfig(Model):
    """VPC, EKS, add-ons and the Argo CD bootstrap; the course's main.tf, modernised."""

    vpc_cidr: Text = Field("10.0.0.0/16", description="course: 10.0.0.0/16 (a private IPv4 range, /8 to /18)")
    az_count: Annotated[int, Field(ge=2, le=6)] = Field(3, description="availability zones (course: 3)")
    single_nat_gateway: bool = Field(True, description="one NAT gateway for all AZs (course; cheaper, one AZ SPOF)")
    endpoint_public_access_cidrs: tuple[Text, ...] = Field(
        ("0.0.0.0/0",), description="who may reach the EKS API endpoint; narrow it to your own address"
    )
    node_group: NodeGroup = NodeGroup()
    create_spot_service_linked_role: bool = Field(
        True,
        description=(
            "create AWSServiceRoleForEC2Spot, which Karpenter's spot launches need; set false when the account "
            "has it already (terraform apply then fails with 'has been taken in this account')"
        ),
    )
    charts: Charts = Charts()
    terraform_modules: TerraformModules = TerraformModules()
    terraform_backend: TerraformBackend | None = Field(
        None,
        description=(
            "S3 backend for terraform's state, e.g. {bucket: my-tfstate}; none: the local "
            "terraform/terraform.tfstate (one person, lost with the laptop)"
        ),
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a network in CIDR form: {exc}") from None
        if network.version != 4 or not network.is_private:
            raise ValueError(f"{value!r} must be a private IPv4 range (for example 10.0.0.0/16)")
        # Subnets are carved as /prefix+4 (private) and /prefix+8 (public, intra); see terraform/vpc.tf.
        if not 8 <= network.prefixlen <= 18:
            raise ValueError(f"{value!r}: the prefix must be between /8 and /18 (course: /16)")
        return value

    @field_validator("endpoint_public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one CIDR (0.0.0.0/0 for everyone)")
        for cidr in value:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not a network in CIDR form: {exc}") from None
            if network.version != 4:
                raise ValueError(f"{cidr!r}: the EKS public endpoint takes IPv4 CIDRs")
        return value
