"""Command line: parse options, make one call into the core, turn the outcome into an exit code.

Exit codes: 0 success, 1 a check found differences or findings, 2 usage/config/input errors,
3 a bug in shopgen, 130 interrupted.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shopgen.commands.outcome import Outcome
from shopgen.errors import ShopgenError
from shopgen.render.node import finish_background_start, start_jsii_in_background

if TYPE_CHECKING:
    from shopgen.workspace import Root

EXIT_DIFFERENT = 1
EXIT_BUG = 3


class Context:
    def __init__(self, debug: bool) -> None:
        self.debug = debug


def profile_choices() -> tuple[str, ...]:
    from shopgen import profiles

    return profiles.names()


def _err(message: str, color: bool | None = None) -> None:
    click.echo(message, err=True, color=color)


def _finish(outcome: Outcome, color: bool | None = None) -> None:
    """Print what the command returned (the root it used first on stderr) and exit with its status.

    ``color`` None: click keeps styles on a terminal and drops them elsewhere; False: always plain.
    """
    if outcome.out:
        click.echo(outcome.out, nl=not outcome.out.endswith("\n"), color=color)
    for root in _ROOT:
        _err(root.describe())
    for line in outcome.err:
        _err(line, color)
    if outcome.code:
        sys.exit(outcome.code)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}, invoke_without_command=True
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="shopgen")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Render the shop-on-EKS surge story as a GitOps repository, one stage per folder."""
    ctx.obj = Context(debug)
    if ctx.invoked_subcommand is None:  # `shopgen` alone: the help, and success
        click.echo(ctx.get_help())
        ctx.exit(0)


STAGE_HELP = "Stage to render (repeatable); default: all six."


