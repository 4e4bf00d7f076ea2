"""What the simulation reads: a stage's objects (from files on disk or from a tree's texts), and the
facts no manifest holds (runtime kind, start-up and shutdown seconds, the managed node group)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shopgen import yamlio
from shopgen.config import Config
from shopgen.simulate.engine import NodeGroup
from shopgen.simulate.workload import RuntimeFacts


def runtime_facts(cfg: Config) -> dict[str, RuntimeFacts]:
    """Start-up and shutdown seconds and runtime kind of every declared service, by workload name."""
    from shopgen.story.shop import resolve

    return {
        s.name: RuntimeFacts(runtime=s.runtime, start_seconds=s.start_seconds, shutdown_seconds=s.shutdown_seconds)
        for s in resolve(cfg).services
    }


def node_group(cfg: Config) -> NodeGroup:
    group = cfg.platform.node_group
    return NodeGroup(instance_type=group.instance_types[0], count=group.desired_size)


def _is_manifest_file(rel: str, stage: str) -> bool:
    return (
        rel.startswith(f"environments/{stage}/") and rel.endswith(".yaml") and not rel.endswith("/kustomization.yaml")
    )


def disk_manifests(root: Path, stage: str) -> list[dict[str, Any]]:
    """The objects of a stage folder on disk, read bounded (rendered files may be anyone's)."""
    return [doc for _, doc in yamlio.load_manifest_folder(root, f"environments/{stage}")]


def tree_manifests(files: Mapping[str, str], stage: str) -> list[dict[str, Any]]:
    """The objects of a stage in a tree held as texts by path (a render, or a commit read with git)."""
    found: list[dict[str, Any]] = []
    for rel in sorted(files):
        if _is_manifest_file(rel, stage):
            found += yamlio.load_manifests_fast(files[rel], rel)
    return found
