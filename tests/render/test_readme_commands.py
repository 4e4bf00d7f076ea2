"""Commands in the rendered stage READMEs run as written, and no shipped file cites the SPEC.

Every command a stage README shows (fenced ``sh`` blocks and inline `kubectl …`/`vegeta …`/`aws …`
spans) is parsed with shlex: kubectl on a namespaced resource carries the configured namespace, the
cluster and region are the configured ones, every shell variable is set by an earlier command, and
no ``<placeholder>`` is left for the reader to guess.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from shopgen import yamlio

from conftest import CRD_DIR, REPO, STAGES, run_cli

CUSTOM_CONFIG = """\
namespace: 11-senario
cluster:
  name: demo7
  region: eu-central-1
"""

# kubectl resource names (as typed) of cluster-scoped kinds: these need no namespace.
CLUSTER_SCOPED = {
    *("node", "nodes", "no"),
    *("nodepool", "nodepools"),
    *("nodeclaim", "nodeclaims"),
    *("ec2nodeclass", "ec2nodeclasses"),
    *("priorityclass", "priorityclasses", "pc"),
    *("namespace", "namespaces", "ns"),
}
# kubectl verbs that act on no object in the cluster.
NO_RESOURCE = {"kustomize", "version", "config", "api-resources", "api-versions", "explain", "cluster-info"}
# kubectl verbs whose first argument is a sub-command (`rollout restart deployment/ui`).
SUBCOMMANDS = {"rollout", "set", "create", "auth"}  # `top pods`: the sub-command is the resource
# kubectl flags that take the next token as their value.
VALUE_FLAGS = {"-n", "--namespace", "-l", "--selector", "-o", "--output", "-c", "--container", "--context"}
# kubectl's short names of the kinds a README may name -> the rendered kind.
KINDS = {
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "hpa": "HorizontalPodAutoscaler",
    "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "horizontalpodautoscalers": "HorizontalPodAutoscaler",
    "ingress": "Ingress",
    "ingresses": "Ingress",
    "ing": "Ingress",
    "service": "Service",
    "svc": "Service",
    "statefulset": "StatefulSet",
    "sts": "StatefulSet",
    "pdb": "PodDisruptionBudget",
}
PLACEHOLDER = re.compile(r"<[A-Za-z][\w .-]*>")
FENCE = re.compile(r"^```(?:sh|bash|shell)?\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`((?:kubectl|vegeta|aws|shopgen|curl) [^`]*)`")
SUBST = re.compile(r"\$\(([^()]*)\)")
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")
SEPARATORS = {"|", "||", "&&", ";", "&"}


@dataclass(frozen=True)
class Settings:
    namespace: str
    cluster: str
    region: str
    load_balancer: str


@dataclass(frozen=True)
class Command:
    line: str
    argv: tuple[str, ...]


def command_lines(readme: str) -> list[str]:
    """The README's command lines in reading order: fenced blocks, then spans in the prose."""
    lines: list[str] = []
    for block in FENCE.findall(readme):
        lines.extend(block.replace("\\\n", " ").splitlines())
    prose = FENCE.sub("", readme)
    lines.extend(SPAN.findall(prose))
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def parse(line: str) -> tuple[list[Command], set[str], set[str]]:
    """Commands of one shell line (command substitutions are commands too), variables set and used."""
    used = set(VARIABLE.findall(line))
    inner = SUBST.findall(line)
    outer = SUBST.sub("SUBSTITUTED", line)
    commands: list[Command] = []
    assigned: set[str] = set()
    for text in (*inner, outer):
        lexer = shlex.shlex(text, posix=True, punctuation_chars="|&;")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token not in SEPARATORS:
                words.append(token)
                continue
            while words and (m := ASSIGNMENT.match(words[0])):
                assigned.add(m.group(1))
                words.pop(0)
            if words:
                commands.append(Command(line, tuple(words)))
            words = []
    return commands, assigned, used


