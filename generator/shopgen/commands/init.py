"""`shopgen init`: start a root — a commented shopgen.yaml holding every default of a release profile
(blank: a shop of one's own, from one example service) — and, in a git repository, the repository's
own files once: a CI workflow pinned to this shopgen's version and a pre-commit config with its hook.

The repository files are the user's from then on: never listed as generated, rewritten or pruned. At
the git top level an existing one is refused like an existing shopgen.yaml (exit 2 naming it; --force
overwrites); from a root in a subfolder they are written only where missing, so a second root never
touches the first one's CI.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from shopgen.commands.outcome import Outcome
from shopgen.config import CONFIG_FILENAME, DEFAULT_PROFILE
from shopgen.config.template import config_template
from shopgen.errors import ConfigError
from shopgen.gitops import git_toplevel
from shopgen.output.fileops import write_atomic
from shopgen.workspace import output_root

TEMPLATES = "templates/repository"
# Repository-level files (relative to the git top level) and the template each comes from.
REPOSITORY_FILES = {
    ".github/workflows/shopgen.yml": "workflow.yml.j2",
    ".pre-commit-config.yaml": "pre-commit-config.yaml.j2",
}


def shopgen_version() -> str:
    """The version that runs init: the workflow installs exactly this one."""
    return metadata.version("shopgen")


def repository_files(version: str) -> dict[str, str]:
    """{path relative to the git top level: text} of the files init writes once per repository."""
    from shopgen.render.platform.terraform import environment

    env = environment(TEMPLATES)
    return {path: env.get_template(name).render(version=version) for path, name in REPOSITORY_FILES.items()}


def run(*, out: Path | None, force: bool, profile: str | None = None) -> Outcome:
    root = output_root(out)
    config = root / CONFIG_FILENAME
    top = git_toplevel(root) if root.is_dir() else None
    writes: dict[Path, str] = {config: config_template(profile)}
    kept: list[Path] = []
    if top is not None:
        for rel, text in repository_files(shopgen_version()).items():
            path = top / rel
            if path.exists() and top != root:
                kept.append(path)  # a root in a subfolder never touches the repository's CI
            else:
                writes[path] = text
    existing = [path for path in writes if path.exists() or path.is_symlink()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise ConfigError(f"{names}: exists already (yours: shopgen never overwrites it); use --force to overwrite")
    for path, text in writes.items():
        write_atomic(path, text)
    lines = [f"create {config} (profile {profile or DEFAULT_PROFILE}): set gitops.repo_url, then `shopgen synth`"]
    lines += [f"create {path} (yours from now on)" for path in writes if path != config]
    lines += [f"kept {path} (yours)" for path in kept]
    return Outcome(err=lines)
