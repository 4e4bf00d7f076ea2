"""`shopgen status`: one look at a root — freshness as `synth --check` sees it, hand edits, the active
stage, an interrupted run's journal and the last promotion; it reads and never writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shopgen.gitops import last_promotion

from conftest import git, journal_of, run_cli, tree_bytes

KEYS = {
    "root",
    "config",
    "profile",
    "active_stage",
    "fresh",
    "differences",
    "hand_edits",
    "pending_journal",
    "last_promotion",
}
EDITED = "environments/readiness/kustomization.yaml"


def _status(root: Path, *args: str) -> dict:
    result = run_cli("status", "--format", "json", "--out", root, *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def _text(root: Path) -> dict[str, str]:
    """The text report as {key: value} (a list's continuation lines are left out)."""
    result = run_cli("status", "--out", root)
    assert result.code == 0, result.err
    pairs = (line.split(": ", 1) for line in result.out.splitlines() if not line.startswith(" "))
    return {key: value.strip() for key, value in pairs}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def synthesized(tmp_path: Path) -> Path:
    root = tmp_path / "out"
    assert run_cli("synth", "--out", root).code == 0
    return root


@pytest.mark.parametrize("cache", ["no-change path", "full render"])
def test_a_fresh_synth_is_fresh_with_no_hand_edits(synthesized: Path, monkeypatch: pytest.MonkeyPatch, cache: str):
    if cache == "full render":
        monkeypatch.setenv("SHOPGEN_NO_CACHE", "1")
    status = _status(synthesized)
    assert set(status) >= KEYS
    assert status["fresh"] is True
    assert set(status["differences"].values()) == {0}
    assert status["hand_edits"] == []
    assert status["active_stage"] == "baseline"
    assert status["root"] == str(synthesized)
    assert status["config"] == "embedded defaults"
    assert status["profile"] == "retail-0.7.1"
    assert status["pending_journal"] is False
    assert status["last_promotion"] is None  # outside git
    text = _text(synthesized)
    assert text["fresh"] == "yes"
    assert text["hand edits"] == "none"
    assert text["active stage"] == "baseline"
    assert text["last promotion"] == "none"


def test_text_lines_are_aligned(synthesized: Path):
    out = run_cli("status", "--out", synthesized).out
    columns = {len(line) - len(line.split(": ", 1)[1].lstrip()) for line in out.splitlines()}
    assert len(columns) == 1, out


def test_a_hand_edit_is_named_not_fresh_and_nothing_is_written(synthesized: Path):
    edited = synthesized / EDITED
    edited.write_text(edited.read_text() + "# tuned by hand\n")
    before = tree_bytes(synthesized)
    state, cache = Path(os.environ["SHOPGEN_STATE_DIR"]), Path(os.environ["SHOPGEN_CACHE_DIR"])
    outside = _files(state), _files(cache)

    status = _status(synthesized)
    assert status["fresh"] is False
    assert status["hand_edits"] == [EDITED]
    assert status["differences"]["hand_edited"] == 1
    text = _text(synthesized)
    assert text["hand edits"] == EDITED
    assert text["fresh"].startswith("no: 1 edited by hand")

    assert tree_bytes(synthesized) == before
    assert (_files(state), _files(cache)) == outside  # no journal, lock or cache entry either
    check = run_cli("synth", "--check", "--out", synthesized)
    assert check.code == 1
    assert f"hand edit {EDITED}" in check.err


def test_counts_are_what_synth_check_lists(synthesized: Path):
    (synthesized / "environments/alb/README.md").unlink()
    (synthesized / "shopgen.yaml").write_text("services:\n  ui:\n    prestop_sleep_seconds: 70\n")
    status = _status(synthesized)
    check = run_cli("synth", "--check", "--out", synthesized)
    listed = [line.split()[0] for line in check.err.splitlines() if line.startswith("  ")]
    assert status["fresh"] is False
    assert status["config"] == str(synthesized / "shopgen.yaml")
    assert status["differences"]["created"] == listed.count("create") >= 1
    assert status["differences"]["updated"] == listed.count("update") >= 1
    assert sum(status["differences"].values()) == len(listed)


def test_never_synthesized_has_no_active_stage_and_stays_unwritten(tmp_path: Path):
    root = tmp_path / "empty"
    root.mkdir()
    status = _status(root)
    assert status["active_stage"] is None
    assert status["fresh"] is False
    assert status["differences"]["created"] > 0
    assert _text(root)["active stage"].startswith("none")
    assert list(root.iterdir()) == []


def test_a_pending_journal_is_reported_and_never_replayed(synthesized: Path):
    journal = journal_of(synthesized)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text("{}")
    before = tree_bytes(synthesized)
    status = _status(synthesized)
    assert status["pending_journal"] is True
    assert journal.read_text() == "{}"
    assert tree_bytes(synthesized) == before
    assert _text(synthesized)["pending journal"].startswith("yes")


def test_after_a_promotion_status_shows_its_stage_and_commit(repo: Path):
    assert _status(repo)["last_promotion"] is None  # in git, but nothing promoted yet
    promoted = run_cli("promote", "readiness", "--out", repo)
    assert promoted.code == 0, promoted.err
    head = git(repo, "rev-parse", "HEAD").strip()
    before = (tree_bytes(repo), (repo / ".git/index").read_bytes(), head)

    status = _status(repo)
    assert status["active_stage"] == "readiness"
    assert status["last_promotion"]["sha"] == head
    assert status["last_promotion"]["stage"] == "readiness"
    assert status["last_promotion"]["subject"] == git(repo, "log", "-1", "--format=%s").strip()
    assert status["fresh"] is True, status["differences"]
    text = _text(repo)
    assert text["active stage"] == "readiness"
    assert text["last promotion"].startswith(f"{head[:12]} readiness: shopgen: promote to readiness")

    after = (tree_bytes(repo), (repo / ".git/index").read_bytes(), git(repo, "rev-parse", "HEAD").strip())
    assert after == before


def test_a_later_commit_elsewhere_keeps_the_promotion(repo: Path):
    assert run_cli("promote", "alb", "--out", repo).code == 0
    promotion = git(repo, "rev-parse", "HEAD").strip()
    (repo / "notes").mkdir()
    (repo / "notes/todo.md").write_text("Shopgen-Stage: prestop\n")  # not a trailer of any commit
    git(repo, "add", "notes")
    git(repo, "commit", "-qm", "notes\n\nShopgen-Stage: mentioned in the body\n\nSigned-off-by: someone")
    assert last_promotion(repo) == (promotion, "alb", git(repo, "log", "-1", "--format=%s", promotion).strip())
    assert last_promotion(repo / "notes") is None  # only commits touching the root count


def test_outside_git_last_promotion_is_null(synthesized: Path):
    assert last_promotion(synthesized) is None
    assert _status(synthesized)["last_promotion"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yaml"], "'yaml' is not one of 'text', 'json'"),
        (["--config", "{root}/bad.yaml"], "bogus: unknown setting"),
    ],
)
def test_bad_input_exits_2(synthesized: Path, args: list[str], message: str):
    (synthesized / "bad.yaml").write_text("bogus: 1\n")
    result = run_cli("status", "--out", synthesized, *(a.format(root=synthesized) for a in args))
    assert result.code == 2
    assert message in result.err
    assert result.out == ""
