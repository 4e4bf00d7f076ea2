"""Read a rendered stage folder back as parsed manifests, keyed by (kind, name)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopgen import yamlio


def load_stage(root: Path, stage: str) -> dict[tuple[str, str], dict[str, Any]]:
    folder = root / "environments" / stage
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yamlio.load_manifests(path.read_text(), str(path)):
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in objects, f"{key} rendered twice in {stage}"
            objects[key] = doc
    return objects


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]
