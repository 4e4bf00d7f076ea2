"""Where people decide: PNGs per stage and scenario, and markdown that fits a pull-request comment."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

from shopgen.simulate.report import MARKDOWN_LIMIT
from shopgen.story.stages import stage_names

from conftest import run_cli

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench.py"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_a_picture_per_stage_and_scenario_and_a_comparison(rendered, tmp_path):
    folder = tmp_path / "pictures"
    result = run_cli("simulate", "--all", "--duration", "120", "--plot", folder, "--out", rendered)
    assert result.code == 0, result.err
    expected = {f"{s}-{scenario}.png" for s in stage_names() for scenario in ("surge", "rollout")}
    assert {p.name for p in folder.iterdir()} == expected | {"comparison.png"}
    for name in expected:
        assert png_size(folder / name) == (1000, 700)
    assert png_size(folder / "comparison.png") == (1000, 500)
    assert "plot: 13 pictures in" in result.err


def test_markdown_has_a_table_per_scenario_and_the_fixes_in_a_collapsible_block(rendered):
    result = run_cli("simulate", "--all", "--duration", "300", "--format", "markdown", "--out", rendered)
    assert result.code == 0, result.err
    text = result.out
    assert text.startswith("## Predicted errors (shopgen simulate)")
    assert "### surge" in text and "### rollout" in text
    assert text.count("| baseline |") == 2
    assert "<details><summary>What each stage's fix changed</summary>" in text
    assert "**prestop** removed draining target" in text
    assert "A model's prediction" in text
    assert len(text) < MARKDOWN_LIMIT


def test_markdown_stays_under_the_comment_limit_for_the_200_service_benchmark_shop(tmp_path):
    spec = importlib.util.spec_from_file_location("shopgen_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (tmp_path / "shopgen.yaml").write_text(bench.grown_shop(200))
    result = run_cli(
        "simulate", "--all", "--render", "--duration", "120", "--format", "markdown", "--out", tmp_path
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "| prestop |" in result.out
    # 200 services do not fit the managed nodes of the stages without a NodePool: the comment says
    # so in one line per stage and scenario, not one per pod.
    notes = [line for line in result.out.splitlines() if line.startswith("- baseline: no node for")]
    assert len(notes) == 2 and "and 1" in notes[0] and "more)" in notes[0]
    assert len(result.out) < MARKDOWN_LIMIT
