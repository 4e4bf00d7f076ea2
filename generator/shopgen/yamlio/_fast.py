"""yamlio's private fast emitter: the same bytes as ``dump_ruamel``, for the plain data shopgen emits.

Only ``yamlio.write.dump`` calls it; nothing outside yamlio imports it.

ruamel.yaml's pure-Python emitter is the largest cost of a render. Manifests are plain trees of
dicts, lists, strings, ints, bools and None in block style, whose layout is simple; the one hard
part — whether a string may be plain or must be quoted — is still decided by ruamel itself (with
yamlio's rule, ``needs_quotes``, for strings some YAML reader would misread), once per distinct
string. Anything outside that subset (floats, nested lists, multi-line or very long strings,
complex keys) raises ``Unsupported`` and the caller falls back to ruamel for the document.
Tests prove the two paths byte-identical on every rendered object and on generated data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_SCALAR = 1000  # far below ruamel's fold width (4096): no folding decisions to mirror
# YAML line breaks: a scalar holding one is laid out across lines, depending on its indentation.
LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")


class Unsupported(Exception):
    """The document holds something the fast path does not mirror exactly."""


def make_dump(scalar_as_value: Callable[[str], str], scalar_as_key: Callable[[str], str]) -> Callable[[Any], str]:
    """A dump function using the given (cached) ruamel-backed scalar renderers."""

    def value(v: Any) -> str:
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            if len(v) > MAX_SCALAR or not LINE_BREAKS.isdisjoint(v):
                raise Unsupported("long or multi-line string")
            text = scalar_as_value(v)
            if not LINE_BREAKS.isdisjoint(text):
                raise Unsupported("multi-line scalar")
            return text
        raise Unsupported(type(v).__name__)

    def key(k: Any) -> str:
        if not isinstance(k, str) or len(k) > 100 or not LINE_BREAKS.isdisjoint(k):
            raise Unsupported("key")
        text = scalar_as_key(k)
        if not LINE_BREAKS.isdisjoint(text) or text.startswith("?"):
            raise Unsupported("complex key")
        return text

    def mapping(d: dict[str, Any], indent: str, out: list[str], first_prefix: str | None = None) -> None:
        prefix = first_prefix
        for k, v in d.items():
            lead = prefix if prefix is not None else indent
            prefix = None
            if isinstance(v, dict):
                if v:
                    out.append(f"{lead}{key(k)}:\n")
                    mapping(v, indent + "  ", out)
                else:
                    out.append(f"{lead}{key(k)}: {{}}\n")
            elif isinstance(v, list):
                if v:
                    out.append(f"{lead}{key(k)}:\n")
                    sequence(v, indent, out)
                else:
                    out.append(f"{lead}{key(k)}: []\n")
            else:
                out.append(f"{lead}{key(k)}: {value(v)}\n")

    def sequence(items: list[Any], indent: str, out: list[str]) -> None:
        for item in items:
            if isinstance(item, dict):
                if not item:
                    out.append(f"{indent}- {{}}\n")
                else:
                    mapping(item, indent + "  ", out, first_prefix=f"{indent}- ")
            elif isinstance(item, list):
                raise Unsupported("nested list")
            else:
                out.append(f"{indent}- {value(item)}\n")

    def dump(doc: Any) -> str:
        if not isinstance(doc, dict) or not doc:
            raise Unsupported("top level")
        out: list[str] = []
        mapping(doc, "", out)
        return "".join(out)

    return dump
