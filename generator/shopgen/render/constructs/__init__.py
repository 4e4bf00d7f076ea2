"""cdk8s constructs, one per component of the shop; each builds plain ApiObjects.

Only ``cdk8s.ApiObject`` is used, never cdk8s-plus's high-level classes: their defaults (hashed names,
extra labels, probes, resources) would change what the manifests mean (TOOLCHAIN.md).
"""
