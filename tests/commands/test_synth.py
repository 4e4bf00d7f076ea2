"""`shopgen synth`: deterministic, idempotent, prunes only its own files, keeps hand edits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, STAGES, run_cli, tree_bytes
from workflow_check import check_pre_commit, check_workflow


def _mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_two_renders_are_byte_identical(rendered: Path, tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path).code == 0
    assert tree_bytes(tmp_path) == tree_bytes(rendered)


def test_second_synth_changes_nothing(tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path).code == 0
    before = _mtimes(tmp_path)
    again = run_cli("synth", "--out", tmp_path)
    assert again.code == 0
    assert _mtimes(tmp_path) == before
    _, line = again.err.splitlines()  # the root, then one line: nothing changed
    assert line.startswith("synth: no change (6 stages, ") and line.endswith(f" files) in {tmp_path}"), line
    assert "created 0, updated 0, removed 0" in run_cli("synth", "--out", tmp_path, "-v").err
    check = run_cli("synth", "--out", tmp_path, "--check")
    assert check.code == 0, check.err


def test_summary_line_per_stage(tmp_path: Path):
    result = run_cli("synth", "--out", tmp_path)
    root, *lines = result.err.splitlines()
    assert root == f"root: {tmp_path} (--out)"  # the root it used, first
    assert [line.split(":")[0] for line in lines] == [*STAGES, "shared"]
    assert lines[5].startswith("prestop: 47 resources; files created 49,")
    assert result.out == ""


def test_generated_json_and_state(tmp_path: Path):
    run_cli("synth", "--out", tmp_path)
    generated = json.loads((tmp_path / ".shopgen/generated.json").read_text())
    assert generated["config_hash"].startswith("sha256:")
    listed = set(generated["files"])
    on_disk = {p for p in tree_bytes(tmp_path) if not p.startswith(".shopgen/generated")}
    assert listed == on_disk
    assert json.loads((tmp_path / ".shopgen/state.json").read_text()) == {"active_stage": "baseline"}
    gitattributes = (tmp_path / ".gitattributes").read_text()
    for tree in ("environments", "argocd", "charts", "terraform"):
        assert f"{tree}/** linguist-generated=true" in gitattributes


def test_removed_resource_leaves_no_stale_file(tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path).code == 0
    stale = tmp_path / "environments/prestop/catalog/externalsecret-catalog-db.yaml"
    assert stale.exists()
    (tmp_path / "shopgen.yaml").write_text("secrets:\n  provider: none\n")
    result = run_cli("synth", "--out", tmp_path)
    assert result.code == 0, result.err
    assert not stale.exists()
    assert not list((tmp_path / "environments").rglob("externalsecret-*.yaml"))
    kustomization = (tmp_path / "environments/prestop/kustomization.yaml").read_text()
    assert "externalsecret" not in kustomization
    assert "removed 3" in result.err


def test_one_stage_leaves_the_others_alone(tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path).code == 0
    before = tree_bytes(tmp_path)
    mtimes = _mtimes(tmp_path)
    (tmp_path / "shopgen.yaml").write_text("services:\n  ui:\n    prestop_sleep_seconds: 70\n")
    result = run_cli("synth", "--out", tmp_path, "--stage", "prestop")
    assert result.code == 0, result.err
    after = tree_bytes(tmp_path)
    changed = {p for p in after if before.get(p) != after[p]}
    assert "environments/prestop/ui/deployment-ui.yaml" in changed
    assert all(
        p.startswith("environments/prestop/") or p.startswith(".shopgen/") or p == "shopgen.yaml" for p in changed
    ), changed
    # baseline is the active stage, so it is rendered too, but its files do not change
    assert all(mtimes[p] == _mtimes(tmp_path)[p] for p in mtimes if p.startswith("environments/alb/"))


def test_only_named_and_active_stages_rendered(tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path, "--stage", "prestop").code == 0
    assert sorted(p.name for p in (tmp_path / "environments").iterdir()) == ["baseline", "prestop"]


def test_foreign_file_survives(tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path).code == 0
    foreign = tmp_path / "environments/prestop/ui/notes.txt"
    foreign.write_text("mine")
    (tmp_path / "environments/extra").mkdir()
    (tmp_path / "environments/extra/x.yaml").write_text("kind: Mine\n")
    assert run_cli("synth", "--out", tmp_path).code == 0
    assert run_cli("synth", "--out", tmp_path, "--force").code == 0
    assert foreign.read_text() == "mine"
    assert (tmp_path / "environments/extra/x.yaml").read_text() == "kind: Mine\n"


def test_hand_edit_is_named_and_kept_until_force(tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path).code == 0
    edited = tmp_path / "environments/alb/ui/deployment-ui.yaml"
    original = edited.read_text()
    edited.write_text(original.replace("maxSurge: 50%", "maxSurge: 25%"))
    check = run_cli("synth", "--out", tmp_path, "--check")
    assert check.code == 1
    assert "hand edit environments/alb/ui/deployment-ui.yaml" in check.err
    kept = run_cli("synth", "--out", tmp_path)
    assert kept.code == 1
    assert "environments/alb/ui/deployment-ui.yaml" in kept.err and "--force" in kept.err
    assert "maxSurge: 25%" in edited.read_text()
    still = run_cli("synth", "--out", tmp_path, "--check")
    assert "hand edit environments/alb/ui/deployment-ui.yaml" in still.err
    forced = run_cli("synth", "--out", tmp_path, "--force")
    assert forced.code == 0, forced.err
    assert "replaced (--force): environments/alb/ui/deployment-ui.yaml" in forced.err
    assert edited.read_text() == original
    assert run_cli("synth", "--out", tmp_path, "--check").code == 0


def test_check_writes_nothing_and_lists_differences(tmp_path: Path):
    check = run_cli("synth", "--out", tmp_path, "--check")
    assert check.code == 1
    assert "create environments/baseline/ui/deployment-ui.yaml" in check.err
    assert tree_bytes(tmp_path) == {}
    assert not (tmp_path / ".shopgen").exists()
    run_cli("synth", "--out", tmp_path)
    (tmp_path / "environments/readiness/ui/service-ui.yaml").unlink()
    check = run_cli("synth", "--out", tmp_path, "--check")
    assert check.code == 1 and "create environments/readiness/ui/service-ui.yaml" in check.err


def test_symlinked_stage_folder_is_refused(tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    (out / "environments").mkdir(parents=True)
    (out / "environments/prestop").symlink_to(elsewhere)
    result = run_cli("synth", "--out", out, "--stage", "prestop")
    assert result.code == 2 and "is a symlink" in result.err
    assert list(elsewhere.iterdir()) == []
    assert not (out / ".shopgen").exists()


def test_default_out_is_the_git_top_level(tmp_path: Path, git_env):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert run_cli("synth", "--stage", "baseline", cwd=sub).code == 0
    assert (tmp_path / "environments/baseline/kustomization.yaml").exists()
    assert not (sub / "environments").exists()


def test_committed_render_is_fresh():
    """The repository's own rendered trees equal a fresh render of the default config."""
    result = run_cli("synth", "--check", "--out", REPO)
    assert result.code == 0, result.err


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_venv_starts_a_gitops_repository(tmp_path: Path):
    """Build a wheel, install it into a new venv outside the checkout; `git init && shopgen init && shopgen
    synth` with no Node on PATH gives a repository whose workflow pins that version and names only real
    commands, whose pre-commit config is shopgen's hook, and whose runbook names the configured shop."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin/pip"), "--disable-pip-version-check", "-q"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(tmp_path / "wheels"), str(REPO)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("shopgen-*.whl")
    version = wheel.name.split("-")[1]
    installed = subprocess.run([*pip, "install", str(wheel)], capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr[-3000:]
    gitdir = tmp_path / "gitonly"
    gitdir.mkdir()
    git_bin = shutil.which("git")
    assert git_bin
    (gitdir / "git").symlink_to(git_bin)
    top = tmp_path / "gitops"
    top.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:{gitdir}",
        "HOME": str(tmp_path / "home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "SHOPGEN_STATE_DIR": str(tmp_path / "state"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), capture_output=True, text=True, env=env, check=False, cwd=top)

    assert run("git", "init", "-q").returncode == 0
    init = run(str(venv / "bin/shopgen"), "init")
    assert init.returncode == 0, init.stderr
    config = (top / "shopgen.yaml").read_text()
    (top / "shopgen.yaml").write_text(
        config.replace("namespace: shop", "namespace: acme").replace("  name: part01", "  name: dev1")
    )
    result = run(str(venv / "bin/shopgen"), "synth")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"root: {top} (nearest shopgen.yaml)"
    assert [line.split(":")[0] for line in lines[1:]] == [*STAGES, "shared"], result.stderr
    assert (top / "environments/prestop/ui/deployment-ui.yaml").exists()
    assert "node" not in os.listdir(gitdir)
    check_workflow(top, version)
    check_pre_commit(top)
    runbook = (top / "docs/runbook.md").read_text()
    assert "-n acme" in runbook and "dev1" in runbook and "part01" not in runbook
