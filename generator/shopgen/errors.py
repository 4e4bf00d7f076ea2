"""The one exception family core code raises; only the CLI turns these into exit codes."""


class ShopgenError(Exception):
    """An error with a message fit for a user: it names the thing, the place and the fix."""

    exit_code = 2


class ConfigError(ShopgenError):
    """The configuration file or a CLI option is invalid."""


class StageError(ShopgenError):
    """An unknown stage, or a stage that cannot be used here."""


class RenderError(ShopgenError):
    """Rendering produced something shopgen refuses to write."""


class WriteError(ShopgenError):
    """The output tree could not be written (permissions, disk, a path that is not ours)."""


class GitError(ShopgenError):
    """A git command failed or the repository is not in a state shopgen can work with."""


class ValidationFailed(ShopgenError):
    """Validation found problems; the findings have been reported already."""

    exit_code = 1


class Interrupted(ShopgenError):
    """A previous run was interrupted; `--check` reports it (exit 1) until a run completes it."""

    exit_code = 1


class RepositoryError(ShopgenError):
    """A file in the repository (state, journal, lock, rendered output) is not one shopgen will use."""
