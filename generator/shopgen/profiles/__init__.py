"""The release profiles shipped with shopgen: one YAML file each (a shop declared as data).

Listing them imports nothing else, so the CLI can offer them as choices without loading the config
models; config/profiles.py reads and validates them.
"""

from __future__ import annotations

from importlib import resources


def names() -> tuple[str, ...]:
    """Every shipped profile's name, sorted."""
    folder = resources.files(__name__)
    return tuple(sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")))


def read_text(name: str) -> str:
    return (resources.files(__name__) / f"{name}.yaml").read_text(encoding="utf-8")
