"""Finish what an interrupted shopgen run started, before doing anything else (SPEC §3, §5)."""

from __future__ import annotations

from pathlib import Path

from shopgen import writer


def complete_interrupted(root: Path) -> bool:
    """Roll an interrupted run forward: its files, then its promotion commit. The caller holds the lock.

    Returns True when there was something to complete.
    """
    journal = writer.roll_forward(root)
    if journal is None:
        return False
    commit = journal.get("commit")
    if commit:
        from shopgen.gitops import finish_commit

        finish_commit(Path(commit["top"]), commit["paths"], commit["message"], commit["parent"])
    writer.clear_journal(root)
    return True
