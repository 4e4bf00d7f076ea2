"""Release profiles: a shop declared as data (shopgen/profiles/<name>.yaml), the bottom layer of a config.

A profile file is a shopgen.yaml layer (services, the exposure, the HPA targets, …) plus a ``profile``
header naming it; shopgen.yaml is laid over it, so a user adds services or overrides the profile's fields.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from shopgen import profiles, yamlio
from shopgen.errors import ConfigError

DEFAULT_PROFILE = "retail-0.7.1"


@dataclass(frozen=True)
class Profile:
    name: str
    release: str | None  # the app release it deploys, when it is one app's release
    description: str
    layer: dict[str, Any]  # the settings it lays under shopgen.yaml
    shop: str | None = None  # how the stages' prose names the shop it deploys (None: by app.name)


def profile_names() -> tuple[str, ...]:
    return profiles.names()


@functools.cache
def load_profile(name: str) -> Profile:
    """The profile shipped in the package; an unknown name is a ConfigError listing the known ones."""
    if name not in profile_names():
        raise ConfigError(f"app.profile: unknown profile {name!r}; profiles: {', '.join(profile_names())}")
    source = f"profile {name}"
    text = profiles.read_text(name)
    data = yamlio.to_plain(yamlio.load_text(text, source), source)
    header = data.pop("profile")
    if header.get("name") != name:
        raise ConfigError(f"{source}: its header names {header.get('name')!r}")  # a packaging mistake
    return Profile(
        name=name,
        release=header.get("release"),
        description=header["description"],
        layer=data,
        shop=header.get("shop"),
    )
