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


def config_template() -> str:
    """The shopgen.yaml `shopgen init` writes: every setting at its default, its description as a comment."""
    from shopgen.config.load import defaults

    lines = [INTRO]
    _emit(defaults(), 0, lines)
    text = "\n".join(lines) + "\n"
    yamlio.load_text(text, "shopgen init template")  # never hand out a file shopgen would refuse
    return text


def _emit(model: BaseModel, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(model, Config) and name == "services":
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
