"""The finding model: paths, expected findings, exit codes and stable output."""

from __future__ import annotations

import json

import pytest

from shopgen.validate import ExpectedFinding, Finding, Report
from shopgen.validate.findings import format_path, join_path


def finding(rule: str = "r", severity: str = "error", name: str = "ui", path: str = "spec") -> Finding:
    return Finding(rule, severity, "Deployment", "shop", name, path, "msg", "hint", "test", "ui.yaml")  # type: ignore[arg-type]


def test_format_path() -> None:
    assert format_path(["spec", "containers", 0, "image"]) == "spec.containers[0].image"
    assert format_path(["spec", "tags", "kubernetes.io/cluster/x"]) == "spec.tags[kubernetes.io/cluster/x]"
    assert format_path([]) == ""
    assert join_path("spec", ".size") == "spec.size"
    assert join_path("spec", "items[0]") == "spec.items[0]"
    assert join_path("", ".size") == "size"


@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        ([], "error", 0),
        (["info", "warning"], "error", 0),
        (["info", "warning"], "warning", 1),
        (["error"], "error", 1),
        (["info"], "warning", 0),
    ],
)
def test_exit_code(severities: list[str], fail_on: str, code: int) -> None:
    report = Report([finding(severity=s) for s in severities])
    assert report.exit_code(fail_on) == code  # type: ignore[arg-type]


def test_expected_findings_do_not_fail_and_stale_ones_are_returned() -> None:
    report = Report([finding("run-as-root", name="assets"), finding("no-probes", name="catalog-db")])
    stale = report.apply_expected(
        [
            ExpectedFinding(
                "run-as-root", "assets runs its nginx image as upstream does", kind="Deployment", name="assets"
            ),
            ExpectedFinding("no-probes", "upstream image", name="orders-db"),
        ]
    )
    assert [e.name for e in stale] == ["orders-db"]
    assert [f.expected_reason for f in report.sorted_findings()] == [
        "assets runs its nginx image as upstream does",
        None,
    ]
    assert report.exit_code("error") == 1
    report.mark_expected(lambda f: "upstream image" if f.rule == "no-probes" else None)
    assert report.exit_code("warning") == 0
    assert report.counts()["expected"] == 2
    text = report.to_text()
    assert "EXPECTED run-as-root Deployment/shop/assets spec: msg (ui.yaml)" in text
    assert "expected: assets runs its nginx image as upstream does" in text


def test_json_is_sorted_and_stable() -> None:
    a = Report([finding(name="b"), finding(name="a", severity="warning")], cel_evaluated=3)
    b = Report([finding(name="a", severity="warning"), finding(name="b")], cel_evaluated=3)
    assert a.to_json() == b.to_json()
    data = json.loads(a.to_json())
    assert [f["name"] for f in data["findings"]] == ["a", "b"]
    assert data["summary"]["cel_evaluated"] == 3
    assert data["summary"]["errors"] == 1 and data["summary"]["warnings"] == 1


def test_merge_adds_findings_and_counters() -> None:
    a = Report([finding()], resources_checked=2, cel_evaluated=1)
    a.merge(Report([finding(name="x")], resources_checked=1, cel_not_applicable=2))
    assert (len(a.findings), a.resources_checked, a.cel_evaluated, a.cel_not_applicable) == (2, 3, 1, 2)


def test_fail_on_must_be_error_or_warning() -> None:
    with pytest.raises(ValueError, match="fail_on"):
        Report().exit_code("info")  # type: ignore[arg-type]
