"""One credential classifier: what `shopgen diff` masks is exactly what `shopgen validate` flags.

Regression: diff printed ``env[DB_PWD].value: "old-s3cret" → "new-s3cret"`` in clear text because
its own word list lacked ``pwd`` while validate's had it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from shopgen.diff import diff_files, diff_resources, to_json, to_markdown, to_text
from shopgen.validate.credentials import is_credential_name
from shopgen.validate.security import run_security, scan_text_for_credentials

from conftest import committed_repo, git, run_cli

RULE = "security.plaintext-credential"
OLD, NEW = "old-s3cret", "new-s3cret"


def sha(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def configmap(data: dict[str, str], name: str = "catalog") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop"}, "data": data}


def deployment(env: list[dict[str, str]], name: str = "catalog") -> dict:
    labels = {"app.kubernetes.io/name": name}
    container = {"name": name, "image": "public.ecr.aws/aws-containers/retail-store-sample-catalog:0.7.1", "env": env}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def views(result: object) -> dict[str, str]:
    return {
        "text": to_text(result),  # type: ignore[arg-type]
        "markdown": to_markdown(result, title="diff"),  # type: ignore[arg-type]
        "json": to_json(result),  # type: ignore[arg-type]
    }


# --- the two real code paths, asked about one name -----------------------------------------------


def diff_masks(name: str) -> bool:
    """Whether `diff` hides a changed literal under ``name``, as a ConfigMap key and as an env var.

    Both placements must agree; the answer is the one the diff views would print.
    """
    old = [configmap({name: OLD}), deployment([{"name": name, "value": OLD}])]
    new = [configmap({name: NEW}), deployment([{"name": name, "value": NEW}])]
    changes = {str(key.kind): fields for key, fields in diff_resources(old, new).changed}
    shown = {kind: [c.new for c in fields] for kind, fields in changes.items()}
    assert sorted(shown) == ["ConfigMap", "Deployment"]
    masked = {kind: values == [sha(NEW)] for kind, values in shown.items()}
    for kind, values in shown.items():
        assert values in ([NEW], [sha(NEW)]), (kind, values)
    assert masked["ConfigMap"] == masked["Deployment"], f"diff masks {name!r} in one place only: {masked}"
    return masked["ConfigMap"]


def validate_flags(name: str) -> bool:
    """Whether validate's security layer flags a literal under ``name``: ConfigMap key, env var, HCL."""
    findings = run_security([configmap({name: NEW}), deployment([{"name": name, "value": NEW}])])
    flagged = {f.kind for f in findings if f.rule == RULE}
    in_text = bool(scan_text_for_credentials("terraform/main.tf", f'locals {{\n  {name} = "{NEW}"\n}}\n'))
    assert flagged in (set(), {"ConfigMap", "Deployment"}), f"validate flags {name!r} only in {flagged}"
    assert in_text == bool(flagged), f"validate's text scan disagrees on {name!r}"
    return bool(flagged)


# --- named examples ------------------------------------------------------------------------------

CREDENTIALS = [
    "DB_PWD",
    "dbPwd",
    "DB_PASSWORD",
    "password",
    "passwd",
    "db-passwd",
    "MYSQL_ROOT_PASSWORD",
    "root-password",
    "argocdServerAdminPassword",
    "master_password",
    "DB_PASS",
    "passphrase",
    "token",
    "GITHUB_TOKEN",
    "tokens",
    "secret",
    "client_secret",
    "webhookSecret",
    "JWT_SECRET",
    "secrets",
    "api_key",
    "apiKey",
    "APIKEY",
    "private_key",
    "privateKey",
    "tlsKey",
    "STRIPE_KEY",
    "SSH_KEY",
    "awsSecretKey",
    "secret_key",
    "SECRET_KEY",
    "AWS_ACCESS_KEY_ID",
    "aws-access-key-id",
    "accessKeyId",
    "AWS_SECRET_ACCESS_KEY",
    "aws_secret_access_key",
    "secret_string",
    "secret_string_wo",
    "admin_password_hash",
    "SECRET_KEY_BASE",
    "DB_PASSWORD_2",
    "password2",
    "credentials",
    "existing_password",  # a password, whatever it is called
]
NOT_CREDENTIALS = [
    "",
    "DB_NAME",
    "DB_ENDPOINT",
    "DB_USER",
    "username",
    "key",
    "KEY",
    "value",
    "secret_name",
    "secretName",
    "secret_id",
    "secret_arn",
    "kms_key_id",
    "KEY_ID",
    "secretKeyRef",
    "passwordSecretRef",
    "tokenSecretRef",
    "password_file",
    "passwordFile",
    "token_path",
    "secretKey",  # External Secrets: names a key of the Secret it writes
    "existingSecret",  # Helm: names a Secret already in the cluster
    "existingSecretPasswordKey",
    "secret_prefix",
    "external_secrets_service_account",
    "external_secrets_role_name",
    "connection_string",
    "host",
    "tokenExpirationSeconds",
]


