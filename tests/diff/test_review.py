"""`diff --against REF`: the active stage first, the live objects Argo CD will delete, what it applies;
and promotion commit messages that say what a step adds and removes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopgen.config.load import defaults
from shopgen.diff import resources_in, review, to_review_markdown
from shopgen.story.stages import get_stage, stage_names

from conftest import git, run_cli

LIMIT = 65536
WARNING = "> [!CAUTION]"


def at_alb(repo: Path) -> Path:
    """The committed default render, promoted to alb with its commit."""
    result = run_cli("promote", "alb", "--out", repo)
    assert result.code == 0, result.err
    return repo


def diff_md(repo: Path) -> str:
    result = run_cli("diff", "--against", "HEAD", "--out", repo, "--format", "markdown")
    assert result.code == 1, result.out + result.err
    assert len(result.out) <= LIMIT
    return result.out


def message(repo: Path) -> str:
    return git(repo, "log", "-1", "--format=%B")


def folder(repo: Path, stage: str) -> dict[str, str]:
    base = repo / "environments" / stage
    return {p.relative_to(base).as_posix(): p.read_text() for p in sorted(base.rglob("*.yaml"))}


# --- the active stage and what Argo CD applies ----------------------------------------------------


def test_no_change_names_the_active_stage_unchanged(repo: Path) -> None:
    at_alb(repo)
    result = run_cli("diff", "--against", "HEAD", "--out", repo, "--format", "markdown")
    assert result.code == 0, result.out + result.err
    assert result.out == "## shopgen diff against HEAD\n\n**Argo CD runs:** `alb` (unchanged)\n\n**no changes**\n"


def test_a_promotion_opens_with_the_stage_change_and_the_new_stage_diff(repo: Path) -> None:
    at_alb(repo)
    assert run_cli("promote", "prestop", "--no-commit", "--out", repo).code == 0

    markdown = diff_md(repo)

    lines = [line for line in markdown.splitlines() if line]
    assert lines[0] == "## shopgen diff against HEAD"
    assert lines[1] == "**Argo CD runs:** `alb` → `prestop`"
    assert WARNING not in markdown  # preStop deletes nothing
    applied = markdown.index("### What Argo CD will apply: `environments/alb` at `HEAD` → `environments/prestop` now")
    rest = markdown.index("### Every other change")
    assert lines[2].startswith("### What Argo CD will apply")
    # The prestop tree's changes (the preStop sleeps) come before the other trees' (argocd's Application).
    assert applied < markdown.index("| Deployment | `shop/ui` | changed |") < rest
    assert applied < markdown.index('"sleep 80"') < rest
    assert rest < markdown.index("| argocd | Application | `argocd/shop` | changed |")

    text = run_cli("diff", "--against", "HEAD", "--out", repo)
    assert text.out.splitlines()[1] == "Argo CD runs: alb → prestop"
    doc = json.loads(run_cli("diff", "--against", "HEAD", "--out", repo, "--format", "json").out)
    assert doc["active"] == {"before": "alb", "after": "prestop"}
    assert doc["deletions"] == []


def test_a_namespace_rename_starts_with_the_deletion_warning(repo: Path) -> None:
    at_alb(repo)
    live = resources_in(folder(repo, "alb"))
    namespaced = [r for r in live if r["metadata"].get("namespace") == "shop"]
    expected = len(namespaced) + 1  # every namespaced object, and the Namespace itself
    (repo / "shopgen.yaml").write_text("namespace: shop2\n")
    assert run_cli("synth", "--out", repo).code == 0

    markdown = diff_md(repo)

    assert markdown.startswith(f"## shopgen diff against HEAD\n\n{WARNING}\n")
    warning = markdown[: markdown.index("**Argo CD runs:** `alb` (unchanged)")]
    assert f"**Argo CD will delete {expected} live objects on sync.**" in warning
    names = [line for line in warning.splitlines() if line.startswith("> - ")]
    assert names[0].startswith("> - `Namespace/shop` — deleting a Namespace deletes everything in it")
    assert "> - `Deployment/shop/ui`" in names
    assert "> - `StatefulSet/shop/orders-postgresql`" in names
    assert len(names) == min(expected, 50) + (expected > 50)
    assert not any("PriorityClass" in n or "NodePool" in n for n in names)  # cluster-scoped: not renamed

    doc = json.loads(run_cli("diff", "--against", "HEAD", "--out", repo, "--format", "json").out)
    assert len(doc["deletions"]) == expected
    assert doc["deletions"][0] == {"kind": "Namespace", "namespace": None, "name": "shop"}
    assert {"kind": "Deployment", "namespace": "shop", "name": "ui"} in doc["deletions"]
    text = run_cli("diff", "--against", "HEAD", "--out", repo).out
    assert f"WARNING: Argo CD will delete {expected} live objects on sync" in text
    # The other trees follow in story order (the tree diff, in full in the text view).
    headings = [line[1:-1] for line in text.splitlines() if line.startswith("[environments/")]
    assert headings == [f"environments/{s}" for s in stage_names()]


def test_a_label_change_deletes_nothing(repo: Path) -> None:
    at_alb(repo)
    (repo / "shopgen.yaml").write_text("app:\n  name: mystore\n")

    markdown = diff_md(repo)

    assert WARNING not in markdown and "will delete" not in markdown
    assert markdown.splitlines()[2] == "**Argo CD runs:** `alb` (unchanged)"
    applied = markdown[: markdown.index("### Every other change")]
    assert "| Deployment | `shop/ui` | changed | 2: app.kubernetes.io/part-of |" in applied
    assert " removed " not in applied and "| removed |" not in applied


def test_a_rollback_warns_of_what_argo_cd_prunes(repo: Path) -> None:
    at_alb(repo)
    assert run_cli("promote", "readiness", "--allow-rollback", "--no-commit", "--out", repo).code == 0

    markdown = diff_md(repo)

    assert markdown.startswith(f"## shopgen diff against HEAD\n\n{WARNING}\n")
    assert "**Argo CD runs:** `alb` → `readiness`" in markdown
    assert "> - `HorizontalPodAutoscaler/shop/ui`" in markdown
    assert "> - `NodePool/default`" in markdown
    assert markdown.index("`NodePool/default`") < markdown.index("**Argo CD runs:**")


def test_a_bad_state_file_at_the_ref_is_refused_by_name(repo: Path) -> None:
    (repo / ".shopgen/state.json").write_text('{"active_stage": "nope"}\n')
    git(repo, "commit", "-qam", "bad state")
    (repo / ".shopgen/state.json").write_text('{"active_stage": "baseline"}\n')
    result = run_cli("diff", "--against", "HEAD", "--out", repo)
    assert result.code == 2
    assert "HEAD:.shopgen/state.json" in result.err and "'nope' is not a stage" in result.err


# --- the comment limit ----------------------------------------------------------------------------


def _configmaps(count: int, namespace: str, value: str) -> dict[str, str]:
    body = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03d}\n  namespace: {ns}\ndata:\n  value: {value}\n"
    )
    return {
        f"environments/alb/app/configmap-cm-{i:03d}.yaml": body.format(i=i, ns=namespace, value=value * 200)
        for i in range(count)
    }


@pytest.mark.parametrize("limit", [LIMIT, 20000])
def test_the_review_stays_under_the_limit_and_caps_the_names(limit: int) -> None:
    old = _configmaps(300, "shop", "a")
    new = {**_configmaps(300, "shop2", "b"), "environments/prestop/x.yaml": "a: 1\n"}
    result = review(old, new, before="alb", after="alb", stages=stage_names())

    text = to_review_markdown(
        result, ref="main", title="shopgen diff against main", command="shopgen diff", limit=limit
    )

    assert len(text) <= limit
    assert text.count("<details>") == text.count("</details>")
    assert len([line for line in text.splitlines() if line.startswith("```")]) % 2 == 0
    assert "**Argo CD will delete 300 live objects on sync.**" in text
    assert len([line for line in text.splitlines() if line.startswith("> - `ConfigMap/shop/")]) == 50
    assert "> - … and 250 more" in text
    assert text.index("### What Argo CD will apply") < text.index("### Every other change")
    assert "run `shopgen diff` locally for the full diff" in text


# --- promotion commit messages --------------------------------------------------------------------


def test_promotion_and_rollback_messages_say_what_they_add_and_remove(repo: Path) -> None:
    cfg = defaults()
    prestop = get_stage("prestop").text("fix", cfg)
    assert "preStop" in prestop
    at_alb(repo)
    first = message(repo)  # baseline -> alb without --through: every fix on the way
    for name in ("readiness", "autoscaling", "overprovisioning", "alb"):
        assert f"Adds: the {name} stage's fix — {get_stage(name).text('fix', cfg)}\n" in first
    assert "Removes: nothing\n" in first

    assert run_cli("promote", "prestop", "--out", repo).code == 0
    promotion = message(repo)
    assert f"Adds: the prestop stage's fix — {prestop}\n" in promotion
    assert "Removes: nothing\n" in promotion
    assert "Argo CD deletes" not in promotion

    assert run_cli("promote", "alb", "--allow-rollback", "--out", repo).code == 0
    rollback = message(repo)
    assert f"Removes: the prestop stage's fix — {prestop}\n" in rollback
    assert "Adds: nothing\n" in rollback
    assert rollback.rstrip().endswith("Shopgen-Stage: alb")

    assert run_cli("promote", "readiness", "--allow-rollback", "--out", repo).code == 0
    several = message(repo)
    removes = [line for line in several.splitlines() if line.startswith("Removes: ")]
    assert [line.split(" stage's")[0] for line in removes] == [
        "Removes: the alb",
        "Removes: the overprovisioning",
        "Removes: the autoscaling",
    ]
    pruned = next(line for line in several.splitlines() if line.startswith("Argo CD deletes "))
    assert "HorizontalPodAutoscaler shop/ui" in pruned and "NodePool default" in pruned
