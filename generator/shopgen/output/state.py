""".shopgen/state.json (the active stage) and .shopgen/generated.json (what shopgen wrote).

These two files are the only places shopgen remembers anything between runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from shopgen import untrusted
from shopgen.config import Config
from shopgen.errors import ConfigError
from shopgen.output.owned import is_owned
from shopgen.story.stages import stage_names

STATE_DIR = ".shopgen"
STATE_FILE = f"{STATE_DIR}/state.json"
GENERATED_FILE = f"{STATE_DIR}/generated.json"


def digest(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_hash(cfg: Config) -> str:
    """Hash of the effective config; the active stage and its seed are left out."""
    data = cfg.model_dump(mode="json")
    data["gitops"].pop("initial_stage", None)
    loaded = cfg.loaded_extensions()
    if loaded is None:
        data.pop("extensions", None)  # no extensions: the hash an older shopgen wrote for the same config
    else:
        data["extensions_digest"] = loaded.digest()  # the named files' bytes shape the render too
    return digest(json.dumps(data, sort_keys=True, separators=(",", ":")))


def _json_text(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def read_active_stage(root: Path, cfg: Config) -> str:
    """The active stage: state.json when it exists, else the config's gitops.initial_stage."""
    path = root / STATE_FILE
    text = untrusted.read_text(path, untrusted.STATE_LIMIT)
    if text is None:
        return cfg.gitops.initial_stage
    try:
        stage = json.loads(text)["active_stage"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ConfigError(f"{path}: not a shopgen state file ({exc}); fix or delete it") from None
    if not isinstance(stage, str) or stage not in stage_names():
        raise ConfigError(f"{path}: active_stage {stage!r} is not a stage; stages: {', '.join(stage_names())}")
    return stage


def state_text(active_stage: str) -> str:
    return _json_text({"active_stage": active_stage})


@dataclass(frozen=True)
class Generated:
    """generated.json: every file shopgen wrote, with the hash of the bytes it wrote."""

    config_hash: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return _json_text({"config_hash": self.config_hash, "files": dict(sorted(self.files.items()))})


def is_relative_path(rel: str) -> bool:
    """A clean path below the output root: not absolute, no ``..``, no NUL (a repository is untrusted input)."""
    return bool(rel) and not rel.startswith("/") and "\0" not in rel and ".." not in rel.split("/")


def read_generated(root: Path) -> Generated:
    path = root / GENERATED_FILE
    text = untrusted.read_text(path, untrusted.STATE_LIMIT)
    if text is None:
        return Generated()
    try:
        data = json.loads(text)
        files = {str(k): str(v) for k, v in data["files"].items()}
        generated = Generated(config_hash=str(data.get("config_hash", "")), files=files)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ConfigError(f"{path}: not a shopgen generated.json ({exc}); restore it from git") from None
    outside = next((rel for rel in files if not is_relative_path(rel)), None)
    if outside is not None:
        raise ConfigError(f"{path}: lists {outside!r}, outside the output root; restore it from git")
    return generated


def hand_edited(root: Path) -> list[str]:
    """Generated files whose bytes no longer match what shopgen wrote (a missing file is not an edit).

    Only paths shopgen renders count: anything else a generated.json lists is not shopgen's to judge.
    """
    edited = []
    for rel, recorded in sorted(read_generated(root).files.items()):
        if not is_owned(rel):
            continue
        data = untrusted.read_bytes(root / rel, untrusted.MANIFEST_LIMIT)
        if data is not None and digest(data) != recorded:
            edited.append(rel)
    return edited
