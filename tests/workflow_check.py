"""Checks of the repository files `shopgen init` writes (the CI workflow, the pre-commit config), shared
by the tests that run init in place and from an installed wheel."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema

from shopgen import yamlio
from shopgen.cli import cli

REPO = Path(__file__).resolve().parents[1]

# What GitHub Actions accepts of a workflow, as far as shopgen's workflow uses it (actionlint does not
# install here: its PyPI package downloads the binary at build time).
WORKFLOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "on", "jobs"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "on": {"type": "object", "propertyNames": {"enum": ["push", "pull_request", "workflow_dispatch"]}},
        "permissions": {"type": "object", "additionalProperties": {"enum": ["read", "write", "none"]}},
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
        "jobs": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["runs-on", "steps"],
                "additionalProperties": False,
                "properties": {
                    "runs-on": {"type": "string"},
                    "steps": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "name": {"type": "string"},
                                "uses": {"type": "string", "pattern": r"^[\w.-]+/[\w.-]+@v[0-9]+$"},
                                "with": {"type": "object"},
                                "run": {"type": "string"},
                                "if": {"type": "string"},
                                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                            },
                            "oneOf": [{"required": ["uses"]}, {"required": ["run"]}],
                        },
                    },
                },
            },
        },
    },
}


def workflow(top: Path) -> dict[str, Any]:
    return yamlio.to_plain(yamlio.load_text((top / ".github/workflows/shopgen.yml").read_text(), "workflow"))


def shopgen_calls(script: str) -> list[list[str]]:
    """Every `shopgen ...` command line of a shell script, as argument lists (up to a pipe or redirect)."""
    calls = []
    for line in script.splitlines():
        for match in re.finditer(r"(?:^|[;&|]\s*|do\s+)shopgen\s+([^;|><&]*)", line):
            calls.append(shlex.split(match.group(1).replace("$", "")))
    return calls


def assert_names_real_commands(calls: list[list[str]]) -> None:
    assert calls
    for args in calls:
        command = cli.commands.get(args[0])
        assert command is not None, f"shopgen {args[0]}: no such command"
        options = {opt for param in command.params for opt in param.opts}
        for arg in args[1:]:
            if arg.startswith("--"):
                assert arg in options, f"shopgen {args[0]} {arg}: no such option"


def check_workflow(top: Path, version: str) -> dict[str, Any]:
    flow = workflow(top)
    jsonschema.validate(flow, WORKFLOW_SCHEMA)
    assert flow["env"]["SHOPGEN_INSTALL"] == f"shopgen=={version}"  # pinned, one marked value
    text = (top / ".github/workflows/shopgen.yml").read_text()
    assert "THE ONE VALUE TO SET" in text
    for expression in re.findall(r"\$\{\{(.*?)\}\}", text):
        assert re.fullmatch(r"\s*github\.[a-z_.]+\s*", expression), expression
    steps = flow["jobs"]["shopgen"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert_names_real_commands(shopgen_calls(scripts))
    for command in ("synth --check", "diff --contract", "validate", "diff --against"):
        assert f"shopgen {command}" in scripts
    assert "--simulate --format markdown" in scripts  # the PR comment carries the predicted impact
    return flow


def check_pre_commit(top: Path) -> None:
    config = yamlio.to_plain(yamlio.load_text((top / ".pre-commit-config.yaml").read_text(), "pre-commit"))
    (hook,) = [h for repo in config["repos"] for h in repo["hooks"]]
    assert hook["id"] == "shopgen-synth-check"  # shopgen's hook (.pre-commit-hooks.yaml)
    shipped = yamlio.to_plain(yamlio.load_text((REPO / ".pre-commit-hooks.yaml").read_text(), "h"))
    assert hook["entry"] == shipped[0]["entry"]
    assert_names_real_commands(shopgen_calls(hook["entry"]))
