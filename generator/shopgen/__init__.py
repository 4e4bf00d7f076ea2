"""shopgen: renders the shop-on-EKS surge story, one stage per folder, for Argo CD to sync."""

from shopgen.render import node as _node

_node.point_jsii_at_wheel_node()
