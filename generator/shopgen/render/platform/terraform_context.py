"""The terraform templates' context: variables, secrets and the backend, from the same config and names."""

from __future__ import annotations

from typing import Any

from shopgen.config import Config
from shopgen.render.platform.addons import (
    ARGOCD_NAMESPACE,
    ARGOCD_SERVER_SERVICE,
    PlatformNames,
    addons,
)
from shopgen.render.platform.terraform import hcl
from shopgen.render.tree import HEADER
from shopgen.story.shop import resolve


def terraform_context(cfg: Config, names: PlatformNames) -> dict[str, Any]:
    """Everything the terraform templates read; values are already HCL where a template inserts them."""
    plat = cfg.platform
    external_secrets = cfg.secrets.provider == "external-secrets"
    secrets = _secrets(cfg, names) if external_secrets else []
    add = {a.name: a for a in addons(cfg)}
    roles = [(k, v) for k, v in names.iam_roles().items() if external_secrets or k != "external_secrets_role_name"]
    local_names: list[tuple[str, str]] = [
        ("vpc_name", names.vpc),
        *roles,
        ("karpenter_queue_name", names.karpenter_queue),
        ("karpenter_namespace", add["karpenter"].namespace),
        ("karpenter_service_account", add["karpenter"].service_account),
        ("aws_lb_controller_namespace", add["aws-load-balancer-controller"].namespace),
        ("aws_lb_controller_service_account", add["aws-load-balancer-controller"].service_account),
    ]
    root_dependencies = ["module.karpenter", "module.aws_lb_controller_pod_identity"]
    if external_secrets:
        local_names += [
            ("external_secrets_namespace", add["external-secrets"].namespace),
            ("external_secrets_service_account", add["external-secrets"].service_account),
            ("secret_prefix", names.secret_prefix),
        ]
        root_dependencies += ["aws_eks_pod_identity_association.external_secrets"] + [
            f"aws_secretsmanager_secret_version.{s['label']}" for s in secrets
        ]
    return {
        "header": HEADER.rstrip("\n"),
        "variables": _variables(cfg, names),
        "names": [(key, hcl(value)) for key, value in local_names],
        "modules": plat.terraform_modules.model_dump(),
        "charts": plat.charts,
        "argocd_namespace": ARGOCD_NAMESPACE,
        "argocd_server_service": ARGOCD_SERVER_SERVICE,
        "external_secrets": external_secrets,
        "secret_store": cfg.secrets.store,
        "secrets": secrets,
        "database_users": [
            (s.name, hcl(s.name.removesuffix("-db"))) for s in resolve(cfg).credential_secrets if "username" in s.keys
        ],
        "root_dependencies": root_dependencies,
        "cluster_name": names.cluster,
        "region": names.region,
        "backend": _backend(cfg, names),
    }


def _backend(cfg: Config, names: PlatformNames) -> list[tuple[str, str]] | None:
    """The S3 backend block's attributes (HCL), or None for terraform's local state file."""
    backend = cfg.platform.terraform_backend
    if backend is None:
        return None
    return [
        ("bucket", hcl(backend.bucket)),
        ("key", hcl(backend.key or f"shopgen/{names.cluster}/terraform.tfstate")),
        ("region", hcl(backend.region or names.region)),
        ("encrypt", "true"),
        ("use_lockfile", hcl(backend.use_lockfile)),
    ]


_RENDERED = (
    "charts/, argocd/ and environments/ were rendered for {value}: change {key} in shopgen.yaml and run "
    "shopgen synth instead of overriding this variable."
)


def _variables(cfg: Config, names: PlatformNames) -> list[dict[str, Any]]:
    """terraform variables, defaults from the config; the first four are fixed to the rendered value."""
    plat, group = cfg.platform, cfg.platform.node_group
    rendered = (  # (name, type, default, shopgen.yaml key, description)
        ("region", "string", names.region, "cluster.region", "AWS region"),
        ("cluster_name", "string", names.cluster, "cluster.name", "EKS cluster name"),
        ("gitops_repo_url", "string", cfg.gitops.repo_url, "gitops.repo_url", "The repository Argo CD syncs"),
        (
            "gitops_target_revision",
            "string",
            cfg.gitops.target_revision,
            "gitops.target_revision",
            "The branch or tag Argo CD syncs",
        ),
    )
    free = (  # (name, type, default, description)
        ("kubernetes_version", "string", cfg.cluster.kubernetes_version, "Kubernetes minor version (control plane)"),
        ("vpc_cidr", "string", plat.vpc_cidr, "IPv4 range of the VPC"),
        ("az_count", "number", plat.az_count, "Availability zones to spread subnets over"),
        ("single_nat_gateway", "bool", plat.single_nat_gateway, "One NAT gateway for all AZs (cheaper; one AZ SPOF)"),
        ("endpoint_public_access_cidrs", "list(string)", plat.endpoint_public_access_cidrs, "Who may reach the API"),
        ("node_instance_types", "list(string)", group.instance_types, "Instance types of the system node group"),
        ("node_min_size", "number", group.min_size, "Minimum nodes in the system node group"),
        ("node_max_size", "number", group.max_size, "Maximum nodes in the system node group"),
        ("node_desired_size", "number", group.desired_size, "Nodes the system node group starts with"),
        (
            "create_spot_service_linked_role",
            "bool",
            plat.create_spot_service_linked_role,
            "Create AWSServiceRoleForEC2Spot (false when the account has it already)",
        ),
    )
    result = [
        {
            "name": name,
            "description": f"{description} (rendered: {key})",
            "type": type_,
            "default": hcl(default),
            "pinned": _RENDERED.format(value=default, key=key),
        }
        for name, type_, default, key, description in rendered
    ]
    result += [
        {"name": name, "description": description, "type": type_, "default": hcl(default), "pinned": None}
        for name, type_, default, description in free
    ]
    return result


# How each credential key is generated; user names are the databases' application users, not secrets.
_ACCESS_KEY_ID = (("length", "20"), ("lower", "false"), ("special", "false"))  # the shape of an AWS key ID
_SECRET_ACCESS_KEY = (("length", "40"), ("special", "false"))  # the length of an AWS secret access key
# Letters and digits only: the stores read them through environment variables and shell entrypoints.
_PASSWORD = (("length", "32"), ("special", "false"))


def _secrets(cfg: Config, names: PlatformNames) -> list[dict[str, Any]]:
    secrets = []
    for secret in resolve(cfg).credential_secrets:
        label = secret.name.replace("-", "_")
        keys: list[tuple[str, str]] = []
        passwords = []
        for key in secret.keys:
            if key == "username":
                keys.append((key, f"local.database_users[{hcl(secret.name)}]"))
                continue
            password_label = f"{label}_{key.replace('-', '_')}"
            arguments = {"aws-access-key-id": _ACCESS_KEY_ID, "aws-secret-access-key": _SECRET_ACCESS_KEY}.get(
                key, _PASSWORD
            )
            passwords.append({"label": password_label, "arguments": list(arguments)})
            keys.append((key, f"ephemeral.random_password.{password_label}.result"))
        secrets.append(
            {
                "label": label,
                "name": f"{names.secret_prefix}/{secret.name}",
                "name_expr": f'"${{local.secret_prefix}}/{secret.name}"',
                "description": f"Secret {secret.name} of namespace {cfg.namespace} (keys: {', '.join(secret.keys)})",
                "entries": keys,
                "passwords": passwords,
            }
        )
    return secrets
