"""Release profile retail-1.6.2, value by value against the app's facts at tag v1.6.2: every stage
renders, builds, passes strict schemas and the CRDs' CEL, and `diff` names what changed from 0.7.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shopgen.validate import Validator

from conftest import CRD_DIR, STAGES, git, kustomize_build, run_cli
from stage_tree import container, load_stage

CONFIG = "app:\n  profile: retail-1.6.2\ngitops:\n  repo_url: https://github.com/acme/shop-gitops.git\n"
ECR = "public.ecr.aws/aws-containers/retail-store-sample-"
SERVICES = ("catalog", "carts", "orders", "checkout", "ui")


@pytest.fixture(scope="module")
def r162(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("retail-1.6.2")
    (root / "shopgen.yaml").write_text(CONFIG)
    result = run_cli("synth", "--out", root)
    assert result.code == 0, result.err
    return root


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    """{name: literal value, or the source of a valueFrom}"""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_builds_and_passes_strict_schemas_and_cel(r162: Path, stage: str) -> None:
    assert kustomize_build(r162 / "environments" / stage)
    objects = load_stage(r162, stage)
    report = Validator(k8s_version="1.35", crd_dir=CRD_DIR).validate(
        [(f"{kind}/{name}", m) for (kind, name), m in objects.items()]
    )
    errors = report.failing("error")
    assert not errors, "\n".join(f"{f.rule} {f.where()} {f.path}: {f.message}" for f in errors)


def test_validate_shows_no_unexpected_finding(r162: Path) -> None:
    result = run_cli("validate", "--all", "--crd-dir", CRD_DIR, "--format", "json", "--out", r162)
    assert result.code == 0, result.out
    summary = json.loads(result.out)["summary"]
    assert summary["errors"] == summary["warnings"] == 0


def test_services_images_requests_and_security_are_the_releases(r162: Path) -> None:
    objects = load_stage(r162, "prestop")
    deployments = {n for k, n in objects if k == "Deployment"}
    assert deployments == {*SERVICES, "carts-dynamodb", "checkout-redis", "overprovisioning"}  # no assets
    requests = {"ui": ("128m", "512Mi"), "catalog": ("256m", "256Mi"), "carts": ("256m", "512Mi")}
    requests |= {"orders": ("256m", "512Mi"), "checkout": ("128m", "256Mi")}
    for name in SERVICES:
        deployment = objects[("Deployment", name)]
        c = container(deployment)
        image = "cart" if name == "carts" else name
        assert c["image"] == f"{ECR}{image}:1.6.2"
        assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        assert (c["resources"]["requests"]["cpu"], c["resources"]["requests"]["memory"]) == requests[name]
        security = c["securityContext"]
        assert security["runAsUser"] == 1000 and security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
        assert security["capabilities"]["drop"] == ["ALL"]
        assert security["capabilities"].get("add", []) == (["NET_BIND_SERVICE"] if name == "ui" else [])
        assert deployment["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 1000
        assert "SPRING_PROFILES_ACTIVE" not in env_of(c)  # the Spring images bake in "prod"
        assert "SPRING_PROFILES_ACTIVE" not in objects[("ConfigMap", name)]["data"]


def test_settings_and_secrets_are_the_retail_names(r162: Path) -> None:
    objects = load_stage(r162, "baseline")
    data = {name: objects[("ConfigMap", name)]["data"] for name in SERVICES}
    assert data["ui"] == {
        f"RETAIL_UI_ENDPOINTS_{s.upper()}": f"http://{s}:80" for s in ("catalog", "carts", "checkout", "orders")
    }
    assert data["catalog"] == {
        "RETAIL_CATALOG_PERSISTENCE_PROVIDER": "mysql",
        "RETAIL_CATALOG_PERSISTENCE_ENDPOINT": "catalog-mysql:3306",
        "RETAIL_CATALOG_PERSISTENCE_DB_NAME": "catalog",
    }
    assert data["carts"] == {
        "RETAIL_CART_PERSISTENCE_PROVIDER": "dynamodb",
        "RETAIL_CART_PERSISTENCE_DYNAMODB_TABLE_NAME": "Items",
        "RETAIL_CART_PERSISTENCE_DYNAMODB_CREATE_TABLE": "true",
        "RETAIL_CART_PERSISTENCE_DYNAMODB_ENDPOINT": "http://carts-dynamodb:8000",
    }
    assert data["orders"] == {
        "RETAIL_ORDERS_PERSISTENCE_PROVIDER": "postgres",
        "RETAIL_ORDERS_PERSISTENCE_ENDPOINT": "orders-postgresql:5432",
        "RETAIL_ORDERS_PERSISTENCE_NAME": "orders",
        "RETAIL_ORDERS_MESSAGING_PROVIDER": "rabbitmq",
        "RETAIL_ORDERS_MESSAGING_RABBITMQ_ADDRESSES": "orders-rabbitmq:5672",
    }
    assert data["checkout"] == {
        "RETAIL_CHECKOUT_PERSISTENCE_PROVIDER": "redis",
        "RETAIL_CHECKOUT_PERSISTENCE_REDIS_URL": "redis://checkout-redis:6379",
        "RETAIL_CHECKOUT_ENDPOINTS_ORDERS": "http://orders:80",
    }

    def secret(name: str, key: str) -> dict[str, Any]:
        return {"secretKeyRef": {"name": name, "key": key}}

    env = {name: env_of(container(objects[("Deployment", name)])) for name in SERVICES}
    assert env["catalog"] == {
        "RETAIL_CATALOG_PERSISTENCE_USER": secret("catalog-db", "username"),
        "RETAIL_CATALOG_PERSISTENCE_PASSWORD": secret("catalog-db", "password"),
    }
    assert env["carts"]["AWS_ACCESS_KEY_ID"] == secret("carts-dynamodb", "aws-access-key-id")
    assert env["carts"]["AWS_SECRET_ACCESS_KEY"] == secret("carts-dynamodb", "aws-secret-access-key")
    assert env["orders"]["RETAIL_ORDERS_PERSISTENCE_USERNAME"] == secret("orders-db", "username")
    assert env["orders"]["RETAIL_ORDERS_PERSISTENCE_PASSWORD"] == secret("orders-db", "password")
    assert env["ui"] == {
        "JAVA_OPTS": "-XX:MaxRAMPercentage=75.0",
        "METADATA_KUBERNETES_POD_NAME": {"fieldRef": {"fieldPath": "metadata.name"}},
        "METADATA_KUBERNETES_NAMESPACE": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        "METADATA_KUBERNETES_NODE_NAME": {"fieldRef": {"fieldPath": "spec.nodeName"}},
    }


def test_stores_are_the_releases(r162: Path) -> None:
    objects = load_stage(r162, "baseline")
    mysql = container(objects[("StatefulSet", "catalog-mysql")])
    assert mysql["image"] == "public.ecr.aws/docker/library/mysql:8.0"
    assert "args" not in mysql  # --ignore-db-dir is gone from MySQL 8
    assert env_of(mysql)["MYSQL_USER"] == {"secretKeyRef": {"name": "catalog-db", "key": "username"}}
    assert env_of(mysql)["MYSQL_PASSWORD"] == {"secretKeyRef": {"name": "catalog-db", "key": "password"}}
    dynamodb = container(objects[("Deployment", "carts-dynamodb")])
    assert dynamodb["image"] == "public.ecr.aws/aws-dynamodb-local/aws-dynamodb-local:1.25.1"
    assert [p["containerPort"] for p in dynamodb["ports"]] == [8000]
    postgres = container(objects[("StatefulSet", "orders-postgresql")])
    assert postgres["image"] == "public.ecr.aws/docker/library/postgres:16.1"
    assert env_of(postgres)["PGDATA"] == "/data/pgdata"
    rabbitmq = container(objects[("StatefulSet", "orders-rabbitmq")])
    assert rabbitmq["image"] == "public.ecr.aws/docker/library/rabbitmq:3-management"
    assert [p["containerPort"] for p in rabbitmq["ports"]] == [5672, 15672]
    redis = container(objects[("Deployment", "checkout-redis")])
    assert redis["image"] == "public.ecr.aws/docker/library/redis:6.0-alpine"
    assert [p["containerPort"] for p in redis["ports"]] == [6379]


def test_probes_and_grace_are_every_stages_fixes(r162: Path) -> None:
    paths = {"catalog": "/health", "checkout": "/health"}
    for name in SERVICES:
        c = container(load_stage(r162, "readiness")[("Deployment", name)])
        ready = paths.get(name, "/actuator/health/readiness")
        live = paths.get(name, "/actuator/health/liveness")
        assert c["readinessProbe"]["httpGet"]["path"] == ready
        assert c["livenessProbe"]["httpGet"]["path"] == live
        assert c["startupProbe"]["httpGet"]["path"] == live
    prestop = load_stage(r162, "prestop")
    grace = {"ui": 110, "carts": 40, "orders": 40, "catalog": 20, "checkout": 20}  # preStop + 30 s Spring shutdown
    for name, seconds in grace.items():
        assert prestop[("Deployment", name)]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == seconds
    assert [n for k, n in load_stage(r162, "autoscaling") if k == "HorizontalPodAutoscaler"] == ["ui"]
    readme = (r162 / "environments/prestop/README.md").read_text()
    assert "Profile `retail-1.6.2`" in readme and "| ui | preStop sleep 80s, grace 110s |" in readme


def test_diff_between_a_0_7_1_and_a_1_6_2_render_names_what_changed(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    assert run_cli("synth", "--out", tmp_path).code == 0
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "retail-0.7.1")
    (tmp_path / "shopgen.yaml").write_text(CONFIG)
    assert run_cli("synth", "--out", tmp_path).code == 0
    result = run_cli("diff", "--against", "HEAD", "--out", tmp_path)
    assert result.code == 1  # different
    prestop = result.out[result.out.index("[environments/prestop]") :]
    for change in (
        "- Deployment shop/assets",
        'data.ENDPOINTS_ASSETS: (removed) "http://assets"',
        'data.RETAIL_UI_ENDPOINTS_CATALOG: (added) "http://catalog:80"',
        '"public.ecr.aws/aws-containers/retail-store-sample-ui:0.7.1" → "public.ecr.aws/aws-containers/'
        'retail-store-sample-ui:1.6.2"',
        '"public.ecr.aws/docker/library/mysql:5.7" → "public.ecr.aws/docker/library/mysql:8.0"',
        "terminationGracePeriodSeconds: 90 → 110",
    ):
        assert change in prestop, change
