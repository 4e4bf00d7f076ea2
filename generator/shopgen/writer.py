"""Apply a Plan to disk crash-safely: a journal first, then the files, then drop the journal (SPEC §3).

The journal (``.shopgen/journal.json``) holds the complete new content of everything a run changes,
written and fsynced before the first file is touched. A run that finds a journal completes it before
anything else (roll forward), so after any interruption the tree is the complete old state or, after
the next command, the complete new one. A lock (``.shopgen/lock``, holding the pid) keeps two runs
from interleaving; a lock whose process is gone is taken over.

Files that exist are replaced through a temp file + ``os.replace`` (readers see old or new bytes);
new files are written in place, since the journal recreates them whole after a crash.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from shopgen.errors import WriteError
from shopgen.plan import Plan
from shopgen.state import GENERATED_FILE, STATE_DIR

JOURNAL_FILE = f"{STATE_DIR}/journal.json"
LOCK_FILE = f"{STATE_DIR}/lock"
FAULT_ENV = "SHOPGEN_FAULT"  # tests only: "kill:N", "enospc:N", "eacces:N" or "erofs:N" at file operation N
_FAULT_ERRNO = {"enospc": errno.ENOSPC, "eacces": errno.EACCES, "erofs": errno.EROFS}


class _Faults:
    """Counts file operations; with $SHOPGEN_FAULT set (tests' child processes), fails or dies at one."""

    def __init__(self) -> None:
        spec = os.environ.get(FAULT_ENV, "")
        kind, _, at = spec.partition(":")
        self.kind = kind if kind in (*_FAULT_ERRNO, "kill") and at.isdigit() else ""
        self.at = int(at) if self.kind else 0
        self.count = 0

    def step(self, path: Path) -> None:
        if not self.kind:
            return
        self.count += 1
        if self.count != self.at:
            return
        if self.kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        code = _FAULT_ERRNO[self.kind]
        raise OSError(code, os.strerror(code), str(path))


_faults = _Faults()


def _fault_step(path: Path) -> None:
    _faults.step(path)


def write_atomic(path: Path, text: str | bytes, *, durable: bool = False) -> None:
    """Write ``text`` so readers see the old bytes or the new ones, never a mix."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _fault_step(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            _fault_step(path)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _write_new(path: Path, text: str) -> None:
    """A file that does not exist yet: written in place (the journal recreates it after a crash)."""
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        _fault_step(path)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None


def remove(path: Path, root: Path) -> None:
    try:
        _fault_step(path)
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise WriteError(f"{path}: cannot remove: {exc.strerror or exc}") from None
    parent = path.parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


# --- lock ------------------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold ``.shopgen/lock`` for the duration; a clear error when another live shopgen holds it."""
    lock = root / LOCK_FILE
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"{lock.parent}: cannot create: {exc.strerror or exc}") from None
    mine = f"{os.getpid()}\n"
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_pid(lock)
            if holder is not None and holder != os.getpid() and _pid_alive(holder):
                raise WriteError(
                    f"another shopgen is running (pid {holder}) on {root}; wait for it to finish"
                ) from None
            # The holder is gone (killed): take the lock over, atomically, then re-check it is ours.
            write_atomic(lock, mine)
            if _read_pid(lock) == os.getpid():
                break
            continue
        except OSError as exc:
            raise WriteError(f"{lock}: cannot create the lock: {exc.strerror or exc}") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(mine)
        break
    try:
        yield
    finally:
        if _read_pid(lock) == os.getpid():
            with contextlib.suppress(OSError):
                lock.unlink()


def _read_pid(lock: Path) -> int | None:
    try:
        text = lock.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


# --- journal ---------------------------------------------------------------------------------------


def pending_journal(root: Path) -> bool:
    return (root / JOURNAL_FILE).exists()


def _apply_ops(root: Path, writes: Mapping[str, str], removes: Sequence[str]) -> None:
    """Every write (generated.json last), then removals; each step is idempotent, for roll-forward."""
    for rel, text in writes.items():
        if rel == GENERATED_FILE:
            continue
        path = root / rel
        if path.exists() or path.is_symlink():
            write_atomic(path, text)
        else:
            _write_new(path, text)
    for rel in removes:
        remove(root / rel, root)
    if GENERATED_FILE in writes:
        write_atomic(root / GENERATED_FILE, writes[GENERATED_FILE])


def _write_journal(root: Path, data: dict[str, Any]) -> None:
    write_atomic(root / JOURNAL_FILE, json.dumps(data, sort_keys=True), durable=True)
    with contextlib.suppress(OSError):  # the rename itself must survive a power cut too
        dir_fd = os.open(root / STATE_DIR, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def clear_journal(root: Path) -> None:
    try:
        _fault_step(root / JOURNAL_FILE)
        (root / JOURNAL_FILE).unlink(missing_ok=True)
    except OSError as exc:
        raise WriteError(f"{root / JOURNAL_FILE}: cannot remove: {exc.strerror or exc}") from None


def apply(plan: Plan, *, extra: dict[str, Any] | None = None, keep_journal: bool = False) -> None:
    """Journal the plan, apply it, drop the journal. The caller holds the lock.

    ``extra`` rides along in the journal (promote records the commit it is about to make) and
    ``keep_journal`` leaves the journal for the caller to clear once that follow-up is done.
    """
    if plan.is_noop and not extra:
        return
    data = {"writes": plan.writes, "removes": list(plan.removes), **(extra or {})}
    _write_journal(plan.root, data)
    try:
        _apply_ops(plan.root, plan.writes, plan.removes)
    except WriteError:
        # A failure we see (disk full, permission denied): put the old tree back and drop the journal.
        # Only if that fails too does the journal stay, for the next run to roll forward.
        try:
            _roll_back(plan)
        except WriteError as also:
            raise WriteError(f"{also}; the interrupted run is journalled: the next shopgen run completes it") from None
        clear_journal(plan.root)
        raise
    if not keep_journal:
        clear_journal(plan.root)


def _roll_back(plan: Plan) -> None:
    for rel, before in plan.old.items():
        path = plan.root / rel
        if before is None:
            remove(path, plan.root)
        else:
            write_atomic(path, before)


def roll_forward(root: Path) -> dict[str, Any] | None:
    """Complete an interrupted run's file changes; return its journal (for follow-ups), or None.

    The caller holds the lock and clears the journal once any follow-up (a commit) is done.
    """
    path = root / JOURNAL_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        writes = {str(k): str(v) for k, v in data["writes"].items()}
        removes = [str(p) for p in data["removes"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WriteError(
            f"{path}: unreadable journal of an interrupted run ({exc}); restore the tree from git and delete it"
        ) from None
    _apply_ops(root, writes, removes)
    return data
