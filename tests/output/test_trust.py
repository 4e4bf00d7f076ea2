"""A cloned repository can never make shopgen write, delete, run or hang (the trust model).

The only input shopgen trusts is the committed config and its own code. Each test plants what a
hostile or broken commit could hold — a journal, a lock, a generated.json, state files, rendered
YAML — runs the real CLI (in a child process where a hang or a crash is the failure being tested),
and checks the outcome: exit 2 naming the file, and nothing outside what the config renders changed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from shopgen.output.state import digest

from conftest import BIN, CRD_DIR, committed_repo, git, journal_of, run_cli, tree_bytes

SHOPGEN = str(BIN / "shopgen")
UPDATE = "services:\n  ui:\n    prestop_sleep_seconds: 70\n"  # a config change: synth has files to write
DEPLOYMENT = "environments/prestop/ui/deployment-ui.yaml"


def child(*args: str | Path, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`shopgen ARGS` in a child process: a hang fails the test (timeout) instead of the whole run."""
    return subprocess.run(
        [SHOPGEN, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def one_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert lines and lines[0].startswith("shopgen: error: "), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return stderr


def everything(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root``, .git included (tree_bytes leaves .git out)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name != "index"  # git refreshes its index on read
    }


# --- 1. a journal is never trusted from the repository ---------------------------------------------


def test_a_journal_committed_to_the_repository_is_never_replayed(tmp_path: Path, git_env: dict[str, str]):
    origin = committed_repo(tmp_path)
    hostile = {
        "writes": {".git/config": '[core]\n\tfsmonitor = "touch pwned"\n', "notes.txt": "overwritten\n"},
        "removes": [],
    }
    (origin / ".shopgen/journal.json").write_text(json.dumps(hostile))
    git(origin, "add", "-f", ".shopgen/journal.json")
    git(origin, "commit", "-qm", "a journal")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    (clone / "notes.txt").write_text("mine\n")
    before = everything(clone)
    for args in (
        ("synth",),
        ("synth", "--check"),
        ("promote", "readiness"),
        ("validate",),
        ("diff", "--against", "HEAD"),
    ):
        result = run_cli(*args, cwd=clone)
        where = " ".join(args)
        assert result.code == 2, f"{where}: {result.err}"
        assert ".shopgen/journal.json: a journal inside the repository" in one_error(result.err), where
        assert "run `shopgen synth`" not in result.err, f"{where} advises running a foreign journal"
        assert everything(clone) == before, where
    assert not (clone / "pwned").exists()
    assert not journal_of(clone).exists()


def _journal(root: Path, writes: dict[str, str], before: dict[str, str | None], **override: object) -> Path:
    info = root.stat()
    record = {
        "version": 1,
        "root": str(root.resolve()),
        "root_id": [info.st_dev, info.st_ino],
        "writes": writes,
        "removes": [],
        "before": before,
        **override,
    }
    path = journal_of(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("case", ["git-config", "user-file", "changed-since", "other-tree", "shared-file"])
def test_a_journal_is_replayed_only_when_it_is_provably_this_trees(case: str, tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    (repo / "notes.txt").write_text("mine\n")
    text = (repo / DEPLOYMENT).read_text()
    writes, before = {DEPLOYMENT: text.replace("sleep", "nap")}, {DEPLOYMENT: digest(text)}
    override: dict[str, object] = {}
    if case == "git-config":
        writes, before = {".git/config": "[core]\n\tfsmonitor = true\n"}, {".git/config": None}
    elif case == "user-file":
        writes, before = {"notes.txt": "overwritten\n"}, {"notes.txt": digest("mine\n")}
    elif case == "changed-since":
        (repo / DEPLOYMENT).write_text(text + "# edited after the interrupted run\n")
    elif case == "other-tree":  # a journal left for a folder that was deleted and cloned again at this path
        override["root_id"] = [repo.stat().st_dev, repo.stat().st_ino + 1]
    path = _journal(repo, writes, before, **override)
    if case == "shared-file":
        path.chmod(0o666)
    old = everything(repo)
    result = child("synth", cwd=repo)
    assert result.returncode == 2, result.stderr
    assert f"{path}: " in one_error(result.stderr) and "nothing was changed" in result.stderr
    assert everything(repo) == old
    assert path.exists()  # only the user deletes it: shopgen says where it is


def test_this_trees_own_journal_is_still_rolled_forward(tmp_path: Path, git_env):
    """The checks refuse foreign journals, not the crash recovery they exist for."""
    repo = committed_repo(tmp_path)
    text = (repo / DEPLOYMENT).read_text()
    (repo / DEPLOYMENT).write_text(text[: len(text) // 2])  # a run killed while creating it
    path = _journal(repo, {DEPLOYMENT: text}, {DEPLOYMENT: None})
    assert run_cli("synth", "--check", cwd=repo).code == 1
    result = run_cli("synth", cwd=repo)
    assert result.code == 0, result.err
    assert (repo / DEPLOYMENT).read_text() == text and not path.exists()
    assert git(repo, "status", "--porcelain") == ""


# --- 2. the lock never follows a link ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["symlink-outside", "committed-symlink", "dev-null", "fifo", "hard-link"])
def test_the_lock_is_never_followed_or_waited_on(kind: str, tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock = repo / ".shopgen/lock"
    if kind in ("symlink-outside", "committed-symlink"):
        lock.symlink_to(victim)
    elif kind == "dev-null":
        lock.symlink_to("/dev/null")
    elif kind == "fifo":
        os.mkfifo(lock)
    else:
        os.link(victim, lock)
    if kind == "committed-symlink":
        git(repo, "add", "-f", ".shopgen/lock")
        git(repo, "commit", "-qm", "a lock")
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", str(repo), str(clone))
        repo, lock = clone, clone / ".shopgen/lock"
    (repo / "shopgen.yaml").write_text(UPDATE)
    old = tree_bytes(repo)
    result = child("synth", cwd=repo, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{lock}: " in one_error(result.stderr)
    assert victim.read_text() == "precious\n"
    assert tree_bytes(repo) == old


# --- 3. pruning deletes only what shopgen rendered ---------------------------------------------------


def _list_in_generated(root: Path, files: dict[str, str]) -> None:
    """Plant files and list them in generated.json with their true (guessable) hashes, as a commit could."""
    path = root / ".shopgen/generated.json"
    data = json.loads(path.read_text())
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        data["files"][rel] = digest(text)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


PLANTED = {
    "environments/prestop/NOTES.md": "our notes\n",
    "terraform/terraform.tfstate": '{"version": 4}\n',
    "terraform/terraform.tfvars": 'region = "eu-west-1"\n',
    "terraform/.terraform/terraform.tfstate": "{}\n",
    "terraform/backend_override.tf": "# the user's, by Terraform's convention\n",
    "environments/prestop/ui/configmap-local.yaml": "kind: ConfigMap\n",  # a rendered shape, but git-ignored
}


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_pruning_removes_only_files_shopgen_renders(force: bool, tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    (repo / ".gitignore").write_text("environments/prestop/ui/configmap-local.yaml\n")
    _list_in_generated(repo, PLANTED)
    git(repo, "add", ".gitignore", ".shopgen/generated.json", "environments/prestop/NOTES.md")
    git(repo, "commit", "-qm", "a hostile generated.json")
    # A real prune in the same run: with no External Secrets, their files leave every stage.
    (repo / "shopgen.yaml").write_text("secrets:\n  provider: none\n")
    pruned = "environments/prestop/catalog/externalsecret-catalog-db.yaml"
    assert (repo / pruned).exists()
    result = run_cli("synth", *(["--force"] if force else []), cwd=repo)
    assert result.code == 0, result.err
    for rel, text in PLANTED.items():
        assert (repo / rel).read_text() == text, f"{rel} was touched"
        if not rel.startswith("terraform/.terraform"):
            assert f"left alone: {rel}" in result.err, result.err
    assert not (repo / pruned).exists()
    listed = json.loads((repo / ".shopgen/generated.json").read_text())["files"]
    assert not set(PLANTED) & set(listed)
    assert run_cli("synth", "--check", cwd=repo).code == 0


# --- 5. a failed promotion leaves the old tree --------------------------------------------------------


def _no_journal_and_unchanged(repo: Path, old: dict[str, bytes], head: str) -> None:
    assert tree_bytes(repo) == old, [p for p in tree_bytes(repo) if tree_bytes(repo)[p] != old.get(p)]
    assert not journal_of(repo).exists()
    assert git(repo, "rev-parse", "HEAD").strip() == head


@pytest.mark.parametrize("fault", ["no-identity", "ref-update-refused"])
def test_a_failed_promotion_leaves_the_old_tree(fault: str, tmp_path: Path, git_env, monkeypatch):
    repo = committed_repo(tmp_path)
    if fault == "no-identity":
        for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
            monkeypatch.delenv(key)
        git(repo, "config", "user.useConfigOnly", "true")  # no guessing user@host: git refuses to commit
    else:  # HEAD's ref cannot be moved, as when the branch moved under the promotion
        hook = repo / ".git/hooks/reference-transaction"
        hook.write_text('#!/bin/sh\n[ "$1" = prepared ] && exit 1\nexit 0\n')
        hook.chmod(0o755)
    old, head = tree_bytes(repo), git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("promote", "readiness", cwd=repo)
    assert result.code == 2, result.err
    one_error(result.err)
    assert ("nothing was changed" if fault == "no-identity" else "the files were put back") in result.err
    _no_journal_and_unchanged(repo, old, head)
    # Nothing is left for a later command to complete: a plain synth commits nothing and changes nothing.
    assert run_cli("synth", cwd=repo).code == 0
    _no_journal_and_unchanged(repo, old, head)
    assert git(repo, "status", "--porcelain") == ""


def test_a_failure_after_earlier_steps_names_what_was_promoted(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    # The hook lets the first promotion's ref update through and refuses the second.
    hook = repo / ".git/hooks/reference-transaction"
    count = tmp_path / "count"
    hook.write_text(f'#!/bin/sh\n[ "$1" = prepared ] || exit 0\necho x >> {count}\n[ "$(wc -l < {count})" -lt 2 ]\n')
    hook.chmod(0o755)
    result = run_cli("promote", "autoscaling", "--through", cwd=repo)
    assert result.code == 2, result.err
    assert "promoted baseline -> readiness (" in result.err and "then readiness -> autoscaling failed" in result.err
    assert json.loads((repo / ".shopgen/state.json").read_text())["active_stage"] == "readiness"
    assert not journal_of(repo).exists() and git(repo, "status", "--porcelain") == ""


# --- 6. every read is bounded ------------------------------------------------------------------------

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)
SELF_ALIAS = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: &a [*a]\n"


def _plant(kind: str, path: Path) -> None:
    if kind == "wrong-type":  # valid YAML, a list where Kubernetes has a name
        path.write_text(path.read_text().replace("serviceAccountName: ui", "serviceAccountName: [ui]"))
        return
    path.unlink(missing_ok=True)
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "huge":
        with open(path, "wb") as handle:
            handle.truncate(20 << 20)  # past every limit; sparse, so it costs no disk
    elif kind == "alias-bomb":
        path.write_text(ALIAS_BOMB)
    elif kind == "impossible-date":  # YAML 1.1 reads it as a date that does not exist
        path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  day: 2020-02-30\n")
    elif kind == "huge-integer":  # more digits than Python converts
        path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nspec: " + "1" * 5000 + "\n")
    else:
        path.write_text(SELF_ALIAS)


@pytest.mark.parametrize(
    ("rel", "kind", "args"),
    [
        (".shopgen/state.json", "dev-zero", ("synth",)),
        (".shopgen/state.json", "fifo", ("synth", "--check")),
        (".shopgen/generated.json", "dev-zero", ("validate",)),
        (".shopgen/generated.json", "fifo", ("synth",)),
        (".shopgen/generated.json", "huge", ("promote", "readiness")),
        (DEPLOYMENT, "alias-bomb", ("validate", "--stage", "prestop")),
        (DEPLOYMENT, "self-alias", ("validate", "--stage", "prestop")),
        (DEPLOYMENT, "dev-zero", ("validate", "--stage", "prestop")),
        (DEPLOYMENT, "fifo", ("synth",)),
        (DEPLOYMENT, "impossible-date", ("validate", "--stage", "prestop")),
        (DEPLOYMENT, "huge-integer", ("validate", "--stage", "prestop")),
        (DEPLOYMENT, "wrong-type", ("validate", "--stage", "prestop")),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(v),
)
def test_every_read_of_the_repository_is_bounded(rel: str, kind: str, args: tuple[str, ...], tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    (repo / "shopgen.yaml").write_text(UPDATE)  # no fast path: the full run reads everything
    git(repo, "add", "shopgen.yaml")
    git(repo, "commit", "-qm", "config")  # promote commits only on a committed config
    _plant(kind, repo / rel)
    result = child(*args, cwd=repo, timeout=60)
    assert result.returncode == 2, result.stderr
    said = one_error(result.stderr)
    if kind == "wrong-type":  # the rules read every object of a stage: the stage's tree is what they can name
        assert f"{rel.rsplit('/', 2)[0]}:" in said
    else:
        assert f"{repo / rel}" in said or f"{rel}:" in said


@pytest.mark.parametrize("kind", ["alias-bomb", "self-alias", "huge", "impossible-date"])
def test_diff_against_a_ref_bounds_what_it_reads(kind: str, tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    _plant(kind, repo / DEPLOYMENT)
    git(repo, "commit", "-qam", "hostile")
    git(repo, "checkout", "-q", "HEAD~1", "--", DEPLOYMENT)
    result = child("diff", "--against", "HEAD", cwd=repo, timeout=60)
    assert result.returncode == 2, result.stderr
    assert DEPLOYMENT in one_error(result.stderr)


def test_a_value_cel_cannot_hold_is_named_not_a_crash(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    nodeclass = repo / "environments/prestop/platform/ec2nodeclass-default.yaml"
    text = nodeclass.read_text()
    label = "app.kubernetes.io/instance: default"
    assert label in text
    nodeclass.write_text(text.replace(label, "app.kubernetes.io/instance: 100000000000000000000"))
    result = child("validate", "--stage", "prestop", "--crd-dir", CRD_DIR, cwd=repo, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "environments/prestop" in one_error(result.stderr)


def test_a_folder_where_shopgen_keeps_a_temp_file_is_named_and_nothing_is_left_pending(tmp_path: Path, git_env):
    """A commit can hold a folder named like a temp file: the run stops naming it and leaves no journal."""
    repo = committed_repo(tmp_path)
    planted = repo / "environments/prestop/ui/.deployment-ui.yaml.shopgen.tmp"
    planted.mkdir()
    (planted / "keep").write_text("")
    (repo / "shopgen.yaml").write_text(UPDATE)
    old = tree_bytes(repo)
    result = child("synth", cwd=repo)
    assert result.returncode == 2, result.stderr
    assert f"{planted}: is a folder where shopgen keeps a temp file" in one_error(result.stderr)
    assert "nothing was changed" in result.stderr and not journal_of(repo).exists()
    assert tree_bytes(repo) == old
    (planted / "keep").unlink()
    planted.rmdir()
    assert run_cli("synth", cwd=repo).code == 0
