"""Finish what an interrupted shopgen run started, before doing anything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopgen.errors import GitError, WriteError
from shopgen.output import journal, writer
from shopgen.output.journal import path_for as journal_path_for
from shopgen.output.state import is_relative_path


def complete_interrupted(root: Path) -> str | None:
    """Roll an interrupted run forward: its files, then its promotion commit. The caller holds the lock.

    Returns what was completed, for the user (a commit made now is never silent), or None.
    """
    data = writer.roll_forward(root)
    if data is None:
        return None
    done = f"completed an interrupted shopgen run on {root}: {len(data['writes'])} files written"
    done += f", {len(data['removes'])} removed"
    commit = data.get("commit")
    if commit:
        from shopgen.gitops import finish_commit

        top, paths, message, parent = _commit_intent(root, commit)
        sha = finish_commit(top, paths, message, parent)
        subject = message.splitlines()[0] if message else ""
        done += f"; committed its promotion ({sha[:12]}: {subject})" if sha else "; its promotion was committed"
    journal.clear(root)
    return done


def _commit_intent(root: Path, commit: Any) -> tuple[Path, list[str], str, str | None]:
    """The journalled commit, checked: it commits shopgen's paths in the repository around ``root``."""
    from shopgen.gitops import toplevel

    where = journal_path_for(root)
    try:
        top, paths, message, parent = Path(commit["top"]), commit["paths"], commit["message"], commit["parent"]
        valid = (
            isinstance(paths, list)
            and all(isinstance(p, str) and is_relative_path(p) for p in paths)
            and isinstance(message, str)
            and (parent is None or isinstance(parent, str))
        )
    except (KeyError, TypeError) as exc:
        raise WriteError(f"{where}: not a journal shopgen wrote ({exc!r} in its commit); delete it") from None
    try:
        ours = toplevel(root).resolve()
    except GitError:
        ours = None
    if not valid or top.resolve() != ours:
        raise WriteError(f"{where}: not a journal shopgen wrote (its commit is not for {root}); delete it")
    return top, paths, message, parent
