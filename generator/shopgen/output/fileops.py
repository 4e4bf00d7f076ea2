"""The file operations a run makes: atomic replace, in-place create, remove, each behind one seam.

Files that exist are replaced through a temp file + ``os.replace`` (readers see old or new bytes);
new files are written in place, since the journal recreates them whole after a crash (a killed
write leaves a prefix of the new bytes, which the journal's check recognises). Temp files have one
fixed name per target (``.NAME.shopgen.tmp``; writes happen under the lock), so what a killed run
leaves behind is overwritten or removed by the run that completes it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from shopgen.errors import WriteError

# Called with the path before every file operation: a seam for tests that count the operations or
# fail one of them (tests/faults.py installs one in a child process). Production installs none.
operation_hooks: list[Callable[[Path], None]] = []


def fault_step(path: Path) -> None:
    for hook in operation_hooks:
        hook(path)


def temp_path(path: Path) -> Path:
    """The one temp file of ``path``: a killed run's leftover is reused, not multiplied."""
    return path.with_name(f".{path.name}.shopgen.tmp")


def write_atomic(path: Path, text: str | bytes, *, durable: bool = False, mode: int = 0o644) -> None:
    """Write ``text`` so readers see the old bytes or the new ones, never a mix."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    tmp = temp_path(path)
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        fault_step(path)
        # Unlink first, then O_EXCL: a leftover (or a planted symlink) is never written through.
        _drop_temp(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), mode)
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            fault_step(path)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _drop_temp(tmp: Path) -> None:
    """Remove a leftover temp file; a folder in its place (a commit can hold one) is named, not followed."""
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        raise WriteError(f"{tmp}: is a folder where shopgen keeps a temp file; remove it") from None
    except PermissionError:
        if tmp.is_dir() and not tmp.is_symlink():  # unlink of a folder is EPERM on some systems
            raise WriteError(f"{tmp}: is a folder where shopgen keeps a temp file; remove it") from None
        raise


def write_new(path: Path, text: str) -> None:
    """A file that does not exist yet: written in place (the journal recreates it after a crash)."""
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        fault_step(path)
        # O_EXCL | O_NOFOLLOW: a file or link that appeared since the plan is never written through.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None


def remove(path: Path, root: Path) -> None:
    try:
        fault_step(path)
        path.unlink(missing_ok=True)
        temp_path(path).unlink(missing_ok=True)  # left by a run killed while undoing itself
    except OSError as exc:
        raise WriteError(f"{path}: cannot remove: {exc.strerror or exc}") from None
    parent = path.parent
    try:
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            fault_step(parent)
            parent.rmdir()
            parent = parent.parent
    except OSError as exc:
        raise WriteError(f"{parent}: cannot remove the emptied folder: {exc.strerror or exc}") from None
