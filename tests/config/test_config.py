"""Config: embedded defaults, shopgen.yaml, `shopgen init`, and every kind of bad input (exit 2)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from shopgen import config, yamlio
from shopgen.config.template import config_template
from shopgen.errors import ConfigError
from shopgen.story.shop import resolve

from conftest import run_cli, tree_bytes

BAD_CONFIGS = [
    # (case id, file text, text the one message must contain)
    ("unknown-top-key", "namespaces: shop\n", "namespaces: unknown setting"),
    ("unknown-nested-key", "services:\n  ui:\n    replica: 3\n", "services.ui.replica: unknown setting"),
    ("unknown-service", "services:\n  basket:\n    replicas: 1\n", "services.basket.image: required setting"),
    ("wrong-type-int", "services:\n  ui:\n    replicas: three\n", "services.ui.replicas"),
    ("string-for-int", "services:\n  ui:\n    replicas: '3'\n", "services.ui.replicas"),
    ("bool-for-int", "autoscaling:\n  hpa:\n    min_replicas: true\n", "autoscaling.hpa.min_replicas"),
    ("zero-replicas", "services:\n  catalog:\n    replicas: 0\n", "services.catalog.replicas"),
    ("negative-size", "overprovisioning:\n  replicas: -2\n", "overprovisioning.replicas"),
    ("zero-cpu", "services:\n  ui:\n    resources:\n      cpu: 0m\n", "services.ui.resources.cpu"),
    ("bad-memory", "stores:\n  catalog-mysql:\n    memory: lots\n", "stores.catalog-mysql.memory"),
    ("limit-below-request", "services:\n  ui:\n    resources:\n      memory_limit: 256Mi\n", "services.ui.resources"),
    ("min-gt-max", "autoscaling:\n  hpa:\n    min_replicas: 12\n", "max_replicas (10) must be >= min_replicas (12)"),
    (
        "grace-too-short",
        "services:\n  ui:\n    termination_grace_period_seconds: 60\n",
        "services.ui.termination_grace_period_seconds: (60) must be >= preStop sleep + runtime.shutdown_seconds "
        "(80 + 10 = 90)",
    ),
    (
        "sleep-grows-past-grace",
        "services:\n  orders:\n    prestop_sleep_seconds: 30\n    termination_grace_period_seconds: 35\n",
        "services.orders.termination_grace_period_seconds",
    ),
    ("alb-name-too-long", "cluster:\n  name: production-cluster-east-01\n", "ingress.load_balancer_name"),
    ("alb-name-explicit-too-long", "ingress:\n  load_balancer_name: " + "x" * 33 + "\n", "ingress.load_balancer_name"),
    ("bad-namespace", "namespace: Shop_NS\n", "namespace: 'Shop_NS' is not a DNS label"),
    ("unknown-initial-stage", "gitops:\n  initial_stage: canary\n", "gitops.initial_stage: unknown stage 'canary'"),
    ("unknown-hpa-target", "autoscaling:\n  hpa:\n    targets: [basket]\n", "autoscaling.hpa.targets.0"),
    ("bad-secrets-provider", "secrets:\n  provider: vault\n", "secrets.provider"),
    ("bad-ami-alias", "karpenter:\n  nodeclass:\n    ami_alias: bottlerocket\n", "karpenter.nodeclass.ami_alias"),
    ("empty-capacity-types", "karpenter:\n  nodepool:\n    capacity_types: []\n", "karpenter.nodepool.capacity_types"),
    ("bad-duration", "karpenter:\n  nodepool:\n    consolidate_after: soon\n", "karpenter.nodepool.consolidate_after"),
    ("positive-priority", "overprovisioning:\n  priority_value: 1000\n", "overprovisioning.priority_value"),
    ("percent-over-100", "autoscaling:\n  hpa:\n    cpu_utilization: 150\n", "autoscaling.hpa.cpu_utilization"),
    ("huge-number", "services:\n  ui:\n    replicas: 100000000000000000000\n", "services.ui.replicas"),
    ("list-at-top", "- namespace\n", "top level must be a mapping"),
    ("mapping-for-scalar", "namespace:\n  name: shop\n", "namespace"),
    ("yaml-syntax", "services:\n  ui: [replicas: 3\n", "line "),
    ("duplicate-key", "namespace: a\nnamespace: b\n", 'line 2, column 1: duplicate key "namespace"'),
    ("python-tag", "namespace: !!python/object/apply:os.system ['true']\n", "YAML tag !!python/object/apply:os.system"),
    ("custom-tag", "namespace: !Ref shop\n", "namespace: YAML tag !Ref is not allowed"),
    ("digest-unknown-service", "app:\n  image_digests:\n    basket: sha256:" + "a" * 64 + "\n", "app.image_digests"),
    ("digest-bad-form", "app:\n  image_digests:\n    ui: latest\n", "app.image_digests.ui"),
    ("bad-repo-url", "gitops:\n  repo_url: not a url\n", "gitops.repo_url"),
    ("repo-url-escape", 'gitops:\n  repo_url: "https://x.example/a\\e[31m"\n', "gitops.repo_url: 'https://x.exa"),
    ("namespace-surrogate", 'namespace: "\\uDFFF"\n', "namespace: '\\udfff' contains U+DFFF"),
    ("memory-1ki", "karpenter:\n  nodeclass:\n    system_reserved_memory: 1Ki\n", "system_reserved_memory"),
    ("cpu-zero-cores", "karpenter:\n  nodeclass:\n    system_reserved_cpu: '0.0'\n", "system_reserved_cpu"),
    ("store-cpu-below-1m", "stores:\n  orders-rabbitmq:\n    cpu: '0.0009'\n", "stores.orders-rabbitmq.cpu"),
    ("storage-size-bytes", "stores:\n  storage_size: '1000'\n", "stores.storage_size: '1000' is below 1Mi"),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_exits_2_names_field_and_writes_nothing(tmp_path: Path, case: str, text: str, expected: str):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("synth", "--out", out, "--config", cfg)
    assert result.code == 2, (case, result.err)
    assert expected in result.err, f"{case}: {result.err!r} lacks {expected!r}"
    assert "Traceback" not in result.err
    assert result.err.startswith("shopgen: error: ")
    assert tree_bytes(out) == {}, f"{case}: something was written"


def test_error_names_the_yaml_line(tmp_path: Path):
    cfg = tmp_path / "shopgen.yaml"
    cfg.write_text("namespace: shop\nservices:\n  ui:\n    replicas: 0\n")
    result = run_cli("synth", "--out", tmp_path, "--check")
    assert result.code == 2
    assert f"{cfg}:4: services.ui.replicas" in result.err


def test_missing_and_unreadable_config(tmp_path: Path):
    missing = run_cli("synth", "--out", tmp_path, "--config", tmp_path / "nope.yaml")
    assert missing.code == 2 and "config file not found" in missing.err
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    unreadable = run_cli("synth", "--out", tmp_path, "--config", tmp_path / "binary.yaml")
    assert unreadable.code == 2 and "binary.yaml" in unreadable.err
    folder = run_cli("synth", "--out", tmp_path, "--config", tmp_path)
    assert folder.code == 2 and "is a folder" in folder.err
    assert not (tmp_path / "environments").exists()


def test_unknown_stage_and_out_is_a_file(tmp_path: Path):
    result = run_cli("synth", "--out", tmp_path, "--stage", "canary")
    assert result.code == 2 and "unknown stage 'canary'" in result.err
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = run_cli("synth", "--out", a_file)
    assert result.code == 2 and "is a file" in result.err
    assert tree_bytes(tmp_path) == {"file": b"x"}


def test_partial_config_keeps_other_defaults():
    cfg = config.parse({"services": {"ui": {"replicas": 4}}}, "inline")
    assert cfg.services["ui"].replicas == 4
    assert cfg.services["ui"].resources.memory == "512Mi"
    assert resolve(cfg).service("ui").termination_grace_period_seconds == 90
    assert cfg.services["catalog"].replicas == 3


def test_defaults_are_the_course_values():
    cfg = config.defaults()
    assert cfg.namespace == "shop"
    assert cfg.load_balancer_name == "part01-shop-ui"
    assert cfg.karpenter_node_role == "KarpenterNodeRole-part01"
    assert [cfg.services[n].replicas for n in ("catalog", "carts", "orders", "checkout", "assets", "ui")] == [
        3,
        3,
        1,
        1,
        1,
        2,
    ]
    ui, catalog = cfg.services["ui"], cfg.services["catalog"]
    assert ui.startup.failure_threshold(ui.runtime.start) == 24  # twice 60 s, every 5 s
    assert catalog.startup.failure_threshold(catalog.runtime.start) == 12  # twice 30 s, every 5 s
    assert (ui.liveness.period_seconds, ui.liveness.failure_threshold) == (10, 6)


def test_init_writes_every_default_and_reads_back(tmp_path: Path):
    result = run_cli("init", "--out", tmp_path)
    assert result.code == 0, result.err
    text = (tmp_path / "shopgen.yaml").read_text()
    assert text == config_template()
    data = yamlio.to_plain(yamlio.load_text(text, "init"))
    assert config.parse(data, "init") == config.defaults()
    assert "prestop_sleep_seconds: 80" in text and "# " in text
    again = run_cli("init", "--out", tmp_path)
    assert again.code == 2 and "exists already" in again.err


def test_course_namespace_through_config(tmp_path: Path):
    (tmp_path / "shopgen.yaml").write_text(
        "namespace: 11-senario\ningress:\n  load_balancer_name: part01-senario11-ui\n"
    )
    result = run_cli("synth", "--out", tmp_path, "--stage", "baseline")
    assert result.code == 0, result.err
    deployment = yamlio.load_manifests((tmp_path / "environments/baseline/ui/deployment-ui.yaml").read_text(), "ui")[0]
    assert deployment["metadata"]["namespace"] == "11-senario"
    ingress = yamlio.load_manifests((tmp_path / "environments/baseline/ui/ingress-ui.yaml").read_text(), "i")[0]
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-name"] == "part01-senario11-ui"


def test_digest_pinning(tmp_path: Path):
    digest = "sha256:" + "ab" * 32
    (tmp_path / "shopgen.yaml").write_text(f"app:\n  image_digests:\n    ui: {digest}\n")
    assert run_cli("synth", "--out", tmp_path, "--stage", "baseline").code == 0
    text = (tmp_path / "environments/baseline/ui/deployment-ui.yaml").read_text()
    deployment = yamlio.load_manifests(text, "ui")[0]
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"public.ecr.aws/aws-containers/retail-store-sample-ui:0.7.1@{digest}"
    assert "CKV_K8S_43" not in text  # pinned by digest: no deviation to declare
    carts = (tmp_path / "environments/baseline/carts/deployment-carts.yaml").read_text()
    assert "CKV_K8S_43" in carts  # not pinned: the deviation stays declared


# Every kind of character a reader of shopgen.yaml cannot see, or a terminal would obey: C0 and C1
# controls, DEL, format characters (zero-width, bidi, BOM), line/paragraph separators, lone surrogates.
INVISIBLE = [
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\u200b",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u2028",
    "\u2029",
    "\ud800",
    "\n",
]
# Settings that are None by default, given a valid value so their strings are swept too.
OPTIONAL_STRINGS = {
    "ingress": {"load_balancer_name": "part01-shop-ui"},
    "stores": {"storage_class": "gp3"},
    "app": {"image_digests": {"ui": "sha256:" + "ab" * 32}},
    "platform": {"terraform_backend": {"bucket": "my-tfstate", "key": "shop/terraform.tfstate", "region": "eu-west-1"}},
}


def _string_settings(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in _string_settings(value, (*path, key))]
    if isinstance(data, list):
        return [p for i, value in enumerate(data) for p in _string_settings(value, (*path, i))]
    return [path] if isinstance(data, str) else []


def _full_config() -> dict[str, Any]:
    return config.parse(OPTIONAL_STRINGS, "optional").model_dump(mode="json")


STRING_SETTINGS = _string_settings(_full_config())


def test_the_sweep_covers_every_kind_of_string_setting():
    dotted = {".".join(map(str, p)) for p in STRING_SETTINGS}
    assert len(dotted) > 30
    assert {
        "namespace",
        "gitops.repo_url",
        "gitops.target_revision",
        "ingress.load_balancer_name",
        "app.image_digests.ui",
        "karpenter.nodepool.instance_categories.0",
        "platform.terraform_backend.key",
        "platform.endpoint_public_access_cidrs.0",
    } <= dotted


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_no_string_setting_takes_an_invisible_character(char: str):
    """Appended (a trailing "\\n" is what a regex "$" lets through) to each string setting in turn."""
    accepted = []
    for path in STRING_SETTINGS:
        data = _full_config()
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] += char
        dotted = ".".join(map(str, path))
        try:
            config.parse(data, "sweep")
        except ConfigError as exc:
            assert f": {dotted}: " in str(exc), f"{dotted}: {exc}"
            assert char not in str(exc) or char == "\n", f"{dotted}: the message holds the raw character: {exc!r}"
        else:
            accepted.append(dotted)
    assert not accepted, f"U+{ord(char):04X} accepted in {accepted}"


def test_an_invisible_character_in_a_key_is_shown_escaped():
    with pytest.raises(ConfigError) as exc:
        config.parse({"services": {"ui\u202e": {}}}, "inline")
    assert "services.'ui\\u202e': 'ui\\u202e' is not a DNS label" in str(exc.value)
    assert "\u202e" not in str(exc.value)


def test_the_models_refuse_invisible_characters_without_the_file_too():
    with pytest.raises(ValueError, match=r"repo_url\n.*contains U\+200B ZERO WIDTH SPACE"):
        config.GitOps(repo_url="https://github.com/acme/shop\u200b.git")
    with pytest.raises(ValueError, match=r"namespace\n.*unable to parse raw data as a unicode string"):
        config.Config(namespace="shop\udc00")


@pytest.mark.parametrize(
    ("section", "values"),
    [
        ("services", {"ui": {"resources": {"cpu": "1m", "memory": "1Mi", "memory_limit": "1Mi"}}}),
        ("services", {"ui": {"resources": {"cpu": "0.001", "memory": "1048576", "memory_limit": "0.001Gi"}}}),
        ("services", {"ui": {"resources": {"cpu": "0.5", "memory": "1.048576M", "memory_limit": "1.5Mi"}}}),
        ("stores", {"checkout-redis": {"cpu": "1", "memory": "1Mi"}, "storage_size": "1Mi"}),
        ("karpenter", {"nodepool": {"consolidate_after": "0s", "expire_after": "2562047h47m16s"}}),
        ("karpenter", {"nodepool": {"expire_after": "9223372036s"}}),
        ("secrets", {"refresh_interval": "000000000000000000000000000001h"}),
        ("gitops", {"repo_url": "git@github.com:acme/shop-gitops.git", "target_revision": "release/1.2"}),
    ],
)
def test_the_smallest_and_largest_values_that_run_stay_valid(section: str, values: dict[str, Any]):
    cfg = config.parse({section: copy.deepcopy(values)}, "inline")
    assert getattr(cfg, section) is not None


def test_past_the_largest_go_duration_by_one_second_is_refused():
    with pytest.raises(ConfigError, match=r"karpenter\.nodepool\.expire_after: '9223372037s' is longer than a Go"):
        config.parse({"karpenter": {"nodepool": {"expire_after": "9223372037s"}}}, "inline")


def test_the_course_values_stay_valid():
    cfg = config.parse({"namespace": "11-senario", "ingress": {"load_balancer_name": "part01-senario11-ui"}}, "course")
    assert cfg.namespace == "11-senario" and cfg.load_balancer_name == "part01-senario11-ui"
    assert config.parse({}, "defaults") == config.defaults()