def option(argv: tuple[str, ...], *names: str) -> str | None:
    for i, word in enumerate(argv):
        for name in names:
            if word == name and i + 1 < len(argv):
                return argv[i + 1]
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def positionals(argv: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    skip = False
    for word in argv[1:]:
        if skip:
            skip = False
        elif word in VALUE_FLAGS:
            skip = True
        elif not word.startswith("-"):
            out.append(word)
    return out


def stage_objects(root: Path, stage: str) -> tuple[set[tuple[str, str]], list[dict[str, str]]]:
    """(kind, name) of every object the stage renders, and every workload's pod template labels."""
    objects: set[tuple[str, str]] = set()
    pod_labels: list[dict[str, str]] = []
    for path in sorted((root / "environments" / stage).rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yamlio.load_manifests(path.read_text(), str(path)):
            objects.add((doc["kind"], doc["metadata"]["name"]))
            template = doc.get("spec", {}).get("template", {})
            if isinstance(template, dict) and "labels" in template.get("metadata", {}):
                pod_labels.append(template["metadata"]["labels"])
    return objects, pod_labels


def check_readme(root: Path, stage: str, settings: Settings) -> list[str]:
    """Everything wrong with the commands of ``stage``'s README, as sentences."""
    readme = (root / "environments" / stage / "README.md").read_text()
    objects, pod_labels = stage_objects(root, stage)
    problems: list[str] = []
    defined: set[str] = set()
    kubeconfig = False
    kubectl_seen = False
    for line in command_lines(readme):
        commands, assigned, used = parse(line)
        for name in sorted(used - defined - assigned):
            problems.append(f"${name} is used before any command sets it: {line}")
        for placeholder in PLACEHOLDER.findall(line):
            problems.append(f"placeholder {placeholder} left for the reader: {line}")
        defined |= assigned
        for cmd in commands:
            argv = cmd.argv
            if argv[0] == "aws":
                region = option(argv, "--region")
                if region != settings.region:
                    problems.append(f"aws without --region {settings.region}: {line}")
                if argv[1:3] == ("eks", "update-kubeconfig"):
                    kubeconfig = True
                    if option(argv, "--name") != settings.cluster:
                        problems.append(f"update-kubeconfig without --name {settings.cluster}: {line}")
                names = option(argv, "--names", "--load-balancer-name")
                if argv[1] == "elbv2" and names is not None and names != settings.load_balancer:
                    problems.append(f"load balancer {names}, configured {settings.load_balancer}: {line}")
            if argv[0] != "kubectl":
                continue
            kubectl_seen = True
            if not kubeconfig:
                problems.append(f"kubectl before `aws eks update-kubeconfig` sets the cluster: {line}")
            args = positionals(argv)
            if not args or args[0] in NO_RESOURCE:
                continue
            rest = args[2:] if args[0] in SUBCOMMANDS else args[1:]
            if not rest:
                problems.append(f"kubectl names no resource: {line}")
                continue
            resource, _, name = rest[0].partition("/")
            if not name and len(rest) > 1:
                name = rest[1]
            namespace = option(argv, "-n", "--namespace")
            if resource.lower() in CLUSTER_SCOPED:
                if namespace is not None:
                    problems.append(f"cluster-scoped {resource} with a namespace: {line}")
            elif namespace != settings.namespace:
                problems.append(f"kubectl {resource} without -n {settings.namespace} (got {namespace}): {line}")
            if name and resource.lower() in KINDS and (KINDS[resource.lower()], name) not in objects:
                problems.append(f"{KINDS[resource.lower()]} {name} is not rendered in {stage}: {line}")
            selector = option(argv, "-l", "--selector")
            if selector:
                wanted = dict(pair.split("=", 1) for pair in selector.split(","))
                if not any(wanted.items() <= labels.items() for labels in pod_labels):
                    problems.append(f"selector {selector} matches no pod of {stage}: {line}")
    if not kubectl_seen:
        problems.append(f"{stage}: no kubectl command to watch the stage with")
    if "http://$ALB/" not in readme:
        problems.append(f"{stage}: the load test does not target http://$ALB/")
    ingress = (root / "environments" / stage / "ui" / "ingress-ui.yaml").read_text()
    assert "listen-ports" not in ingress and "certificate-arn" not in ingress, "the ALB listens on HTTP:80 only"
    return problems


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All stages rendered with a non-default namespace, cluster and region."""
    root = tmp_path_factory.mktemp("custom")
    (root / "shopgen.yaml").write_text(CUSTOM_CONFIG)
    result = run_cli("synth", "--out", root)
    assert result.code == 0, result.err
    return root


DEFAULT = Settings(namespace="shop", cluster="part01", region="us-west-2", load_balancer="part01-shop-ui")
CUSTOM = Settings(namespace="11-senario", cluster="demo7", region="eu-central-1", load_balancer="demo7-11-senario-ui")


@pytest.mark.parametrize("stage", STAGES)
def test_default_render_commands_run_as_written(rendered: Path, stage: str):
    assert check_readme(rendered, stage, DEFAULT) == []


@pytest.mark.parametrize("stage", STAGES)
def test_custom_namespace_and_cluster_reach_every_command(custom: Path, stage: str):
    assert check_readme(custom, stage, CUSTOM) == []


def test_checker_catches_what_it_must(rendered: Path, tmp_path: Path):
    """The checker itself: a missing namespace, a placeholder, a foreign region are all named."""
    root = tmp_path / "tree"
    folder = root / "environments" / "prestop"
    (folder / "ui").mkdir(parents=True)
    source = rendered / "environments" / "prestop"
    (folder / "ui" / "ingress-ui.yaml").write_bytes((source / "ui" / "ingress-ui.yaml").read_bytes())
    (folder / "ui" / "deployment-ui.yaml").write_bytes((source / "ui" / "deployment-ui.yaml").read_bytes())
    (folder / "README.md").write_text(
        "```sh\naws eks update-kubeconfig --name part01 --region eu-west-1\n"
        "echo 'GET http://<alb-hostname>/' | vegeta attack -rate=100 | vegeta report\n```\n\n"
        "`kubectl get hpa ui -w` and `kubectl get nodes -n shop` and `kubectl get deployment/nope -n shop`, "
        "`curl http://$HOST/`.\n"
    )
    problems = "\n".join(check_readme(root, "prestop", DEFAULT))
    assert "aws without --region us-west-2" in problems
    assert "placeholder <alb-hostname>" in problems
    assert "kubectl hpa without -n shop" in problems
    assert "HorizontalPodAutoscaler ui is not rendered" in problems
    assert "cluster-scoped nodes with a namespace" in problems
    assert "Deployment nope is not rendered" in problems
    assert "$HOST is used before any command sets it" in problems
    assert "does not target http://$ALB/" in problems


def test_readme_set_up_commands_install_into_a_venv():
    """A stock Debian/Ubuntu/Homebrew Python refuses a bare `pip install` (PEP 668)."""
    readme = (REPO / "README.md").read_text()
    set_up = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    blocks = FENCE.findall(set_up)
    assert len(blocks) == 2
    for block in blocks:
        for cmd in (c for line in block.splitlines() for c in parse(line)[0]):
            if cmd.argv[0].endswith("pip") or cmd.argv[:3] == ("python3", "-m", "pip"):
                assert cmd.argv[0].startswith(".venv"), f"pip outside a venv: {cmd.line}"
            if cmd.argv[0].endswith("shopgen"):
                assert cmd.argv[0] == ".venv/bin/shopgen", f"shopgen not from the venv: {cmd.line}"
    ci_command = (REPO / ".ci/run").read_text().strip().splitlines()[-1]
    assert blocks[1].strip() == ci_command


# ----------------------------------------------------------------------------- no SPEC citations

CITATION = re.compile(r"SPEC §|SPEC\.md")


def _cited(texts: dict[str, str]) -> list[str]:
    return [
        f"{name}: {line.strip()}" for name, text in texts.items() for line in text.splitlines() if CITATION.search(line)
    ]


def test_no_rendered_file_cites_the_spec(rendered: Path, custom: Path):
    for root in (rendered, custom):
        texts = {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}
        assert _cited(texts) == []


def test_init_output_cites_no_spec(tmp_path: Path):
    result = run_cli("init", "--out", tmp_path)
    assert result.code == 0, result.err
    assert _cited({"shopgen.yaml": (tmp_path / "shopgen.yaml").read_text(), "stdout": result.out}) == []


def test_validate_findings_cite_no_spec(rendered: Path):
    result = run_cli("validate", "--all", "--crd-dir", CRD_DIR, "--out", rendered, "--format", "json")
    assert result.code == 0, result.out
    strings: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                strings.append(str(key))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        else:
            strings.append(str(node))

    walk(json.loads(result.out))  # JSON escapes "§": read the decoded strings
    assert any("readiness" in s for s in strings)
    assert _cited({"validate --all": "\n".join(strings), "stderr": result.err}) == []


def test_no_file_under_generator_cites_the_spec():
    tracked = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "generator"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    texts = {name: (REPO / name).read_text(errors="replace") for name in tracked if (REPO / name).is_file()}
    assert texts, "git ls-files found nothing under generator/"
    assert _cited(texts) == []


def test_readme_cites_no_spec():
    assert _cited({"README.md": (REPO / "README.md").read_text()}) == []
