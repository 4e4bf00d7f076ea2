"""The semantic diff: matching, the three views, redaction, the output limit, path syntax, contracts."""

from __future__ import annotations

import copy
import hashlib
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopgen.diff import (
    MISSING,
    FieldChange,
    FileChange,
    Named,
    ResourceKey,
    changes_within,
    count_line,
    diff_files,
    diff_resources,
    format_path,
    parse_path,
    to_json,
    to_markdown,
    to_text,
)
from shopgen.errors import ConfigError, ShopgenError


def sha(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def deployment(name: str = "ui", *, replicas: int | None = 2, **container: object) -> dict:
    spec: dict = {
        "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": name}},
            "spec": {
                "containers": [
                    {
                        "name": name,
                        "image": f"public.ecr.aws/aws-containers/retail-store-sample-{name}:0.7.1",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        **container,
                    }
                ]
            },
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": spec,
    }


def obj(kind: str, name: str, namespace: str | None = "shop", api: str = "v1", **body: object) -> dict:
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"apiVersion": api, "kind": kind, "metadata": metadata, **body}


def hpa(metrics: list[dict]) -> dict:
    return obj(
        "HorizontalPodAutoscaler",
        "ui",
        api="autoscaling/v2",
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ui"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": metrics,
        },
    )


def utilization(resource: str, percent: int) -> dict:
    return {
        "type": "Resource",
        "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": percent}},
    }


READINESS = {
    "httpGet": {"path": "/actuator/health/readiness", "port": 8080},
    "periodSeconds": 5,
    "timeoutSeconds": 5,
    "failureThreshold": 3,
    "successThreshold": 3,
}


def only_change(old: dict, new: dict) -> list[FieldChange]:
    result = diff_resources([old], [new])
    assert not result.added and not result.removed
    assert len(result.changed) == 1, result.changed
    return result.changed[0][1]


# --- matching -------------------------------------------------------------------------------------


def test_added_probe_is_one_change_on_the_named_container() -> None:
    changes = only_change(deployment(), deployment(readinessProbe=READINESS))

    assert [c.path_text for c in changes] == ["spec.template.spec.containers[ui].readinessProbe"]
    assert changes[0].path == ("spec", "template", "spec", "containers", Named("ui"), "readinessProbe")
    assert changes[0].old is MISSING
    assert changes[0].new == READINESS
    assert changes[0].change == "added"


def test_probe_value_change_names_the_leaf() -> None:
    changes = only_change(
        deployment(readinessProbe=READINESS),
        deployment(readinessProbe={**READINESS, "periodSeconds": 10}),
    )
    assert [(c.path_text, c.old, c.new) for c in changes] == [
        ("spec.template.spec.containers[ui].readinessProbe.periodSeconds", 5, 10)
    ]


def test_reordering_env_entries_is_no_change() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]
    result = diff_resources([deployment(env=env)], [deployment(env=list(reversed(env)))])
    assert result.is_empty
    assert count_line(result) == "no changes"
    assert to_text(result) == "no changes\n"


def test_env_entry_changes_by_name() -> None:
    old = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    new = [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]
    changes = only_change(deployment(env=old), deployment(env=new))
    env = "spec.template.spec.containers[ui].env"
    assert [(c.path_text, c.change) for c in changes] == [
        (f"{env}[A]", "removed"),
        (f"{env}[B].value", "changed"),
        (f"{env}[C]", "added"),
    ]


def test_hpa_metrics_match_by_resource_name() -> None:
    old = hpa([utilization("cpu", 55), utilization("memory", 60)])
    new = hpa([utilization("memory", 70), utilization("cpu", 55)])

    changes = only_change(old, new)

    assert [(c.path_text, c.old, c.new) for c in changes] == [
        ("spec.metrics[memory].resource.target.averageUtilization", 60, 70)
    ]


def test_scalar_lists_are_one_value() -> None:
    prestop = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 10"]}}}
    longer = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 80"]}}}
    changes = only_change(deployment(lifecycle=prestop), deployment(lifecycle=longer))
    assert [(c.path_text, c.old, c.new) for c in changes] == [
        (
            "spec.template.spec.containers[ui].lifecycle.preStop.exec.command",
            ["/bin/sh", "-c", "sleep 10"],
            ["/bin/sh", "-c", "sleep 80"],
        )
    ]


