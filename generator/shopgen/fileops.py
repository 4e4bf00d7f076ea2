"""The file operations a run makes: atomic replace, in-place create, remove; each counted for fault tests.

Files that exist are replaced through a temp file + ``os.replace`` (readers see old or new bytes);
new files are written in place, since the journal recreates them whole after a crash (a killed
write leaves a prefix of the new bytes, which the journal's check recognises). Temp files have one
fixed name per target (``.NAME.shopgen.tmp``; writes happen under the lock), so what a killed run
leaves behind is overwritten or removed by the run that completes it.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import signal
from pathlib import Path

from shopgen.errors import WriteError

# tests only: "kill:N", "enospc:N", "eacces:N" or "erofs:N" at file operation N; "enospc:N+" from N on
FAULT_ENV = "SHOPGEN_FAULT"
FAULT_COUNT_ENV = "SHOPGEN_FAULT_COUNT"  # tests only: a file that receives the number of file operations at exit
FAULT_LOG_ENV = "SHOPGEN_FAULT_LOG"  # tests only: a file that receives each operation's path, one per line
_FAULT_ERRNO = {"enospc": errno.ENOSPC, "eacces": errno.EACCES, "erofs": errno.EROFS}


class _Faults:
    """Counts file operations; with $SHOPGEN_FAULT set (tests' child processes), fails or dies at one."""

    def __init__(self) -> None:
        spec = os.environ.get(FAULT_ENV, "")
        kind, _, at = spec.partition(":")
        self.onward = at.endswith("+") and kind != "kill"  # a full disk stays full: the undo fails too
        at = at.removesuffix("+")
        self.kind = kind if kind in (*_FAULT_ERRNO, "kill") and at.isdigit() else ""
        self.at = int(at) if self.kind else 0
        self.count = 0
        self.report = os.environ.get(FAULT_COUNT_ENV, "")
        self.log_to = os.environ.get(FAULT_LOG_ENV, "")
        self.paths: list[str] = []
        if self.report or self.log_to:
            atexit.register(self._report)

    def _report(self) -> None:
        if self.report:
            Path(self.report).write_text(f"{self.count}\n")
        if self.log_to:
            Path(self.log_to).write_text("".join(f"{p}\n" for p in self.paths))

    def step(self, path: Path) -> None:
        if not (self.kind or self.report or self.log_to):
            return
        self.count += 1
        if self.log_to:
            self.paths.append(str(path))
        if self.count != self.at and not (self.onward and self.count > self.at):
            return
        if self.kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        code = _FAULT_ERRNO[self.kind]
        raise OSError(code, os.strerror(code), str(path))


_faults = _Faults()


def fault_step(path: Path) -> None:
    _faults.step(path)


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
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
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
