"""The one exception family core code raises; only the CLI turns these into exit codes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``"; did you mean X?"`` naming the choice closest to ``word``, or "" when none is close.

    Only a choice is ever shown, never ``word`` itself: the choices are shopgen's own names.
    """
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"; did you mean {close[0]}?" if close else ""


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
