"""Output people can read: `validate` shows what is unexpected in a few lines, `synth` one line when
nothing changes, -q/-v for less and more, colour only on a terminal, JSON with file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import CRD_DIR, STAGES, run_cli

TREES = [*STAGES, "argocd", "files"]
ANSI = "\x1b["
REPO_URL = "gitops:\n  repo_url: https://github.com/acme/shop.git\n"


def validate(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("validate", "--all", "--crd-dir", CRD_DIR, "--out", root, *args)


def as_json(root: Path, *args: str) -> dict[str, Any]:
    return json.loads(validate(root, "--format", "json", *args).out)


def findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for group in data["groups"].values() for f in group["findings"]]


@pytest.fixture
def tree(rendered: Path, tmp_path: Path) -> Path:
    """A private copy of the default render (tests below edit it)."""
    root = tmp_path / "tree"
    shutil.copytree(rendered, root)
    return root


def drop_readiness_probe(path: Path) -> None:
    """Remove the readinessProbe block of the Deployment's container (a hand edit breaking the story)."""
    kept, inside = [], None
    for line in path.read_text().splitlines(keepends=True):
        indent = len(line) - len(line.lstrip(" "))
        if inside is not None and indent > inside:
            continue
        inside = indent if line.strip() == "readinessProbe:" else None
        if inside is None:
            kept.append(line)
    assert len(kept) < len(path.read_text().splitlines()), path
    path.write_text("".join(kept))


# --- validate, text ---------------------------------------------------------------------------------


def test_a_healthy_render_reads_in_a_few_lines(tmp_path: Path):
    (tmp_path / "shopgen.yaml").write_text(REPO_URL)
    assert run_cli("synth", "--out", tmp_path).code == 0
    result = validate(tmp_path)
    lines = result.out.splitlines()
    assert result.code == 0, result.out
    assert len(lines) <= 10, result.out
    assert [line.split()[0] for line in lines[:-1]] == TREES  # one total line per tree, in story order
    expected = as_json(tmp_path)["summary"]["expected"]
    assert expected > 200
    assert lines[-1] == f"validate: 0 errors, 0 warnings ({expected} expected) in 8 trees — ok"
    assert "EXPECTED" not in result.out


def test_the_default_render_reads_in_ten_lines_with_its_warning_and_fix_first(rendered: Path):
    """The placeholder repo_url is the default render's one unexpected finding: on top, its fix on the
    same line; then a line per tree and the verdict. Ten lines in all, besides the `root:` line."""
    result = validate(rendered)
    assert result.code == 0, result.out
    root, *rest = result.err.splitlines()
    assert root == f"root: {rendered} (--out)"
    lines = result.out.splitlines()
    assert len(lines) + len(rest) <= 10, result.out + result.err
    warning = "WARNING  [argocd] gitops.repo-url-placeholder AppProject/argocd/shop spec.sourceRepos[0]: "
    assert lines[0].startswith(warning)
    assert "still the placeholder https://github.com/CHANGE-ME/shop-gitops.git" in lines[0]
    assert lines[0].endswith(
        " — hint: set gitops.repo_url in shopgen.yaml to this repository's clone URL and run `shopgen synth`"
    )
    assert [line.split()[0] for line in lines[1:-1]] == TREES
    assert lines[-1].startswith("validate: 0 errors, 1 warning (") and lines[-1].endswith(" in 8 trees — ok")

    verbose = validate(rendered, "-v").out.splitlines()  # -v: each finding, its hint on a line of its own
    data = as_json(rendered)
    assert sum(line.startswith("EXPECTED ") for line in verbose) == data["summary"]["expected"] > 200
    at = verbose.index(next(line for line in verbose if line.startswith("WARNING  gitops.repo-url-placeholder")))
    assert verbose[at + 1].startswith("         hint: set gitops.repo_url in shopgen.yaml")


