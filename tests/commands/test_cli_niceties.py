"""The small things people expect of a CLI: "did you mean" for a misspelt key, service or stage; the value
a type error refused; stage names on <TAB>; `shopgen` alone is its help; `shopgen stages` marks the active
stage."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click
import pytest
from click.shell_completion import ShellComplete

from shopgen import config
from shopgen.cli import cli as click_app
from shopgen.errors import ConfigError, StageError
from shopgen.output.state import STATE_FILE, state_text
from shopgen.story.stages import get_stage

from conftest import BIN, STAGES, run_cli

# --- "did you mean" ----------------------------------------------------------------------------------

CLOSE_KEYS = [
    # (case id, shopgen.yaml, the one message line's end)
    ("top-level", "namespaces: shop\n", "namespaces: unknown setting; did you mean namespace?"),
    (
        "service-field",
        "services:\n  ui:\n    replica: 3\n",
        "services.ui.replica: unknown setting; did you mean replicas?",
    ),
    (
        "service-nested",
        "services:\n  ui:\n    resources:\n      cpuu: 100m\n",
        "services.ui.resources.cpuu: unknown setting; did you mean cpu?",
    ),
    (
        "store-override",
        "stores:\n  catalog-mysql:\n    memroy: 1Gi\n",
        "stores.catalog-mysql.memroy: unknown setting; did you mean memory?",
    ),
    ("section", "autoscaling:\n  hpaa: {}\n", "autoscaling.hpaa: unknown setting; did you mean hpa?"),
    ("platform", "platform:\n  node_grop: {}\n", "platform.node_grop: unknown setting; did you mean node_group?"),
    (
        "ingress-service",
        "ingress:\n  service: uii\n",
        "ingress.service: the ALB exposes 'uii', which is not declared; services: assets, carts, catalog, checkout, "
        "orders, ui; did you mean ui?",
    ),
    (
        "hpa-target",
        "autoscaling:\n  hpa:\n    targets: [catalg]\n",
        "autoscaling.hpa.targets.0: 'catalg' is not a declared service; services: assets, carts, catalog, checkout, "
        "orders, ui; did you mean catalog?",
    ),
    (
        "call",
        "services:\n  ui:\n    calls: [cart]\n",
        "services.ui.calls.cart: calls 'cart', which is not declared; services: assets, carts, catalog, checkout, "
        "orders, ui; did you mean carts?",
    ),
    (
        "initial-stage",
        "gitops:\n  initial_stage: prestp\n",
        "gitops.initial_stage: unknown stage 'prestp'; stages: " + ", ".join(STAGES) + "; did you mean prestop?",
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), CLOSE_KEYS, ids=[c[0] for c in CLOSE_KEYS])
def test_a_close_name_is_suggested(tmp_path: Path, case: str, text: str, expected: str) -> None:
    cfg = tmp_path / "shopgen.yaml"
    cfg.write_text(text)
    result = run_cli("stages", "--out", tmp_path)
    assert result.code == 2, (case, result.err)
    line = next(line for line in result.err.splitlines() if line.startswith("shopgen: error: "))
    assert line.endswith(expected), f"{case}: {result.err!r}"
    assert f"{cfg}:" in result.err  # the line is still named


NOTHING_CLOSE = [
    ("top-level", {"zzzzz": 1}, "zzzzz: unknown setting (check the spelling; `shopgen init` lists every setting)"),
    ("ingress-service", {"ingress": {"service": "xyzzy"}}, "which is not declared; services: assets"),
    ("hpa-target", {"autoscaling": {"hpa": {"targets": ["xyzzy"]}}}, "is not a declared service; services: assets"),
    ("initial-stage", {"gitops": {"initial_stage": "canary"}}, "unknown stage 'canary'; stages: baseline"),
]


@pytest.mark.parametrize(("case", "data", "expected"), NOTHING_CLOSE, ids=[c[0] for c in NOTHING_CLOSE])
def test_no_suggestion_when_nothing_is_close(case: str, data: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.parse(data, "inline")
    assert expected in str(caught.value)
    assert "did you mean" not in str(caught.value)


def test_an_unknown_stage_names_the_closest() -> None:
    with pytest.raises(StageError, match=r"unknown stage 'prestp'; stages: .*; did you mean prestop\?$"):
        get_stage("prestp")
    with pytest.raises(StageError) as caught:
        get_stage("canary")
    assert "did you mean" not in str(caught.value)


def test_an_unknown_stage_on_the_command_line_names_the_closest(tmp_path: Path) -> None:
    result = run_cli("synth", "--out", tmp_path, "--stage", "readyness")
    assert result.code == 2
    assert "unknown stage 'readyness'" in result.err and "did you mean readiness?" in result.err


def test_a_suggestion_never_echoes_a_control_character(tmp_path: Path) -> None:
    (tmp_path / "shopgen.yaml").write_text('"namespac\\e[2J": shop\n')
    result = run_cli("stages", "--out", tmp_path)
    assert result.code == 2
    assert "'namespac\\x1b[2J': unknown setting" in result.err
    assert "\x1b" not in result.err


# --- the refused value --------------------------------------------------------------------------------

GIVEN = [
    (
        "word-for-int",
        "services:\n  ui:\n    replicas: three\n",
        "services.ui.replicas: Input should be a valid integer (got 'three')",
    ),
    ("string-for-int", "services:\n  ui:\n    replicas: '3'\n", "Input should be a valid integer (got '3')"),
    ("bool-for-int", "autoscaling:\n  hpa:\n    min_replicas: true\n", "valid integer (got true)"),
    ("float-for-int", "services:\n  ui:\n    replicas: 2.5\n", "(got 2.5)"),
    ("zero", "services:\n  ui:\n    replicas: 0\n", "services.ui.replicas: Input should be greater than 0 (got 0)"),
    ("above-limit", "autoscaling:\n  hpa:\n    cpu_utilization: 150\n", "less than or equal to 100 (got 150)"),
    (
        "literal",
        "ingress:\n  scheme: public\n",
        "ingress.scheme: Input should be 'internet-facing' or 'internal' (got 'public')",
    ),
    ("null-section", "services: ~\n", "services: Input should be an object (got null)"),
    ("list-for-string", "namespace: [shop]\n", "namespace: Input should be a valid string (got ['shop'])"),
    ("int-for-bool", "services:\n  ui:\n    liveness:\n      enabled: 1\n", "valid boolean (got 1)"),
    ("string-for-list", "autoscaling:\n  hpa:\n    targets: ui\n", "autoscaling.hpa.targets: Input should be a valid"),
    ("escape-sequence", 'services:\n  ui:\n    replicas: "\\e[2J"\n', "valid integer (got '\\x1b[2J')"),
    ("bidi-override", 'ingress:\n  scheme: "internal\\u202e"\n', "(got 'internal\\u202e')"),
]


@pytest.mark.parametrize(("case", "text", "expected"), GIVEN, ids=[g[0] for g in GIVEN])
def test_a_type_error_shows_the_value_given(tmp_path: Path, case: str, text: str, expected: str) -> None:
    (tmp_path / "shopgen.yaml").write_text(text)
    result = run_cli("stages", "--out", tmp_path)
    assert result.code == 2, (case, result.err)
    assert expected in result.err, f"{case}: {result.err!r}"
    assert "(got " in result.err
    assert all(c.isprintable() or c == "\n" for c in result.err), repr(result.err)  # no raw ESC, no bidi


def test_a_long_value_is_cut_short(tmp_path: Path) -> None:
    (tmp_path / "shopgen.yaml").write_text("services:\n  ui:\n    replicas: " + "x" * 10_000 + "\n")
    result = run_cli("stages", "--out", tmp_path)
    assert result.code == 2
    assert "valid integer (got 'xxxx" in result.err and "…)" in result.err
    assert len(result.err) < 1000


# --- completion ----------------------------------------------------------------------------------------


def _completions(args: list[str], incomplete: str) -> list[str]:
    complete = ShellComplete(click_app, {}, "shopgen", "_SHOPGEN_COMPLETE")
    return [item.value for item in complete.get_completions(args, incomplete)]


@pytest.mark.parametrize(
    ("args", "incomplete", "expected"),
    [
        (["synth", "--stage"], "", list(STAGES)),
        (["synth", "--stage"], "a", ["autoscaling", "alb"]),
        (["synth", "--stage", "baseline", "--stage"], "pre", ["prestop"]),
        (["validate", "--stage"], "o", ["overprovisioning"]),
        (["diff"], "re", ["readiness"]),
        (["diff", "baseline"], "p", ["prestop"]),
        (["promote"], "al", ["alb"]),
        (["promote"], "canary", []),
    ],
)
def test_stage_names_complete(args: list[str], incomplete: str, expected: list[str]) -> None:
    assert _completions(args, incomplete) == expected


def test_every_stage_taking_parameter_completes_stage_names() -> None:
    """Any option or argument named stage(s) completes from the registry: a new one cannot forget it."""
    found = []
    for name, command in click_app.commands.items():
        for param in command.params:
            if param.name in ("stage", "stages"):
                ctx = click.Context(command, info_name=name)
                assert [c.value for c in param.shell_complete(ctx, "")] == list(STAGES), (name, param.name)
                found.append((name, param.name))
    assert {n for n, _ in found} >= {"synth", "validate", "diff", "promote"}


def test_bash_completion_through_the_installed_command(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "_SHOPGEN_COMPLETE": "bash_complete",
        "COMP_WORDS": "shopgen promote pre",
        "COMP_CWORD": "2",
    }
    proc = subprocess.run(
        [str(BIN / "shopgen")], env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["plain,prestop"]
    source = subprocess.run(
        [str(BIN / "shopgen")],
        env={**os.environ, "_SHOPGEN_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert source.returncode == 0 and "_SHOPGEN_COMPLETE=bash_complete" in source.stdout


# --- `shopgen` alone ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(), ("--debug",)])
def test_shopgen_alone_prints_the_help_and_succeeds(args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.code == 0, result.err
    assert result.out.startswith("Usage: shopgen")
    for command in ("synth", "stages", "init", "validate", "diff", "promote"):
        assert f"  {command} " in result.out
    assert "error" not in result.err


# --- `shopgen stages` marks the active stage -------------------------------------------------------------


def _listed(root: Path, *extra: str) -> tuple[list[list[str]], list[dict[str, object]]]:
    text = run_cli("stages", "--out", root, *extra)
    assert text.code == 0, text.err
    data = run_cli("stages", "--out", root, "--format", "json", *extra)
    assert data.code == 0, data.err
    return [line.split() for line in text.out.splitlines()], json.loads(data.out)


def _active_state(root: Path, stage: str) -> None:
    path = root / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(state_text(stage))


@pytest.mark.parametrize("active", ["baseline", "overprovisioning", "prestop"])
def test_stages_marks_the_active_stage_of_state_json(tmp_path: Path, active: str) -> None:
    _active_state(tmp_path, active)
    lines, entries = _listed(tmp_path)
    assert [fields[1] for fields in lines] == list(STAGES)  # the name stays the second field
    marked = [fields[0] for fields in lines if fields[0].startswith("*")]
    assert marked == [f"*{STAGES.index(active) + 1}"]
    assert [e["name"] for e in entries if e["active"]] == [active]
    assert all(isinstance(e["active"], bool) for e in entries)


def test_without_state_the_initial_stage_is_active(tmp_path: Path) -> None:
    lines, entries = _listed(tmp_path)
    assert lines[0][0] == "*1" and all(not fields[0].startswith("*") for fields in lines[1:])
    assert [e["name"] for e in entries if e["active"]] == ["baseline"]
    (tmp_path / "shopgen.yaml").write_text("gitops:\n  initial_stage: alb\n")
    _, entries = _listed(tmp_path)
    assert [e["name"] for e in entries if e["active"]] == ["alb"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("{not json", "not a shopgen state file"),
        ('{"active_stage": "\\u001b[2Jcanary"}', "active_stage '\\x1b[2Jcanary' is not a stage"),
        ('{"active_stage": 3}', "active_stage 3 is not a stage"),
    ],
)
def test_a_bad_state_file_is_an_error_not_a_mark(tmp_path: Path, state: str, expected: str) -> None:
    (tmp_path / ".shopgen").mkdir()
    (tmp_path / STATE_FILE).write_text(state)
    result = run_cli("stages", "--out", tmp_path)
    assert result.code == 2
    assert expected in result.err and "\x1b" not in result.err
