"""Desired states → cdk8s constructs → manifests → {relative path: text}. Pure: never touches disk.

Stages share most of their objects, so each distinct component (construct class + its frozen props)
is built and synthesized once per render and its manifests reused by every stage that holds it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from shopgen import yamlio
from shopgen.config import Config
from shopgen.errors import RenderError
from shopgen.story.deviations import Traits
from shopgen.story.shop import resolve
from shopgen.story.stages import all_stages, desired_states, get_stage
from shopgen.story.state import DesiredState

SYNTH_COMMAND = "shopgen synth"
HEADER = yamlio.GENERATED_HEADER.format(command=SYNTH_COMMAND)


@dataclass(frozen=True)
class Component:
    """One construct to build: which class, with which props, and the folder its files go to."""

    folder: str
    construct: str  # class name in shopgen.render.constructs (resolved lazily: importing cdk8s costs time)
    props: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Resource:
    """A rendered manifest and where it lives in its stage folder."""

    path: str  # relative to the stage folder, e.g. "ui/deployment-ui.yaml"
    manifest: dict[str, Any]


def components(state: DesiredState) -> Iterator[Component]:
    """The components of one stage, in a fixed order."""
    ns, part_of = state.namespace.name, state.part_of
    yield Component("namespace", "Namespace", (("namespace", state.namespace), ("part_of", part_of)))
    scoped = (("namespace", ns), ("part_of", part_of))
    for svc in state.services:
        yield Component(svc.name, "Microservice", (("service", svc), *scoped))
    for store in state.stores:
        yield Component(store.owner, "Datastore", (("store", store), *scoped))
    for secret in state.external_secrets:
        yield Component(secret.owner, "ExternalSecret", (("secret", secret), *scoped))
    yield Component(state.ingress.service, "AlbIngress", (("ingress", state.ingress), *scoped))
    for hpa in state.hpas:
        yield Component(hpa.target, "HorizontalAutoscaler", (("hpa", hpa), *scoped))
    for pdb in state.pdbs:
        yield Component(pdb.service, "DisruptionBudget", (("pdb", pdb), *scoped))
    if state.nodeclass is not None:
        yield Component("platform", "KarpenterNodeClass", (("nodeclass", state.nodeclass), ("part_of", part_of)))
    if state.nodepool is not None:
        yield Component("platform", "KarpenterNodePool", (("nodepool", state.nodepool), ("part_of", part_of)))
    if state.overprovisioning is not None:
        yield Component("overprovisioning", "Overprovisioning", (("spec", state.overprovisioning), *scoped))


def _construct_classes() -> dict[str, type]:
    from shopgen.render.constructs.argocd import ShopApplication, ShopProject
    from shopgen.render.constructs.autoscaling import DisruptionBudget, HorizontalAutoscaler
    from shopgen.render.constructs.datastore import Datastore
    from shopgen.render.constructs.ingress import AlbIngress
    from shopgen.render.constructs.karpenter import KarpenterNodeClass, KarpenterNodePool
    from shopgen.render.constructs.microservice import Microservice
    from shopgen.render.constructs.namespace import Namespace
    from shopgen.render.constructs.overprovisioning import Overprovisioning
    from shopgen.render.constructs.secrets import ExternalSecret

    classes = (
        DisruptionBudget,
        HorizontalAutoscaler,
        Datastore,
        AlbIngress,
        KarpenterNodeClass,
        KarpenterNodePool,
        Microservice,
        Namespace,
        Overprovisioning,
        ExternalSecret,
        ShopApplication,
        ShopProject,
    )
    return {cls.__name__: cls for cls in classes}


def synthesize(groups: dict[str, list[Component]], traits: Traits) -> dict[str, list[Resource]]:
    """Build every distinct component once, in one cdk8s chart; return each group's resources.

    A group is a stage (or the argocd/ tree); stages share most components, and components share
    objects (see ObjectRegistry). One chart means one jsii round trip to synthesize everything; the
    registry maps the chart's output back to each component's objects.
    """
    from shopgen.render.node import load_cdk8s, node_guard

    cdk8s = load_cdk8s()  # before any construct module imports it: a missing Node is a clear error
    with node_guard():  # every jsii round trip: a Node that dies is an error, never a silent exit
        from shopgen.render.constructs.base import ShopChart

        classes = _construct_classes()
        chart = ShopChart(cdk8s.App(), "shop", traits=traits)
        built_components: dict[Component, Any] = {}
        for group in groups.values():
            for component in group:
                if component not in built_components:
                    props = dict(component.props)
                    built_components[component] = classes[component.construct](
                        chart, f"c{len(built_components)}", **props
                    )
        manifests = [_plain(m) for m in chart.to_json()]
    created = chart.registry.created
    if [(m["kind"], m["metadata"]["name"]) for m in manifests] != created:
        raise RenderError("cdk8s returned its objects in another order than they were built (a shopgen bug)")
    built: dict[Component, list[Resource]] = {}
    for component, construct in built_components.items():
        folder = f"{component.folder}/" if component.folder else ""
        built[component] = [Resource(f"{folder}{_file_name(manifests[i])}", manifests[i]) for i in construct.outputs]
    return {name: [r for c in group for r in built[c]] for name, group in groups.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _file_name(manifest: dict[str, Any]) -> str:
    return f"{manifest['kind'].lower()}-{manifest['metadata']['name']}.yaml"


def manifest_text(manifest: dict[str, Any]) -> str:
    return HEADER + yamlio.dump(manifest)


def stage_files(
    stage: str, resources: Sequence[Resource], cfg: Config, texts: dict[int, str] | None = None
) -> dict[str, str]:
    """One stage folder: a file per resource, kustomization.yaml listing them, README.md.

    ``texts`` caches the YAML of manifests shared between stages (keyed by object identity).
    """
    root = f"environments/{stage}"
    files: dict[str, str] = {}
    texts = {} if texts is None else texts
    for res in resources:
        key = id(res.manifest)
        if key not in texts:
            texts[key] = manifest_text(res.manifest)
        if f"{root}/{res.path}" in files:
            raise RenderError(f"two resources render to {root}/{res.path}: rename one of them in shopgen.yaml")
        files[f"{root}/{res.path}"] = texts[key]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(r.path for r in resources),
    }
    files[f"{root}/kustomization.yaml"] = HEADER + yamlio.dump(kustomization)
    from shopgen.render.readme import stage_readme

    files[f"{root}/README.md"] = stage_readme(get_stage(stage), (r.manifest["kind"] for r in resources), cfg)
    return dict(sorted(files.items()))


GITATTRIBUTES = (
    "# Generated by shopgen (shopgen synth): rendered trees collapse in pull-request views;\n"
    "# the semantic diff comment (shopgen diff) carries the review. Every file shopgen writes keeps LF\n"
    "# line endings in every checkout (with core.autocrlf each would otherwise look edited by hand).\n"
    + "".join(
        f"{tree}/** linguist-generated=true eol=lf\n"
        for tree in ("environments", "argocd", "charts", "platform", "terraform")
    )
    + "docs/runbook.md linguist-generated=true eol=lf\n"
    + ".gitattributes eol=lf\n.shopgen/** eol=lf\n"
)


def argocd_components(cfg: Config, active: str, state: DesiredState, repo_prefix: str) -> list[Component]:
    """AppProject and Application `shop`, pointing at the active stage's folder."""
    common = (("repo_url", cfg.gitops.repo_url), ("namespace", cfg.namespace), ("part_of", state.part_of))
    path = f"{repo_prefix}environments/{active}"
    from shopgen.render.extensions import cluster_kinds

    extra = tuple(cluster_kinds(cfg.loaded_extensions()))  # cluster-scoped kinds the extensions add
    return [
        Component("", "ShopProject", (*common, ("extra_cluster_kinds", extra))),
        Component(
            "",
            "ShopApplication",
            (
                *common,
                ("target_revision", cfg.gitops.target_revision),
                ("path", path),
                ("hpa_targets", tuple(h.target for h in state.hpas)),
            ),
        ),
    ]


