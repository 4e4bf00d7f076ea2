"""The CI workflow and pre-commit hook cannot run here; check they call the commands tested elsewhere."""

from __future__ import annotations

from shopgen import yamlio

from conftest import REPO


def test_workflow_runs_the_checks_and_posts_the_diff():
    workflow = yamlio.load_manifests((REPO / ".github/workflows/shopgen.yml").read_text(), "workflow")[0]
    steps = workflow["jobs"]["render"]["steps"]
    checkout = steps[0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    commands = "\n".join(step.get("run", "") for step in steps)
    assert "shopgen synth --check" in commands
    assert "shopgen diff --contract" in commands
    assert 'shopgen diff --against "origin/${{ github.base_ref }}" --simulate --format markdown' in commands
    assert '"$status" -gt 1' in commands  # exit 1 (a difference) counts as success


def test_pre_commit_hook_runs_synth_check():
    hooks = yamlio.load_manifests((REPO / ".pre-commit-hooks.yaml").read_text(), "hooks")[0]
    assert "shopgen synth --check --out" in hooks[0]["entry"]  # in every root: see test_repository.py
    assert hooks[0]["pass_filenames"] is False


def test_readme_test_command_is_what_ci_runs_and_tables_are_current():
    from shopgen.config import defaults
    from shopgen.story.deviations import Traits, deviations_markdown
    from shopgen.story.shop import resolve
    from shopgen.validate.policies import policy_table_markdown
    from shopgen.validate.security import security_table_markdown

    readme = (REPO / "README.md").read_text()
    ci_command = (REPO / ".ci/run").read_text().strip().splitlines()[-1]
    assert ci_command in readme
    for table in (
        policy_table_markdown(),
        security_table_markdown(),
        deviations_markdown(Traits.of(resolve(defaults()))),
    ):
        assert table in readme
