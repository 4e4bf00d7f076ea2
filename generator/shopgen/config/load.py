"""Reading shopgen.yaml into a Config: defaults merged under the user's values, validated once, and every
error turned into one ConfigError line naming the field path and, when the file gives it, the line.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from shopgen import yamlio
from shopgen.config.consistency import FieldError
from shopgen.config.declaration import shorthand
from shopgen.config.models import Config
from shopgen.config.profiles import DEFAULT_PROFILE, load_profile
from shopgen.config.types import PATTERN_HELP, invisible_character, shown
from shopgen.errors import ConfigError, did_you_mean
from shopgen.workspace import CONFIG_FILENAME


@functools.cache
def defaults() -> Config:
    """The embedded defaults: the default profile's shop, every other setting at the course's value."""
    return parse({}, "embedded defaults")


def parse(data: Any, source: str, raw: Any = None, *, base: Path | None = None) -> Config:
    """Validate plain data into a Config; errors name the field path and, when known, the line.

    ``base`` is the folder the config file is in: the files ``extensions`` names are read from it.
    """
    cfg = _validated(data, source, raw)
    if cfg.extensions and base is not None:
        from shopgen.config.extensions import load_extensions

        cfg._loaded_extensions = load_extensions(cfg.extensions, base, source, raw, namespace=cfg.namespace)
    return cfg


def _validated(data: Any, source: str, raw: Any = None) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of settings, not {type(data).__name__}")
    _refuse_surrogates(data, source, raw, ())
    _refuse_renamed(data, source, raw)
    merged = _layered(data, source, raw)
    try:
        # JSON mode keeps strict typing (no "3" for 3, no 1 for True) while taking YAML lists as tuples.
        return Config.model_validate_json(json.dumps(merged))
    except FieldError as exc:
        raise ConfigError(_located(source, raw, exc.loc, exc.message)) from None
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, FieldError):
                lines.append(_located(source, raw, cause.loc, cause.message))
                continue
            loc = tuple(str(p) for p in error["loc"] if p != "[key]")  # a key's own error: at the key
            lines.append(_located(source, raw, loc, _message(error)))
        raise ConfigError("\n  ".join(lines)) from None  # one error line, then indented ones


def _refuse_surrogates(data: Any, source: str, raw: Any, loc: tuple[str, ...]) -> None:
    """A lone surrogate (YAML "\\uD800") is no character: JSON, UTF-8 and the config hash cannot carry it.

    Checked before parse's JSON round trip, which would otherwise fail as "<root>: Invalid JSON".
    """
    if isinstance(data, str):
        if _SURROGATE.search(data):
            raise ConfigError(_located(source, raw, loc, f"{shown(data)} contains {invisible_character(data)}"))
    elif isinstance(data, dict):
        for key, value in data.items():
            if _SURROGATE.search(key):
                raise ConfigError(_located(source, raw, (*loc, key), f"the key contains {invisible_character(key)}"))
            _refuse_surrogates(value, source, raw, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            _refuse_surrogates(value, source, raw, (*loc, str(index)))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _layered(data: dict[str, Any], source: str, raw: Any) -> dict[str, Any]:
    """The profile's layer with the user's settings over it; ``services.<name>: null`` (or a store's
    key set to null, or a call) removes what the profile declares."""
    app = data.get("app")
    name = app.get("profile", DEFAULT_PROFILE) if isinstance(app, dict) else DEFAULT_PROFILE
    if not isinstance(name, str):
        raise ConfigError(_located(source, raw, ("app", "profile"), f"{shown(str(name))} is not a profile name"))
    try:
        layer = load_profile(name).layer
    except ConfigError as exc:
        raise ConfigError(_located(source, raw, ("app", "profile"), str(exc).removeprefix("app.profile: "))) from None
    merged = _merge(_short(copy.deepcopy(layer)), _short(copy.deepcopy(data)))  # the profile is cached: copy it
    services = merged.get("services")
    if isinstance(services, dict):
        merged["services"] = services = {k: v for k, v in services.items() if v is not None}
        for svc in services.values():
            for part in ("stores", "calls"):
                if isinstance(svc, dict) and isinstance(svc.get(part), dict):
                    svc[part] = {k: v for k, v in svc[part].items() if v is not None}
    return merged


def _short(data: dict[str, Any]) -> dict[str, Any]:
    services = data.get("services")
    if isinstance(services, dict):
        data["services"] = {name: shorthand(svc) for name, svc in services.items()}
    return data


# Keys an earlier shopgen read, and where their value lives now: (path with * for any name, new path).
RENAMED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("app", "image_tag"), "services.<name>.image.tag (app.profile selects a release)"),
    (("app", "image_registry"), "services.<name>.image.repository"),
    (("autoscaling", "hpa", "target"), "autoscaling.hpa.targets (a list of services)"),
    (("services", "*", "startup", "start_seconds"), "services.{1}.runtime.start_seconds"),
    (("services", "*", "shutdown_seconds"), "services.{1}.runtime.shutdown_seconds"),
)


def _refuse_renamed(data: dict[str, Any], source: str, raw: Any) -> None:
    """A key that was renamed fails with its new name, never as a bare "unknown setting"."""
    for pattern, new in RENAMED:
        for loc in _matches(data, pattern, ()):
            raise ConfigError(_located(source, raw, loc, f"renamed to {new.format(*loc)}"))
    stores = data.get("stores")
    if isinstance(stores, dict):
        for key in stores:
            if isinstance(key, str) and "_" in key and key not in ("storage_class", "storage_size"):
                raise ConfigError(_located(source, raw, ("stores", key), f"renamed to stores.{key.replace('_', '-')}"))


def _matches(data: Any, pattern: tuple[str, ...], loc: tuple[str, ...]) -> list[tuple[str, ...]]:
    if not pattern:
        return [loc]
    if not isinstance(data, dict):
        return []
    keys = [k for k in data if isinstance(k, str)] if pattern[0] == "*" else [pattern[0]] if pattern[0] in data else []
    return [m for k in keys for m in _matches(data[k], pattern[1:], (*loc, k))]


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The defaults with the user's values laid over them; mappings merge, everything else replaces."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


# Errors about the kind or range of a value: the message says what was expected, "(got …)" what was given.
_ECHOED = frozenset(
    {
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "finite_number",
        "string_type",
        "bool_type",
        "bool_parsing",
        "dict_type",
        "list_type",
        "tuple_type",
        "set_type",
        "model_type",
        "model_attributes_type",
        "literal_error",
        "enum",
        "none_required",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
        "string_too_short",
        "string_too_long",
        "too_short",
        "too_long",
    }
)


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        loc = tuple(str(p) for p in error["loc"])
        model = _model_at(loc[:-1]) if loc else None
        hint = did_you_mean(loc[-1], model.model_fields) if model is not None else ""
        if hint:  # the closest key at that level
            return f"unknown setting{hint}"
        return "unknown setting (check the spelling; `shopgen init` lists every setting)"
    if kind == "missing":
        return "required setting is missing"
    if kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        value = error.get("input")
        text = f"{shown(value)} {PATTERN_HELP.get(pattern, 'has the wrong form (pattern ' + pattern + ')')}"
        found = invisible_character(value) if isinstance(value, str) else None
        # e.g. NEL (U+0085) or U+2028, which a \S pattern refuses as whitespace: say which character it is.
        return f"{text}; it contains {found}" if found else text
    msg = str(error["msg"])
    if kind in _ECHOED and "input" in error:
        return f"{msg} (got {_given(error['input'])})"
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _given(value: Any) -> str:
    """The value the user wrote, as YAML spells its scalars, escaped and kept short by shown()."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return shown(value)  # strings, numbers, lists, mappings: repr() escapes every string in them


