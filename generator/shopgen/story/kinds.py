"""Kubernetes facts about kinds: the built-in kinds that are cluster-scoped, with their API groups.

An object of such a kind has no namespace, and Argo CD syncs it only when the AppProject's
``clusterResourceWhitelist`` names its group and kind. The render derives the whitelist entries of
the kinds an extension adds from this table; for a kind it does not list (a custom resource),
`shopgen validate` reads the scope from the kind's CRD.
"""

from __future__ import annotations

# (group, kind) of every built-in cluster-scoped kind a GitOps repository plausibly holds
# (`kubectl api-resources --namespaced=false` on Kubernetes 1.35, without the read-only review kinds).
BUILTIN_CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("node.k8s.io", "RuntimeClass"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "ResourceSlice"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
    }
)


def api_group(api_version: object) -> str:
    """The group of an apiVersion: "" for the core group ("v1"), "apps" for "apps/v1"."""
    text = api_version if isinstance(api_version, str) else ""
    return text.rsplit("/", 1)[0] if "/" in text else ""


def builtin_cluster_scoped(api_version: object, kind: object) -> bool:
    """True when ``kind`` in the group of ``api_version`` is a built-in cluster-scoped kind."""
    return (api_group(api_version), kind) in BUILTIN_CLUSTER_SCOPED
