"""Where shopgen works: the output root (``--out``, else the git top level, else the current folder)."""

from __future__ import annotations

import os
from pathlib import Path

from shopgen.errors import ConfigError
from shopgen.gitops import git_toplevel


def output_root(out: Path | None) -> Path:
    """Resolve the output root; a path that exists and is not a folder is a usage error."""
    if out is not None:
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out}: is a file, not a folder")
        resolved = out.resolve()
        blocking = next((p for p in resolved.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            raise ConfigError(f"--out {out}: {blocking} is a file, not a folder")
        return resolved
    cwd = Path.cwd()
    return git_toplevel(cwd) or cwd


CRD_DIR_ENV = "SHOPGEN_CRD_DIR"


def crd_dir_from(option: Path | None) -> Path | None:
    """``--crd-dir``, else $SHOPGEN_CRD_DIR, else None (custom resources reported "not validated")."""
    value = option or (Path(os.environ[CRD_DIR_ENV]) if os.environ.get(CRD_DIR_ENV) else None)
    if value is not None and not value.is_dir():
        raise ConfigError(f"--crd-dir {value}: not a folder of CRD files")
    return value