def test_items_without_names_are_compared_by_index() -> None:
    def ingress(paths: list[str]) -> dict:
        rules = [{"http": {"paths": [{"path": p, "pathType": "Prefix"} for p in paths]}}]
        return obj("Ingress", "ui", api="networking.k8s.io/v1", spec={"rules": rules})

    changes = only_change(ingress(["/"]), ingress(["/", "/api"]))
    # paths have no name: the new item is the list's second entry
    assert [c.path_text for c in changes] == ["spec.rules[0].http.paths[1]"]


def test_nodepool_requirements_match_by_key() -> None:
    def pool(capacity: list[str]) -> dict:
        requirements = [
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": capacity},
        ]
        return obj(
            "NodePool", "default", None, "karpenter.sh/v1", spec={"template": {"spec": {"requirements": requirements}}}
        )

    changes = only_change(pool(["spot", "on-demand"]), pool(["on-demand"]))
    assert [c.path_text for c in changes] == ["spec.template.spec.requirements[karpenter.sh/capacity-type].values"]


def test_yaml_types_stay_apart() -> None:
    assert only_change(deployment(replicas=1), deployment(replicas=True))[0].new is True


# --- resources ------------------------------------------------------------------------------------


def test_added_removed_and_changed_resources_are_sorted() -> None:
    old = [deployment("ui"), deployment("carts"), obj("Service", "carts", spec={"ports": [{"port": 80}]})]
    new = [
        deployment("ui", replicas=None),
        deployment("carts"),
        obj("PriorityClass", "overprovisioning", None, "scheduling.k8s.io/v1", value=-1),
        obj("PodDisruptionBudget", "ui", api="policy/v1", spec={"maxUnavailable": 1}),
        obj("PodDisruptionBudget", "carts", api="policy/v1", spec={"maxUnavailable": 1}),
    ]

    result = diff_resources(old, new)

    assert [k for k, _ in result.added] == [
        ResourceKey("PodDisruptionBudget", "shop", "carts"),
        ResourceKey("PodDisruptionBudget", "shop", "ui"),
        ResourceKey("PriorityClass", None, "overprovisioning"),
    ]
    assert [k for k, _ in result.removed] == [ResourceKey("Service", "shop", "carts")]
    assert [(str(k), [c.path_text for c in cs]) for k, cs in result.changed] == [
        ("Deployment shop/ui", ["spec.replicas"])
    ]
    assert count_line(result) == "+2 PodDisruptionBudget, +1 PriorityClass, ~1 Deployment, -1 Service"
    assert to_text(result) == (
        "+2 PodDisruptionBudget, +1 PriorityClass, ~1 Deployment, -1 Service\n"
        "+ PodDisruptionBudget shop/carts\n"
        "+ PodDisruptionBudget shop/ui\n"
        "+ PriorityClass overprovisioning\n"
        "~ Deployment shop/ui\n"
        "    spec.replicas: (removed) 2\n"
        "- Service shop/carts\n"
    )


def test_api_version_change_is_a_field_change() -> None:
    old = obj("HorizontalPodAutoscaler", "ui", api="autoscaling/v1")
    new = obj("HorizontalPodAutoscaler", "ui", api="autoscaling/v2")
    assert [(c.path_text, c.old, c.new) for c in only_change(old, new)] == [
        ("apiVersion", "autoscaling/v1", "autoscaling/v2")
    ]


def test_text_view_shows_old_and_new_values_compactly() -> None:
    result = diff_resources([deployment()], [deployment(replicas=3, readinessProbe={"tcpSocket": {"port": 80}})])
    assert to_text(result).splitlines()[1:] == [
        "~ Deployment shop/ui",
        "    spec.replicas: 2 → 3",
        '    spec.template.spec.containers[ui].readinessProbe: (added) {"tcpSocket": {"port": 80}}',
    ]