def complete_stage(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of a stage name: the registry's stages that start with what is typed."""
    from shopgen.story.stages import stage_names

    return [name for name in stage_names() if name.startswith(incomplete)]


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
# The root the running command uses: said first on stderr when it finishes, or under its error.
_ROOT: list[Root] = []


def _announce_root(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """Resolve the output root once, remember it for the closing lines, and hand the command its path."""
    from shopgen.workspace import find_root

    if ctx.resilient_parsing:  # tab completion: no git call, nothing remembered
        return value  # type: ignore[return-value]

    root = find_root(value)
    _ROOT[:] = [root]
    return root.path


def _verbosity(quiet: bool, verbose: bool) -> int:
    """-1 with -q, 1 with -v, else 0; both at once is a usage error."""
    if quiet and verbose:
        raise click.UsageError("give -q/--quiet or -v/--verbose, not both")
    return -1 if quiet else int(verbose)


def _color(flag: bool | None) -> bool | None:
    """--color/--no-color when given, else plain under a non-empty NO_COLOR (no-color.org), else click's choice."""
    if flag is not None:
        return flag
    return False if os.environ.get("NO_COLOR") else None


def quiet_option(text: str) -> Any:
    return click.option("-q", "--quiet", is_flag=True, help=text)


def verbose_option(text: str) -> Any:
    return click.option("-v", "--verbose", is_flag=True, help=text)


color_option = click.option(
    "--color/--no-color",
    default=None,
    help="Colour the output (default: on a terminal, unless NO_COLOR is set).",
)

out_option = click.option(
    "--out",
    type=NonEmptyPath(path_type=Path),
    callback=_announce_root,
    help="Output root (default: the folder of the nearest shopgen.yaml up to the git top level, else the git "
    "top level, else the current folder).",
)


def _init_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """`init` starts a root where it runs (or at --out): the new shopgen.yaml makes that folder the root."""
    from shopgen.workspace import Root, find_root

    root = find_root(value) if value is not None else Root(Path.cwd().resolve(), "current folder")
    _ROOT[:] = [root]
    return root.path


@cli.command()
@click.option("--stage", "stages", multiple=True, help=STAGE_HELP, shell_complete=complete_stage)
@out_option
@config_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing what differs from a fresh render.")
@click.option("--force", is_flag=True, help="Replace hand-edited generated files (named on stderr).")
@click.option(
    "--crd-dir",
    type=click.Path(path_type=Path),
    help="Validate the render (schemas, CRDs + CEL) before writing; default $SHOPGEN_CRD_DIR.",
)
@quiet_option("Print only errors (with --check, also the verdict line).")
@verbose_option("A summary line per stage even when nothing changes.")
@color_option
def synth(
    stages: tuple[str, ...],
    out: Path | None,
    config_path: Path | None,
    check: bool,
    force: bool,
    crd_dir: Path | None,
    quiet: bool,
    verbose: bool,
    color: bool | None,
) -> None:
    """Render stages (plus the active stage and shared trees) into the output root.

    One line when nothing changes, a line per stage when something does (-v: always); -q: errors only.
    """
    from shopgen.commands import synth as command

    verbosity = _verbosity(quiet, verbose)
    _finish(
        command.run(
            out=out,
            config_path=config_path,
            stages=stages,
            check=check,
            force=force,
            crd_dir=crd_dir,
            before_render=start_jsii_in_background,
            verbosity=verbosity,
        ),
        _color(color),
    )


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@out_option
@config_option
def stages(fmt: str, out: Path | None, config_path: Path | None) -> None:
    """List the six stages of the story, in order, as they read for the shop in the config."""
    from shopgen.commands import stages as command
    from shopgen.config import load_config
    from shopgen.workspace import output_root

    root = output_root(out)
    cfg, _ = load_config(config_path, out_root=root)
    _finish(command.run(fmt=fmt, cfg=cfg, root=root))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@out_option
@config_option
def status(fmt: str, out: Path | None, config_path: Path | None) -> None:
    """Where the root stands: config, profile, active stage, freshness, hand edits, last promotion. Writes nothing."""
    from shopgen.commands import status as command

    _finish(command.run(fmt=fmt, out=out, config_path=config_path, before_render=start_jsii_in_background))


@cli.command()
@click.option(
    "--out",
    type=NonEmptyPath(path_type=Path),
    callback=_init_folder,
    help="Folder of the new root (default: the current folder).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing shopgen.yaml (and the repository's CI files).")
@click.option(
    "--profile",
    type=click.Choice(profile_choices()),
    help="Release profile to start from (default: retail-0.7.1); blank starts a shop of your own.",
)
def init(out: Path | None, force: bool, profile: str | None) -> None:
    """Write a commented shopgen.yaml holding every default of a profile, to see and change them."""
    from shopgen.commands import init as command

    _finish(command.run(out=out, force=force, profile=profile))


@cli.command()
@click.option("--stage", "stages", multiple=True, help="Stage to validate (repeatable).", shell_complete=complete_stage)
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
@quiet_option("Print only the verdict line.")
@verbose_option("List every finding, the expected ones with their reasons.")
@color_option
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
    quiet: bool,
    verbose: bool,
    color: bool | None,
    out: Path | None,
    config_path: Path | None,
) -> None:
    """Schemas as strict as the API server, CRD CEL rules, scenario policies. Exit 1 on findings.

    Text: the unexpected findings (one line per rule and tree), a line per tree, the verdict;
    -v lists every finding, the expected ones with their reasons; -q prints the verdict only.
    """
    verbosity = _verbosity(quiet, verbose)
    if fresh:
        start_jsii_in_background()
    from shopgen.commands import validate as command

    _finish(
        command.run(
            out=out,
            config_path=config_path,
            stages=stages,
            all_stages=all_stages,
            k8s_version=k8s_version,
            crd_dir=crd_dir,
            fresh=fresh,
            fmt=fmt,
            fail_on=fail_on,
            verbosity=verbosity,
        ),
        _color(color),
    )


SCENARIOS = ["surge", "rollout", "both"]
SCENARIO_HELP = "surge: the load reaches a shop at rest; rollout: the exposed service rolls out under it."


@cli.command()
@click.option(
    "--stage",
    "stages",
    multiple=True,
    help="Stage (repeatable; default: the active one).",
    shell_complete=complete_stage,
)
@click.option("--all", "all_stages", is_flag=True, help="Every stage, in story order.")
@click.option("--scenario", type=click.Choice(SCENARIOS), default="both", show_default=True, help=SCENARIO_HELP)
@click.option("--rate", type=float, help="Requests per second (default: the course's 100).")
@click.option("--duration", type=float, help="Seconds of load per scenario (default: the course's 1000).")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same prediction.")
@click.option("--jobs", type=click.IntRange(min=1), help="Simulations run at once (default: one per CPU).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override an assumption (see --explain).")
@click.option("--explain", is_flag=True, help="Print every assumption, its value and its source, and stop.")
@click.option("--render", "fresh", is_flag=True, help="Simulate a fresh in-memory render instead of the files.")
@click.option("--plot", type=click.Path(file_okay=False, path_type=Path), help="Also write PNGs here (shopgen[plot]).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@out_option
@config_option
def simulate(
    stages: tuple[str, ...],
    all_stages: bool,
    scenario: str,
    rate: float | None,
    duration: float | None,
    seed: int,
    jobs: int | None,
    sets: tuple[str, ...],
    explain: bool,
    fresh: bool,
    plot: Path | None,
    fmt: str,
    out: Path | None,
    config_path: Path | None,
) -> None:
    """Predict each stage's 5xx under the surge and in a rollout, from the rendered objects.

    A discrete-event model of the ALB, pods, probes, HPA, Karpenter and termination; every constant
    is a named assumption (--explain lists them, --set overrides one). A prediction, not a measurement.
    """
    if fresh:
        start_jsii_in_background()
    from shopgen.commands import simulate as command

    _finish(
        command.run(
            out=out,
            config_path=config_path,
            stages=stages,
            all_stages=all_stages,
            scenario=scenario,
            sets=sets,
            rate=rate,
            duration=duration,
            seed=seed,
            jobs=jobs,
            explain=explain,
            fresh=fresh,
            plot=plot,
            fmt=fmt,
        )
    )


@cli.command()
@click.argument("stages", nargs=-1, shell_complete=complete_stage)
@click.option("--against", "ref", metavar="GIT_REF", help="Compare the working tree's render with the trees at REF.")
@click.option("--contract", is_flag=True, help="Check every consecutive pair of stages against its contract.")
@click.option(
    "--simulate", is_flag=True, help="With --against: add the active stage's predicted impact (shopgen simulate)."
)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@out_option
@config_option
def diff(
    stages: tuple[str, ...],
    ref: str | None,
    contract: bool,
    simulate: bool,
    fmt: str,
    out: Path | None,
    config_path: Path | None,
) -> None:
    """Semantic diff: `diff FROM TO`, `diff --against REF`, or `diff --contract`. Exit 1 when different."""
    from shopgen.commands import diff as command

    command.check_usage(stages, ref, contract, simulate)
    start_jsii_in_background()
    _finish(
        command.run(stages, ref=ref, contract=contract, fmt=fmt, out=out, config_path=config_path, simulate=simulate)
    )


@cli.command()
@click.argument("stage", shell_complete=complete_stage)
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
    from shopgen.commands import promote as command

    _finish(
        command.run(
            stage=stage,
            out=out,
            config_path=config_path,
            through=through,
            allow_rollback=allow_rollback,
            commit=not no_commit,
            message=message,
        )
    )


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
    _ROOT.clear()  # one command per call (the tests call main() many times in one process)
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
        for root in _ROOT:  # where it happened, as the error's indented detail
            _err(f"  {root.describe()}")
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
