"""Your GitOps repository, not shopgen's checkout: `shopgen init` writes the repository's CI workflow
and pre-commit config once, the output root is the folder of the nearest shopgen.yaml, and one
repository holds several roots that render, validate and promote each under its own folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shopgen.commands.init import shopgen_version

from conftest import git, run_cli, tree_bytes
from workflow_check import check_pre_commit, check_workflow, workflow

BIN = Path(sys.executable).parent
REPO_URL = "https://github.com/acme/shop-gitops.git"


def run_steps(top: Path, flow: dict[str, Any], names: tuple[str, ...], base: str = "main") -> None:
    """Run the named steps' scripts as written, with bash, in the repository (GitHub's expressions filled)."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PR": "1"}
    for step in flow["jobs"]["shopgen"]["steps"]:
        if step.get("name") in names:
            script = step["run"].replace("${{ github.base_ref }}", base)
            proc = subprocess.run(["bash", "-e", "-c", script], cwd=top, env=env, capture_output=True, text=True)
            assert proc.returncode == 0, f"{step['name']}:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture
def two_roots(tmp_path: Path, git_env: dict[str, str]) -> Path:
    """One repository, shopgen's files at its top level, and the roots clusters/dev and clusters/prod."""
    top = tmp_path / "gitops"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    for root, profile in (("clusters/dev", "retail-0.7.1"), ("clusters/prod", "retail-1.6.2")):
        folder = top / root
        folder.mkdir(parents=True)
        result = run_cli("init", "--profile", profile, cwd=folder)
        assert result.code == 0, result.err
        text = (folder / "shopgen.yaml").read_text().replace("https://github.com/CHANGE-ME/shop-gitops.git", REPO_URL)
        (folder / "shopgen.yaml").write_text(text.replace("namespace: shop", f"namespace: {root.split('/')[1]}"))
        synth = run_cli("synth", cwd=folder / "environments" if (folder / "environments").exists() else folder)
        assert synth.code == 0, synth.err
        assert synth.err.splitlines()[0] == f"root: {folder} (nearest shopgen.yaml)"
    git(top, "add", "-A")
    git(top, "commit", "-qm", "two roots")
    return top


def test_init_at_the_top_level_writes_the_repository_files_once(tmp_path: Path, git_env: dict[str, str]) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    result = run_cli("init", cwd=tmp_path)
    assert result.code == 0, result.err
    flow = check_workflow(tmp_path, shopgen_version())
    check_pre_commit(tmp_path)
    assert "gitops.repo_url" in result.err
    assert "# THE ONE VALUE TO SET" in (tmp_path / "shopgen.yaml").read_text()
    (tmp_path / ".github/workflows/shopgen.yml").write_text(
        "# mine\n" + (tmp_path / ".github/workflows/shopgen.yml").read_text()
    )
    before = tree_bytes(tmp_path)
    again = run_cli("init", cwd=tmp_path)
    assert again.code == 2 and "shopgen.yml" in again.err and "shopgen.yaml" in again.err
    assert tree_bytes(tmp_path) == before  # the user's edited workflow and config are kept
    (tmp_path / "shopgen.yaml").unlink()
    refused = run_cli("init", cwd=tmp_path)
    assert refused.code == 2 and ".github/workflows/shopgen.yml" in refused.err
    assert not (tmp_path / "shopgen.yaml").exists()
    forced = run_cli("init", "--force", cwd=tmp_path)
    assert forced.code == 0 and workflow(tmp_path) == flow
    synth = run_cli("synth", cwd=tmp_path)
    assert synth.code == 0
    generated = (tmp_path / ".shopgen/generated.json").read_text()
    assert "shopgen.yml" not in generated and ".pre-commit-config.yaml" not in generated  # never listed