def test_a_resource_defined_twice_is_an_error() -> None:
    with pytest.raises(ShopgenError, match="Deployment shop/ui twice"):
        diff_resources([deployment(), deployment()], [])
    with pytest.raises(ShopgenError, match="#1 is not a Kubernetes object"):
        diff_resources([{"kind": "Deployment"}], [])


def test_count_line_for_the_autoscaling_promotion() -> None:
    apps = ["ui", "catalog", "carts"]
    stores = ["catalog-mysql", "orders-postgresql", "orders-rabbitmq"]

    def statefulset(name: str, annotations: dict[str, str]) -> dict:
        template = {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": name}]}}
        return obj("StatefulSet", name, api="apps/v1", spec={"template": template})

    old = [deployment(a, replicas=3) for a in apps] + [statefulset(s, {}) for s in stores]
    old.append(obj("Service", "legacy"))
    new = [deployment(a, replicas=None) for a in apps]
    new += [statefulset(s, {"karpenter.sh/do-not-disrupt": "true"}) for s in stores]
    new += [obj("PodDisruptionBudget", a, api="policy/v1", spec={"maxUnavailable": 1}) for a in apps]
    new += [
        hpa([utilization("cpu", 55), utilization("memory", 60)]),
        obj("NodePool", "default", None, "karpenter.sh/v1"),
        obj("EC2NodeClass", "default", None, "karpenter.k8s.aws/v1"),
    ]

    assert count_line(diff_resources(old, new)) == (
        "+1 EC2NodeClass, +1 HorizontalPodAutoscaler, +1 NodePool, +3 PodDisruptionBudget, "
        "~3 Deployment, ~3 StatefulSet, -1 Service"
    )


# --- redaction ------------------------------------------------------------------------------------


def secret(**body: object) -> dict:
    return obj("Secret", "catalog-db", type="Opaque", **body)


def all_views(result: object) -> dict[str, str]:
    return {
        "text": to_text(result),  # type: ignore[arg-type]
        "markdown": to_markdown(result, title="diff"),  # type: ignore[arg-type]
        "json": to_json(result),  # type: ignore[arg-type]
    }


@pytest.mark.parametrize(
    ("old", "new", "raw", "path"),
    [
        (secret(data={"password": "aHVudGVyMg=="}), secret(data={"password": "czNjcjN0"}), "czNjcjN0", "data.password"),
        (
            secret(stringData={"root-password": "hunter2"}),
            secret(stringData={"root-password": "correct horse"}),
            "correct horse",
            "stringData.root-password",
        ),
        (
            deployment(env=[{"name": "DB_PASSWORD", "value": "hunter2"}]),
            deployment(env=[{"name": "DB_PASSWORD", "value": "s3cr3t-literal"}]),
            "s3cr3t-literal",
            "spec.template.spec.containers[ui].env[DB_PASSWORD].value",
        ),
    ],
    ids=["secret-data", "secret-stringData", "env-DB_PASSWORD"],
)
def test_credentials_never_appear_in_any_view(old: dict, new: dict, raw: str, path: str) -> None:
    result = diff_resources([old], [new])

    changes = result.changed[0][1]
    assert [c.path_text for c in changes] == [path]
    assert changes[0].new == sha(raw)
    for name, text in all_views(result).items():
        assert raw not in text, f"{name} view leaks the credential"
        assert sha(raw) in text, f"{name} view lacks the digest"
        assert "hunter2" not in text and "aHVudGVyMg==" not in text, f"{name} view leaks the old value"


def test_added_secret_and_credential_keys_are_redacted_but_references_are_not() -> None:
    ref = {"secretKeyRef": {"name": "catalog-db", "key": "password"}}
    new = [
        secret(data={"password": "aHVudGVyMg=="}),
        deployment(
            env=[
                {"name": "DB_PASSWORD", "valueFrom": ref},
                {"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI"},
                {"name": "DB_NAME", "value": "catalog"},
            ],
        ),
        obj("ConfigMap", "settings", data={"api_key": "abc123xyz", "token": "tok-987", "endpoint": "http://db"}),
        obj(
            "ExternalSecret",
            "catalog-db",
            api="external-secrets.io/v1",
            spec={"data": [{"secretKey": "password", "remoteRef": {"key": "c/shop/catalog-db"}}]},
        ),
    ]
    views = all_views(diff_resources([], new))
    for name, text in views.items():
        for raw in ("aHVudGVyMg==", "wJalrXUtnFEMI", "abc123xyz", "tok-987"):
            assert raw not in text, f"{name} view leaks {raw}"
    for name in ("markdown", "json"):  # the views that show added manifests keep ordinary values readable
        assert sha("tok-987") in views[name] and "http://db" in views[name]
    manifest = json.loads(views["json"])["resources"]
    by_kind = {r["kind"]: r["manifest"] for r in manifest}
    env = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "DB_PASSWORD", "valueFrom": ref}  # a reference is not a credential
    assert env[1]["value"] == sha("wJalrXUtnFEMI")
    assert by_kind["ExternalSecret"]["spec"]["data"][0]["secretKey"] == "password"
    assert by_kind["Secret"]["data"] == {"password": sha("aHVudGVyMg==")}