@pytest.mark.parametrize("name", CREDENTIALS)
def test_credential_names_are_masked_by_diff_and_flagged_by_validate(name: str) -> None:
    assert is_credential_name(name)
    assert diff_masks(name)
    assert validate_flags(name)


@pytest.mark.parametrize("name", NOT_CREDENTIALS)
def test_other_names_stay_readable_in_diff_and_pass_validate(name: str) -> None:
    assert not is_credential_name(name)
    assert not diff_masks(name)
    assert not validate_flags(name)


# --- property: one decision --------------------------------------------------------------------

WORDS = (
    "db", "pwd", "password", "passwd", "token", "secret", "key", "id", "name", "ref", "api", "access",
    "private", "user", "host", "aws", "client", "string", "existing", "file",
)  # fmt: skip


def _join(words: list[str], style: str) -> str:
    if style == "snake":
        return "_".join(words)
    if style == "upper":
        return "_".join(words).upper()
    if style == "kebab":
        return "-".join(words)
    if style == "pascal":
        return "".join(w.capitalize() for w in words)
    return words[0] + "".join(w.capitalize() for w in words[1:])  # camel


names = st.builds(
    _join,
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
    st.sampled_from(["snake", "upper", "kebab", "camel", "pascal"]),
)


@settings(max_examples=300, deadline=None)
@pytest.mark.slow
@given(names)
def test_diff_masks_exactly_what_validate_flags(name: str) -> None:
    expected = is_credential_name(name)
    assert diff_masks(name) == expected
    assert validate_flags(name) == expected


# --- the reported bug, end to end ----------------------------------------------------------------


def test_changed_db_pwd_is_masked_in_every_view() -> None:
    old = [configmap({"DB_NAME": "catalog", "DB_PWD": OLD}), deployment([{"name": "DB_PWD", "value": OLD}])]
    new = [configmap({"DB_NAME": "catalog", "DB_PWD": NEW}), deployment([{"name": "DB_PWD", "value": NEW}])]
    result = diff_resources(old, new)
    paths = sorted(c.path_text for _, fields in result.changed for c in fields)
    assert paths == ["data.DB_PWD", "spec.template.spec.containers[catalog].env[DB_PWD].value"]
    for view, text in views(result).items():
        assert OLD not in text and NEW not in text, f"{view} view leaks DB_PWD"
        assert sha(OLD) in text and sha(NEW) in text, f"{view} view lacks the digests"

    # The same objects as files of two rendered trees (what `diff --against` compares).
    dump = "---\n".join
    tree = "environments/baseline/catalog/all.yaml"
    files = diff_files({tree: dump(yaml.safe_dump(m) for m in old)}, {tree: dump(yaml.safe_dump(m) for m in new)})
    for view, text in views(files).items():
        assert OLD not in text and NEW not in text, f"{view} view of the tree diff leaks DB_PWD"
        assert sha(NEW) in text, f"{view} view of the tree diff lacks the digest"


def test_diff_against_a_commit_never_prints_a_db_pwd(tmp_path: Path, git_env: dict[str, str]) -> None:
    """A committed tree whose ConfigMap and Deployment were edited by hand to hold a DB_PWD literal."""
    repo = committed_repo(tmp_path)
    folder = repo / "environments" / "baseline" / "catalog"
    cm_file, deploy_file = folder / "configmap-catalog.yaml", folder / "deployment-catalog.yaml"
    cm = yaml.safe_load(cm_file.read_text())
    cm["data"]["DB_PWD"] = OLD
    cm_file.write_text(yaml.safe_dump(cm))
    deploy = yaml.safe_load(deploy_file.read_text())
    deploy["spec"]["template"]["spec"]["containers"][0].setdefault("env", []).append({"name": "DB_PWD", "value": OLD})
    deploy_file.write_text(yaml.safe_dump(deploy))
    git(repo, "commit", "-qam", "a literal DB_PWD")

    outputs = {}
    for fmt in ("text", "markdown", "json"):
        result = run_cli("diff", "--against", "HEAD", "--out", repo, "--format", fmt)
        assert result.code == 1, result.err
        assert OLD not in result.out and OLD not in result.err, f"{fmt} output leaks DB_PWD"
        assert "DB_PWD" in result.out and sha(OLD) in result.out, f"{fmt} output does not show the change"
        outputs[fmt] = result.out
    doc = json.loads(outputs["json"])
    changed = {r["kind"]: r for r in doc["resources"] if r["group"] == "environments/baseline"}
    assert sorted(changed) == ["ConfigMap", "Deployment"]
