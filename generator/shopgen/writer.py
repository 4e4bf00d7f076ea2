"""Apply a Plan to disk crash-safely: a journal first, then the files, then drop the journal (SPEC §3).

The journal (``.shopgen/journal.json``) holds the complete new content of everything a run changes,
written and fsynced before the first file is touched. A run that finds a journal completes it before
anything else (roll forward), so after any interruption the tree is the complete old state or, after
the next command, the complete new one. A lock (``.shopgen/lock``: an ``flock`` the kernel drops
when its holder dies, and the holder's pid for the message) keeps two runs from interleaving; a lock
whose process is gone is taken over.

Files that exist are replaced through a temp file + ``os.replace`` (readers see old or new bytes);
new files are written in place, since the journal recreates them whole after a crash. Temp files
have one fixed name per target (``.NAME.shopgen.tmp``; writes happen under the lock), so what a
killed run leaves behind is overwritten or removed by the run that completes it.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from shopgen.errors import ShopgenError, WriteError
from shopgen.plan import Plan, check_inside
from shopgen.state import GENERATED_FILE, STATE_DIR

JOURNAL_FILE = f"{STATE_DIR}/journal.json"
LOCK_FILE = f"{STATE_DIR}/lock"
FAULT_ENV = "SHOPGEN_FAULT"  # tests only: "kill:N", "enospc:N", "eacces:N" or "erofs:N" at file operation N
FAULT_COUNT_ENV = "SHOPGEN_FAULT_COUNT"  # tests only: a file that receives the number of file operations at exit
_FAULT_ERRNO = {"enospc": errno.ENOSPC, "eacces": errno.EACCES, "erofs": errno.EROFS}


class _Faults:
    """Counts file operations; with $SHOPGEN_FAULT set (tests' child processes), fails or dies at one."""

    def __init__(self) -> None:
        spec = os.environ.get(FAULT_ENV, "")
        kind, _, at = spec.partition(":")
        self.kind = kind if kind in (*_FAULT_ERRNO, "kill") and at.isdigit() else ""
        self.at = int(at) if self.kind else 0
        self.count = 0
        self.report = os.environ.get(FAULT_COUNT_ENV, "")
        if self.report:
            atexit.register(self._report)

    def _report(self) -> None:
        Path(self.report).write_text(f"{self.count}\n")

    def step(self, path: Path) -> None:
        if not (self.kind or self.report):
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


def _temp_path(path: Path) -> Path:
    """The one temp file of ``path``: a killed run's leftover is reused, not multiplied."""
    return path.with_name(f".{path.name}.shopgen.tmp")


def write_atomic(path: Path, text: str | bytes, *, durable: bool = False) -> None:
    """Write ``text`` so readers see the old bytes or the new ones, never a mix."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    tmp = _temp_path(path)
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        _fault_step(path)
        # Unlink first, then O_EXCL: a leftover (or a planted symlink) is never written through.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o644)
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
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
        _temp_path(path).unlink(missing_ok=True)  # left by a run killed while undoing itself
    except OSError as exc:
        raise WriteError(f"{path}: cannot remove: {exc.strerror or exc}") from None
    parent = path.parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


# --- lock ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold ``.shopgen/lock`` for the duration; a clear error when another live shopgen holds it.

    The lock is an ``flock`` on the file, so the kernel releases it when its holder dies (SIGKILL
    included): a stale lock is taken over by simply locking it, and two runs finding the same stale
    lock cannot both take it. The file holds the holder's pid, for the message.
    """
    state_dir = root / STATE_DIR
    if state_dir.is_symlink():
        raise WriteError(f"{state_dir}: is a symlink; shopgen writes only inside {root}, remove the link")
    created = not state_dir.exists()
    fd = _acquire(root, root / LOCK_FILE)
    try:
        # A run killed while writing its journal leaves only the journal's temp file: it never started.
        with contextlib.suppress(OSError):
            _temp_path(root / JOURNAL_FILE).unlink(missing_ok=True)
        yield
    finally:
        with contextlib.suppress(OSError):
            (root / LOCK_FILE).unlink()  # while still holding it: see _acquire's inode check
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                state_dir.rmdir()  # only if this run left nothing in it (an error before any write)


def _acquire(root: Path, lock: Path) -> int:
    while True:
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue  # the holder removed .shopgen/ between our mkdir and open: try again
        except OSError as exc:
            raise WriteError(f"{lock}: cannot create the lock: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _holder(lock)
            raise WriteError(f"another shopgen is running (pid {holder}) on {root}; wait for it to finish") from None
        except OSError as exc:
            os.close(fd)
            raise WriteError(f"{lock}: cannot lock: {exc.strerror or exc}") from None
        # The previous holder unlinks the file before it unlocks: if the path no longer names the
        # file we locked, we locked a file nobody else will ever see; start again.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd


def _holder(lock: Path) -> str:
    """The pid in the lock file; a holder that has just locked it may not have written it yet."""
    for _ in range(20):
        try:
            text = lock.read_text().strip()
        except OSError:
            text = ""
        if text.isdigit():
            return text
        time.sleep(0.01)
    return "unknown"


# --- journal ---------------------------------------------------------------------------------------


def pending_journal(root: Path) -> bool:
    return (root / JOURNAL_FILE).exists()


def _write_one(path: Path, text: str) -> None:
    if path.exists() or path.is_symlink():
        write_atomic(path, text)
    else:
        _write_new(path, text)


def _apply_ops(root: Path, writes: Mapping[str, str], removes: Sequence[str]) -> None:
    """Every write (generated.json last), then removals; each step is idempotent, for roll-forward.

    Sequential on purpose: writer threads were measured slower (bench/, 300 and 5,000 files) —
    the files are small, so the threads mostly contend for the GIL and the directory locks.
    """
    for rel, text in writes.items():
        if rel != GENERATED_FILE:
            _write_one(root / rel, text)
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
    try:
        _write_journal(plan.root, data)
    except WriteError as failed:
        raise WriteError(f"{failed}; nothing was changed") from None
    try:
        _apply_ops(plan.root, plan.writes, plan.removes)
        if not keep_journal:
            clear_journal(plan.root)
    except WriteError as failed:
        # A failure we see (disk full, permission denied): put the old tree back and drop the journal.
        # Only if that fails too does the journal stay, for the next run to roll forward.
        try:
            _roll_back(plan)
            clear_journal(plan.root)
        except WriteError as also:
            raise WriteError(
                f"{failed}; undoing the run failed too ({also}); it is journalled: the next shopgen run completes it"
            ) from None
        raise WriteError(f"{failed}; nothing was changed") from None


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
    for rel in (*writes, *removes):
        try:
            check_inside(root, rel)
        except WriteError as exc:
            raise WriteError(f"{path}: not a journal shopgen wrote ({exc}); delete it") from None
    _apply_ops(root, writes, removes)
    return data


def refuse_if_interrupted(root: Path, error: type[ShopgenError] = ShopgenError) -> None:
    """Commands that read the tree refuse a half-applied one: the interrupted run must be completed first.

    ``error`` picks the exit status: 2 by default, 1 (``Interrupted``) where a check reports it.
    """
    if pending_journal(root):
        raise error(f"{root / JOURNAL_FILE}: an interrupted shopgen run is pending; run `shopgen synth` to complete it")