def test_unchanged_credentials_are_no_change() -> None:
    same = secret(data={"password": "aHVudGVyMg=="})
    assert diff_resources([same], [copy.deepcopy(same)]).is_empty


# --- json -----------------------------------------------------------------------------------------


def shuffled(value: object, rng: random.Random) -> object:
    """The same data with every mapping's keys in a random order (a different renderer, say)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def test_json_is_stable_across_runs_and_key_orders() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    old = [deployment(env=env), hpa([utilization("cpu", 55)]), obj("Service", "ui")]
    new = [
        deployment(env=[*env, {"name": "C", "value": "3"}], readinessProbe=READINESS),
        hpa([utilization("memory", 60), utilization("cpu", 50)]),
        obj("PodDisruptionBudget", "ui", api="policy/v1", spec={"maxUnavailable": 1}),
    ]
    expected = to_json(diff_resources(old, new))

    for seed in range(5):
        rng = random.Random(seed)
        again = to_json(diff_resources(shuffled(list(reversed(old)), rng), shuffled(list(reversed(new)), rng)))
        assert again == expected

    doc = json.loads(expected)
    assert doc["counts"] == {
        "added": {"PodDisruptionBudget": 1},
        "changed": {"Deployment": 1, "HorizontalPodAutoscaler": 1},
        "removed": {"Service": 1},
    }
    fields = {f["path"]: f for r in doc["resources"] for f in r["fields"]}
    probe = fields["spec.template.spec.containers[ui].readinessProbe"]
    assert probe["segments"] == ["spec", "template", "spec", "containers", {"name": "ui"}, "readinessProbe"]
    assert probe["change"] == "added" and "old" not in probe and probe["new"] == READINESS


# --- markdown -------------------------------------------------------------------------------------


def big_change(count: int) -> tuple[list[dict], list[dict]]:
    """``count`` Deployments, each with a large config change (long env values)."""
    old, new = [], []
    for i in range(count):
        name = f"svc-{i:03d}"
        env_old = [{"name": f"SETTING_{j}", "value": "a" * 80} for j in range(10)]
        env_new = [{"name": f"SETTING_{j}", "value": "b" * 80} for j in range(10)]
        old.append(deployment(name, env=env_old))
        new.append(deployment(name, replicas=3, env=env_new))
    return old, new


def assert_well_formed(markdown: str) -> None:
    lines = markdown.splitlines()
    fences = [line for line in lines if line.startswith("```")]
    assert len(fences) % 2 == 0, "unterminated fenced block"
    assert markdown.count("<details>") == markdown.count("</details>")
    for line in lines:
        if line.startswith("|"):
            assert line.endswith("|"), f"cut table row: {line!r}"


def test_markdown_in_full_when_it_fits() -> None:
    result = diff_resources([deployment()], [deployment(readinessProbe=READINESS)])
    markdown = to_markdown(result, title="readiness → autoscaling")
    assert markdown.startswith("## readiness → autoscaling\n\n**~1 Deployment**\n")
    assert "| Deployment | `shop/ui` | changed | 1: readinessProbe |" in markdown
    assert "<details><summary>~ Deployment shop/ui (1 field)</summary>" in markdown
    assert "+ spec.template.spec.containers[ui].readinessProbe: {" in markdown
    assert "not shown" not in markdown
    assert_well_formed(markdown)


def test_markdown_for_300_large_changes_stays_under_the_limit() -> None:
    result = diff_resources(*big_change(300))
    full_size = len(to_markdown(result, title="big", limit=10**9))
    assert full_size > 65536

    markdown = to_markdown(result, title="big", command="shopgen diff readiness autoscaling")

    assert len(markdown) <= 65536
    assert_well_formed(markdown)
    table_rows = [line for line in markdown.splitlines() if line.startswith("| Deployment |")]
    assert len(table_rows) == 300  # every resource keeps its row
    shown = markdown.count("<details>")
    assert 0 < shown < 300
    marked = [row for row in table_rows if "changed †" in row]
    assert len(marked) == 300 - shown
    note = markdown.rstrip().splitlines()[-1]
    assert note == (
        f"> {300 - shown} resources not shown in full (rows marked †; {full_size - 65536:,} characters over "
        "the limit): run `shopgen diff readiness autoscaling` locally for the full diff."
    )


def test_markdown_cuts_whole_table_rows_when_even_the_table_does_not_fit() -> None:
    result = diff_resources(*big_change(300))
    markdown = to_markdown(result, title="big", limit=4000)

    assert len(markdown) <= 4000
    assert_well_formed(markdown)
    assert "<details>" not in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| Deployment |")]
    left = 300 - len(rows)
    assert 0 < len(rows) < 300
    assert f"| … | {left} more not shown | … | … |" in markdown
    assert f"300 resources not shown in full, {left} of them not even in the table" in markdown


def test_markdown_limit_too_small_for_anything_is_an_error() -> None:
    with pytest.raises(ValueError, match="too small"):
        to_markdown(diff_resources(*big_change(3)), title="big", limit=50)


def test_markdown_fence_survives_backticks_in_values() -> None:
    old = obj("ConfigMap", "readme", data={"doc": "plain"})
    new = obj("ConfigMap", "readme", data={"doc": "```\nnot the end\n```"})
    markdown = to_markdown(diff_resources([old], [new]), title="t")
    assert "````diff" in markdown and "\n````\n" in markdown


# --- trees ----------------------------------------------------------------------------------------

HEADER = "# Generated by shopgen (shopgen synth); do not edit: change shopgen.yaml and re-run.\n"


def yaml_file(*docs: str) -> str:
    return HEADER + "---\n".join(docs)


UI_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: ui
  namespace: shop
spec:
  replicas: {replicas}
"""
UI_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: ui
  namespace: shop
