"""docs/runbook.md: the scenario end to end (render, apply, load, promote, tear down) for this config.

Rendered from templates/runbook.md.j2 with the terraform templates' Jinja2 environment, so every
name in it (namespace, cluster, region, load balancer, exposed service, HPA targets, Secrets, roles,
stages) is the one the rest of the render uses. Pure: returns text, never touches disk.
"""

from __future__ import annotations

import shlex
from typing import Any

import jinja2

from shopgen.config import Config, load_profile
from shopgen.errors import RenderError
from shopgen.render.platform.addons import ADDON_WAVE, PLATFORM_CONFIG, PLATFORM_CONFIG_WAVE, addons, platform_names
from shopgen.render.platform.terraform import environment
from shopgen.render.readme import MARKDOWN_HEADER, profile_line
from shopgen.story.facts import CredentialSecret
from shopgen.story.shop import resolve
from shopgen.story.stages import all_stages
from shopgen.story.stages.base import and_list, plural

RUNBOOK = "docs/runbook.md"
TEMPLATE_FOLDER = "templates"
TEMPLATE = "runbook.md.j2"
# How CI installs shopgen when the repository has no workflow of its own (never a pinned version).
INSTALL = "pip install shopgen"
WORKFLOW = ".github/workflows/shopgen.yml"


def render_runbook(cfg: Config, *, repo_prefix: str = "") -> str:
    """The runbook for ``cfg``; ``repo_prefix`` is the output root inside its git repository ("" or "sub/dir/")."""
    try:
        return environment(TEMPLATE_FOLDER).get_template(TEMPLATE).render(**runbook_context(cfg, repo_prefix))
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {TEMPLATE}: {exc.message} (a bug in shopgen's context)") from None


def runbook_context(cfg: Config, repo_prefix: str = "") -> dict[str, Any]:
    """Everything the runbook template reads, from the same config and names as the rest of the render."""
    names = platform_names(cfg)
    external_secrets = cfg.secrets.provider == "external-secrets"
    secrets = resolve(cfg).credential_secrets
    stages = all_stages()
    node_group = cfg.platform.node_group
    root = repo_prefix.rstrip("/")
    return {
        "header": MARKDOWN_HEADER,
        "profile": load_profile(cfg.app.profile),
        "profile_line": profile_line(cfg),
        "namespace": cfg.namespace,
        "cluster": names.cluster,
        "region": names.region,
        "kubernetes_version": cfg.cluster.kubernetes_version,
        "load_balancer": cfg.load_balancer_name,
        "internal": cfg.ingress.scheme == "internal",
        "exposed": cfg.ingress.service,
        "hpa_targets": list(cfg.autoscaling.hpa.targets),
        "karpenter_node_role": names.karpenter_node_role,
        "vpc": names.vpc,
        "secret_prefix": names.secret_prefix,
        "secret_store": cfg.secrets.store,
        "external_secrets": external_secrets,
        "secrets": secrets,
        "secret_list": and_list([f"`{s.name}`" for s in secrets]) if secrets else "",
        "secret_count": plural(len(secrets), "Secret"),
        "secret_commands": secret_commands(secrets),
        "passwords": any(key.endswith("password") for s in secrets for key in s.keys),
        "storage_class": cfg.stores.storage_class,
        "az_count": cfg.platform.az_count,
        "nat": "one NAT gateway" if cfg.platform.single_nat_gateway else "a NAT gateway per AZ",
        "nodes": f"{plural(node_group.desired_size, '/'.join(node_group.instance_types) + ' node')}",
        "addon_wave": ADDON_WAVE,
        "addons": [a.name for a in addons(cfg)],
        "platform_config": PLATFORM_CONFIG,
        "platform_config_wave": PLATFORM_CONFIG_WAVE,
        # The reader works from the git top level: paths and `cd` lines name the output root from there.
        "root": root,
        "prefix": repo_prefix,
        "terraform_dir": f"{repo_prefix}terraform",
        "out": f" --out {shlex.quote(root)}" if root else "",
        "install": INSTALL,
        "workflow": WORKFLOW,
        "stages": [(s.name, cell(s.text("story", cfg)), cell(s.text("watch", cfg))) for s in stages],
        "first_stage": stages[0].name,
        "next_stage": stages[1].name if len(stages) > 1 else stages[0].name,
        "last_stage": stages[-1].name,
    }


def secret_commands(secrets: tuple[CredentialSecret, ...]) -> list[str]:
    """``kubectl create secret generic`` for each Secret the shop reads (secrets.provider: none).

    The values are made on the spot and never shown: a database user name is the Secret's name
    without "-db", an AWS access key id looks like one, everything else is 16 random bytes in hex.
    """
    lines: list[str] = []
    for secret in secrets:
        lines.append(f"# read by {secret.owner}")
        lines.append(f'kubectl -n "$NS" create secret generic {secret.name} \\')
        for i, key in enumerate(secret.keys):
            if key == "username":
                value = shlex.quote(secret.name.removesuffix("-db"))
            elif key == "aws-access-key-id":
                value = '"$(openssl rand -hex 10 | tr a-f A-F)"'
            else:
                value = '"$(openssl rand -hex 16)"'
            more = " \\" if i < len(secret.keys) - 1 else ""
            lines.append(f"  --from-literal={key}={value}{more}")
    return lines


def cell(text: str) -> str:
    """Prose as one Markdown table cell: a ``|`` would end the cell, a newline the row."""
    return " ".join(text.split()).replace("|", "\\|")
