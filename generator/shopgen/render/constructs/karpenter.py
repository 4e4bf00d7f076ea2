"""Karpenter v1 NodePool and EC2NodeClass (the course's v1beta1 objects, translated)."""

from __future__ import annotations

from constructs import Construct

from shopgen.render.constructs.base import Component, api_object, standard_labels
from shopgen.story.state import NodeClass, NodePool

DISCOVERY_TAG = "karpenter.sh/discovery"


class KarpenterNodePool(Component):
    def __init__(self, scope: Construct, id: str, *, nodepool: NodePool, part_of: str) -> None:
        super().__init__(scope, id)
        requirements = [
            {"key": "kubernetes.io/arch", "operator": "In", "values": list(nodepool.architectures)},
            {
                "key": "karpenter.k8s.aws/instance-category",
                "operator": "In",
                "values": list(nodepool.instance_categories),
            },
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(nodepool.capacity_types)},
        ]
        api_object(
            self,
            api_version="karpenter.sh/v1",
            kind="NodePool",
            name=nodepool.name,
            namespace=None,
            labels=standard_labels(name=nodepool.name, component="nodepool", part_of=part_of),
            body={
                "spec": {
                    "template": {
                        "metadata": {"labels": {"intent": "apps"}},
                        "spec": {
                            "nodeClassRef": {
                                "group": "karpenter.k8s.aws",
                                "kind": "EC2NodeClass",
                                "name": nodepool.nodeclass,
                            },
                            "requirements": requirements,
                            "expireAfter": nodepool.expire_after,
                        },
                    },
                    "limits": {"cpu": str(nodepool.cpu_limit)},
                    "disruption": {
                        # v1's name for v1beta1's WhenUnderutilized.
                        "consolidationPolicy": "WhenEmptyOrUnderutilized",
                        "consolidateAfter": nodepool.consolidate_after,
                    },
                }
            },
        )


class KarpenterNodeClass(Component):
    def __init__(self, scope: Construct, id: str, *, nodeclass: NodeClass, part_of: str) -> None:
        super().__init__(scope, id)
        discovery = [{"tags": {DISCOVERY_TAG: nodeclass.discovery_tag}}]
        api_object(
            self,
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            name=nodeclass.name,
            namespace=None,
            labels=standard_labels(name=nodeclass.name, component="nodeclass", part_of=part_of),
            body={
                "spec": {
                    "amiSelectorTerms": [{"alias": nodeclass.ami_alias}],
                    "role": nodeclass.role,
                    "subnetSelectorTerms": discovery,
                    "securityGroupSelectorTerms": discovery,
                    # Moved here from the NodePool in v1.
                    "kubelet": {
                        "systemReserved": {
                            "cpu": nodeclass.system_reserved_cpu,
                            "memory": nodeclass.system_reserved_memory,
                        }
                    },
                    "tags": {"intent": "apps", "NodeType": "default"},
                }
            },
        )