spec:
  ports:
  - port: 80
"""
KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
{resources}"""


def test_tree_diff_groups_by_stage_and_reports_other_files() -> None:
    old = {
        "environments/readiness/ui/deployment.yaml": yaml_file(UI_DEPLOYMENT.format(replicas=2)),
        "environments/readiness/ui/service.yaml": yaml_file(UI_SERVICE),
        "environments/readiness/kustomization.yaml": KUSTOMIZATION.format(resources="- ui/deployment.yaml\n"),
        "environments/readiness/README.md": "# readiness\n\nold story\n",
        "terraform/main.tf": 'module "eks" {\n  version = "20.0"\n}\n',
        "charts/karpenter/values.yaml": "replicas: 1\nsettings:\n  clusterName: shop\n",
        ".gitattributes": "environments/** linguist-generated=true\n",
    }
    new = {
        # the Deployment moved into one file with the Service, and changed; a comment changed
        "environments/readiness/ui/all.yaml": "# reformatted\n"
        + yaml_file(UI_DEPLOYMENT.format(replicas=3), UI_SERVICE),
        "environments/readiness/kustomization.yaml": KUSTOMIZATION.format(resources="- ui/all.yaml\n"),
        "environments/readiness/README.md": "# readiness\n\nnew story\nmore\n",
        "environments/autoscaling/ui/deployment.yaml": yaml_file(UI_DEPLOYMENT.format(replicas=2)),
        "terraform/main.tf": 'module "eks" {\n  version = "20.1"\n}\n',
        "charts/karpenter/values.yaml": "replicas: 2\nsettings:\n  clusterName: shop\n",
        "argocd/application-shop.yaml": yaml_file(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n  namespace: argocd\n"
        ),
    }

    result = diff_files(old, new)

    assert sorted(result.groups) == ["argocd", "environments/autoscaling", "environments/readiness"]
    readiness = result.groups["environments/readiness"]
    assert not readiness.added and not readiness.removed  # moved, not removed and added again
    assert [(str(k), [c.path_text for c in cs]) for k, cs in readiness.changed] == [
        ("Deployment shop/ui", ["spec.replicas"])
    ]
    assert [(str(m.key), m.old_file, m.new_file) for m in result.moved] == [
        ("Deployment shop/ui", "environments/readiness/ui/deployment.yaml", "environments/readiness/ui/all.yaml"),
        ("Service shop/ui", "environments/readiness/ui/service.yaml", "environments/readiness/ui/all.yaml"),
    ]
    files = {f.path: f for f in result.files}
    assert sorted(files) == [
        ".gitattributes",
        "charts/karpenter/values.yaml",
        "environments/readiness/README.md",
        "environments/readiness/kustomization.yaml",
        "terraform/main.tf",
    ]
    assert files[".gitattributes"] == FileChange(".gitattributes", "removed", 0, 1)
    assert (
        files["environments/readiness/README.md"].added_lines,
        files["environments/readiness/README.md"].removed_lines,
    ) == (2, 1)
    assert (files["terraform/main.tf"].added_lines, files["terraform/main.tf"].removed_lines) == (1, 1)
    assert [(c.path_text, c.old, c.new) for c in files["charts/karpenter/values.yaml"].fields] == [("replicas", 1, 2)]
    assert [c.path_text for c in files["environments/readiness/kustomization.yaml"].fields] == ["resources"]

    assert count_line(result) == ("+1 Application, +1 Deployment, ~1 Deployment, ~1 Service, ~4 files, -1 file")
    text = to_text(result)
    assert "[environments/readiness]\n~ Deployment shop/ui\n    moved: " in text
    assert "    spec.replicas: 2 → 3\n" in text
    assert "[files]\n- .gitattributes (-1 lines)\n" in text
    assert "~ terraform/main.tf (+1/-1 lines)" in text
    markdown = to_markdown(result, title="against main")
    assert "| environments/readiness | Service | `shop/ui` | changed, moved | none (file moved) |" in markdown
    assert "| terraform | file | `terraform/main.tf` | changed | +1/-1 lines |" in markdown
    assert_well_formed(markdown)
    doc = json.loads(to_json(result))
    assert doc["counts"]["files"] == {"added": 0, "changed": 4, "removed": 1}
    assert to_json(diff_files(dict(reversed(list(old.items()))), new)) == to_json(result)


