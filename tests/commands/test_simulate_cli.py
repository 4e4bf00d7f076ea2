"""`shopgen simulate` through the real CLI: its options, its errors, its output's shape."""

from __future__ import annotations

import json

from shopgen.simulate.assumptions import DEFAULTS
from shopgen.simulate.traffic import CAUSES

from conftest import run_cli, tree_bytes


def without_root(err: str) -> str:
    return "\n".join(line for line in err.splitlines() if not line.startswith("root:"))


def test_explain_lists_every_assumption_with_its_value_and_source():
    result = run_cli("simulate", "--explain")
    assert result.code == 0, result.err
    for assumption in DEFAULTS:
        assert assumption.name in result.out
    assert result.out.count("source:") == len(DEFAULTS)
    assert "calibrate me" in result.out
    assert "vegeta README" in result.out


def test_the_active_stage_by_default_in_text_with_the_caveat(rendered):
    result = run_cli("simulate", "--duration", "120", "--out", rendered)
    assert result.code == 0, result.err
    assert result.out.startswith("surge:\n")
    assert "rollout:" in result.out
    assert "  baseline " in result.out and "  prestop " not in result.out  # the active stage is baseline
    assert "A model's prediction under the assumptions" in result.out


def test_json_has_the_documented_shape(rendered):
    result = run_cli(
        "simulate", "--stage", "prestop", "--stage", "baseline", "--scenario", "rollout", "--format", "json",
        "--duration", "120", "--rate", "40", "--set", "request_cost.jvm=0.01", "--out", rendered,
    )  # fmt: skip
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["schema"] == 1
    assert [s["stage"] for s in data["stages"]] == ["baseline", "prestop"]  # story order, not argument order
    assert data["assumptions"]["request_cost.jvm"] == {
        "value": 0.01,
        "unit": "CPU s",
        "source": "set on the command line",
        "meaning": data["assumptions"]["request_cost.jvm"]["meaning"],
    }
    assert data["assumptions"]["load.rate"]["value"] == 40
    assert data["assumptions"]["alb.healthcheck_interval"]["source"].startswith("LBC")
    (scenario,) = data["stages"][1]["scenarios"]
    assert scenario["scenario"] == "rollout"
    assert scenario["requests"] == 40 * 120
    assert set(scenario["by_cause"]) == set(CAUSES)
    assert scenario["errors_5xx"] == sum(scenario["by_cause"].values())
    assert set(scenario["latency_ms"]) == {"p50", "p95", "p99"}
    assert scenario["latency_ms"]["p50"] <= scenario["latency_ms"]["p95"] <= scenario["latency_ms"]["p99"]
    assert scenario["max_replicas"]["ui"] >= 2 and scenario["max_nodes"] >= 3
    assert "prediction" in data


def test_bad_options_exit_2_naming_them_and_write_nothing(rendered):
    before = tree_bytes(rendered)
    cases = {
        ("--set", "request_cost.jav=1"): "did you mean request_cost.jvm?",
        ("--set", "load.rate"): "expected NAME=VALUE",
        ("--set", "load.rate=fast"): "'fast' is not a number",
        ("--set", "load.rate=-3"): "finite number >= 0",
        ("--rate", "0"): "--rate: must be greater than 0",
        ("--stage", "prestp"): "prestop",
        ("--stage", "alb", "--all"): "give --stage or --all, not both",
    }
    for args, expected in cases.items():
        result = run_cli("simulate", *args, "--out", rendered)
        assert result.code == 2, (args, result.err)
        assert expected in without_root(result.err), (args, result.err)
    assert tree_bytes(rendered) == before


def test_a_stage_not_rendered_asks_for_synth_or_render(tmp_path):
    result = run_cli("simulate", "--stage", "alb", "--out", tmp_path)
    assert result.code == 2
    assert "environments/alb: not rendered; run `shopgen synth` or pass --render" in result.err


def test_render_simulates_a_fresh_render_without_files(tmp_path):
    result = run_cli(
        "simulate", "--stage", "alb", "--render", "--duration", "60", "--format", "json", "--out", tmp_path
    )
    assert result.code == 0, result.err
    assert json.loads(result.out)["stages"][0]["stage"] == "alb"
    assert not (tmp_path / "environments").exists()
