"""Apply a Plan to disk crash-safely: a journal first, then the files, then drop the journal.

The journal (journal.py: outside the work tree) holds the complete new content of everything a run
changes, written and fsynced before the first file is touched. A run that finds its journal
completes it before anything else (roll forward), so after any interruption the tree is the
complete old state or, after the next command, the complete new one. A lock (``.shopgen/lock``: an
``flock`` the kernel drops when its holder dies, and the holder's pid for the message) keeps two
runs from interleaving; a lock whose process is gone is taken over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from shopgen import untrusted
from shopgen.errors import RepositoryError, ShopgenError, WriteError
from shopgen.output import journal
from shopgen.output.fileops import remove, write_atomic, write_new
from shopgen.output.plan import Plan, check_inside
from shopgen.output.state import GENERATED_FILE, STATE_DIR

LOCK_FILE = f"{STATE_DIR}/lock"


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
        journal.drop_unfinished(root)
        yield
    finally:
        with contextlib.suppress(OSError):
            (root / LOCK_FILE).unlink()  # while still holding it: see _acquire's inode check
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                state_dir.rmdir()  # only if this run left nothing in it (an error before any write)


_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _open_lock(lock: Path) -> int:
    """Open (or create) the lock file itself: never through a link, never a device, FIFO or shared inode.

    The lock may have come with the repository: what it points at must not be truncated or waited on.
    """
    try:
        fd = os.open(lock, _LOCK_FLAGS, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RepositoryError(f"{lock}: is a symlink; shopgen never writes through a link, remove it") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        what = "not a regular file" if not stat.S_ISREG(info.st_mode) else "a hard link to another file"
        raise RepositoryError(f"{lock}: {what}; shopgen keeps only its own lock file there, remove it")
    return fd


def _acquire(root: Path, lock: Path) -> int:
    while True:
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = _open_lock(lock)
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


def _lock_pid(lock: Path) -> str | None:
    """The pid the lock file holds (the file may be anyone's: read bounded), or None."""
    try:
        text = (untrusted.read_text(lock, 64) or "").strip()
    except ShopgenError:
        return None
    return text if text.isdigit() else None


def _run_in_flight(root: Path) -> bool:
    """Whether a live process holds the lock (read-only: its pid, never a lock of our own)."""
    pid = _lock_pid(root / LOCK_FILE)
    if pid is None or int(pid) == 0:
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def _holder(lock: Path) -> str:
    """The pid in the lock file; a holder that has just locked it may not have written it yet."""
    for _ in range(20):
        pid = _lock_pid(lock)
        if pid is not None:
            return pid
        time.sleep(0.01)
    return "unknown"


# --- journal ---------------------------------------------------------------------------------------


def _write_one(path: Path, text: str) -> None:
    if path.exists() or path.is_symlink():
        write_atomic(path, text)
    else:
        write_new(path, text)


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


def apply(plan: Plan, *, extra: dict[str, Any] | None = None, keep_journal: bool = False) -> None:
    """Journal the plan, apply it, drop the journal. The caller holds the lock.

    ``extra`` rides along in the journal (promote records the commit it is about to make) and
    ``keep_journal`` leaves the journal for the caller to clear once that follow-up is done.
    """
    if plan.is_noop and not extra:
        return
    data = {"writes": plan.writes, "removes": list(plan.removes), **(extra or {})}
    try:
        journal.write(plan.root, data, plan.old)
    except WriteError as failed:
        raise WriteError(f"{failed}; nothing was changed") from None
    try:
        _apply_ops(plan.root, plan.writes, plan.removes)
        if not keep_journal:
            journal.clear(plan.root)
    except WriteError as failed:
        # A failure we see (disk full, permission denied): put the old tree back and drop the journal.
        # Only if that fails too does the journal stay, for the next run to roll forward.
        try:
            _roll_back(plan)
            journal.clear(plan.root)
        except WriteError as also:
            raise WriteError(
                f"{failed}; undoing the run failed too ({also}); it is journalled: the next shopgen run completes it"
            ) from None
        raise WriteError(f"{failed}; nothing was changed") from None


def undo(plan: Plan) -> None:
    """Put back the tree an applied plan changed and drop its journal (a follow-up such as a commit failed).

    If putting it back fails too, the journal stays, and the next run completes the plan instead.
    """
    try:
        _roll_back(plan)
    except WriteError as failed:
        raise WriteError(f"putting the old files back failed ({failed}); the next shopgen run completes it") from None
    journal.clear(plan.root)


def _roll_back(plan: Plan) -> None:
    """Put back what the plan changed; a file that still holds its old bytes is left alone."""
    for rel, before in plan.old.items():
        path = plan.root / rel
        try:
            now = untrusted.read_bytes(path, untrusted.MANIFEST_LIMIT, error=WriteError)
        except WriteError:
            now = None  # unreadable: rewritten below, and a failure there is the one reported
        if before is None:
            remove(path, plan.root)  # also takes away the folders the run created for it
        elif now != before:
            write_atomic(path, before)


def roll_forward(root: Path) -> dict[str, Any] | None:
    """Complete this machine's interrupted run on ``root``; return its journal (for follow-ups), or None.

    journal.read refuses (exit 2, nothing changed) a journal that is not provably this tree's.
    The caller holds the lock and clears the journal once any follow-up (a commit) is done.
    """
    data = journal.read(root)
    if data is None:
        return None
    checked: set[Path] = set()
    for rel in (*data["writes"], *data["removes"]):
        check_inside(root, rel, checked)
    _apply_ops(root, data["writes"], data["removes"])
    return data


def refuse_if_interrupted(root: Path, error: type[ShopgenError] = ShopgenError) -> None:
    """Commands that read the tree refuse a half-applied one: the interrupted run must be completed first.

    ``error`` picks the exit status: 2 by default, 1 (``Interrupted``) where a check reports it. A
    journal inside the repository is refused (exit 2) without advice to run it. A live run whose
    files are all in place (a promotion running its commit hooks, which may run `synth --check`)
    leaves a complete tree to read.
    """
    if journal.pending(root) and not (_run_in_flight(root) and journal.files_in_place(root)):
        raise error(
            f"{root}: an interrupted shopgen run is pending (its journal: {journal.path_for(root)}); "
            "run `shopgen synth` to complete it"
        )
