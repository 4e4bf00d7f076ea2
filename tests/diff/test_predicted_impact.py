"""`diff --against REF --simulate`: a pull request sees what its change does to the active stage's 5xx."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

PRESTOP_2S = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ui, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: ui
        lifecycle:
          preStop:
            exec: {command: ["/bin/sh", "-c", "sleep 2"]}
"""

LABEL = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ui, namespace: shop, labels: {team: storefront}}
"""


def at_prestop_with_patch(repo: Path, patch: str) -> None:
    assert run_cli("promote", "prestop", "--out", repo).code == 0
    (repo / "extensions").mkdir()
    (repo / "extensions" / "ui.yaml").write_text(patch)
    (repo / "shopgen.yaml").write_text("extensions:\n  prestop:\n    patches:\n      - path: extensions/ui.yaml\n")


def test_a_shortened_prestop_shows_the_new_5xx_and_their_cause(repo: Path) -> None:
    at_prestop_with_patch(repo, PRESTOP_2S)
    result = run_cli("diff", "--against", "HEAD", "--simulate", "--format", "markdown", "--out", repo)
    assert result.code == 1, result.err
    impact = result.out[result.out.index("### Predicted impact (prestop)") :]
    rollout = next(line for line in impact.splitlines() if line.startswith("| rollout |"))
    assert rollout.startswith("| rollout | 0 → ")
    assert not rollout.startswith("| rollout | 0 → 0 ")
    assert "draining target appears" in rollout
    assert "A model's prediction" in impact
    # The manifest change that caused it is in the same comment, before the prediction.
    assert result.out.index("sleep 2") < result.out.index("### Predicted impact")

    doc = json.loads(run_cli("diff", "--against", "HEAD", "--simulate", "--format", "json", "--out", repo).out)
    (rollout_json,) = [s for s in doc["predicted_impact"]["scenarios"] if s["scenario"] == "rollout"]
    assert rollout_json["before"]["errors_5xx"] == 0
    assert rollout_json["after"]["by_cause"]["draining target"] == rollout_json["after"]["errors_5xx"] > 0
    assert rollout_json["appeared"] == ["draining target"]

    text = run_cli("diff", "--against", "HEAD", "--simulate", "--out", repo).out
    assert "predicted impact on prestop" in text
    assert "rollout: 0 -> " in text and "(draining target appears)" in text


def test_an_unrelated_change_shows_no_predicted_change(repo: Path) -> None:
    at_prestop_with_patch(repo, LABEL)
    result = run_cli("diff", "--against", "HEAD", "--simulate", "--format", "markdown", "--out", repo)
    assert result.code == 1, result.err  # the label is a change
    assert "team: storefront" in result.out or "storefront" in result.out
    assert "No predicted change in either scenario." in result.out


def test_simulate_needs_against(repo: Path) -> None:
    result = run_cli("diff", "baseline", "prestop", "--simulate", "--out", repo)
    assert result.code == 2
    assert "--simulate goes with --against GIT_REF" in result.err


def test_each_side_takes_what_no_manifest_holds_from_its_own_config(repo: Path) -> None:
    # Bigger managed nodes change no stage manifest, only terraform: the prediction must still move,
    # because REF is predicted with REF's node group and the working tree with its own.
    (repo / "shopgen.yaml").write_text("platform:\n  node_group:\n    instance_types: [m5.2xlarge]\n")
    doc = json.loads(run_cli("diff", "--against", "HEAD", "--simulate", "--format", "json", "--out", repo).out)
    surge = next(s for s in doc["predicted_impact"]["scenarios"] if s["scenario"] == "surge")
    assert doc["predicted_impact"]["stage"] == {"before": "baseline", "after": "baseline"}
    assert surge["after"]["errors_5xx"] < surge["before"]["errors_5xx"]
