"""The journal of a run in flight: kept outside the work tree, replayed only when provably this tree's.

A run writes (and fsyncs) its journal before it changes the first file: the complete new bytes of
every path it writes, the paths it removes, the hash each path had before, and (promote) the commit
to make. A run that finds its journal completes it (roll forward).

Where: ``$SHOPGEN_STATE_DIR``, else ``$XDG_STATE_HOME/shopgen``, else ``~/.local/state/shopgen``;
``journals/<hash of the output root's path>.json``, private to the user. No clone, commit or pull
request can put a file there. A journal is replayed only when it is a regular file of this user,
names this output root (its path, device and inode, so a re-clone at the same path is another
tree), touches only paths shopgen renders, and finds every such file as the run left it (its old
bytes, its new bytes, or a prefix of the new bytes of a file being created). Anything else is an
error naming the journal, with nothing changed.

A ``.shopgen/journal.json`` inside the tree (where shopgen 0.x kept it, or where a commit put it) is
never replayed: every command refuses to run until it is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from shopgen import untrusted
from shopgen.errors import RepositoryError, WriteError
from shopgen.output import fileops

STATE_DIR_ENV = "SHOPGEN_STATE_DIR"
IN_TREE = ".shopgen/journal.json"
VERSION = 1
# The complete new content of a run: the shop's six stages are ~2 MB, 200 services ~40 MB.
LIMIT = 1 << 30


def state_home() -> Path:
    """The per-user folder for run-time state that must never live in a repository."""
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "shopgen"


def path_for(root: Path) -> Path:
    """The one journal file of the output root ``root``."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:40]
    return state_home() / "journals" / f"{key}.json"


def refuse_in_tree(root: Path) -> None:
    """A journal inside the work tree came with the repository or from an old shopgen: never run it."""
    found = root / IN_TREE
    if found.exists() or found.is_symlink():
        raise RepositoryError(
            f"{found}: a journal inside the repository; shopgen never replays one (it keeps its own "
            "outside the work tree) and changes nothing while it is there: delete it "
            "(if an older shopgen was interrupted here, `git status` shows what it left half-written)"
        )


def pending(root: Path) -> bool:
    """True when this machine's interrupted run on ``root`` awaits completion (refusing an in-tree journal)."""
    refuse_in_tree(root)
    found = path_for(root)
    return found.exists() or found.is_symlink()


def _root_id(root: Path) -> list[int]:
    info = root.stat()
    return [info.st_dev, info.st_ino]


def write(root: Path, data: dict[str, Any], before: dict[str, bytes | None]) -> None:
    """Write and fsync the journal of a run about to change ``root`` (``data``: writes, removes, extras)."""
    from shopgen.output.state import digest  # here, not at the top: the fast path reads only path_for()

    target = path_for(root)
    record = {
        **data,
        "version": VERSION,
        "root": str(root.resolve()),
        "root_id": _root_id(root),
        "before": {rel: (None if old is None else digest(old)) for rel, old in before.items()},
    }
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"{target.parent}: cannot create the journal folder: {exc.strerror or exc}") from None
    fileops.write_atomic(target, json.dumps(record, sort_keys=True), durable=True, mode=0o600)
    with contextlib.suppress(OSError):  # the rename itself must survive a power cut too
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def clear(root: Path) -> None:
    target = path_for(root)
    try:
        fileops.fault_step(target)
        target.unlink(missing_ok=True)
    except OSError as exc:
        raise WriteError(f"{target}: cannot remove: {exc.strerror or exc}") from None


def drop_unfinished(root: Path) -> None:
    """A run killed while writing its journal leaves only the journal's temp file: it never started."""
    with contextlib.suppress(OSError):
        fileops.temp_path(path_for(root)).unlink(missing_ok=True)


def read(root: Path) -> dict[str, Any] | None:
    """This tree's pending journal, checked as the module docstring says; None when there is none."""
    from shopgen.output.owned import is_owned  # here, not at the top: the fast path reads only path_for()

    refuse_in_tree(root)
    where = path_for(root)

    def refuse(reason: str) -> RepositoryError:
        return RepositoryError(f"{where}: {reason}; it is not replayed and nothing was changed: delete it")

    try:
        info = where.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise refuse("not a journal this user's shopgen wrote (not a private regular file)")
    text = untrusted.read_text(where, LIMIT)
    if text is None:
        return None
    try:
        data = json.loads(text)
        writes = {str(k): str(v) for k, v in data["writes"].items()}
        removes = [str(p) for p in data["removes"]]
        before = dict(data["before"])
        root_matches = data["version"] == VERSION and data["root"] == str(root.resolve())
        root_matches = root_matches and data["root_id"] == _root_id(root)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise refuse(f"unreadable journal of an interrupted run ({exc!r})") from None
    if not root_matches:
        raise refuse(f"written for another folder than {root} (or one since replaced at that path)")
    for rel in (*writes, *removes):
        if not is_owned(rel) or rel not in before:
            raise refuse(f"lists {rel!r}, not a file shopgen renders")
    for rel in (*writes, *removes):
        reason = _moved_on(root, rel, before[rel], writes.get(rel))
        if reason:
            raise refuse(f"{rel} {reason} since the interrupted run")
    data["writes"], data["removes"] = writes, removes
    return data


def files_in_place(root: Path) -> bool:
    """True when no journal is pending, or every file of it is already in place.

    Then only a promotion's commit is left (its hooks are running, or a kill came before it): the
    tree is complete, so a read-only command may read it. A foreign journal is refused as by read().
    """
    data = read(root)
    if data is None:
        return True
    for rel, text in data["writes"].items():
        if untrusted.read_bytes(root / rel, untrusted.MANIFEST_LIMIT) != text.encode("utf-8"):
            return False
    return all(untrusted.read_bytes(root / rel, untrusted.MANIFEST_LIMIT) is None for rel in data["removes"])


def _moved_on(root: Path, rel: str, before: str | None, new: str | None) -> str | None:
    """Why the file at ``rel`` is no longer as the interrupted run left it (None: it is)."""
    from shopgen.output.state import digest

    on_disk = untrusted.read_bytes(root / rel, untrusted.MANIFEST_LIMIT)
    if on_disk is None:
        return None if before is None or new is None else "was deleted"
    found = digest(on_disk)
    if found == before:
        return None
    if new is not None:
        data = new.encode("utf-8")
        if found == digest(data) or (before is None and data.startswith(on_disk)):
            return None
    return "was changed"
