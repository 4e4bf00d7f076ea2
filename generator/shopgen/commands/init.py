"""`shopgen init`: write a commented shopgen.yaml holding every default of a release profile, to see and
change them (blank: a shop of one's own, starting from one example service)."""

from __future__ import annotations

from pathlib import Path

from shopgen.commands.outcome import Outcome
from shopgen.config import CONFIG_FILENAME, DEFAULT_PROFILE
from shopgen.config.template import config_template
from shopgen.errors import ConfigError
from shopgen.output.fileops import write_atomic
from shopgen.workspace import output_root


def run(*, out: Path | None, force: bool, profile: str | None = None) -> Outcome:
    target = output_root(out) / CONFIG_FILENAME
    if target.exists() and not force:
        raise ConfigError(f"{target}: exists already; use --force to overwrite it")
    text = config_template(profile)
    write_atomic(target, text)
    return Outcome(err=[f"create {target} (profile {profile or DEFAULT_PROFILE})"])
