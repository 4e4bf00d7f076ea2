"""Command line: parse options, make one call into the core, turn the outcome into an exit code.

Exit codes: 0 success, 1 a check found differences or findings, 2 usage/config/input errors,
3 a bug in shopgen, 130 interrupted.
"""

from __future__ import annotations

import atexit
import functools
import gc
import json
import sys
import traceback
from pathlib import Path

import click

from shopgen.errors import ShopgenError
from shopgen.node import finish_background_start, start_jsii_in_background

EXIT_DIFFERENT = 1
EXIT_BUG = 3


class Context:
    def __init__(self, debug: bool) -> None:
        self.debug = debug


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="shopgen")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Render the shop-on-EKS surge story as a GitOps repository, one stage per folder."""
    ctx.obj = Context(debug)


STAGE_HELP = "Stage to render (repeatable); default: all six."


class NonEmptyPath(click.Path):
    """A path option that refuses "" (which would silently mean the current folder)."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, str) and not value.strip():
            self.fail("must not be empty", param, ctx)
        return super().convert(value, param, ctx)


config_option = click.option(
    "--config",
    "config_path",
    type=NonEmptyPath(path_type=Path, dir_okay=True),
    help="Config file (default: shopgen.yaml in the output root, else the embedded defaults).",
)
out_option = click.option(
    "--out",
    type=NonEmptyPath(path_type=Path),
    help="Output root (default: the git top level, else the current folder).",
)


@cli.command()
@click.option("--stage", "stages", multiple=True, help=STAGE_HELP)
@out_option
@config_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing what differs from a fresh render.")
@click.option("--force", is_flag=True, help="Replace hand-edited generated files (named on stderr).")
@click.option(
    "--crd-dir",
    type=click.Path(path_type=Path),
    help="Validate the render (schemas, CRDs + CEL) before writing; default $SHOPGEN_CRD_DIR.",
)
def synth(
    stages: tuple[str, ...], out: Path | None, config_path: Path | None, check: bool, force: bool, crd_dir: Path | None
) -> None:
    """Render stages (plus the active stage and shared trees) into the output root."""
    from shopgen import fastpath
    from shopgen.workspace import output_root, repo_prefix

    root = output_root(out)
    if fastpath.enabled(force=force, crd_dir=crd_dir):
        unchanged = fastpath.try_unchanged(root, config_path, stages, repo_prefix(root), checked=check)
        if unchanged is not None:
            for line in unchanged:
                _err(line)
            return
    start_jsii_in_background()

    from shopgen.synth import check_differences, remember_unchanged, summary_lines
    from shopgen.synth import synth as run

    result = run(out=out, config_path=config_path, stages=stages, check=check, force=force, crd_dir=crd_dir)
    if result.completed:
        _err(result.completed)
    plan = result.plan
    for line in summary_lines(result):
        _err(line)
    if check:
        differences = check_differences(plan)
        if differences:
            _err(f"out of date: {len(differences)} difference(s) from a fresh render; run `shopgen synth`:")
            for line in differences:
                _err(f"  {line}")
            sys.exit(EXIT_DIFFERENT)
        remember_unchanged(result, config_path, stages)
        return
    for path in plan.forced:
        _err(f"replaced (--force): {path}")
    for path in plan.disowned:
        _err(f"left alone: {path}: listed in .shopgen/generated.json, but not a file shopgen renders here")
    if plan.stale_edits and force:
        _err("kept: edited by hand and no longer rendered (--force replaces, never deletes); delete if unwanted:")
        for path in plan.stale_edits:
            _err(f"  {path}")
        sys.exit(EXIT_DIFFERENT)
    if plan.conflicts and not force:
        _err("kept, not overwritten (edited by hand or not written by shopgen); rerun with --force to replace:")
        for path in plan.conflicts:
            _err(f"  {path}")
        sys.exit(EXIT_DIFFERENT)
    remember_unchanged(result, config_path, stages)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def stages(fmt: str) -> None:
    """List the six stages of the story, in order."""
    from shopgen.stages import STAGES

    if fmt == "json":
        data = [
            {
                "number": s.number,
                "name": s.name,
                "title": s.title,
                "story": s.story,
                "fix": s.fix,
                "why": s.why,
                "contract": {
                    "adds": list(s.contract.adds),
                    "changes": [{"kind": k, "path": p} for k, p in s.contract.changes],
                },
            }
            for s in STAGES
        ]
        click.echo(json.dumps(data, indent=2))
        return
    for s in STAGES:
        click.echo(f"{s.number}  {s.name:<17} {s.story}")


@cli.command()
@out_option
@click.option("--force", is_flag=True, help="Overwrite an existing shopgen.yaml.")
def init(out: Path | None, force: bool) -> None:
    """Write a commented shopgen.yaml holding every default, to see and change them."""
    from shopgen.config import CONFIG_FILENAME
    from shopgen.errors import ConfigError
    from shopgen.init import config_template
    from shopgen.workspace import output_root
    from shopgen.writer import write_atomic

    root = output_root(out)
    target = root / CONFIG_FILENAME
    if target.exists() and not force:
        raise ConfigError(f"{target}: exists already; use --force to overwrite it")
    write_atomic(target, config_template())
    _err(f"create {target}")


