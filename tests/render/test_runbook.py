"""docs/runbook.md is rendered from the config: it names the configured namespace, cluster, region,
load balancer, exposed service and Secrets, lists the registry's stages, and its commands run as written
(shell syntax, shopgen commands and options the CLI has, `cd` from the git top level)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from shopgen import yamlio
from shopgen.cli import cli
from shopgen.config import parse
from shopgen.output.owned import SHARED_FILES, is_owned
from shopgen.render.readme import MARKDOWN_HEADER
from shopgen.render.runbook import RUNBOOK, render_runbook

from conftest import STAGES, git, run_cli

ACME = "namespace: acme\ncluster: {name: dev1, region: eu-west-1}\n"
FENCE = re.compile(r"^ *```(?:sh|bash|shell)\n(.*?)^ *```", re.S | re.M)
SEPARATORS = {"|", "||", "&&", ";", "&"}


def readme_shop() -> str:
    """The first YAML block of the README's "Your own shop" section (as tests/story/test_own_shop.py reads it)."""
    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Your own shop") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "the README's 'Your own shop' section has no YAML block"
    return match.group(1)


def config(text: str):
    return parse(yamlio.to_plain(yamlio.load_text(text, "test")), "test")


def synth(root: Path, text: str) -> str:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shopgen.yaml").write_text(text, encoding="utf-8")
    result = run_cli("synth", "--out", root)
    assert result.code == 0, result.err
    return (root / RUNBOOK).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("acme")
    synth(root, ACME)
    return root


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("own")
    synth(root, readme_shop())
    return root


def blocks(text: str) -> list[str]:
    """The shell code blocks, dedented (numbered list items indent theirs)."""
    out = []
    for block in FENCE.findall(text):
        lines = block.splitlines()
        indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        out.append("\n".join(line[indent:] for line in lines) + "\n")
    return out


def commands(text: str) -> list[list[str]]:
    """Every simple command of the code blocks (continuations joined, comments dropped), as argv."""
    found = []
    for block in blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            words: list[str] = []
            for token in [*lexer, ";"]:
                if token in SEPARATORS:
                    if words:
                        found.append(words)
                    words = []
                else:
                    words.append(token)
    return found


def shopgen_commands(text: str) -> list[list[str]]:
    return [argv for argv in commands(text) if argv[0] == "shopgen"]


def stage_table(text: str) -> list[str]:
    section = text.split("| stage | what you see under load | what to watch |", 1)[1].split("\n\n", 1)[0]
    return [m.group(1) for m in re.finditer(r"^\| `([^`]+)` \|", section, re.M)]


def cli_problems(argv: list[str]) -> list[str]:
    """What is wrong with ``shopgen ARGS`` for the real click app: unknown command, option, choice, argument."""
    name, args = argv[1], argv[2:]
    if name not in cli.commands:
        return [f"no command {name}: {shlex.join(argv)}"]
    params = cli.commands[name].params
    options = {o: p for p in params if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)}
    arguments = [p for p in params if isinstance(p, click.Argument)]
    problems: list[str] = []
    positionals: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("-"):
            flag, has_value, value = word.partition("=")
            option = options.get(flag)
            if option is None:
                problems.append(f"{name} has no option {flag}: {shlex.join(argv)}")
            elif not option.is_flag:
                if not has_value:
                    i += 1
                    value = args[i] if i < len(args) else ""
                if isinstance(option.type, click.Choice) and value not in option.type.choices:
                    problems.append(f"{flag} {value}: not one of {option.type.choices}")
        else:
            positionals.append(word)
        i += 1
    room = None if any(a.nargs == -1 for a in arguments) else sum(a.nargs for a in arguments)
    if room is not None and len(positionals) > room:
        problems.append(f"{name} takes {room} arguments, got {positionals}: {shlex.join(argv)}")
    if name in ("diff", "promote"):
        problems += [f"unknown stage {s}: {shlex.join(argv)}" for s in positionals if s not in STAGES]
    return problems


# --------------------------------------------------------------------------------- names from the config


