"""Every bad input is answered: exit 2, one clear message naming the field or file, nothing written.

The shape of an error on stderr: exactly one line starting ``shopgen: error:``, then only lines
indented by two spaces (details: more fields, paths, git's own words). Never a traceback, never
anything on stdout. tests/config/test_config.py holds the config-model cases; these are the rest: the
CLI, YAML that attacks the parser, unicode, huge numbers, the files shopgen keeps in .shopgen/, and
paths that would leave the output root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BIN, run_cli

Setup = Callable[[Path, Path, Path], None]  # (out, parent, a rendered default tree) -> None


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]  # "{out}", "{cfg}", "{parent}" are filled in
    expect: str  # the message names this (a field path, a file, an option)
    config: str | bytes | None = None  # written to {cfg}
    setup: Setup | None = None


def _billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _rendered(out: Path, rendered: Path) -> None:
    shutil.copytree(rendered, out, symlinks=True, dirs_exist_ok=True)


def _state(text: str) -> Setup:
    def setup(out: Path, parent: Path, rendered: Path) -> None:
        _rendered(out, rendered)
        (out / ".shopgen/state.json").write_text(text)

    return setup


def _generated(files: object, *, outside: str | None = None) -> Setup:
    def setup(out: Path, parent: Path, rendered: Path) -> None:
        _rendered(out, rendered)
        if outside:
            (parent / outside).write_text("not shopgen's\n")
        (out / ".shopgen/generated.json").write_text(json.dumps({"config_hash": "sha256:0", "files": files}))

    return setup


def _raw(rel: str, text: str) -> Setup:
    def setup(out: Path, parent: Path, rendered: Path) -> None:
        _rendered(out, rendered)
        (out / rel).write_text(text)

    return setup


def _journal(data: object) -> Setup:
    def setup(out: Path, parent: Path, rendered: Path) -> None:
        _rendered(out, rendered)
        text = data if isinstance(data, str) else json.dumps(data)
        (out / ".shopgen/journal.json").write_text(text)

    return setup


def _symlink(rel: str, *, target_is_dir: bool = True, rendered_first: bool = True) -> Setup:
    """Replace ``rel`` in the output root with a symlink to a folder (or file) outside it."""

    def setup(out: Path, parent: Path, rendered: Path) -> None:
        if rendered_first:
            _rendered(out, rendered)
        path = out / rel
        elsewhere = parent / "elsewhere"
        if path.is_dir():
            shutil.copytree(path, elsewhere)
            shutil.rmtree(path)
        elif path.exists():
            elsewhere.write_bytes(path.read_bytes())
            path.unlink()
        elif target_is_dir:
            elsewhere.mkdir()
        else:
            elsewhere.write_text("outside\n")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(elsewhere, target_is_directory=target_is_dir)

    return setup


def _file_at(rel: str) -> Setup:
    def setup(out: Path, parent: Path, rendered: Path) -> None:
        _rendered(out, rendered)
        path = out / rel
        shutil.rmtree(path)
        path.write_text("a file where a folder belongs\n")

    return setup


def _folder_at(rel: str) -> Setup:
    def setup(out: Path, parent: Path, rendered: Path) -> None:
        _rendered(out, rendered)
        path = out / rel
        path.unlink()
        path.mkdir()

    return setup


def _a_file(out: Path, parent: Path, rendered: Path) -> None:
    (parent / "a-file").write_text("x\n")


def _root_config_folder(out: Path, parent: Path, rendered: Path) -> None:
    (out / "shopgen.yaml").mkdir()


def _dangling_config(out: Path, parent: Path, rendered: Path) -> None:
    (parent / "link.yaml").symlink_to(parent / "gone.yaml")


def _config_link_to_folder(out: Path, parent: Path, rendered: Path) -> None:
    (parent / "folder").mkdir()
    (parent / "link.yaml").symlink_to(parent / "folder")


SYNTH = ("synth", "--out", "{out}", "--config", "{cfg}")

CASES = [
    # --- YAML that attacks the parser -------------------------------------------------------------
    Case("alias-bomb", SYNTH, "alias bomb", config=_billion_laughs()),
    Case(
        "recursive-alias",
        SYNTH,
        "platform.endpoint_public_access_cidrs",
        config="platform:\n  endpoint_public_access_cidrs: &a ['10.0.0.0/8', *a]\n",
    ),
    Case("deep-nesting", SYNTH, "nested too deeply", config="namespace: " + "[" * 5000 + "\n"),
    Case(
        "tag-python-name",
        SYNTH,
        "services.ui.replicas: YAML tag !!python/name:builtins.eval",
        config="services:\n  ui:\n    replicas: !!python/name:builtins.eval ''\n",
    ),
    Case(
        "tag-python-object-new",
        SYNTH,
        "YAML tag !!python/object/new:subprocess.Popen",
        config="namespace: !!python/object/new:subprocess.Popen [[ls]]\n",
    ),
    Case("tag-on-root", SYNTH, "<root>: YAML tag !shop", config="--- !shop\nnamespace: shop\n"),
    Case("tag-set", SYNTH, "is a YAML set, not a plain value", config="namespace: !!set {a, b}\n"),
    Case("tag-binary", SYNTH, "namespace: b'hi' is a YAML bytes", config="namespace: !!binary aGk=\n"),
    Case(
        "implicit-date", SYNTH, "namespace: datetime.date(2024, 6, 11) is a YAML date", config="namespace: 2024-06-11\n"
    ),
    Case(
        "duplicate-nested-flow-key",
        SYNTH,
        'duplicate key "replicas"',
        config="services: {ui: {replicas: 1, replicas: 2}}\n",
    ),
    Case(
        "two-documents",
        SYNTH,
        "line 2, column 1: but found another document",
        config="namespace: a\n---\nnamespace: b\n",
    ),
    Case("nul-byte", SYNTH, "special characters are not allowed", config=b"namespace: sh\x00op\n"),
    Case("tab-indent", SYNTH, "found character '\\t' that cannot start any token", config="services:\n\tui: {}\n"),
    # --- empty, odd or unreadable config files ------------------------------------------------------
    Case("empty-file", SYNTH, "no settings (an empty file)", config=""),
    Case("comments-only", SYNTH, "no settings", config="# nothing here\n"),
    Case("scalar-document", SYNTH, "the top level must be a mapping of settings, not int", config="42\n"),
    Case(
        "passwd-like-text",
        SYNTH,
        "the top level must be a mapping of settings, not str",
        config="root:x:0:0:root:/root:/bin/bash\n",
    ),
    Case(
        "latin-1-encoded",
        SYNTH,
        "cannot read config file: 'utf-8' codec can't decode",
        config="namespace: sh\xf6p\n".encode("latin-1"),
    ),
    Case("endless-device", ("synth", "--out", "{out}", "--config", "/dev/zero"), "/dev/zero: larger than"),
    Case(
        "dangling-symlink-config",
        ("synth", "--out", "{out}", "--config", "{parent}/link.yaml"),
        "config file not found",
        setup=_dangling_config,
    ),
    Case(
        "config-symlink-to-folder",
        ("synth", "--out", "{out}", "--config", "{parent}/link.yaml"),
        "is a folder, not a config file",
        setup=_config_link_to_folder,
    ),
    Case(
        "root-config-is-a-folder", ("synth", "--out", "{out}"), "shopgen.yaml: is a folder", setup=_root_config_folder
    ),
    # --- huge numbers and unicode ------------------------------------------------------------------
    Case(
        "int-of-5000-digits",
        SYNTH,
        "invalid value: Exceeds the limit (4300 digits)",
        config="services:\n  ui:\n    replicas: " + "9" * 5000 + "\n",
    ),
    Case(
        "infinity",
        SYNTH,
        "services.ui.replicas: Input should be a valid integer",
        config="services:\n  ui:\n    replicas: .inf\n",
    ),
    Case(
        "not-a-number", SYNTH, "autoscaling.hpa.max_replicas", config="autoscaling:\n  hpa:\n    max_replicas: .nan\n"
    ),
    Case(
        "huge-negative-priority",
        SYNTH,
        "overprovisioning.priority_value",
        config="overprovisioning:\n  priority_value: -1000000000000\n",
    ),
    Case("megabyte-string", SYNTH, "cluster.region: 'aaaa", config="cluster:\n  region: " + "a" * 1_000_000 + "\n"),
    Case("cyrillic-homoglyph", SYNTH, "namespace: '\u0455hop' is not a DNS", config="namespace: \u0455hop\n"),
    Case("right-to-left-override", SYNTH, "cluster.name", config="cluster:\n  name: part\u202e10\n"),
    Case("emoji-key", SYNTH, "🚀: unknown setting", config="🚀: launch\n"),
    Case(
        "image-with-newline",
        SYNTH,
        "overprovisioning.image: 'pause\\n:3.7' is not a container image",
        config='overprovisioning:\n  image: "pause\\n:3.7"\n',
    ),
    Case(
        "anchored-bool-as-int",
        SYNTH,
        "autoscaling.hpa.min_replicas",
        config="platform:\n  single_nat_gateway: &yes true\nautoscaling:\n  hpa:\n    min_replicas: *yes\n",
    ),
    Case("section-is-null", SYNTH, "services: Input should be", config="services: ~\n"),
    Case(
        "architecture-unknown",
        SYNTH,
        "karpenter.nodepool.architectures.0",
        config="karpenter:\n  nodepool:\n    architectures: [sparc]\n",
    ),
    Case(
        "node-group-desired-above-max",
        SYNTH,
        "platform.node_group: desired_size (9)",
        config="platform:\n  node_group:\n    desired_size: 9\n",
    ),
    Case(
        "public-vpc-cidr",
        SYNTH,
        "platform.vpc_cidr: '8.8.0.0/16' must be a private IPv4 range",
        config="platform:\n  vpc_cidr: 8.8.0.0/16\n",
    ),
    # --- control and invisible characters, lone surrogates ------------------------------------------
    Case(
        "lone-surrogate-namespace",
        SYNTH,
        "bad.yaml:1: namespace: '\\ud800' contains U+D800, a lone surrogate",
        config='namespace: "\\uD800"\n',
    ),
    Case(
        "lone-surrogate-repo-url",
        SYNTH,
        "bad.yaml:2: gitops.repo_url: 'https://github.com/acme/shop\\udc00.git' contains U+DC00",
        config='gitops:\n  repo_url: "https://github.com/acme/shop\\uDC00.git"\n',
    ),
    Case(
        "lone-surrogate-in-a-list",
        SYNTH,
        "platform.endpoint_public_access_cidrs.1: '\\ud83d' contains U+D83D",
        config='platform:\n  endpoint_public_access_cidrs: ["10.0.0.0/8", "\\uD83D"]\n',
    ),
    Case(
        "lone-surrogate-in-a-key",
        SYNTH,
        "services.'\\ud800': the key contains U+D800",
        config='services:\n  "\\uD800": {}\n',
    ),
    Case(
        "repo-url-zero-width-space",
        SYNTH,
        "gitops.repo_url: 'https://github.com/acme/shop\\u200b.git' contains U+200B ZERO WIDTH SPACE",
        config='gitops:\n  repo_url: "https://github.com/acme/shop\\u200B.git"\n',
    ),
    Case(
        "repo-url-bidi-override",
        SYNTH,
        "gitops.repo_url: 'https://github.com/acme/tig.\\u202e.git' contains U+202E RIGHT-TO-LEFT OVERRIDE",
        config="gitops:\n  repo_url: https://github.com/acme/tig.\u202e.git\n",
    ),
    Case(
        "repo-url-nul",
        SYNTH,
        "gitops.repo_url: 'https://github.com/acme/shop.git\\x00' contains U+0000, a control character",
        config='gitops:\n  repo_url: "https://github.com/acme/shop.git\\0"\n',
    ),
    Case(
        "target-revision-escape",
        SYNTH,
        "bad.yaml:2: gitops.target_revision: 'main\\x1b[8m' contains U+001B, a control character",
        config='gitops:\n  target_revision: "main\\e[8m"\n',
    ),
    Case(
        "target-revision-delete",
        SYNTH,
        "gitops.target_revision: 'main\\x7f' contains U+007F",
        config='gitops:\n  target_revision: "main\\x7F"\n',
    ),
    Case(
        "target-revision-c1-next-line",
        SYNTH,
        "gitops.target_revision: 'ma\\x85in' has the wrong form (pattern ^\\S+$); it contains U+0085",
        config='gitops:\n  target_revision: "ma\\Nin"\n',
    ),
    Case(
        "repo-url-line-separator",
        SYNTH,
        "gitops.repo_url: 'https://github.com/acme/shop\\u2028.git' has the wrong form",
        config='gitops:\n  repo_url: "https://github.com/acme/shop\\L.git"\n',
    ),
    Case(
        "load-balancer-name-zero-width",
        SYNTH,
        "ingress.load_balancer_name: 'shop\\u200bui' contains U+200B",
        config='ingress:\n  load_balancer_name: "shop\\u200Bui"\n',
    ),
    Case(
        "escape-sequence-in-a-key",
        SYNTH,
        "bad.yaml:1: '\\x1b[2J': unknown setting",
        config='"\\e[2J": clear the terminal\n',
    ),
    Case(
        "superscript-digit-key",
        SYNTH,
        "bad.yaml:2: services.\u00b2: '\u00b2' is not a DNS label",
        config="services:\n  \u00b2: 1\n",
    ),
    # --- quantities and durations no cluster can run ------------------------------------------------
    Case(
        "cpu-below-one-millicore",
        SYNTH,
        "bad.yaml:4: services.ui.resources.cpu: '0.0001' is below 1m",
        config="services:\n  ui:\n    resources:\n      cpu: '0.0001'\n",
    ),
    Case(
        "cpu-finer-than-one-millicore",
        SYNTH,
        "services.ui.resources.cpu: '0.0015' is finer than 1m",
        config="services:\n  ui:\n    resources:\n      cpu: '0.0015'\n",
    ),
    Case(
        "cpu-tenth-of-a-millicore",
        SYNTH,
        "services.carts.resources.cpu: '0.1m' is not a CPU quantity of at least 1m",
        config="services:\n  carts:\n    resources:\n      cpu: 0.1m\n",
    ),
    Case(
        "memory-in-bytes",
        SYNTH,
        "services.ui.resources.memory: '100' is below 1Mi",
        config="services:\n  ui:\n    resources:\n      memory: '100'\n      memory_limit: '100'\n",
    ),
    Case(
        "store-memory-one-kibibyte",
        SYNTH,
        "bad.yaml:3: stores.checkout-redis.memory: '1Ki' is below 1Mi",
        config="stores:\n  checkout-redis:\n    memory: 1Ki\n",
    ),
    Case(
        "overprovisioning-memory-below-1mi",
        SYNTH,
        "overprovisioning.memory: '0.5Mi' is below 1Mi",
        config="overprovisioning:\n  memory: 0.5Mi\n",
    ),
    Case(
        "expire-after-past-go-duration",
        SYNTH,
        "bad.yaml:3: karpenter.nodepool.expire_after: '2562048h' is longer than a Go duration holds",
        config="karpenter:\n  nodepool:\n    expire_after: 2562048h\n",
    ),
    Case(
        "consolidate-after-one-second-too-long",
        SYNTH,
        "karpenter.nodepool.consolidate_after: '2562047h47m17s' is longer than a Go duration",
        config="karpenter:\n  nodepool:\n    consolidate_after: 2562047h47m17s\n",
    ),
    Case(
        "refresh-interval-of-30-digits",
        SYNTH,
        "secrets.refresh_interval: '" + "9" * 30 + "h' is longer than a Go duration",
        config="secrets:\n  refresh_interval: " + "9" * 30 + "h\n",
    ),
    # --- the command line ------------------------------------------------------------------------
    Case("unknown-command", ("frobnicate",), "No such command 'frobnicate'"),
    Case("unknown-option", ("synth", "--out", "{out}", "--bogus"), "No such option '--bogus'"),
    Case("option-without-value", ("synth", "--out"), "Option '--out' requires an argument"),
    Case("bad-choice", ("diff", "baseline", "alb", "--format", "yaml"), "Invalid value for '--format'"),
    Case("promote-without-stage", ("promote", "--out", "{out}"), "Missing argument 'STAGE'"),
    Case("stage-path-traversal", ("synth", "--out", "{out}", "--stage", "../../etc"), "unknown stage '../../etc'"),
    Case("stage-empty", ("synth", "--out", "{out}", "--stage", ""), "unknown stage ''"),
    Case(
        "out-below-a-file", ("synth", "--out", "{parent}/a-file/sub"), "a-file is a file, not a folder", setup=_a_file
    ),
    Case("init-out-a-file", ("init", "--out", "{parent}/a-file"), "a-file: is a file, not a folder", setup=_a_file),
    Case("validate-out-a-file", ("validate", "--out", "{parent}/a-file"), "is a file, not a folder", setup=_a_file),
    Case("crd-dir-missing", ("synth", "--out", "{out}", "--crd-dir", "{parent}/no-crds"), "--crd-dir"),
    Case(
        "crd-dir-a-file",
        ("validate", "--render", "--out", "{out}", "--crd-dir", "{parent}/a-file"),
        "not a folder of CRD files",
        setup=_a_file,
    ),
    Case("diff-against-outside-git", ("diff", "--against", "HEAD", "--out", "{out}"), "not in a git repository"),
    # --- the files shopgen keeps in .shopgen/ ------------------------------------------------------
    Case(
        "state-stage-is-a-list",
        ("synth", "--out", "{out}"),
        "state.json: active_stage ['prestop'] is not a stage",
        setup=_state('{"active_stage": ["prestop"]}'),
    ),
    Case(
        "state-not-json",
        ("validate", "--out", "{out}"),
        "state.json: not a shopgen state file",
        setup=_state("active_stage: prestop\n"),
    ),
    Case(
        "state-unknown-stage",
        ("synth", "--stage", "alb", "--out", "{out}"),
        "active_stage 'canary' is not a stage",
        setup=_state('{"active_stage": "canary"}'),
    ),
    Case(
        "generated-not-json",
        ("synth", "--out", "{out}"),
        "generated.json: not a shopgen generated.json",
        setup=_raw(".shopgen/generated.json", "{"),
    ),
    Case(
        "generated-escapes-with-dotdot",
        ("synth", "--out", "{out}", "--force"),
        "lists 'environments/baseline/../../../outside.txt', outside the output root",
        setup=_generated({"environments/baseline/../../../outside.txt": "sha256:0"}, outside="outside.txt"),
    ),
    Case(
        "generated-absolute-path",
        ("validate", "--out", "{out}"),
        "outside the output root",
        setup=_generated({"/etc/hostname": "sha256:0"}),
    ),
    Case(
        "journal-escapes-the-root",
        ("synth", "--out", "{out}"),
        "journal.json: a journal inside the repository; shopgen never replays one",
        setup=_journal({"writes": {"../pwned.txt": "x"}, "removes": []}),
    ),
    Case("journal-garbage", ("synth", "--out", "{out}"), "journal.json: a journal inside", setup=_journal("{not json")),
    Case(
        "journal-commit-elsewhere",
        ("synth", "--out", "{out}"),
        "journal.json: a journal inside the repository",
        setup=_journal(
            {"writes": {}, "removes": [], "commit": {"top": "/", "paths": ["x"], "message": "m", "parent": None}}
        ),
    ),
    # --- paths that leave the output root, or clash with it -------------------------------------------
    Case(
        "state-folder-is-a-symlink", ("synth", "--out", "{out}"), ".shopgen: is a symlink", setup=_symlink(".shopgen")
    ),
    Case(
        "environments-is-a-symlink",
        ("synth", "--out", "{out}"),
        "environments: is a symlink",
        setup=_symlink("environments", rendered_first=False),
    ),
    Case(
        "argocd-is-a-symlink",
        ("synth", "--out", "{out}", "--stage", "baseline"),
        "argocd: is a symlink",
        setup=_symlink("argocd"),
    ),
    Case(
        "generated-file-is-a-symlink",
        ("synth", "--out", "{out}"),
        "vpc.tf: is a symlink; shopgen will not write through it",
        setup=_symlink("terraform/vpc.tf", target_is_dir=False),
    ),
    Case(
        "stage-folder-is-a-file",
        ("synth", "--out", "{out}"),
        "baseline: is a file where shopgen needs a folder",
        setup=_file_at("environments/baseline"),
    ),
    Case(
        "generated-file-is-a-folder",
        ("synth", "--out", "{out}"),
        "kustomization.yaml: is a folder where shopgen writes a file",
        setup=_folder_at("environments/alb/kustomization.yaml"),
    ),
    Case("out-empty", ("synth", "--out", ""), "--out': must not be empty"),
    Case("config-empty-path", ("synth", "--out", "{out}", "--config", ""), "--config': must not be empty"),
    Case(
        "validate-half-applied-tree",
        ("validate", "--all", "--out", "{out}"),
        "journal.json: a journal inside the repository",
        setup=_journal({"writes": {}, "removes": []}),
    ),
    Case(
        "diff-against-half-applied-tree",
        ("diff", "--against", "HEAD", "--out", "{out}"),
        "journal.json: a journal inside the repository",
        setup=_journal({"writes": {}, "removes": []}),
    ),
]


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder`` (files by bytes, folders, symlinks by target): did anything change?"""
    found: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir",)
            else:
                found[rel] = ("file", path.read_bytes())
    return found


