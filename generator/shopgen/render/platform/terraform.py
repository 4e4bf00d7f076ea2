"""The one Jinja2 environment for terraform/: templates kept in the package, rendered to HCL text.

StrictUndefined turns a missing context value into an error instead of an empty string (an empty
string would still be valid HCL, and wrong). Values reach the templates only through the filters
below, which quote and escape them as HCL, and ``attributes`` aligns ``=`` the way ``terraform fmt``
does, so the output passes ``terraform fmt -check`` whatever lengths the config gives the names.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import jinja2

from shopgen.errors import RenderError

TEMPLATE_FOLDER = "templates/terraform"
TEMPLATE_SUFFIX = ".tf.j2"


@functools.cache
def environment(folder: str = TEMPLATE_FOLDER) -> jinja2.Environment:
    """Built once per process and folder: loading and compiling templates costs more than rendering them.

    ``folder`` is a template folder of the package: terraform's by default, "templates" for the
    Markdown the renderer writes beside it (docs/runbook.md).
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("shopgen", folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # HCL and Markdown, not HTML: escaping is the job of the hcl filter
    )
    env.filters["hcl"] = hcl
    env.globals["attributes"] = attributes
    return env


def template_names() -> list[str]:
    """Every terraform template, sorted (the output order never depends on the file system)."""
    return sorted(n for n in environment().list_templates() if n.endswith(TEMPLATE_SUFFIX))


def render_terraform(
    context: Mapping[str, Any], *, folder: str = "terraform", exclude: Collection[str] = ()
) -> dict[str, str]:
    """Each ``<name>.tf.j2`` rendered with ``context`` into ``<folder>/<name>.tf``, except ``exclude``
    (``<name>.tf`` names of files the config leaves out, such as secrets.tf without External Secrets).
    """
    env = environment()
    files: dict[str, str] = {}
    for name in template_names():
        if name.removesuffix(".j2") in exclude:
            continue
        try:
            text = env.get_template(name).render(**context)
        except jinja2.UndefinedError as exc:
            raise RenderError(f"terraform template {name}: {exc.message} (a bug in shopgen's context)") from None
        files[f"{folder}/{name.removesuffix('.j2')}"] = text
    return files


def hcl(value: Any) -> str:
    """A Python value as an HCL literal: strings quoted and escaped, so config text never becomes code."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # JSON string escapes are HCL's; "${" and "%{" would start a template sequence in HCL.
        return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, Sequence):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    raise RenderError(f"no HCL literal for {type(value).__name__} {value!r}")


def attributes(pairs: Sequence[tuple[str, str]], indent: int, *, quote: bool = False) -> str:
    """``key = expression`` lines with the ``=`` aligned as ``terraform fmt`` aligns one group.

    Expressions are HCL already (use the ``hcl`` filter for values); keys that are not plain
    identifiers are quoted, as in ``"karpenter.sh/discovery" = ...``, and every key with ``quote``
    (object keys that are data, such as the JSON keys of a secret).
    """
    keys = [key if _is_identifier(key) and not quote else hcl(key) for key, _ in pairs]
    width = max((len(k) for k in keys), default=0)
    pad = " " * indent
    return "\n".join(f"{pad}{key.ljust(width)} = {expr}" for key, (_, expr) in zip(keys, pairs, strict=True))


def _is_identifier(key: str) -> bool:
    return bool(key) and (key[0].isalpha() or key[0] == "_") and all(c.isalnum() or c in "_-" for c in key)