def test_tree_diff_ignores_comments_and_formatting_in_manifests() -> None:
    old = {"platform/store.yaml": yaml_file(UI_SERVICE)}
    new = {"platform/store.yaml": "# another header\n" + UI_SERVICE.replace("- port: 80", "-   port: 80")}
    assert diff_files(old, new).is_empty
    assert count_line(diff_files(old, new)) == "no changes"


def test_tree_diff_redacts_yaml_data_files() -> None:
    old = {"charts/argo-cd/values.yaml": "configs:\n  secret:\n    argocdServerAdminPassword: hunter2\n"}
    new = {"charts/argo-cd/values.yaml": "configs:\n  secret:\n    argocdServerAdminPassword: s3cr3t\n"}
    result = diff_files(old, new)
    for text in all_views(result).values():
        assert "s3cr3t" not in text and "hunter2" not in text
        assert sha("s3cr3t") in text


def test_tree_diff_rejects_a_resource_defined_twice_in_a_group() -> None:
    files = {
        "environments/prestop/a.yaml": yaml_file(UI_SERVICE),
        "environments/prestop/b.yaml": yaml_file(UI_SERVICE),
    }
    with pytest.raises(ShopgenError, match="Service shop/ui is defined twice in environments/prestop"):
        diff_files({}, files)