def assert_one_error(err: str, expect: str, case: str) -> None:
    lines = err.splitlines()
    assert lines, f"{case}: no message at all"
    assert lines[0].startswith("shopgen: error: "), f"{case}: {err!r}"
    assert all(line.startswith("  ") for line in lines[1:]), f"{case}: more than one message:\n{err}"
    assert err.count("shopgen: error:") == 1 and "Traceback" not in err, f"{case}:\n{err}"
    assert expect in err, f"{case}: {err!r} does not name {expect!r}"
    assert len(err) < 4000, f"{case}: a message of {len(err)} characters is not a clear one"


def _prepare(case: Case, tmp_path: Path, rendered: Path) -> tuple[Path, list[str]]:
    parent = tmp_path / "parent"
    out = parent / "out"
    out.mkdir(parents=True)
    cfg = parent / "bad.yaml"
    if case.config is not None:
        data = case.config.encode("utf-8") if isinstance(case.config, str) else case.config
        cfg.write_bytes(data)
    if case.setup is not None:
        case.setup(out, parent, rendered)
    args = [a.format(out=out, cfg=cfg, parent=parent) for a in case.args]
    return parent, args


def test_the_corpus_is_large_and_distinct():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_with_one_message_and_writes_nothing(case: Case, tmp_path: Path, rendered: Path):
    parent, args = _prepare(case, tmp_path, rendered)
    before = snapshot(parent)
    result = run_cli(*args, cwd=parent)
    assert result.code == 2, f"{case.id}: exit {result.code}\n{result.err}"
    assert result.out == "", f"{case.id}: wrote to stdout: {result.out[:500]!r}"
    assert_one_error(result.err, case.expect, case.id)
    after = snapshot(parent)
    assert after == before, (
        f"{case.id}: changed {sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))[:10]}"
    )