def test_the_runbook_is_a_shared_file_shopgen_owns(acme: Path):
    assert RUNBOOK in SHARED_FILES and is_owned(RUNBOOK)
    assert RUNBOOK in (acme / ".shopgen/generated.json").read_text()
    assert f"{RUNBOOK} linguist-generated=true eol=lf" in (acme / ".gitattributes").read_text()


def test_it_starts_with_the_generated_marker_of_the_stage_readmes(acme: Path):
    text = (acme / RUNBOOK).read_text()
    readme = (acme / "environments" / STAGES[0] / "README.md").read_text()
    assert text.splitlines()[0] == readme.splitlines()[0] == MARKDOWN_HEADER


def test_it_names_the_configured_namespace_cluster_and_region(acme: Path):
    text = (acme / RUNBOOK).read_text()
    for wanted in (
        "namespace `acme`",
        "cluster `dev1`",
        "region\n`eu-west-1`",
        "load balancer `dev1-acme-ui`",
        "--names dev1-acme-ui",
        "get ingress ui",
        "NS=acme",
        "`KarpenterNodeRole-dev1`",
        "Values=dev1-vpc",
        "`dev1/acme/*`",
        "karpenter.sh/discovery: dev1",
        "--region eu-west-1",
    ):
        assert wanted in text, wanted
    for secret in ("catalog-db", "orders-db", "carts-dynamodb"):  # the retail profile's, configured by it
        assert f"create secret generic {secret} " in text
    for unwanted in ("part01", "us-west-2", "-n shop", "namespace `shop`"):
        assert unwanted not in text, unwanted


def test_a_shop_of_ones_own_names_its_service_and_secrets(own: Path):
    text = (own / RUNBOOK).read_text()
    for wanted in (
        "Profile `blank`",
        "--profile blank",
        "namespace `acme`",
        "exposed service `storefront`",
        "load balancer `part01-acme-storefront`",
        "get ingress storefront",
        "get hpa storefront -n acme",
        "deployment/storefront -n acme",
        "`billing-db` and `billing-stripe`",
        "create secret generic billing-db ",
        "create secret generic billing-stripe ",
    ):
        assert wanted in text, wanted
    for unwanted in ("-n shop", "catalog-db", "orders-db", "carts-dynamodb", "ingress ui", "deployment/ui"):
        assert unwanted not in text, unwanted


@pytest.mark.parametrize("shop", ["retail", "own"])
def test_secrets_provider_none_shows_the_secrets_to_create(shop: str):
    text = render_runbook(config((ACME if shop == "retail" else readme_shop()) + "secrets: {provider: none}\n"))
    lines = text.splitlines()
    if shop == "retail":
        expected = {
            "catalog-db": [
                "username=catalog",
                'password="$(openssl rand -hex 16)"',
                'root-password="$(openssl rand -hex 16)"',
            ],
            "orders-db": ["username=orders", 'password="$(openssl rand -hex 16)"'],
            "carts-dynamodb": [
                'aws-access-key-id="$(openssl rand -hex 10 | tr a-f A-F)"',
                'aws-secret-access-key="$(openssl rand -hex 16)"',
            ],
        }
    else:
        expected = {
            "billing-db": ["username=billing", 'password="$(openssl rand -hex 16)"'],
            "billing-stripe": ['api-key="$(openssl rand -hex 16)"'],
        }
    for secret, literals in expected.items():
        start = lines.index(f'kubectl -n "$NS" create secret generic {secret} \\')
        got = [line.strip().removeprefix("--from-literal=").removesuffix(" \\") for line in lines[start + 1 :]]
        assert got[: len(literals)] == literals, secret
    assert "External Secrets" not in text.split("## 3.", 1)[0].split("### Watch Argo CD", 1)[1]
    assert "get externalsecrets" not in text and "external-secrets`" not in text.split("| wave |", 1)[1][:400]


def test_the_stage_table_lists_the_registry_in_order(acme: Path, own: Path):
    for root in (acme, own):
        assert stage_table((root / RUNBOOK).read_text()) == list(STAGES)


# ------------------------------------------------------------------------------- commands run as written


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_every_code_block_is_valid_shell(acme: Path, own: Path):
    for root in (acme, own):
        for block in blocks((root / RUNBOOK).read_text()):
            proc = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True, check=False)
            assert proc.returncode == 0, f"{proc.stderr}\n{block}"


