"""Promotion commits mean what they say: they match the committed config and follow the repository's
commit policy (hooks, signing) the way `git commit` would, without touching other staged work."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, committed_repo, git, journal_of, run_cli, tree_bytes

SHOPGEN = BIN / "shopgen"


def _state(repo: Path) -> str:
    return json.loads((repo / ".shopgen/state.json").read_text())["active_stage"]


def _unchanged(repo: Path, old: dict[str, bytes], head: str) -> None:
    assert tree_bytes(repo) == old
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert not journal_of(repo).exists()


def _hook(repo: Path, name: str, body: str) -> None:
    path = repo / ".git/hooks" / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


# --- 1. a promotion commit always matches its config --------------------------------------------


@pytest.mark.parametrize("change", ["modified", "staged", "untracked", "deleted"])
def test_promote_refuses_a_config_that_is_not_committed(change: str, tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    config = repo / "shopgen.yaml"
    if change in ("modified", "staged", "deleted"):
        config.write_text("services:\n  ui:\n    prestop_sleep_seconds: 70\n")
        assert run_cli("synth", cwd=repo).code == 0
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "config")
    if change == "deleted":
        config.unlink()
    else:
        config.write_text("services:\n  ui:\n    prestop_sleep_seconds: 75\n")
    if change == "staged":
        git(repo, "add", "shopgen.yaml")
    old, head = tree_bytes(repo), git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("promote", "readiness", cwd=repo)
    assert result.code == 2, result.err
    said = "is not committed" if change == "untracked" else "has uncommitted changes"
    assert result.err.startswith(f"shopgen: error: {config}: {said}"), result.err
    _unchanged(repo, old, head)


def test_promote_refuses_a_config_git_ignores(tmp_path: Path, git_env):
    """An ignored shopgen.yaml never reaches a clone: a promotion rendered from it could never check clean."""
    repo = committed_repo(tmp_path)
    (repo / ".gitignore").write_text("shopgen.yaml\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore the config")
    (repo / "shopgen.yaml").write_text("services:\n  ui:\n    prestop_sleep_seconds: 70\n")
    old, head = tree_bytes(repo), git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("promote", "readiness", cwd=repo)
    assert result.code == 2, result.err
    assert "shopgen.yaml: is not committed" in result.err
    _unchanged(repo, old, head)


def test_a_promotion_after_the_config_is_committed_checks_clean(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    (repo / "shopgen.yaml").write_text("services:\n  ui:\n    prestop_sleep_seconds: 70\n")
    assert run_cli("synth", cwd=repo).code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "config")
    assert run_cli("promote", "prestop", "--through", cwd=repo).code == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    check = run_cli("synth", "--check", cwd=clone)
    assert check.code == 0, check.err


# --- 2. the repository's commit policy ---------------------------------------------------------


def test_the_shipped_pre_commit_check_passes_inside_a_promotion(tmp_path: Path, git_env):
    """The hook runs while promote holds the lock and its journal: the tree is complete, the check passes."""
    repo = committed_repo(tmp_path)
    marker = tmp_path / "hook-ran"
    _hook(
        repo,
        "pre-commit",
        f'"{SHOPGEN}" synth --check > "{marker}.out" 2>&1; code=$?\n'
        f'git diff --cached --name-only >> "{marker}.out"\necho $code > "{marker}"\nexit $code\n',
    )
    (repo / "notes.txt").write_text("mine\n")
    git(repo, "add", "notes.txt")  # other staged work: not in the commit, still staged afterwards
    result = run_cli("promote", "readiness", cwd=repo)
    assert result.code == 0, result.err + (tmp_path / "hook-ran.out").read_text()
    assert marker.read_text().strip() == "0"
    seen = (tmp_path / "hook-ran.out").read_text()
    assert ".shopgen/state.json" in seen and "argocd/application-shop.yaml" in seen and "notes.txt" not in seen
    assert "notes.txt" not in git(repo, "show", "--name-only", "--format=", "HEAD")
    assert git(repo, "diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert _state(repo) == "readiness"


@pytest.mark.parametrize("hook", ["pre-commit", "commit-msg"])
def test_a_refusing_hook_refuses_the_promotion_and_the_tree_goes_back(hook: str, tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    _hook(repo, hook, "echo 'policy: no promotions on Fridays' >&2\nexit 1\n")
    old, head = tree_bytes(repo), git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("promote", "readiness", cwd=repo)
    assert result.code == 2, result.err
    assert f"the {hook} hook refused the commit" in result.err and "no promotions on Fridays" in result.err
    assert "the files were put back" in result.err
    _unchanged(repo, old, head)
    assert git(repo, "status", "--porcelain") == ""


def test_what_a_pre_commit_hook_stages_is_committed_as_git_commit_would(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    _hook(repo, "pre-commit", 'echo "checked" > hook-note.txt && git add hook-note.txt\n')
    assert run_cli("promote", "readiness", cwd=repo).code == 0
    assert "hook-note.txt" in git(repo, "show", "--name-only", "--format=", "HEAD").split()


def test_a_hook_that_empties_the_message_aborts_the_promotion(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    _hook(repo, "commit-msg", ': > "$1"\n')
    old, head = tree_bytes(repo), git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("promote", "readiness", cwd=repo)
    assert result.code == 2 and "left the commit message empty" in result.err, result.err
    assert "the files were put back" in result.err
    _unchanged(repo, old, head)


def test_commit_msg_hook_edits_reach_the_commit(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    _hook(repo, "commit-msg", 'printf "\\nChange-Id: I0123456789\\n" >> "$1"\n')
    assert run_cli("promote", "readiness", cwd=repo).code == 0
    body = git(repo, "log", "-1", "--format=%B")
    assert "Shopgen-Stage: readiness" in body and body.rstrip().endswith("Change-Id: I0123456789")


def _ssh_signing(repo: Path, tmp_path: Path, *, key_exists: bool = True) -> None:
    key = tmp_path / "signing-key"
    if key_exists:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingKey", f"{key}.pub")
    git(repo, "config", "commit.gpgSign", "true")


def test_promotion_commits_are_signed_when_git_signs(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    _ssh_signing(repo, tmp_path)
    assert run_cli("promote", "readiness", cwd=repo).code == 0
    assert "-----BEGIN SSH SIGNATURE-----" in git(repo, "cat-file", "commit", "HEAD")


def test_a_signature_that_cannot_be_made_refuses_the_promotion(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    _ssh_signing(repo, tmp_path, key_exists=False)
    old, head = tree_bytes(repo), git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("promote", "readiness", cwd=repo)
    assert result.code == 2, result.err
    assert "the files were put back" in result.err
    _unchanged(repo, old, head)


# --- 6. renamed paths in git status ---------------------------------------------------------------


def test_a_staged_rename_of_an_owned_path_is_named_exactly(tmp_path: Path, git_env):
    repo = committed_repo(tmp_path)
    git(repo, "mv", "argocd/application-shop.yaml", "argocd/application-renamed.yaml")
    result = run_cli("promote", "readiness", cwd=repo)
    assert result.code == 2, result.err
    lines = result.err.splitlines()
    assert "  argocd/application-shop.yaml" in lines and "  argocd/application-renamed.yaml" in lines, result.err


# --- 6. line endings ----------------------------------------------------------------------------------


def test_a_checkout_with_autocrlf_is_not_a_hand_edit(tmp_path: Path, git_env):
    """Every file shopgen writes is eol=lf in .gitattributes: core.autocrlf=true leaves the bytes alone."""
    repo = committed_repo(tmp_path)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "-c", "core.autocrlf=true", str(repo), str(clone))
    written = json.loads((clone / ".shopgen/generated.json").read_text())["files"]
    assert not [rel for rel in written if b"\r\n" in (clone / rel).read_bytes()]
    check = run_cli("synth", "--check", cwd=clone)
    assert check.code == 0, check.err
    assert run_cli("promote", "readiness", cwd=clone).code == 0
