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


def git_toplevel(start: Path) -> Path | None:
    """The top level of the git repository around ``start``; None outside one or without git."""
    if shutil.which("git") is None:
        return None
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    if out.returncode != 0:
        return None
    return Path(out.stdout.strip())


def repo_prefix(root: Path) -> str:
    """The output root's folder inside its git repository ("" at the top level or outside git)."""
    existing = next(p for p in (root, *root.parents) if p.exists())
    top = git_toplevel(existing)
    if top is None:
        return ""
    rel = root.resolve().relative_to(top.resolve()).as_posix()
    return "" if rel == "." else f"{rel}/"


def git_ignored(root: Path, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` (relative to ``root``) git ignores there: those are never shopgen's to remove.

    Outside a repository, or without git, nothing is ignored.
    """
    if not paths or shutil.which("git") is None or not root.is_dir():
        return set()
    listing = "".join(f"{p}\0" for p in paths).encode()
    proc = run_git(["check-ignore", "-z", "--stdin"], cwd=root, input=listing, check=False)
    if proc.returncode not in (0, 1):
        return set()  # not a repository
    return {item.decode() for item in proc.stdout.split(b"\0") if item}


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
        path = raw_path.decode(errors="replace")
        if not size.isdigit():  # git prints "BAD" for a blob the repository does not have
            raise RepositoryError(f"{ref}:{path}: git cannot read this file (a missing object?): run `git fsck`")
        size_bytes = int(size)
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
        header = out[pos:header_end].split()
        if len(header) != 3 or not header[2].isdigit():  # "<oid> missing": the object is not there
            raise RepositoryError(f"{ref}:{path}: git cannot read this file (a missing object?): run `git fsck`")
        size = int(header[2])
        body = out[header_end + 1 : header_end + 1 + size]
        files[path] = body.decode("utf-8", errors="replace")
        pos = header_end + 1 + size + 1
    return files


def dirty_paths(top: Path, paths: Sequence[str]) -> list[str]:
    """Paths with changes not committed (staged, unstaged or untracked) among ``paths``.

    In ``--porcelain -z`` a rename or copy entry is followed by its source path as a field of its
    own, with no status: both paths are changed.
    """
    proc = run_git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths], cwd=top)
    fields = iter(proc.stdout.split(b"\0"))
    found = []
    for item in fields:
        if len(item) < 4:
            continue
        found.append(item[3:].decode())
        if item[0:1] in (b"R", b"C") or item[1:2] in (b"R", b"C"):
            source = next(fields, b"")
            if source:
                found.append(source.decode())
    return sorted(set(found))


def is_tracked(top: Path, path: str) -> bool:
    """Whether git tracks ``path`` (repo-relative): ignored and untracked files are not."""
    return run_git(["ls-files", "--error-unmatch", "--", path], cwd=top, check=False).returncode == 0


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
        return _index_with(top, parent, paths, {"GIT_INDEX_FILE": str(Path(tmp) / "index")})


def _index_with(top: Path, parent: str | None, paths: Sequence[str], env: Mapping[str, str]) -> str:
    """Fill the index ``env`` names with ``parent`` plus ``paths`` from the working tree; return its tree."""
    _fill_index(top, parent, paths, env)
    return run_git(["write-tree"], cwd=top, env=env).stdout.decode().strip()


def _fill_index(top: Path, parent: str | None, paths: Sequence[str], env: Mapping[str, str]) -> None:
    if parent:
        run_git(["read-tree", parent], cwd=top, env=env)
    else:
        run_git(["read-tree", "--empty"], cwd=top, env=env)
    listing = "".join(f"{p}\0" for p in paths).encode()
    run_git(["update-index", "--add", "--remove", "-z", "--stdin"], cwd=top, env=env, input=listing)


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
    the commit; runs the repository's commit hooks as `git commit` would (they see that index),
    signs when ``commit.gpgSign`` says so, and moves HEAD with `update-ref` guarded by its old value.
    """
    parent = head(top)
    with tempfile.TemporaryDirectory(prefix="shopgen-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _fill_index(top, parent, paths, env)
        message = _commit_hooks(top, message, env, Path(tmp) / "COMMIT_EDITMSG")
        # The tree after the hooks, as git commit writes it: what a pre-commit hook adds is committed.
        tree = run_git(["write-tree"], cwd=top, env=env).stdout.decode().strip()
        args = ["commit-tree", tree, "-F", "-", *(["-p", parent] if parent else []), *(["-S"] if _signs(top) else [])]
        commit = run_git(args, cwd=top, env=env, input=message.encode()).stdout.decode().strip()
    ref = symbolic_head(top)
    run_git(["update-ref", "-m", "shopgen promote", ref, commit, parent or ZERO_OID], cwd=top)
    _run_hook(top, "post-commit", [], {}, check=False)  # as in git commit: its status changes nothing
    # The user's index: the owned paths now match the new HEAD; everything else stays as staged.
    _reset_index(top, paths)
    return commit


def _signs(top: Path) -> bool:
    """Whether git is configured to sign commits (``commit.gpgSign``), which `commit-tree` ignores."""
    proc = run_git(["config", "--type=bool", "--get", "commit.gpgSign"], cwd=top, check=False)
    return proc.stdout.decode().strip() == "true"


def _commit_hooks(top: Path, message: str, env: Mapping[str, str], message_file: Path) -> str:
    """pre-commit, prepare-commit-msg and commit-msg, in git commit's order; the message they leave.

    A hook that fails refuses the commit, as with `git commit`; the message is cleaned up as
    `git commit -F` cleans it (``git stripspace``: whitespace only, comments kept).
    """
    _run_hook(top, "pre-commit", [], env)
    message_file.write_text(message, encoding="utf-8")
    _run_hook(top, "prepare-commit-msg", [str(message_file), "message"], env)
    _run_hook(top, "commit-msg", [str(message_file)], env)
    edited = message_file.read_bytes()
    cleaned = run_git(["stripspace"], cwd=top, input=edited).stdout.decode("utf-8", errors="replace")
    if not cleaned.strip():
        raise GitError("a commit hook left the commit message empty: aborting the commit, as git commit does")
    return cleaned


def _run_hook(top: Path, name: str, args: Sequence[str], env: Mapping[str, str], *, check: bool = True) -> None:
    """Run the repository's ``name`` hook (core.hooksPath honoured) with `git hook run` (git >= 2.36)."""
    proc = run_git(["hook", "run", "--ignore-missing", name, "--", *args], cwd=top, env=env, check=False)
    if proc.returncode == 0 or not check:
        return
    said = _said(proc)
    if "is not a git command" in said:
        raise GitError(
            "this git cannot run the repository's commit hooks for shopgen (`git hook run` needs git >= 2.36); "
            "upgrade git, or promote with --no-commit and commit yourself"
        )
    raise GitError(f"the {name} hook refused the commit: {said}")


def symbolic_head(top: Path) -> str:
    proc = run_git(["symbolic-ref", "-q", "HEAD"], cwd=top, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else "HEAD"


def paths_changed(top: Path, commit: str) -> list[str]:
    out = run_git(["diff-tree", "--root", "--no-commit-id", "-r", "--name-only", commit], cwd=top).stdout
    return sorted(line for line in out.decode().splitlines() if line)


PROMOTION_TRAILER = "Shopgen-Stage"  # the trailer `shopgen promote` ends each promotion commit with


def last_promotion(root: Path, *, scan: int = 20) -> tuple[str, str, str] | None:
    """The newest commit touching ``root`` whose message ends with a promotion trailer: (sha, stage, subject).

    Only a real trailer counts (git parses it, so the words in a commit's body do not), the last one
    when there are several; the ``scan`` newest candidates are read, no more. None outside a
    repository, without git, before the first commit or before the first promotion. The stage and
    subject are the repository's words, unchecked: show them escaped.
    """
    if not root.is_dir() or git_toplevel(root) is None:
        return None
    fields = f"%H%x00%s%x00%(trailers:key={PROMOTION_TRAILER},valueonly,separator=%x00)%x01"
    # Reading only: no signature checks, no --follow from the user's config, NUL-safe fields.
    args = ["-c", "log.showSignature=false", "-c", "log.follow=false", "log", f"--max-count={scan}"]
    args += ["-z", f"--format={fields}", f"--grep=^{PROMOTION_TRAILER}:", "--", "."]
    proc = run_git(args, cwd=root, check=False)
    if proc.returncode != 0:
        return None  # no commit yet (an unborn branch), or git refused to read this repository
    for record in proc.stdout.decode("utf-8", errors="replace").split("\x01"):
        sha, _, rest = record.strip("\0\n").partition("\0")
        subject, _, trailers = rest.partition("\0")
        stages = [value.strip() for value in trailers.split("\0") if value.strip()]
        if len(sha) in (40, 64) and all(c in "0123456789abcdef" for c in sha) and stages:
            return sha, stages[-1], subject
    return None