def test_every_shopgen_command_exists_with_its_options(acme: Path, own: Path):
    for root in (acme, own):
        found = shopgen_commands((root / RUNBOOK).read_text())
        assert {argv[1] for argv in found} >= {"init", "synth", "validate", "diff", "promote"}
        assert [p for argv in found for p in cli_problems(argv)] == []


def test_the_checker_catches_unknown_commands_and_options():
    assert cli_problems(["shopgen", "synthesize"]) == ["no command synthesize: shopgen synthesize"]
    assert cli_problems(["shopgen", "validate", "--everything"])
    assert cli_problems(["shopgen", "diff", "--format", "html"])
    assert cli_problems(["shopgen", "promote", "readiness", "alb"])
    assert cli_problems(["shopgen", "diff", "baseline", "readyness"])
    assert cli_problems(["shopgen", "validate", "--all", "--out", "x", "--format=json"]) == []


def test_the_install_step_names_no_version(acme: Path):
    text = (acme / RUNBOOK).read_text()
    installs = [argv for argv in commands(text) if argv[0] == "pip"]
    assert installs == [["pip", "install", "shopgen"]]
    assert ".github/workflows/shopgen.yml" in text
    assert not re.search(r"shopgen\s*(==|>=|~=|@)", text)


def test_the_promotion_commands_succeed_in_the_rendered_root(acme: Path):
    found = shopgen_commands((acme / RUNBOOK).read_text())
    diff = next(argv for argv in found if argv[1] == "diff")
    validate = next(argv for argv in found if argv[1] == "validate")
    assert diff[2:] == [STAGES[0], STAGES[1]] and validate[2:] == ["--all"]
    result = run_cli(*diff[1:], cwd=acme)
    assert result.code in (0, 1), result.err  # 1: the stages differ, which they do
    assert result.code == 1 and result.out
    result = run_cli(*validate[1:], cwd=acme)
    assert result.code == 0, result.out + result.err


def test_cd_goes_to_terraform_at_the_top_level(acme: Path):
    cds = [argv[1] for argv in commands((acme / RUNBOOK).read_text()) if argv[0] == "cd"]
    assert cds and set(cds) == {"terraform"}
    assert (acme / "terraform").is_dir()


def test_a_root_in_a_subfolder_names_paths_from_the_git_top_level(tmp_path: Path, git_env):
    top = tmp_path / "repo"
    root = top / "clusters" / "dev"
    root.mkdir(parents=True)
    git(top, "init", "-q", "-b", "main")
    (root / "shopgen.yaml").write_text(ACME, encoding="utf-8")
    result = run_cli("synth", "--out", "clusters/dev", cwd=top)
    assert result.code == 0, result.err
    assert not (top / RUNBOOK).exists()
    text = (root / RUNBOOK).read_text()
    cds = [argv[1] for argv in commands(text) if argv[0] == "cd"]
    assert cds and set(cds) == {"clusters/dev/terraform"}
    assert all((top / folder).is_dir() for folder in cds)
    found = shopgen_commands(text)
    assert found and all(shlex.join(argv).find("--out clusters/dev") > 0 for argv in found)
    assert [p for argv in found for p in cli_problems(argv)] == []
    assert "`clusters/dev/environments/<stage>/README.md`" in text
    # The promotion commands as written, from the top level
    diff = next(argv for argv in found if argv[1] == "diff")
    assert run_cli(*diff[1:], cwd=top).code in (0, 1)
    validate = next(argv for argv in found if argv[1] == "validate")
    check = run_cli(*validate[1:], cwd=top)
    assert check.code == 0, check.out + check.err
    # A fresh render equals what is on disk: synth --check from the top level
    fresh = run_cli("synth", "--check", "--out", "clusters/dev", cwd=top)
    assert fresh.code == 0, fresh.err


def test_synth_check_reports_a_hand_edited_runbook(tmp_path: Path):
    synth(tmp_path, ACME)
    runbook = tmp_path / RUNBOOK
    runbook.write_text(runbook.read_text() + "my notes\n")
    result = run_cli("synth", "--check", "--out", tmp_path)
    assert result.code == 1
    assert RUNBOOK in result.err
