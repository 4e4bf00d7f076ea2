"""`shopgen init`: write a commented shopgen.yaml holding every default, to see and change them."""

from __future__ import annotations

from pathlib import Path

from shopgen.commands.outcome import Outcome
from shopgen.config import CONFIG_FILENAME
from shopgen.config.template import config_template
from shopgen.errors import ConfigError
from shopgen.output.fileops import write_atomic
from shopgen.workspace import output_root


def run(*, out: Path | None, force: bool) -> Outcome:
    target = output_root(out) / CONFIG_FILENAME
    if target.exists() and not force:
        raise ConfigError(f"{target}: exists already; use --force to overwrite it")
    write_atomic(target, config_template())
    return Outcome(err=[f"create {target}"])
