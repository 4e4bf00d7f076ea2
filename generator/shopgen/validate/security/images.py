"""Image registries: which registry an image reference pulls from, the public ECR mirror of a Docker
official image, and the rule against Docker Hub's anonymous pull limit.
"""

from __future__ import annotations

from collections.abc import Iterator

from shopgen.story.facts import STORE_COMPONENTS
from shopgen.validate.manifests import Manifests, Pod, every_container
from shopgen.validate.rules import Hit, Rule, hit

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
PUBLIC_ECR_LIBRARY = "public.ecr.aws/docker/library"  # AWS's mirror of the Docker official images


def registry_host(image: str) -> str | None:
    """The registry host an image reference names, or None when it names none (the runtime pulls from Docker Hub).

    As the distribution reference grammar reads it: the first path component is a host only when it
    holds a '.' or a ':' or is ``localhost`` (``amazon/dynamodb-local`` is a Docker Hub repository).
    """
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def pulls_from_docker_hub(image: str) -> bool:
    """The image is pulled from Docker Hub: it names no registry host, or one of Docker Hub's."""
    host = registry_host(image)
    return host is None or host.lower() in DOCKER_HUB_HOSTS


def public_ecr_mirror(image: str) -> str | None:
    """The public ECR mirror of a Docker official image (``postgres:16.1``, ``docker.io/library/redis``), else None."""
    if not pulls_from_docker_hub(image):
        return None
    path = image.split("/", 1)[1] if registry_host(image) else image
    path = path.removeprefix("library/").split("@", 1)[0]  # a digest is the registry's: pin the mirror's anew
    return None if "/" in path else f"{PUBLIC_ECR_LIBRARY}/{path}"


def _store_setting(pod: Pod) -> str:
    """Where a store's image is set: its pods carry a store's component label."""
    if pod.labels.get("app.kubernetes.io/component") in STORE_COMPONENTS:
        return f"; in shopgen.yaml: stores.{pod.name}.image"
    return ""


def check_image_registry(idx: Manifests) -> Iterator[Hit]:
    """Docker Hub limits anonymous pulls per source address; every node behind one NAT gateway shares one."""
    for pod, parts, container in every_container(idx):
        image = container.get("image")
        if not isinstance(image, str) or not image or not pulls_from_docker_hub(image):
            continue
        mirror = public_ecr_mirror(image)
        where = (
            f"use its public ECR mirror {mirror}"
            if mirror
            else f"pull it from a registry without anonymous pull limits: its publisher's public ECR repository, "
            f"a pull-through cache or a registry of your own (Docker official images are mirrored at "
            f"{PUBLIC_ECR_LIBRARY}/<name>:<tag>)"
        )
        yield hit(
            pod.manifest,
            (*parts, "image"),
            f"container {container.get('name')} pulls {image} from Docker Hub, which limits anonymous pulls per "
            "source address: nodes behind one NAT gateway share one limit, and a scale-out can hit it",
            where + _store_setting(pod),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "security.image-registry-rate-limit",
        "warning",
        "every container image names a registry other than Docker Hub (no registry host, as in postgres:16.1, "
        "means Docker Hub; so does docker.io)",
        "pods stuck in ImagePullBackOff during a scale-out: Docker Hub limits anonymous pulls per source address, "
        "and a whole cluster behind one NAT gateway shares one",
        check_image_registry,
    ),
)
