"""git, the one wrapper: run commands, read trees at a ref, and commit with plumbing.

Promotion commits go through a temporary index, `commit-tree` and `update-ref` with the expected
old value, so a kill at any point leaves HEAD at the old or the new commit and the user's own
index (their staged changes) untouched but for the paths shopgen owns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from shopgen import untrusted
from shopgen.errors import GitError, RepositoryError

ZERO_OID = "0" * 40


def run_git(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    if shutil.which("git") is None:
        raise GitError("git is not installed (needed for this command; rendering alone never needs git)")
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(["git", *args], cwd=cwd, env=full_env, input=input, capture_output=True, check=False)
    if check and proc.returncode != 0:
        raise GitError(f"git {' '.join(args[:3])}: {_said(proc)}")
    return proc


def _said(proc: subprocess.CompletedProcess[bytes]) -> str:
    """What git printed, as one line plus indented detail lines (the shape of every shopgen error)."""
    text = proc.stderr.decode(errors="replace").strip() or proc.stdout.decode(errors="replace").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "\n  ".join(lines) or f"exit status {proc.returncode}"


def toplevel(path: Path) -> Path:
    proc = run_git(["rev-parse", "--show-toplevel"], cwd=path, check=False)
    if proc.returncode != 0:
        raise GitError(f"{path}: not in a git repository (this command needs git; run `git init` first)")
    return Path(proc.stdout.decode().strip())


def head(top: Path) -> str | None:
    proc = run_git(["rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd=top, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def resolve(top: Path, ref: str) -> str:
    proc = run_git(["rev-parse", "--verify", "-q", f"{ref}^{{commit}}"], cwd=top, check=False)
    if proc.returncode != 0:
        raise GitError(f"{ref}: not a commit in {top} (fetch it first, e.g. `git fetch origin`)")
    return proc.stdout.decode().strip()


def read_tree(top: Path, ref: str, prefixes: Iterable[str]) -> dict[str, str]:
    """Files under ``prefixes`` (repo-relative) as committed at ``ref``: {repo-relative path: text}."""
    commit = resolve(top, ref)
    listing = run_git(["ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", *prefixes], cwd=top).stdout
    entries = []
    total = 0
    for item in listing.split(b"\0"):
        if not item:
            continue
        meta, raw_path = item.split(b"\t", 1)
        _, kind, oid, size = meta.split()
        if kind != b"blob":
            continue
        # A commit is someone else's work: a file past the limit is refused before git hands it over.
        path, size_bytes = raw_path.decode(errors="replace"), int(size)
        total += size_bytes
        if size_bytes > untrusted.MANIFEST_LIMIT:
            raise RepositoryError(
                f"{ref}:{path}: {size_bytes} bytes, more than the {untrusted.MANIFEST_LIMIT} shopgen reads from a file"
            )
        if total > untrusted.TREE_LIMIT:
            raise RepositoryError(f"{ref}: its rendered trees hold more than {untrusted.TREE_LIMIT} bytes")
        entries.append((path, oid.decode()))
    if not entries:
        return {}
    batch = run_git(["cat-file", "--batch"], cwd=top, input="".join(f"{oid}\n" for _, oid in entries).encode())
    out, files, pos = batch.stdout, {}, 0
    for path, _ in entries:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        body = out[header_end + 1 : header_end + 1 + size]
        files[path] = body.decode("utf-8", errors="replace")
        pos = header_end + 1 + size + 1
    return files


def dirty_paths(top: Path, paths: Sequence[str]) -> list[str]:
    """Paths with changes not committed (staged, unstaged or untracked) among ``paths``."""
    proc = run_git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths], cwd=top)
    found = []
    for item in proc.stdout.split(b"\0"):
        if len(item) > 3:
            found.append(item[3:].decode())
    return sorted(set(found))


def finish_commit(top: Path, paths: Sequence[str], message: str, parent: str | None) -> str | None:
    """Make an interrupted promotion's commit unless HEAD already holds it.

    HEAD past ``parent`` is not proof: the user may have committed something else after the kill.
    HEAD holds the commit when its tree already has the working-tree state of ``paths``.
    """
    current = head(top)
    if current == parent or current is None or _tree_with(top, current, paths) != _tree_of(top, current):
        return commit_paths(top, paths, message)
    # update-ref happened before the interruption; only the user's index may still lag behind.
    _reset_index(top, paths)
    return None


def _tree_of(top: Path, commit: str) -> str:
    return run_git(["rev-parse", f"{commit}^{{tree}}"], cwd=top).stdout.decode().strip()


def _tree_with(top: Path, parent: str | None, paths: Sequence[str]) -> str:
    """The tree of ``parent`` with ``paths`` as they are in the working tree (a temporary index, not the user's)."""
    with tempfile.TemporaryDirectory(prefix="shopgen-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if parent:
            run_git(["read-tree", parent], cwd=top, env=env)
        else:
            run_git(["read-tree", "--empty"], cwd=top, env=env)
        listing = "".join(f"{p}\0" for p in paths).encode()
        run_git(["update-index", "--add", "--remove", "-z", "--stdin"], cwd=top, env=env, input=listing)
        return run_git(["write-tree"], cwd=top, env=env).stdout.decode().strip()


def index_lock(top: Path) -> Path | None:
    """git's index lock when it exists: another git command is running, or one was killed mid-write."""
    proc = run_git(["rev-parse", "--git-path", "index.lock"], cwd=top)
    path = top / proc.stdout.decode().strip()
    return path if path.exists() else None


class IndexStale(GitError):
    """The commit is made and HEAD moved, but the user's index still holds the old paths."""


def can_commit(top: Path) -> None:
    """Refuse, before anything is written, when git cannot make a commit here (no identity).

    ``git var`` applies git's own rules (config, $GIT_AUTHOR_*, user.useConfigOnly), so shopgen
    refuses exactly when `git commit` would.
    """
    for who in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        proc = run_git(["var", who], cwd=top, check=False)
        if proc.returncode != 0:
            raise GitError(
                f"git cannot commit in {top}: {_said(proc)}\n"
                "  set an identity (git config user.name / user.email) or pass --no-commit; nothing was changed"
            )


def _reset_index(top: Path, paths: Sequence[str]) -> None:
    """Make the user's index hold HEAD's version of ``paths`` (the rest of it stays as staged).

    Left behind, the old entries would be staged changes that undo the promotion in the user's next
    commit, so a failure here is an error. shopgen never removes git's own index.lock: only the user
    can tell a crashed git from a running one.
    """
    proc = run_git(["reset", "-q", "--", *paths], cwd=top, check=False)
    if proc.returncode != 0:
        raise IndexStale(
            f"git reset: the commit is made, but the index still holds the old {', '.join(paths[:3])}"
            f"{' …' if len(paths) > 3 else ''}: {_said(proc)}\n"
            "  if no git command is running, remove .git/index.lock; then rerun shopgen to finish"
        )


def commit_paths(top: Path, paths: Sequence[str], message: str) -> str:
    """Commit the working-tree state of exactly ``paths`` (files, repo-relative) on top of HEAD.

    Returns the new commit. A listed file missing from the working tree is removed from the commit.

    Builds the tree in a temporary index from HEAD, so other staged changes stay staged and out of
    the commit; HEAD moves with `update-ref` guarded by its old value.
    """
    parent = head(top)
    tree = _tree_with(top, parent, paths)
    args = ["commit-tree", tree, "-F", "-"]
    if parent:
        args[2:2] = ["-p", parent]
    commit = run_git(args, cwd=top, input=message.encode()).stdout.decode().strip()
    ref = symbolic_head(top)
    run_git(["update-ref", "-m", "shopgen promote", ref, commit, parent or ZERO_OID], cwd=top)
    # The user's index: the owned paths now match the new HEAD; everything else stays as staged.
    _reset_index(top, paths)
    return commit


def symbolic_head(top: Path) -> str:
    proc = run_git(["symbolic-ref", "-q", "HEAD"], cwd=top, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else "HEAD"


def paths_changed(top: Path, commit: str) -> list[str]:
    out = run_git(["diff-tree", "--root", "--no-commit-id", "-r", "--name-only", commit], cwd=top).stdout
    return sorted(line for line in out.decode().splitlines() if line)