def test_two_roots_render_validate_and_promote_each_under_its_own_folder(two_roots: Path) -> None:
    top = two_roots
    flow = check_workflow(top, shopgen_version())
    for root in ("clusters/dev", "clusters/prod"):
        folder = top / root
        assert (folder / ".shopgen/state.json").is_file() and (folder / "environments/prestop").is_dir()
        application = (folder / "argocd/application-shop.yaml").read_text()
        assert f"path: {root}/environments/baseline" in application
        checked = run_cli("validate", "--all", cwd=folder / "environments")
        assert checked.code == 0, checked.out
        assert checked.err.splitlines()[0] == f"root: {folder} (nearest shopgen.yaml)"
    assert not (top / "environments").exists() and not (top / ".shopgen").exists()
    prod_before = tree_bytes(top / "clusters/prod")
    promoted = run_cli("promote", "readiness", cwd=top / "clusters/dev")
    assert promoted.code == 0, promoted.err
    changed = git(top, "show", "--name-only", "--format=", "HEAD").split()
    assert changed and all(path.startswith("clusters/dev/") for path in changed), changed
    assert tree_bytes(top / "clusters/prod") == prod_before
    assert (
        "path: clusters/dev/environments/readiness" in (top / "clusters/dev/argocd/application-shop.yaml").read_text()
    )
    # The workflow covers both roots: its steps, run as written, check each of them.
    roots = subprocess.run(
        [
            "bash",
            "-c",
            next(s["run"] for s in flow["jobs"]["shopgen"]["steps"] if s.get("name") == "Find the shopgen roots"),
        ],
        cwd=top,
        check=True,
    )
    assert roots.returncode == 0
    assert (top / "shopgen-roots.txt").read_text().split() == ["clusters/dev", "clusters/prod"]
    run_steps(
        top,
        flow,
        (
            "Rendered trees equal a fresh render",
            "Every stage stays within its contract",
            "The rendered manifests validate",
        ),
    )


def test_the_pull_request_steps_post_one_diff_per_changed_root(two_roots: Path) -> None:
    top = two_roots
    origin = top.parent / "origin.git"
    git(top.parent, "init", "-q", "--bare", str(origin))
    git(top, "remote", "add", "origin", str(origin))
    git(top, "push", "-q", "origin", "main")
    git(top, "fetch", "-q", "origin")
    git(top, "checkout", "-q", "-b", "change")
    config = top / "clusters/prod/shopgen.yaml"
    config.write_text(
        config.read_text().replace("deregistration_delay_seconds: 60", "deregistration_delay_seconds: 50")
    )
    assert run_cli("synth", cwd=top / "clusters/prod").code == 0
    flow = workflow(top)
    run_steps(top, flow, ("Find the shopgen roots", "Semantic diff against the base branch"))
    comment = (top / "shopgen-diff.md").read_text()
    assert "### `clusters/prod`" in comment and "clusters/dev" not in comment
    assert "deregistration_delay.timeout_seconds=50" in comment


def test_a_root_in_a_subfolder_keeps_the_repository_files(tmp_path: Path, git_env: dict[str, str]) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    assert run_cli("init", cwd=tmp_path).code == 0
    ours = {rel: (tmp_path / rel).read_bytes() for rel in (".github/workflows/shopgen.yml", ".pre-commit-config.yaml")}
    (tmp_path / "clusters/prod").mkdir(parents=True)
    second = run_cli("init", "--profile", "blank", cwd=tmp_path / "clusters/prod")
    assert second.code == 0, second.err
    assert "kept" in second.err
    assert {rel: (tmp_path / rel).read_bytes() for rel in ours} == ours


def test_the_root_is_the_folder_of_the_nearest_config(tmp_path: Path, git_env: dict[str, str]) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    deep = tmp_path / "clusters/dev/notes/deeper"
    deep.mkdir(parents=True)
    (tmp_path / "clusters/dev/shopgen.yaml").write_text("namespace: dev\n")
    result = run_cli("synth", "--stage", "baseline", cwd=deep)
    assert result.code == 0, result.err
    assert result.err.splitlines()[0] == f"root: {tmp_path / 'clusters/dev'} (nearest shopgen.yaml)"
    assert (tmp_path / "clusters/dev/environments/baseline").is_dir()
    assert not (tmp_path / "environments").exists()
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    top = run_cli("stages", cwd=elsewhere)
    assert top.err.splitlines()[0] == f"root: {tmp_path} (git top level)"