# --- paths and contracts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (
            "spec.template.spec.containers[ui].readinessProbe.periodSeconds",
            ("spec", "template", "spec", "containers", Named("ui"), "readinessProbe", "periodSeconds"),
        ),
        (
            'metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"]',
            ("metadata", "annotations", "alb.ingress.kubernetes.io/healthcheck-path"),
        ),
        ("spec.rules[0].http.paths[1]", ("spec", "rules", 0, "http", "paths", 1)),
        ("spec.template.spec.containers[*].lifecycle", ("spec", "template", "spec", "containers", "*", "lifecycle")),
        ('data["with space"]', ("data", "with space")),
        ('[0]["a.b"]', (0, "a.b")),
        (
            "spec.requirements[kubernetes.io/arch].values",
            ("spec", "requirements", Named("kubernetes.io/arch"), "values"),
        ),
        ('env[name="0"]', ("env", Named("0"))),
        ("", ()),
    ],
)
def test_paths_format_and_parse(text: str, path: tuple) -> None:
    assert parse_path(text) == path
    assert format_path(path) == text


segments = st.one_of(
    st.text(min_size=0, max_size=12),
    st.builds(Named, st.text(min_size=0, max_size=12)),
    st.integers(min_value=0, max_value=10**6),
)


@pytest.mark.slow
@given(st.lists(segments, max_size=8).map(tuple))
def test_parse_path_inverts_format_path(path: tuple) -> None:
    assert parse_path(format_path(path)) == path


@pytest.mark.parametrize("bad", [".spec", "spec..x", "spec[ui", 'spec["open]', "spec[a b]", "a b"])
def test_bad_paths_name_the_problem(bad: str) -> None:
    with pytest.raises(ConfigError, match="invalid field path"):
        parse_path(bad)


def test_changes_within_leaves_what_no_pattern_covers() -> None:
    env = [{"name": "A", "value": "1"}]
    old = deployment(env=env)
    old["metadata"]["annotations"] = {"owner": "shop"}
    new = deployment(
        replicas=None,
        env=[{"name": "A", "value": "2"}],
        readinessProbe=READINESS,
        livenessProbe={"httpGet": {"path": "/l", "port": 8080}},
    )
    new["metadata"]["annotations"] = {"owner": "shop", "alb.ingress.kubernetes.io/healthcheck-path": "/r"}
    changes = only_change(old, new)

    outside = changes_within(
        changes,
        [
            parse_path("spec.template.spec.containers[*].readinessProbe"),
            ("spec", "template", "spec", "containers", "*", "livenessProbe"),
            'metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"]',
        ],
    )

    assert [c.path_text for c in outside] == ["spec.replicas", "spec.template.spec.containers[ui].env[A].value"]
    assert changes_within(changes, ["*"]) == []
    assert changes_within(changes, []) == changes
    assert changes_within(changes, ["spec.template.spec.containers[ui]", "[*].replicas", "metadata"]) == []


def test_changes_within_looks_inside_a_mapping_added_whole() -> None:
    """The autoscaling stage adds the first pod annotation: the change is ``annotations`` as a whole."""
    pattern = 'spec.template.metadata.annotations["karpenter.sh/do-not-disrupt"]'
    base = deployment("catalog-mysql")
    only_ours = copy.deepcopy(base)
    only_ours["spec"]["template"]["metadata"]["annotations"] = {"karpenter.sh/do-not-disrupt": "true"}
    more = copy.deepcopy(base)
    more["spec"]["template"]["metadata"]["annotations"] = {"karpenter.sh/do-not-disrupt": "true", "x": "y"}

    added = only_change(base, only_ours)
    assert [c.path_text for c in added] == ["spec.template.metadata.annotations"]
    assert changes_within(added, [pattern]) == []
    assert changes_within(only_change(base, more), [pattern]) == only_change(base, more)
    # a whole container added is more than its probe
    whole = [FieldChange(("spec", "template", "spec", "containers", Named("ui")), MISSING, {"name": "ui"})]
    assert changes_within(whole, ["spec.template.spec.containers[*].readinessProbe"]) == whole
