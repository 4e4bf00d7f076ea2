"""The platform layer: terraform/, charts/<addon>/values.yaml, argocd/addons/ and platform/.

Pure: ``render_platform`` returns {path relative to the output root: text} and never touches disk.
Every name the cluster side uses (IAM roles, the interruption queue, service accounts, the VPC's Name
tag, Secrets Manager keys) is derived once here, from the same config as the manifests, and handed to
both the terraform templates and the Helm values, so the two can never disagree and nothing waits for
an ID that only exists after ``terraform apply``.

The Argo CD objects (add-on Applications, AppProject ``platform``, Application ``root``) and the
ClusterSecretStore are plain dicts dumped with shopgen's yamlio: a dozen small objects with no shared
structure gain nothing from cdk8s, and building them needs no Node.js.
"""

from __future__ import annotations

from typing import Any

from shopgen import yamlio
from shopgen.config import Config
from shopgen.render.platform.addons import (
    ADDON_WAVE,
    ARGOCD_NAMESPACE,
    PLATFORM_CONFIG,
    PLATFORM_CONFIG_WAVE,
    Addon,
    PlatformNames,
    addon_applications,
    addons,
    argo_cd_values,
    argocd_apps_values,
    bootstrap_objects,
    cluster_kinds,
    cluster_secret_store,
    platform_names,
)
from shopgen.render.platform.terraform import render_terraform
from shopgen.render.platform.terraform_context import terraform_context
from shopgen.render.tree import HEADER

__all__ = [
    "ADDON_WAVE",
    "ARGOCD_NAMESPACE",
    "PLATFORM_CONFIG",
    "PLATFORM_CONFIG_WAVE",
    "Addon",
    "PlatformNames",
    "addon_applications",
    "addons",
    "argo_cd_values",
    "argocd_apps_values",
    "bootstrap_objects",
    "cluster_kinds",
    "cluster_secret_store",
    "platform_manifests",
    "platform_names",
    "render_platform",
    "terraform_context",
]


def platform_manifests(cfg: Config, *, repo_prefix: str = "") -> dict[str, dict[str, Any]]:
    """The platform layer's Kubernetes objects, by file: add-on Applications and the secret store."""
    manifests = {
        f"argocd/addons/{name}.yaml": app for name, app in addon_applications(cfg, repo_prefix=repo_prefix).items()
    }
    if cfg.secrets.provider == "external-secrets":
        store = cluster_secret_store(cfg)
        manifests[f"platform/clustersecretstore-{store['metadata']['name']}.yaml"] = store
    return manifests


def render_platform(cfg: Config, *, repo_prefix: str = "") -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Every file of the platform layer, and its Kubernetes objects by file (for validation).

    ``repo_prefix`` is the output root inside its git repository ("" at the top level, else
    "sub/dir/"): Argo CD paths are relative to the repository's top level.
    """
    names = platform_names(cfg)
    files: dict[str, str] = {}
    for addon in addons(cfg):
        why = "".join(f"# {line}\n" for line in addon.why.splitlines())
        files[f"charts/{addon.name}/values.yaml"] = HEADER + why + yamlio.dump(addon.values)
    manifests = platform_manifests(cfg, repo_prefix=repo_prefix)
    for path, manifest in manifests.items():
        files[path] = HEADER + yamlio.dump(manifest)
    project, root = bootstrap_objects(cfg, repo_prefix=repo_prefix)
    files["terraform/values/argo-cd.yaml"] = HEADER + yamlio.dump(argo_cd_values())
    files["terraform/values/argocd-apps.yaml"] = HEADER + yamlio.dump(argocd_apps_values(project, root))
    without = () if cfg.secrets.provider == "external-secrets" else ("secrets.tf",)
    files.update(render_terraform(terraform_context(cfg, names), exclude=without))
    return dict(sorted(files.items())), manifests
