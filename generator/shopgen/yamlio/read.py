"""Reading YAML: strict round-trip loading for config (tags, duplicates, alias bombs refused, lines kept)
and bounded safe loading for rendered manifests, which are repository content, not trusted input.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from shopgen import untrusted
from shopgen.errors import ConfigError, RepositoryError


class _Loader:
    """Safe loader that keeps line numbers (round-trip nodes) and refuses tags and duplicate keys."""

    def __init__(self) -> None:
        self.yaml = YAML(typ="rt")
        self.yaml.allow_duplicate_keys = False


def load_text(text: str, source: str) -> Any:
    """Parse one YAML document strictly: no tags, no duplicate keys; errors name file and line."""
    loader = _Loader()
    try:
        data = loader.yaml.load(text)
        _reject_tags(data, source, "", set())
    except DuplicateKeyError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None
    except MarkedYAMLError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None
    except YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a shopgen config") from None
    except ValueError as exc:  # a value the constructor cannot build, e.g. an integer of 5,000 digits
        raise ConfigError(f"{source}: invalid value: {_shorten(str(exc).split(';')[0])}") from None
    return data


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _describe(exc: MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = exc.problem or exc.context or "invalid YAML"
    if isinstance(exc, DuplicateKeyError):
        problem = problem.replace('found duplicate key "', 'duplicate key "').split(" with value")[0]
    return f"{where}{problem}"


def _reject_tags(node: Any, source: str, path: str, seen: set[int]) -> None:
    """Explicit tags (``!!python/object``, ``!Ref``, even ``!!str``) have no place in shopgen config.

    Visits each node once: an alias is the same object as its anchor, so an alias bomb costs its
    size on disk here, not its expansion (to_plain counts that).
    """
    if id(node) in seen:
        return
    seen.add(id(node))
    tag = getattr(node, "tag", None)
    tag_value = getattr(tag, "value", None)
    if tag_value:
        shown = tag_value.replace("tag:yaml.org,2002:", "!!")
        raise ConfigError(f"{source}: {path or '<root>'}: YAML tag {shown} is not allowed (plain values only)")
    if isinstance(node, Mapping):
        for key, value in node.items():
            _reject_tags(value, source, f"{path}.{key}" if path else str(key), seen)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _reject_tags(value, source, f"{path}[{i}]", seen)


def line_of(data: Any, path: tuple[str | int, ...]) -> int | None:
    """1-based line of the deepest existing key on ``path`` in round-trip data, if known."""
    node = data
    line: int | None = None
    for part in path:
        lc = getattr(node, "lc", None)
        if lc is None:
            break
        try:
            if isinstance(node, Mapping) and part in node:
                line = lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                line = lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line


MAX_NODES = 100_000  # far above any real config; stops alias bombs ("billion laughs") expanding


def to_plain(data: Any, source: str = "config") -> Any:
    """Round-trip data as plain Python values; refuses documents that expand past MAX_NODES.

    Only mappings, lists, strings, numbers, booleans and null: YAML's other implicit types (dates,
    sets, binary) would reach the config as objects, so they are refused with their path.
    """
    budget = [MAX_NODES]
    try:
        return _to_plain(data, source, budget, "")
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a shopgen config (a recursive alias?)") from None


def _to_plain(data: Any, source: str, budget: list[int], path: str) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigError(f"{source}: document expands to more than {MAX_NODES} values (YAML alias bomb?)")
    if isinstance(data, Mapping):
        return {str(k): _to_plain(v, source, budget, f"{path}.{k}" if path else str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [_to_plain(v, source, budget, f"{path}[{i}]") for i, v in enumerate(data)]
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, ScalarBoolean):  # an anchored true/false: an int subclass in round-trip mode
        return bool(data)
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, str):
        return str(data)
    shown, kind = _shorten(repr(data), 60), type(data).__name__.removeprefix("Commented").lower()
    raise ConfigError(
        f"{source}: {path or '<root>'}: {shown} is a YAML {kind}, not a plain value; quote it if you mean text"
    )


MAX_CONFIG_BYTES = 1 << 20  # the full config is ~10 KB; this stops /dev/zero and other endless inputs


def load_file(path: Path) -> Any:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes, not a shopgen config")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {_shorten(str(exc))}") from None
    return load_text(text, str(path))


def load_manifests(text: str, source: str) -> list[dict[str, Any]]:
    """All documents of a rendered manifest file as plain dicts (safe loader, no line info).

    Rendered files are repository content, not trusted input: depth and alias expansion are bounded.
    """
    yaml = YAML(typ="safe", pure=True)
    try:
        docs = [d for d in yaml.load_all(text) if d is not None]
    except YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    except RecursionError:
        raise RepositoryError(f"{source}: nested too deeply to be a manifest") from None
    except ValueError as exc:  # a value the constructor cannot build: 2020-02-30, an integer of 5,000 digits
        raise RepositoryError(f"{source}: invalid value: {_shorten(str(exc).split(';')[0])}") from None
    untrusted.check_shape(docs, source)
    return docs


def load_manifests_fast(text: str, source: str) -> list[dict[str, Any]]:
    """Like load_manifests, with PyYAML's C loader when present: reading is the bulk of validate's time."""
    import yaml as pyyaml

    loader = getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)
    try:
        docs = [d for d in pyyaml.load_all(text, Loader=loader) if d is not None]
    except pyyaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    except RecursionError:
        raise RepositoryError(f"{source}: nested too deeply to be a manifest") from None
    except ValueError as exc:  # a value the constructor cannot build: 2020-02-30, an integer of 5,000 digits
        raise RepositoryError(f"{source}: invalid value: {_shorten(str(exc).split(';')[0])}") from None
    untrusted.check_shape(docs, source)
    return docs


def load_manifest_folder(
    root: Path, folder: str, texts: dict[str, str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(path relative to ``root``, object) of every manifest file under ``root/folder`` (its
    kustomization.yaml aside), read bounded: a rendered tree on disk may hold anything. Each file's
    text is kept in ``texts`` by that relative path when given."""
    base = root / folder
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(base.rglob("*.yaml")) if base.is_dir() else []:
        if path.name == "kustomization.yaml":
            continue
        rel = path.relative_to(root).as_posix()
        text = untrusted.read_text(path, untrusted.MANIFEST_LIMIT) or ""
        if texts is not None:
            texts[rel] = text
        found += [(rel, doc) for doc in load_manifests_fast(text, rel)]
    return found
