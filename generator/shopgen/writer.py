"""Apply a Plan to disk: temp file + os.replace per file, only where bytes differ; prune own files.

The order — every write, then removals, generated.json last — means an interruption leaves files
that generated.json does not yet describe, never a record of files that are not there. (The journal
and lock of SPEC §3 wrap ``apply`` without changing it.)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from shopgen.errors import WriteError
from shopgen.plan import Plan
from shopgen.state import GENERATED_FILE


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old bytes or the new ones, never a mix."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None


def remove(path: Path, root: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise WriteError(f"{path}: cannot remove: {exc.strerror or exc}") from None
    parent = path.parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def apply(plan: Plan) -> None:
    """Write every changed file, remove stale ones, record generated.json last."""
    for rel, text in plan.writes.items():
        if rel != GENERATED_FILE:
            write_atomic(plan.root / rel, text)
    for rel in plan.removes:
        remove(plan.root / rel, plan.root)
    if GENERATED_FILE in plan.writes:
        write_atomic(plan.root / GENERATED_FILE, plan.writes[GENERATED_FILE])
