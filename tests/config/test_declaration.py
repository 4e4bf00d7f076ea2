"""Service declarations that would make a fix impossible or a reference dangle are config errors: exit 2,
the field named, nothing written. Settings an earlier shopgen read keep working or name their new key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from shopgen import yamlio

from conftest import run_cli, tree_bytes

# A shop of one's own at its smallest: one service behind the ALB, scaled by the HPA.
BASE: dict[str, Any] = {
    "app": {"profile": "blank"},
    "ingress": {"service": "web"},
    "autoscaling": {"hpa": {"targets": ["web"]}},
    "services": {
        "web": {
            "image": {"repository": "ghcr.io/acme/web", "tag": "1.0"},
            "health": {"readiness": "/ready"},
            "resources": {"cpu": "100m", "memory": "128Mi"},
        }
    },
}


# A second service, valid on its own.
OTHER: dict[str, Any] = {"image": {"repository": "a/b", "tag": "1"}, "resources": {"memory": "64Mi"}}


def web(**fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["services"]["web"].update(fields)
    return data


def with_(path: str, value: Any, data: dict[str, Any] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(BASE) if data is None else data
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return data


INVALID = [
    # (case id, config, text the error must contain)
    ("unknown-runtime", web(runtime={"kind": "python"}), "services.web.runtime.kind"),
    ("port-zero", web(port=0), "services.web.port"),
    ("port-too-high", web(port=70000), "services.web.port"),
    (
        "calls-undeclared",
        web(calls={"search": "SEARCH_URL"}),
        "services.web.calls.search: calls 'search', which is not",
    ),
    ("calls-itself", web(calls=["web"]), "services.web.calls.web"),
    (
        "called-without-readiness",
        with_("services.worker", OTHER, web(calls=["worker"])),
        "services.worker.health.readiness: worker is called by web",
    ),
    ("unknown-store-kind", web(stores={"cache": {"kind": "memcached"}}), "services.web.stores.cache.kind"),
    ("exposed-without-readiness", web(health={"liveness": "/live"}), "services.web.health.readiness"),
    ("hpa-target-without-cpu", web(resources={"memory": "128Mi"}), "services.web.resources.cpu"),
    ("exposure-undeclared", with_("ingress.service", "api"), "ingress.service: the ALB exposes 'api'"),
    ("hpa-target-undeclared", with_("autoscaling.hpa.targets", ["web", "api"]), "autoscaling.hpa.targets.1"),
    ("bad-setting-name", web(settings={"1BAD": "x"}), "services.web.settings"),
    (
        "variable-set-twice",
        web(settings={"TOKEN": "x"}, secrets={"TOKEN": {"secret": "web-keys", "key": "token"}}),
        "TOKEN is set by both settings and secrets",
    ),
    ("service-name-not-dns", with_("services.Web_1", OTHER), "services.Web_1"),
    (
        "reserved-name",
        with_("services.overprovisioning", OTHER),
        "services.overprovisioning",
    ),
    ("image-without-tag", web(image={"repository": "ghcr.io/acme/web"}), "services.web.image.tag"),
    ("bad-digest", web(image={"repository": "ghcr.io/acme/web", "tag": "1", "digest": "md5:00"}), "image.digest"),
    ("bad-pull-secret", web(image={"repository": "a/b", "tag": "1", "pull_secrets": ["Reg_Cred"]}), "pull_secrets.0"),
    ("exception-without-reason", web(security="exception"), "services.web.security"),
    (
        "capability-in-restricted",
        web(security={"add_capabilities": ["SYS_ADMIN"], "reason": "x"}),
        "services.web.security",
    ),
    ("health-path-relative", web(health={"readiness": "ready"}), "services.web.health.readiness"),
    ("bad-secret-key", web(secrets={"K": {"secret": "web-keys", "key": "a b"}}), "services.web.secrets.K.key"),
    ("bad-secret-name", web(secrets={"K": {"secret": "Web Keys", "key": "k"}}), "services.web.secrets.K.secret"),
    (
        "store-name-taken",
        with_("services.web-cache", OTHER, web(stores={"cache": {"kind": "redis"}})),
        "services.web.stores.cache",
    ),
    (
        "prestop-below-deregistration",
        web(prestop_sleep_seconds=30),
        "services.web.prestop_sleep_seconds: (30) must be >= 70",
    ),
    ("grace-below-sleep", web(termination_grace_period_seconds=60), "services.web.termination_grace_period_seconds"),
    ("override-of-no-store", with_("stores.web-db", {"memory": "1Gi"}), "stores.web-db: no service declares a store"),
    ("service-without-image", with_("services.worker", {"replicas": 1}), "services.worker.image: required setting"),
    (
        "service-without-memory",
        with_("services.worker", {"image": {"repository": "a/b", "tag": "1"}}),
        "services.worker.resources: required setting",
    ),
    ("no-services", with_("services", {}), "services: declares no service"),
    ("unknown-profile", with_("app.profile", "retail-9.9"), "app.profile: unknown profile 'retail-9.9'"),
    ("store-memory-zero", web(stores={"db": {"kind": "mysql", "memory": "0Mi"}}), "services.web.stores.db.memory"),
    ("rollout-bad", web(rollout={"max_unavailable": "all"}), "services.web.rollout.max_unavailable"),
    ("reason-with-equals", web(security={"profile": "exception", "reason": "a=b"}), "services.web.security"),
]


@pytest.mark.parametrize(("case", "data", "expected"), INVALID, ids=[c[0] for c in INVALID])
def test_an_invalid_declaration_exits_2_naming_the_field_and_writes_nothing(
    case: str, data: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    (tmp_path / "shopgen.yaml").write_text(yamlio.dump(data), encoding="utf-8")
    before = tree_bytes(tmp_path)
    result = run_cli("synth", "--out", tmp_path)
    assert result.code == 2, (case, result.out, result.err)
    assert expected in result.err, f"{case}: {result.err!r} lacks {expected!r}"
    assert tree_bytes(tmp_path) == before


def test_the_smallest_own_shop_renders(tmp_path: Path) -> None:
    """The base of the cases above is valid: each case breaks one thing."""
    (tmp_path / "shopgen.yaml").write_text(yamlio.dump(BASE), encoding="utf-8")
    result = run_cli("synth", "--out", tmp_path)
    assert result.code == 0, result.err
    assert (tmp_path / "environments/prestop/web/deployment-web.yaml").is_file()


RENAMED = [
    ("app:\n  image_tag: 0.8.0\n", "app.image_tag: renamed to services.<name>.image.tag"),
    (
        "app:\n  image_registry: registry.example.com\n",
        "app.image_registry: renamed to services.<name>.image.repository",
    ),
    ("autoscaling:\n  hpa:\n    target: ui\n", "autoscaling.hpa.target: renamed to autoscaling.hpa.targets"),
    (
        "services:\n  ui:\n    startup:\n      start_seconds: 90\n",
        "services.ui.startup.start_seconds: renamed to services.ui.runtime.start_seconds",
    ),
    (
        "services:\n  orders:\n    shutdown_seconds: 20\n",
        "services.orders.shutdown_seconds: renamed to services.orders.runtime",
    ),
    ("stores:\n  carts_dynamodb:\n    image: a/b:1\n", "stores.carts_dynamodb: renamed to stores.carts-dynamodb"),
]


@pytest.mark.parametrize(
    ("text", "expected"), RENAMED, ids=[t.split(":")[0] + str(i) for i, (t, _) in enumerate(RENAMED)]
)
def test_a_renamed_setting_names_its_new_key(text: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "shopgen.yaml").write_text(text, encoding="utf-8")
    result = run_cli("synth", "--out", tmp_path)
    assert result.code == 2 and expected in result.err, result.err
    assert "shopgen.yaml:" in result.err  # with the line of the old key
    assert tree_bytes(tmp_path) == {"shopgen.yaml": text.encode()}


KEPT = [
    "namespace: 11-senario\ningress:\n  load_balancer_name: part01-senario11-ui\n",
    "services:\n  ui:\n    prestop_sleep_seconds: 70\n    termination_grace_period_seconds: 80\n",
    "services:\n  ui:\n    liveness:\n      enabled: false\n",
    "autoscaling:\n  hpa:\n    memory_utilization: null\n",
    "stores:\n  carts-dynamodb:\n    image: public.ecr.aws/aws-dynamodb-local/aws-dynamodb-local:1.25.1\n",
    "app:\n  image_digests:\n    ui: sha256:" + "a" * 64 + "\n",
    "services:\n  assets: null\n  ui:\n    calls:\n      assets: null\n",
]


@pytest.mark.parametrize("text", KEPT, ids=range(len(KEPT)))
def test_documented_settings_keep_working(text: str, tmp_path: Path) -> None:
    (tmp_path / "shopgen.yaml").write_text(text, encoding="utf-8")
    result = run_cli("synth", "--stage", "prestop", "--out", tmp_path)
    assert result.code == 0, result.err
