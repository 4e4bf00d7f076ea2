"""Where shopgen works: the output root (``--out``, else the git top level, else the current folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from shopgen.errors import ConfigError


def git_toplevel(start: Path) -> Path | None:
    """The top level of the git repository around ``start``; None outside one or without git."""
    if shutil.which("git") is None:
        return None
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    if out.returncode != 0:
        return None
    return Path(out.stdout.strip())


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


def repo_prefix(root: Path) -> str:
    """The output root's folder inside its git repository ("" at the top level or outside git)."""
    existing = next(p for p in (root, *root.parents) if p.exists())
    top = git_toplevel(existing)
    if top is None:
        return ""
    rel = root.resolve().relative_to(top.resolve()).as_posix()
    return "" if rel == "." else f"{rel}/"


def git_ignored(root: Path, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` (relative to ``root``) git ignores there: those are never shopgen's to remove.

    Outside a repository, or without git, nothing is ignored.
    """
    if not paths or shutil.which("git") is None or not root.is_dir():
        return set()
    try:
        proc = subprocess.run(
            ["git", "check-ignore", "-z", "--stdin"],
            cwd=root,
            input="".join(f"{p}\0" for p in paths).encode(),
            capture_output=True,
            check=False,
        )
    except OSError:
        return set()
    if proc.returncode not in (0, 1):
        return set()  # not a repository
    return {item.decode() for item in proc.stdout.split(b"\0") if item}
