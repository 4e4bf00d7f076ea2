"""The no-change fast path answers exactly as the full path does, and only when that is proven."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopgen.output import cache

from conftest import run_cli, tree_bytes


def _slow(monkeypatch: pytest.MonkeyPatch, *args: str | Path):
    monkeypatch.setenv("SHOPGEN_NO_CACHE", "1")
    try:
        return run_cli(*args)
    finally:
        monkeypatch.delenv("SHOPGEN_NO_CACHE")


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    assert run_cli("synth", "--out", root).code == 0
    return root


def test_rerun_and_check_match_the_full_path(synced: Path, monkeypatch: pytest.MonkeyPatch):
    assert cache.try_unchanged(synced, None, (), "", checked=False) is not None  # the fast path is armed
    before = tree_bytes(synced)
    for args in (("synth", "--out", synced), ("synth", "--check", "--out", synced)):
        fast = run_cli(*args)
        slow = _slow(monkeypatch, *args)
        assert (fast.code, fast.out, fast.err) == (slow.code, slow.out, slow.err)
        assert fast.code == 0
    assert tree_bytes(synced) == before


def test_one_stage_rerun_matches(synced: Path, monkeypatch: pytest.MonkeyPatch):
    first = run_cli("synth", "--stage", "alb", "--out", synced)
    assert first.code == 0
    assert cache.try_unchanged(synced, None, ("alb",), "", checked=True) is not None
    fast = run_cli("synth", "--stage", "alb", "--check", "--out", synced)
    slow = _slow(monkeypatch, "synth", "--stage", "alb", "--check", "--out", synced)
    assert fast.err == slow.err and fast.code == slow.code == 0


def test_an_edited_or_missing_file_takes_the_full_path(synced: Path):
    target = synced / "environments/prestop/ui/service-ui.yaml"
    target.write_text(target.read_text() + "# edited\n")
    assert cache.try_unchanged(synced, None, (), "", checked=True) is None
    check = run_cli("synth", "--check", "--out", synced)
    assert check.code == 1 and "hand edit environments/prestop/ui/service-ui.yaml" in check.err
    assert run_cli("synth", "--force", "--out", synced).code == 0
    (synced / "terraform/vpc.tf").unlink()
    assert cache.try_unchanged(synced, None, (), "", checked=True) is None
    check = run_cli("synth", "--check", "--out", synced)
    assert check.code == 1 and "create terraform/vpc.tf" in check.err


def test_any_input_change_is_a_new_key(synced: Path, monkeypatch: pytest.MonkeyPatch):
    k = cache.key(synced, None, (), "")
    assert cache.key(synced, None, ("alb",), "") != k
    assert cache.key(synced, None, (), "sub/") != k
    (synced / "shopgen.yaml").write_text("namespace: shop\n")
    assert cache.key(synced, None, (), "") != k  # a config file, even with default values
    (synced / "shopgen.yaml").unlink()
    state = synced / ".shopgen/state.json"
    state.write_text(json.dumps({"active_stage": "alb"}))
    assert cache.key(synced, None, (), "") != k
    state.write_text(json.dumps({"active_stage": "baseline"}, indent=2, sort_keys=True) + "\n")
    assert cache.key(synced, None, (), "") == k
    monkeypatch.setattr(cache, "_versions", lambda: ("cdk8s==0.0.0",))
    assert cache.key(synced, None, (), "") != k  # another version of a library that shapes the bytes
    monkeypatch.setattr(cache, "_code_fingerprint", lambda: "other code")
    assert cache.key(synced, None, (), "") != k


def test_config_change_renders_for_real(synced: Path):
    (synced / "shopgen.yaml").write_text("services:\n  ui:\n    prestop_sleep_seconds: 70\n")
    result = run_cli("synth", "--out", synced)
    assert result.code == 0
    assert "prestop: 47 resources; files created 0, updated 2" in result.err  # the Deployment and README
    assert "sleep 70" in (synced / "environments/prestop/ui/deployment-ui.yaml").read_text()


def test_bypassed_when_it_cannot_be_proven(synced: Path, monkeypatch: pytest.MonkeyPatch):
    assert not cache.enabled(force=True, crd_dir=None)
    assert not cache.enabled(force=False, crd_dir=Path("/crds"))
    monkeypatch.setenv("SHOPGEN_NO_CACHE", "1")
    assert not cache.enabled(force=False, crd_dir=None)
    monkeypatch.delenv("SHOPGEN_NO_CACHE")
    (synced / ".shopgen/journal.json").write_text("{}")
    assert cache.try_unchanged(synced, None, (), "", checked=True) is None


def test_a_broken_cache_is_ignored(synced: Path):
    for entry in cache.cache_dir().glob("synth-*.json"):
        entry.write_text("not json")
    assert cache.try_unchanged(synced, None, (), "", checked=True) is None
    assert run_cli("synth", "--check", "--out", synced).code == 0


def test_a_symlinked_file_or_a_pipe_takes_the_full_path(synced: Path, tmp_path: Path):
    target = synced / "environments/prestop/ui/service-ui.yaml"
    copy = tmp_path / "elsewhere.yaml"
    copy.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(copy)  # identical bytes, but not a file shopgen may write through
    assert cache.try_unchanged(synced, None, (), "", checked=True) is None
    assert run_cli("synth", "--check", "--out", synced).code == 2
    assert cache.key(synced, Path("/dev/zero"), (), "") is None  # never read a device or a pipe


def test_no_cache_means_nothing_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHOPGEN_NO_CACHE", "1")
    assert run_cli("synth", "--out", tmp_path / "repo").code == 0
    assert not list(cache.cache_dir().glob("synth-*.json"))