def test_verbose_lists_every_expected_finding_with_its_reason(rendered: Path):
    data = as_json(rendered)
    expected = [f for f in findings(data) if f["expected"]]
    assert len(expected) == data["summary"]["expected"] > 200
    result = validate(rendered, "-v")
    assert result.code == 0
    lines = result.out.splitlines()
    assert sum(line.startswith("EXPECTED ") for line in lines) == len(expected)
    reasons = [line.removeprefix("         expected: ") for line in lines if line.startswith("         expected: ")]
    assert sorted(reasons) == sorted(f["expected_reason"] for f in expected)
    assert sum(line.split()[0] in TREES and " resources checked " in line for line in lines) == len(STAGES) + 1
    assert lines[-1] == validate(rendered).out.splitlines()[-1]  # the same verdict


def test_quiet_prints_the_verdict_only(rendered: Path):
    result = validate(rendered, "-q")
    assert result.code == 0
    assert result.out.splitlines() == [validate(rendered).out.splitlines()[-1]]
    both = validate(rendered, "-q", "-v")
    assert both.code == 2 and "-q/--quiet or -v/--verbose" in both.err


def test_a_broken_render_shows_its_error_first_with_its_count(tree: Path):
    drop_readiness_probe(tree / "environments/prestop/ui/deployment-ui.yaml")
    result = validate(tree)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("ERROR    [prestop] policy.readiness-probe Deployment/shop/ui "), result.out
    assert " — hint: add a readinessProbe" in lines[0]  # the fix on the finding's own line
    assert next(line for line in lines if line.startswith("prestop ")).endswith(": 1 error, 0 warnings, 37 expected")
    assert lines[-1].endswith(" — 2 errors")  # the missing probe, and the hand edit itself (drift)
    assert "drift.hand-edit" in result.out and len(lines) < 20

    drop_readiness_probe(tree / "environments/prestop/catalog/deployment-catalog.yaml")
    again = validate(tree).out.splitlines()
    assert again[0].startswith("ERROR    [prestop] policy.readiness-probe  2 resources: "), again[0]
    assert "Deployment/shop/catalog" in again[0] and "Deployment/shop/ui" in again[0]
    assert " — hint: add a readinessProbe" in again[0]
    assert again[1].startswith("ERROR    [drift] drift.hand-edit  2 files: File/environments/prestop/")
    assert again[2].startswith("WARNING  [argocd] gitops.repo-url-placeholder ")
    assert [line.count(" — hint: ") for line in again[:3]] == [1, 1, 1]  # each hint once, on its rule's line
    assert " hint: " not in "\n".join(again[3:])
    assert again[-1].endswith(" — 4 errors")
    verbose = validate(tree, "-v").out
    assert verbose.count("ERROR    policy.readiness-probe Deployment/shop/") == 2


# --- validate, JSON -----------------------------------------------------------------------------------


def test_json_has_a_schema_story_order_files_and_lines(rendered: Path):
    data = as_json(rendered)
    assert data["schema"] == 1
    assert list(data["groups"]) == data["group_order"] == TREES
    assert set(data["summary"]) >= {"errors", "warnings", "expected"}
    for finding in findings(data):
        assert finding["expected"] is (finding["expected_reason"] is not None), finding
        assert finding["file"] == finding["source"] and isinstance(finding["line"], int), finding
        assert finding["line"] >= 1 and (rendered / finding["file"]).is_file(), finding
    assert sum(f["expected"] for f in findings(data)) == data["summary"]["expected"]

    def line_of(rule: str, source: str) -> str:
        found = next(f for f in findings(data) if f["rule"] == rule and f["source"] == source)
        return (rendered / source).read_text().splitlines()[found["line"] - 1]

    # The field's own line when the field is there; the object that lacks it when it is not.
    assert line_of("gitops.repo-url-placeholder", "argocd/appproject-shop.yaml").strip() == (
        "- https://github.com/CHANGE-ME/shop-gitops.git"
    )
    assets = "environments/baseline/assets/deployment-assets.yaml"
    assert line_of("policy.rollout-safety", assets).strip() == "maxUnavailable: 1"
    assert line_of("policy.readiness-probe", assets).strip() == "- name: assets"  # no probe: its container


