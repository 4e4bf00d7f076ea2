"""checkov (kubernetes framework, in its own venv) on a fresh render of environments/prestop.

Zero failed checks that are not skipped with a reason; every skip is a ``checkov.io/skip<N>``
annotation whose reason comes from the one deviations table (shopgen/deviations.py), the same
text as the stage's expected finding where a shopgen rule mirrors the check. CI must run this, so a
missing checkov is a failure, never a skip.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shopgen import yamlio
from shopgen.config import defaults
from shopgen.story.deviations import SKIP_PREFIX, Traits, checkov_reasons, deviations, deviations_for, skip_annotations
from shopgen.story.shop import resolve
from shopgen.validate import Validator
from shopgen.validate.expected import expected_findings
from shopgen.validate.policies import PolicyContext, run_policies
from shopgen.validate.security import run_security

from conftest import CRD_DIR, REPO, run_cli

TRAITS = Traits.of(resolve(defaults()))  # the default profile's shop
DEVIATIONS = deviations(TRAITS)

INSTALL = "python3 -m venv .venv-checkov && .venv-checkov/bin/pip install -q checkov==3.3.30"


def checkov_bin() -> Path:
    """``$SHOPGEN_CHECKOV`` or ``<repo>/.venv-checkov/bin/checkov``; missing fails (CI must run it)."""
    configured = os.environ.get("SHOPGEN_CHECKOV")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO / ".venv-checkov" / "bin" / "checkov")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        f"checkov not found at {', '.join(map(str, candidates))}: create its own venv in the repository root "
        f"with `{INSTALL}` (it conflicts with shopgen's dependencies), or set SHOPGEN_CHECKOV to its binary"
    )


def run_checkov(folder: Path) -> dict[str, Any]:
    """checkov's JSON report for one folder (kubernetes framework, offline)."""
    args = [str(checkov_bin()), "-d", str(folder), "--framework", "kubernetes", "--skip-download", "-o", "json"]
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env, cwd=folder)
    assert done.returncode in (0, 1), f"checkov crashed (exit {done.returncode}):\n{done.stderr[-3000:]}"
    data = json.loads(done.stdout)
    reports = data if isinstance(data, list) else [data]
    kubernetes = [r for r in reports if r.get("check_type") == "kubernetes"]
    assert len(kubernetes) == 1, f"expected one kubernetes report, got {[r.get('check_type') for r in reports]}"
    return kubernetes[0]


