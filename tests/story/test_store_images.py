"""Backing stores: their images (public ECR mirrors, configurable per store) and the registry rule.

Docker Hub limits anonymous pulls per source address and a cluster behind one NAT gateway shares
one address, so the stores pull the Docker official images from public ECR's mirror. DynamoDB local
1.13.1 has no confirmed public ECR copy: it stays on Docker Hub as an expected finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopgen import yamlio
from shopgen.config import defaults, load_config, parse
from shopgen.config.template import config_template
from shopgen.story.shop import resolve
from shopgen.validate.expected import RELEASE_IMAGE_ON_DOCKER_HUB, expected_findings
from shopgen.validate.findings import Report
from shopgen.validate.security import public_ecr_mirror, pulls_from_docker_hub, registry_host, run_security

from conftest import STAGES, run_cli, tree_bytes
from stage_tree import container, load_stage

RULE = "security.image-registry-rate-limit"
RABBITMQ_MIRROR = "public.ecr.aws/docker/library/rabbitmq:3-management"
RELEASE_IMAGES = {
    "catalog-mysql": ("StatefulSet", "public.ecr.aws/docker/library/mysql:5.7"),
    "orders-postgresql": ("StatefulSet", "public.ecr.aws/docker/library/postgres:16.1"),
    "orders-rabbitmq": ("StatefulSet", "public.ecr.aws/docker/library/rabbitmq:3-management"),
    "checkout-redis": ("Deployment", "public.ecr.aws/docker/library/redis:6.0-alpine"),
    # No public ECR copy of 1.13.1 is confirmed: Docker Hub, an expected finding.
    "carts-dynamodb": ("Deployment", "amazon/dynamodb-local:1.13.1"),
}


def store_images(root: Path, stage: str) -> dict[str, str]:
    objs = load_stage(root, stage)
    images = {}
    for name, (kind, _) in RELEASE_IMAGES.items():
        images[name] = container(objs[(kind, name)])["image"]
    return images


def test_the_release_facts_are_the_public_ecr_mirrors() -> None:
    shop = resolve(defaults())
    assert {s.name: s.profile_image for s in shop.stores} == {
        name: image for name, (_, image) in RELEASE_IMAGES.items()
    }


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_pulls_the_stores_from_public_ecr(stage: str, rendered: Path) -> None:
    images = store_images(rendered, stage)
    assert images == {name: image for name, (_, image) in RELEASE_IMAGES.items()}
    for name, image in images.items():
        if name != "carts-dynamodb":
            assert image.startswith("public.ecr.aws/docker/library/"), (stage, name, image)
            assert not pulls_from_docker_hub(image)


OVERRIDES = {
    "catalog-mysql": "registry.example.com:5000/mirror/mysql:5.7",
    "orders-postgresql": "123456789012.dkr.ecr.us-west-2.amazonaws.com/postgres:16.1",
    "orders-rabbitmq": "public.ecr.aws/docker/library/rabbitmq:3.13-management",
    "checkout-redis": "public.ecr.aws/docker/library/redis@sha256:" + "a" * 64,
    "carts-dynamodb": "public.ecr.aws/aws-dynamodb-local/aws-dynamodb-local:1.25.1",
}


@pytest.fixture(scope="module")
def overridden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("store-images")
    lines = ["stores:"]
    for key, image in OVERRIDES.items():
        lines += [f"  {key}:", f"    image: '{image}'"]
    (root / "shopgen.yaml").write_text("\n".join(lines) + "\n")
    result = run_cli("synth", "--out", root)
    assert result.code == 0, result.err
    cfg, _ = load_config(None, out_root=root)
    return root, cfg


@pytest.mark.parametrize("stage", STAGES)
def test_store_image_overrides_reach_the_render(stage: str, overridden: tuple[Path, Any]) -> None:
    root, _ = overridden
    images = store_images(root, stage)
    assert images == {key.replace("_", "-"): image for key, image in OVERRIDES.items()}


def test_an_override_to_public_ecr_drops_the_finding_and_its_expectation(overridden: tuple[Path, Any]) -> None:
    root, cfg = overridden
    for stage in ("baseline", "prestop"):
        assert [f for f in run_security(list(load_stage(root, stage).values())) if f.rule == RULE] == []
        assert [e for e in expected_findings(stage, cfg) if e.rule == RULE] == []


def test_the_release_dynamodb_image_is_expected_in_every_stage(rendered: Path) -> None:
    cfg = defaults()
    for stage in STAGES:
        found = [f for f in run_security(list(load_stage(rendered, stage).values())) if f.rule == RULE]
        assert [(f.kind, f.name, f.path, f.severity) for f in found] == [
            ("Deployment", "carts-dynamodb", "spec.template.spec.containers[0].image", "warning")
        ]
        assert "stores.carts-dynamodb.image" in found[0].hint
        report = Report(findings=found)
        assert report.apply_expected([e for e in expected_findings(stage, cfg) if e.rule == RULE]) == []
        (marked,) = report.findings
        assert marked.expected and marked.expected_reason == RELEASE_IMAGE_ON_DOCKER_HUB


def test_a_docker_hub_image_the_user_sets_is_not_expected(tmp_path: Path) -> None:
    """Only the release's own image is a deliberate deviation; a user's Docker Hub image is reported."""
    (tmp_path / "shopgen.yaml").write_text("stores:\n  orders-postgresql:\n    image: postgres:16.1\n")
    result = run_cli("synth", "--stage", "prestop", "--out", tmp_path)
    assert result.code == 0, result.err
    cfg, _ = load_config(None, out_root=tmp_path)
    found = [f for f in run_security(list(load_stage(tmp_path, "prestop").values())) if f.rule == RULE]
    report = Report(findings=found)
    assert report.apply_expected([e for e in expected_findings("prestop", cfg) if e.rule == RULE]) == []
    unexpected = [(f.name, f.hint) for f in report.findings if not f.expected]
    assert unexpected == [
        (
            "orders-postgresql",
            "use its public ECR mirror public.ecr.aws/docker/library/postgres:16.1; "
            "in shopgen.yaml: stores.orders-postgresql.image",
        )
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("checkout-redis", "Redis:6.0"),  # uppercase repository
        ("orders-postgresql", "postgres:16.1 --privileged"),
        ("catalog-mysql", "https://public.ecr.aws/docker/library/mysql:5.7"),
        ("carts-dynamodb", "amazon/dynamodb-local:"),
        ("orders-rabbitmq", "rabbitmq@sha256:abc"),
    ],
)
def test_an_invalid_store_image_exits_2_naming_the_field_and_writes_nothing(
    key: str, value: str, tmp_path: Path
) -> None:
    (tmp_path / "shopgen.yaml").write_text(f"stores:\n  {key}:\n    memory: 256Mi\n    image: '{value}'\n")
    before = tree_bytes(tmp_path)
    result = run_cli("synth", "--out", tmp_path)
    assert result.code == 2, (result.out, result.err)
    assert f"stores.{key}.image" in result.err
    assert "shopgen.yaml:4" in result.err  # the line of the value
    assert tree_bytes(tmp_path) == before


def test_a_non_string_store_image_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shopgen.yaml").write_text("stores:\n  checkout-redis:\n    image: 6\n")
    result = run_cli("synth", "--out", tmp_path)
    assert result.code == 2 and "stores.checkout-redis.image" in result.err
    assert tree_bytes(tmp_path) == {"shopgen.yaml": b"stores:\n  checkout-redis:\n    image: 6\n"}


def test_init_shows_the_profiles_stores_and_keeps_their_images() -> None:
    assert defaults().stores.overrides() == {}
    template = config_template()
    for kind in ("mysql", "dynamodb-local", "postgresql", "rabbitmq", "redis"):
        assert f"kind: {kind}" in template
    assert "amazon/dynamodb-local:1.13.1" in template  # the profile's own choice, stated
    assert parse(yamlio.to_plain(yamlio.load_text(template, "init")), "init") == defaults()


@pytest.mark.parametrize(
    ("image", "host", "docker_hub", "mirror"),
    [
        ("postgres:16.1", None, True, "public.ecr.aws/docker/library/postgres:16.1"),
        ("library/redis:6.0-alpine", None, True, "public.ecr.aws/docker/library/redis:6.0-alpine"),
        ("docker.io/library/redis:6.0-alpine", "docker.io", True, "public.ecr.aws/docker/library/redis:6.0-alpine"),
        ("index.docker.io/rabbitmq:3-management", "index.docker.io", True, RABBITMQ_MIRROR),
        ("postgres@sha256:" + "a" * 64, None, True, "public.ecr.aws/docker/library/postgres"),
        ("amazon/dynamodb-local:1.13.1", None, True, None),
        ("docker.io/amazon/dynamodb-local:1.13.1", "docker.io", True, None),
        ("public.ecr.aws/docker/library/mysql:5.7", "public.ecr.aws", False, None),
        ("localhost/pause:3.7", "localhost", False, None),
        ("registry:5000/pause:3.7", "registry:5000", False, None),
    ],
)
def test_registry_host_follows_the_reference_grammar(
    image: str, host: str | None, docker_hub: bool, mirror: str | None
) -> None:
    assert registry_host(image) == host
    assert pulls_from_docker_hub(image) is docker_hub
    assert public_ecr_mirror(image) == mirror
