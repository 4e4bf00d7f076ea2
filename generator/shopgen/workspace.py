"""Where shopgen works: the output root — ``--out``, else the folder of the nearest shopgen.yaml from
the current folder up to the git top level, else the git top level, else the current folder. One
repository may hold several roots (clusters/dev/, clusters/prod/), each with its own config and state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shopgen.errors import ConfigError
from shopgen.gitops import git_toplevel

CONFIG_FILENAME = "shopgen.yaml"


@dataclass(frozen=True)
class Root:
    """The output root and why it is the one (every command prints both)."""

    path: Path
    reason: str

    def describe(self) -> str:
        return f"root: {self.path} ({self.reason})"


def find_root(out: Path | None) -> Root:
    """The output root for ``--out`` (None: discover it); a path that is not a folder is a usage error."""
    if out is not None:
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out}: is a file, not a folder")
        resolved = out.resolve()
        blocking = next((p for p in resolved.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            raise ConfigError(f"--out {out}: {blocking} is a file, not a folder")
        return Root(resolved, "--out")
    cwd = Path.cwd().resolve()
    top = git_toplevel(cwd)
    if top is None:  # outside git only the current folder counts: never a config of some parent folder
        return Root(cwd, f"{CONFIG_FILENAME} here" if (cwd / CONFIG_FILENAME).is_file() else "current folder")
    for folder in (cwd, *cwd.parents):
        if (folder / CONFIG_FILENAME).is_file():
            return Root(folder, f"nearest {CONFIG_FILENAME}")
        if folder == top:
            break
    return Root(top, "git top level")


def output_root(out: Path | None) -> Path:
    """The output root's path (see find_root)."""
    return find_root(out).path


CRD_DIR_ENV = "SHOPGEN_CRD_DIR"


def crd_dir_from(option: Path | None) -> Path | None:
    """``--crd-dir``, else $SHOPGEN_CRD_DIR, else None (custom resources reported "not validated")."""
    value = option or (Path(os.environ[CRD_DIR_ENV]) if os.environ.get(CRD_DIR_ENV) else None)
    if value is not None and not value.is_dir():
        raise ConfigError(f"--crd-dir {value}: not a folder of CRD files")
    return value