# The lock and temp files exist only while (or because) a run is in flight; the journal lives outside
# the work tree (journal.py), so a stray .shopgen/journal.json shows in `git status`.
STATE_GITIGNORE = "# Generated by shopgen (shopgen synth): run-time files, never committed.\nlock\n*.tmp\n"


def in_story_order(stages: Sequence[str]) -> list[str]:
    """The named stages, each once, in the order of the story."""
    named = set(stages)
    return [s.name for s in all_stages() if s.name in named]


def render_files(
    cfg: Config, stages: Sequence[str], active: str, *, repo_prefix: str = ""
) -> tuple[dict[str, str], dict[str, list[Resource]]]:
    """The files, plus each group's resources ({stage or "argocd": [Resource]})."""
    wanted = in_story_order(stages)
    states = desired_states(cfg, upto=in_story_order([*wanted, active])[-1])
    groups = {name: list(components(states[name])) for name in wanted}
    groups["argocd"] = argocd_components(cfg, active, states[active], repo_prefix)
    resources = with_extensions(cfg, synthesize(groups, Traits.of(resolve(cfg))), wanted)
    files: dict[str, str] = {".gitattributes": GITATTRIBUTES, ".shopgen/.gitignore": STATE_GITIGNORE}
    texts: dict[int, str] = {}
    for name in wanted:
        files.update(stage_files(name, resources[name], cfg, texts))
    resources["argocd"] = [Resource(f"argocd/{r.path}", r.manifest) for r in resources["argocd"]]
    for res in resources["argocd"]:
        files[res.path] = manifest_text(res.manifest)
    return files, resources


def stage_manifests(cfg: Config, stages: Sequence[str], *, extensions: bool = True) -> dict[str, list[Resource]]:
    """The manifests of the named stages, without their file texts (for diff and the contracts).

    ``extensions=False``: shopgen's own objects only, as the stage contracts judge them.
    """
    wanted = in_story_order(stages)
    states = desired_states(cfg, upto=wanted[-1])
    resources = synthesize({name: list(components(states[name])) for name in wanted}, Traits.of(resolve(cfg)))
    return with_extensions(cfg, resources, wanted) if extensions else resources


def with_extensions(
    cfg: Config, resources: dict[str, list[Resource]], stages: Sequence[str]
) -> dict[str, list[Resource]]:
    """Each stage's resources plus its extension resources, every patch applied (config error when one fails)."""
    loaded = cfg.loaded_extensions()
    if loaded is None:
        return resources
    from shopgen.render.extensions import extend_stage

    for stage in stages:
        pairs = extend_stage(stage, [(r.path, r.manifest) for r in resources[stage]], loaded)
        resources[stage] = [Resource(path, manifest) for path, manifest in pairs]
    return resources