def load_folder(folder: Path) -> dict[str, dict[str, Any]]:
    """{"/<relative path>": manifest}, keyed as checkov names files."""
    found = {}
    for path in sorted(folder.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            (doc,) = yamlio.load_manifests(path.read_text(), str(path))
            found["/" + path.relative_to(folder).as_posix()] = doc
    return found


@pytest.fixture(scope="module")
def prestop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh `shopgen synth --stage prestop` render (never the committed tree)."""
    root = tmp_path_factory.mktemp("checkov")
    result = run_cli("synth", "--stage", "prestop", "--out", root)
    assert result.code == 0, result.err
    return root / "environments" / "prestop"


@pytest.fixture(scope="module")
def report(prestop: Path) -> dict[str, Any]:
    return run_checkov(prestop)


def _where(check: dict[str, Any]) -> str:
    return f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"


def test_no_failed_check_is_left_unskipped(report: dict[str, Any]) -> None:
    failed = report["results"]["failed_checks"]
    assert not failed, "checkov checks that fail without a skip reason:\n" + "\n".join(map(_where, failed))
    summary = report["summary"]
    assert summary["failed"] == 0 and summary["parsing_errors"] == 0, summary
    assert summary["passed"] > 0 and summary["resource_count"] > 0, summary
    # The summary counts the skips (--quiet would hide them from the lists); both must agree.
    assert summary["skipped"] == len(report["results"]["skipped_checks"]) > 0, summary


def test_every_skip_reason_comes_from_the_table(report: dict[str, Any], prestop: Path) -> None:
    manifests = load_folder(prestop)
    wrong = []
    for skipped in report["results"]["skipped_checks"]:
        wanted = checkov_reasons(manifests[skipped["file_path"]], TRAITS).get(skipped["check_id"])
        got = skipped["check_result"].get("suppress_comment")
        if wanted is None or got != wanted:
            wrong.append(f"{_where(skipped)}\n  annotation: {got!r}\n  table:      {wanted!r}")
    assert not wrong, "skips whose reason is not the table's:\n" + "\n".join(wrong)


def test_skips_are_exactly_the_checks_that_would_fail(report: dict[str, Any], prestop: Path, tmp_path: Path) -> None:
    """Without the annotations, exactly the skipped checks fail: no stale skip hides nothing."""
    bare = tmp_path / "prestop"
    for rel, manifest in load_folder(prestop).items():
        stripped = copy.deepcopy(manifest)
        annotations = stripped["metadata"].get("annotations") or {}
        for key in [k for k in annotations if k.startswith(SKIP_PREFIX)]:
            del annotations[key]
        if not annotations:
            stripped["metadata"].pop("annotations", None)
        target = bare / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yamlio.dump(stripped))
    unskipped = run_checkov(bare)
    failed = {(c["file_path"], c["check_id"]) for c in unskipped["results"]["failed_checks"]}
    skipped = {(c["file_path"], c["check_id"]) for c in report["results"]["skipped_checks"]}
    assert sorted(skipped - failed) == [], "skips of checks that pass anyway (stale deviation rows)"
    assert sorted(failed - skipped) == [], "failures the annotations do not cover"


def test_skip_reasons_match_the_expected_findings(prestop: Path) -> None:
    """Where a shopgen rule mirrors the check, its expected finding carries the same reason text."""
    cfg = defaults()
    manifests = list(load_folder(prestop).values())
    report = Validator(crd_dir=CRD_DIR).validate([("", m) for m in manifests])
    report.extend(run_policies(manifests, PolicyContext.for_stage(cfg, "prestop")))
    report.extend(run_security(manifests))
    assert report.apply_expected(expected_findings("prestop", cfg)) == []
    reasons = {(f.rule, f.kind, f.name): f.expected_reason for f in report.findings}
    wrong = []
    for manifest in manifests:
        for row in deviations_for(manifest, TRAITS):
            key = (row.rule, manifest["kind"], manifest["metadata"]["name"])
            if row.rule is not None and reasons.get(key) != row.reason:
                wrong.append(f"{key}: finding reason {reasons.get(key)!r}, table {row.reason!r}")
    assert not wrong, "\n".join(wrong)


def test_skip_annotations_are_numbered_in_check_order_and_parse_for_checkov(prestop: Path) -> None:
    mysql = load_folder(prestop)["/catalog/statefulset-catalog-mysql.yaml"]
    skips = skip_annotations(mysql, TRAITS)
    assert list(skips) == [f"{SKIP_PREFIX}{n:02d}" for n in range(1, len(skips) + 1)]
    checks = [value.split("=", 1)[0] for value in skips.values()]
    assert checks[:3] == ["CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_11"] and checks[-1] == "CKV2_K8S_6"
    assert skip_annotations(mysql, TRAITS) == skips  # deterministic
    rendered = mysql["metadata"].get("annotations") or {}
    for key, value in skips.items():
        assert rendered.get(key) == value, f"{key} is not on the rendered workload (wire deviations.skip_annotations)"


def test_reasons_survive_checkovs_parser() -> None:
    """checkov splits an annotation value at '=': a reason with one would crash it."""
    for row in DEVIATIONS:
        assert "=" not in row.reason and "\n" not in row.reason, row.reason
        assert row.checks and all(c.startswith(("CKV_K8S_", "CKV2_K8S_")) for c in row.checks)


def test_only_workloads_get_skips() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ui", "labels": {}}}
    assert skip_annotations(service, TRAITS) == {}


def test_missing_checkov_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHOPGEN_CHECKOV", str(tmp_path / "no-checkov"))
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"\.venv-checkov/bin/pip install -q checkov==3\.3\.30"):
        checkov_bin()