def test_json_of_a_fresh_render_matches_disk_line_for_line(rendered: Path):
    assert as_json(rendered, "--render") == as_json(rendered)


# --- colour ------------------------------------------------------------------------------------------


def _invoke(args: list[str], *, color: bool, env: dict[str, str] | None = None) -> str:
    from shopgen.cli import cli

    result = CliRunner().invoke(cli, args, color=color, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_colour_only_on_a_terminal_and_never_under_no_color(rendered: Path, monkeypatch: pytest.MonkeyPatch):
    args = ["validate", "--all", "--crd-dir", str(CRD_DIR), "--out", str(rendered)]
    assert ANSI not in validate(rendered).out  # not a terminal: plain
    forced = _invoke(args, color=True)  # as on a terminal
    assert f"{ANSI}33m" in forced and f"{ANSI}32m" in forced  # the warning yellow, ok green
    assert forced.count("\n") == validate(rendered).out.count("\n")
    assert ANSI not in _invoke(args, color=True, env={"NO_COLOR": "1"})
    assert ANSI in _invoke(args, color=True, env={"NO_COLOR": ""})  # empty: not set (no-color.org)
    assert ANSI not in _invoke([*args, "--no-color"], color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert ANSI in validate(rendered, "--color").out  # the flag wins over the environment
    assert ANSI not in validate(rendered).out


# --- synth ---------------------------------------------------------------------------------------------


def test_synth_without_change_prints_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    first = run_cli("synth", "--out", tmp_path)
    assert first.code == 0
    assert [line.split(":")[0] for line in first.err.splitlines()[1:]] == [*STAGES, "shared"]  # a change
    again = run_cli("synth", "--out", tmp_path)
    root, line = again.err.splitlines()
    assert root == f"root: {tmp_path} (--out)"
    assert line.startswith("synth: no change (6 stages, ") and line.endswith(f" files) in {tmp_path}")
    monkeypatch.setenv("SHOPGEN_NO_CACHE", "1")  # the full path says the same as the no-change path
    assert run_cli("synth", "--out", tmp_path).err == again.err
    check = run_cli("synth", "--out", tmp_path, "--check")
    assert check.code == 0 and check.err.splitlines()[1:] == [
        line.replace("synth: no change", "synth --check: up to date")
    ]
    monkeypatch.delenv("SHOPGEN_NO_CACHE")
    assert run_cli("synth", "--out", tmp_path, "-q").err.splitlines() == [root]
    assert run_cli("synth", "--out", tmp_path, "-q", "--check").err == check.err
    verbose = run_cli("synth", "--out", tmp_path, "-v").err.splitlines()[1:]
    assert [line.split(":")[0] for line in verbose] == [*STAGES, "shared"]


def test_synth_quiet_still_says_what_fails(tmp_path: Path):
    assert run_cli("synth", "--out", tmp_path).code == 0
    (tmp_path / "environments/readiness/ui/service-ui.yaml").unlink()
    check = run_cli("synth", "--out", tmp_path, "--check", "-q")
    assert check.code == 1
    assert check.err.splitlines()[1:] == ["out of date: 1 difference(s) from a fresh render; run `shopgen synth`"]
    edited = tmp_path / "environments/alb/ui/deployment-ui.yaml"
    edited.write_text(edited.read_text().replace("maxSurge: 50%", "maxSurge: 25%"))
    kept = run_cli("synth", "--out", tmp_path, "-q")
    assert kept.code == 1
    assert "  environments/alb/ui/deployment-ui.yaml" in kept.err.splitlines()
    assert "files created" not in kept.err  # no summary under -q