# A real process: what the user's terminal gets, with the interpreter's own error handling in play.
IN_A_CHILD = [
    "alias-bomb",
    "deep-nesting",
    "implicit-date",
    "int-of-5000-digits",
    "unknown-option",
    "state-stage-is-a-list",
    "generated-escapes-with-dotdot",
    "journal-escapes-the-root",
]


@pytest.mark.parametrize("case_id", IN_A_CHILD)
def test_no_traceback_reaches_the_terminal(case_id: str, tmp_path: Path, rendered: Path):
    case = next(c for c in CASES if c.id == case_id)
    parent, args = _prepare(case, tmp_path, rendered)
    before = snapshot(parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGEN_FAULT")}
    proc = subprocess.run(
        [str(BIN / "shopgen"), *args], cwd=parent, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 2, f"{case_id}: exit {proc.returncode}\n{proc.stderr}"
    assert proc.stdout == ""
    assert_one_error(proc.stderr, case.expect, case_id)
    assert snapshot(parent) == before


@pytest.mark.parametrize("command", [["synth"], ["diff", "baseline", "prestop"]])
def test_no_node_to_run_cdk8s_is_a_clear_error(command: list[str], tmp_path: Path):
    """A broken JSII_NODE (or no Node at all) is named, not a jsii traceback; nothing is written."""
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "JSII_NODE": str(tmp_path / "no-such-node"), "SHOPGEN_NO_CACHE": "1"}
    proc = subprocess.run(
        [str(BIN / "shopgen"), *command, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert_one_error(proc.stderr, f"JSII_NODE={tmp_path / 'no-such-node'}", "no-node")
    assert snapshot(out) == {}


def test_debug_shows_the_traceback_that_is_otherwise_hidden(tmp_path: Path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("namespace: 2024-06-11\n")
    plain = run_cli("synth", "--out", tmp_path / "out", "--config", cfg)
    debug = run_cli("--debug", "synth", "--out", tmp_path / "out", "--config", cfg)
    assert plain.code == debug.code == 2
    assert "Traceback" not in plain.err and "Traceback (most recent call last)" in debug.err
    assert debug.err.rstrip().splitlines()[-2:] == plain.err.rstrip().splitlines()  # the error, then its root


def test_debug_is_accepted_after_the_command_too(tmp_path: Path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("namespace: 2024-06-11\n")
    debug = run_cli("synth", "--out", tmp_path / "out", "--config", cfg, "--debug")
    assert debug.code == 2 and "Traceback (most recent call last)" in debug.err


def test_an_empty_config_is_refused_but_an_empty_mapping_means_the_defaults(tmp_path: Path, rendered: Path):
    cfg = tmp_path / "defaults.yaml"
    cfg.write_text("{}\n")
    result = run_cli("synth", "--check", "--out", rendered, "--config", cfg)
    assert result.code == 0, result.err
