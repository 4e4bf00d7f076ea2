"""`shopgen init`: a commented shopgen.yaml holding every default, generated from the config models so it
cannot drift from them, and read back before it is handed out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shopgen import yamlio
from shopgen.config.declaration import StartupProbe
from shopgen.config.models import Config

INTRO = """\
# shopgen.yaml: every setting with its default (the course's values where it set one).
# Delete what you do not change: a missing setting keeps its default. shopgen reads this file from
# the output root; `shopgen synth --config FILE` names another.
"""

# The blank profile starts with one example service, every field explained: rename it, change it, add
# services beside it (README, "Your own shop").
BLANK_EXAMPLE = """\
services:
  web:  # an example service: rename it, change it, add your own beside it
    image:
      repository: ghcr.io/example/web
      tag: 1.0.0
      # digest: sha256:...            # pins the image
      # pull_secrets: [my-registry]   # Secrets for a private registry (create them in the namespace)
    port: 8080  # the container port (named http); its Service listens on 80
    runtime:
      kind: go  # jvm | go | node | nginx | other: sets the defaults below
      # start_seconds: 5      # time to start on a fresh node: the startupProbe allows twice as much
      # shutdown_seconds: 10  # time to finish in-flight work: grace = preStop sleep + this
    health:  # either may be absent; a service without endpoints gets no probes
      readiness: /ready  # the ALB health check and readiness gate follow it when the ALB exposes it
      liveness: /live  # a deadlock detector (a 60 s window), never a load signal
    settings:  # non-secret env, in the ConfigMap
      LOG_LEVEL: info
    # secrets:  # env from a key of a Secret (an ExternalSecret; terraform creates the entry)
    #   API_KEY: {secret: web-keys, key: api-key}
    # calls:  # services it calls: the setting receives http://<service>
    #   pricing: PRICING_URL
    # stores:  # backing stores from the catalogue: mysql | postgresql | redis | rabbitmq | dynamodb-local
    #   cache: {kind: redis}  # named web-cache
    replicas: 2  # 2 or more: a PodDisruptionBudget from the autoscaling stage on
    resources:
      cpu: 250m  # an HPA target needs a CPU request; never a CPU limit
      memory: 256Mi
    # security: {profile: exception, reason: "..."}  # restricted (non-root, read-only root) by default
"""

# Extensions stay commented out: the files they name must exist (README, "Extensions").
EXTENSIONS_EXAMPLE = """\
# Your own manifests and patches, per stage, applied from that stage on (README, "Extensions"):
# extensions:
#   autoscaling:
#     resources: [extensions/networkpolicy-ui.yaml]
#     patches:
#       - path: extensions/ui-patch.yaml  # a partial object (strategic merge), or JSON 6902 with a target
"""


def config_template(profile: str | None = None) -> str:
    """The shopgen.yaml `shopgen init` writes for ``profile`` (default: the default profile): every setting
    at its default, its description as a comment. Read back before it is handed out."""
    from shopgen.config.load import defaults, parse
    from shopgen.config.profiles import DEFAULT_PROFILE, load_profile

    name = profile or DEFAULT_PROFILE
    example = None if load_profile(name).layer.get("services") else BLANK_EXAMPLE
    data: dict[str, Any] = {"app": {"profile": name}}
    if example is not None:
        services = yamlio.to_plain(yamlio.load_text(example, "example"))
        exposed = next(iter(services["services"]))
        data |= {"ingress": {"service": exposed}, "autoscaling": {"hpa": {"targets": [exposed]}}}
        data |= services
    cfg = defaults() if name == DEFAULT_PROFILE else parse(data, f"profile {name}")
    lines = [INTRO]
    _emit(cfg, 0, lines, example)
    text = "\n".join(lines) + "\n"
    written = parse(yamlio.to_plain(yamlio.load_text(text, "shopgen init template")), "shopgen init template")
    if written != cfg:  # never hand out a file that reads as anything but the profile's defaults
        raise AssertionError(f"the init template of profile {name} does not read back as its defaults")
    return text


def _emit(model: BaseModel, indent: int, lines: list[str], example: str | None = None) -> None:
    pad = "  " * indent
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(model, Config) and name == "extensions":
            lines.extend(EXTENSIONS_EXAMPLE.rstrip("\n").splitlines())
            continue
        if isinstance(model, Config) and name == "services":
            if example is not None:
                lines.append(example.rstrip("\n"))
            else:
                _emit_services(model, lines)
            continue
        if info.description:
            lines.append(f"{pad}# {info.description}")
        if isinstance(value, BaseModel) and not type(value).model_fields:
            lines.append(f"{pad}{name}: {{}}")
        elif isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:")
            _emit(value, indent + 1, lines)
            if isinstance(value, StartupProbe):
                lines.append(f"{pad}  # failureThreshold = ceil(2 x runtime.start_seconds / period_seconds)")
        else:
            lines.append(f"{pad}{name}: {_scalar(value)}")


def _scalar(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return (
        yamlio.dump({"v": value}).strip()[len("v: ") :]
        if not isinstance(value, list)
        else ("[" + ", ".join(_scalar(v) for v in value) + "]")
    )


def _emit_services(cfg: Config, lines: list[str]) -> None:
    """The profile's services as comments: a key set here overrides the profile's, a new name adds a
    service (README, "Your own shop"), ``<name>: null`` removes one."""
    lines.append(
        f"# The services of profile {cfg.app.profile} (app.profile). A field set here overrides the profile's, a new"
    )
    lines.append("# name adds a service of your own, `<name>: null` removes one. The profile declares:")
    declared = {name: svc.model_dump(mode="json", exclude_defaults=True) for name, svc in cfg.services.items()}
    for line in yamlio.dump({"services": declared}).splitlines():
        lines.append(f"#   {line}" if line.strip() else "#")
    lines.append("services: {}")