@cli.command()
@click.option("--stage", "stages", multiple=True, help="Stage to validate (repeatable).")
@click.option("--all", "all_stages", is_flag=True, help="Every stage (default: every stage rendered on disk).")
@click.option("--render", "fresh", is_flag=True, help="Validate a fresh in-memory render instead of the files.")
@click.option("--k8s-version", help="Kubernetes version of the schemas (default: cluster.kubernetes_version).")
@click.option(
    "--crd-dir",
    type=click.Path(path_type=Path),
    help="CRD files for custom resources (default $SHOPGEN_CRD_DIR; without: reported as not validated).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True)
@out_option
@config_option
def validate(
    stages: tuple[str, ...],
    all_stages: bool,
    fresh: bool,
    k8s_version: str | None,
    crd_dir: Path | None,
    fmt: str,
    fail_on: str,
    out: Path | None,
    config_path: Path | None,
) -> None:
    """Schemas as strict as the API server, CRD CEL rules, scenario policies. Exit 1 on findings."""
    if fresh:
        start_jsii_in_background()
    from shopgen.validatecmd import run_validate

    run = run_validate(
        out=out,
        config_path=config_path,
        stages=stages,
        all_stages=all_stages,
        k8s_version=k8s_version,
        crd_dir=crd_dir,
        fresh=fresh,
    )
    click.echo(run.to_json() if fmt == "json" else run.to_text(), nl=False)
    code = run.exit_code(fail_on)
    if code:
        sys.exit(code)


@cli.command()
@click.argument("stages", nargs=-1)
@click.option("--against", "ref", metavar="GIT_REF", help="Compare the working tree's render with the trees at REF.")
@click.option("--contract", is_flag=True, help="Check every consecutive pair of stages against its contract.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@out_option
@config_option
def diff(
    stages: tuple[str, ...], ref: str | None, contract: bool, fmt: str, out: Path | None, config_path: Path | None
) -> None:
    """Semantic diff: `diff FROM TO`, `diff --against REF`, or `diff --contract`. Exit 1 when different."""
    from shopgen import diffcmd
    from shopgen.errors import ConfigError

    modes = sum([bool(stages), ref is not None, contract])
    if modes != 1 or (stages and len(stages) != 2):
        raise ConfigError("give exactly one of: FROM TO (two stages), --against GIT_REF, --contract")
    start_jsii_in_background()
    if contract:
        violations = diffcmd.contract_violations(out=out, config_path=config_path)
        for violation in violations:
            _err(f"contract violation: {violation}")
        if violations:
            sys.exit(EXIT_DIFFERENT)
        _err("every stage stays within its contract")
        return
    if ref is not None:
        result = diffcmd.diff_against(ref, out=out, config_path=config_path, fmt=fmt)
    else:
        result = diffcmd.diff_stages(stages[0], stages[1], out=out, config_path=config_path, fmt=fmt)
    click.echo(result.text, nl=not result.text.endswith("\n"))
    if not result.equal:
        sys.exit(EXIT_DIFFERENT)


@cli.command()
@click.argument("stage")
@click.option("--through", is_flag=True, help="One commit per stage from the active stage to STAGE.")
@click.option("--allow-rollback", is_flag=True, help="Allow a stage before the active one.")
@click.option("--no-commit", is_flag=True, help="Render and update .shopgen/ and argocd/, but do not commit.")
@click.option("-m", "--message", help="Subject line of the commit (the body is always shopgen's).")
@out_option
@config_option
def promote(
    stage: str,
    through: bool,
    allow_rollback: bool,
    no_commit: bool,
    message: str | None,
    out: Path | None,
    config_path: Path | None,
) -> None:
    """Make STAGE the active stage: render it, point Argo CD at it, and commit only shopgen's paths."""
    start_jsii_in_background()
    from shopgen.promote import promote as run
    from shopgen.promote import promotion_summary

    promotion = run(
        stage=stage,
        out=out,
        config_path=config_path,
        through=through,
        allow_rollback=allow_rollback,
        commit=not no_commit,
        message=message,
    )
    if promotion.completed:
        _err(promotion.completed)
    if not promotion.steps:
        _err(f"{stage} is already the active stage; nothing to do")
    for line in promotion_summary(promotion.steps):
        _err(line)


@functools.cache
def _tune_gc_for_a_short_run() -> None:
    """A run lives for a second and builds large acyclic trees: collect cycles rarely (as mypy does),
    and not over every object once more at exit (freezing them cut the exit from ~70 to ~25 ms)."""
    gc.set_threshold(200_000, 30, 30)
    atexit.register(gc.freeze)


def main() -> None:
    # --debug is accepted anywhere (`shopgen synth --debug` as well as `shopgen --debug synth`).
    args = sys.argv[1:]
    debug = "--debug" in args
    if debug:
        args = ["--debug", *(a for a in args if a != "--debug")]
    _tune_gc_for_a_short_run()
    try:
        cli.main(args=args, standalone_mode=False)
    except click.exceptions.Abort:
        _err("interrupted")
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # `shopgen` alone: the help text, not an error
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        # Usage errors take the shape of every other error: one line, then indented detail.
        _err(f"shopgen: error: {exc.format_message()}")
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            _err(f"  see `{exc.ctx.command_path} --help`")
        sys.exit(exc.exit_code)
    except ShopgenError as exc:
        if debug:
            traceback.print_exc()
        _err(f"shopgen: error: {exc}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception:
        if debug:
            traceback.print_exc()
        else:
            exc_type, exc_value = sys.exc_info()[:2]
            _err(f"shopgen: internal error: {exc_type.__name__}: {exc_value} (rerun with --debug for a traceback)")
        sys.exit(EXIT_BUG)
    finally:
        finish_background_start()