def _model_at(loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The model whose fields sit at ``loc`` (keys from the top of Config), or None when none does.

    ``services.<name>`` leads to ServiceDecl (a mapping's key is any name), ``stores.<name>`` to a store's
    override (the extra keys Stores allows), and a list's index to its items' type.
    """
    kind: Any = Config
    for part in loc:
        kind = _unwrapped(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(part)
            if field is not None:
                kind = field.annotation
            elif kind.model_config.get("extra") == "allow":
                kind = _extra_type(kind)
            else:
                return None
        elif typing.get_origin(kind) is dict:
            kind = typing.get_args(kind)[1]
        elif typing.get_origin(kind) in (tuple, list):
            kind = typing.get_args(kind)[0]
        else:
            return None
    kind = _unwrapped(kind)
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def _unwrapped(kind: Any) -> Any:
    """``Annotated[X, …]`` and ``X | None`` as X."""
    while True:
        origin = typing.get_origin(kind)
        if origin is typing.Annotated:
            kind = typing.get_args(kind)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(kind) if a is not type(None)]
            if len(members) != 1:
                return kind
            kind = members[0]
        else:
            return kind


def _extra_type(model: type[BaseModel]) -> Any:
    try:
        extra = typing.get_type_hints(model).get("__pydantic_extra__")
    except (NameError, TypeError):
        return None
    args = typing.get_args(extra)
    return args[1] if len(args) == 2 else None


def _located(source: str, raw: Any, loc: tuple[str, ...], message: str) -> str:
    # A key is shown escaped when it holds what a terminal would obey (ESC, bidi overrides, surrogates).
    path = ".".join(part if part.isprintable() else shown(part) for part in loc) or "<root>"
    # List indexes are ASCII digits; a key like "²" is a key (str.isdigit() is True for it, int() refuses it).
    parts = tuple(int(p) if p.isascii() and p.isdigit() else p for p in loc)
    line = yamlio.line_of(raw, parts) if raw is not None else None
    where = f"{source}:{line}" if line else source
    return f"{where}: {path}: {message}"


def load_config(path: Path | None, *, out_root: Path) -> tuple[Config, str]:
    """Load ``path`` (or ``<out_root>/shopgen.yaml`` when present, else the defaults).

    Returns the config and a description of where it came from.
    """
    if path is None:
        candidate = out_root / CONFIG_FILENAME
        if not candidate.exists():
            return defaults(), "embedded defaults"
        path = candidate
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file")
    raw = yamlio.load_file(path)
    if raw is None:
        raise ConfigError(f"{path}: no settings (an empty file); write {{}} in it for the embedded defaults")
    data = yamlio.to_plain(raw, str(path))
    return parse(data, str(path), raw, base=path.parent), str(path)
