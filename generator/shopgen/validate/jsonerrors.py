"""Turns jsonschema errors into short problems with full field paths (shared by layers 1 and 2).

jsonschema reports an unknown field at the path of the object that holds it, with a message that
repeats the whole object; users need the path of the field itself and a one-line reason.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from shopgen.validate.findings import format_path

_MAX_VALUE = 60


@dataclass(frozen=True)
class SchemaProblem:
    """``code`` is ``unknown-field``, ``missing-field`` or ``invalid``."""

    code: str
    path: str
    message: str
    hint: str


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def short(value: Any) -> str:
    """A value as it appears in a message: scalars in full (trimmed), containers by type only."""
    if isinstance(value, dict | list):
        return f"an {json_type(value)}" if value else f"an empty {json_type(value)}"
    text = repr(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


def _got(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"got {short(value)}"
    return f"got {json_type(value)} {short(value)}"


def _schema_types(schema: Any) -> list[str]:
    """The plain types a schema (or each branch of its anyOf/oneOf) allows, or [] if not plain."""
    if not isinstance(schema, dict):
        return []
    types = schema.get("type")
    if isinstance(types, str):
        return [types]
    if isinstance(types, list):
        return [t for t in types if t != "null"]
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        found: list[str] = []
        for branch in branches:
            sub = _schema_types(branch)
            if not sub:
                return []
            found.extend(t for t in sub if t not in found)
        return found
    return []


def _unknown_fields(error: ValidationError) -> Iterator[SchemaProblem]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = list(schema.get("properties", {}))
    patterns = list(schema.get("patternProperties", {}))
    base = list(error.absolute_path)
    for key in instance:
        if key in known or any(re.search(p, str(key)) for p in patterns):
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        if close:
            hint = f"did you mean {close[0]!r}?"
        elif known:
            hint = "remove it; fields allowed here: " + ", ".join(sorted(known))
        else:
            hint = "remove it: this object allows no fields"
        yield SchemaProblem("unknown-field", format_path([*base, str(key)]), f"unknown field {key!r}", hint)


def problems(error: ValidationError) -> Iterator[SchemaProblem]:
    """One or more problems for one jsonschema error."""
    path = list(error.absolute_path)
    where = format_path(path)
    validator = error.validator
    if validator == "additionalProperties" and error.validator_value is False:
        yield from _unknown_fields(error)
        return
    if validator == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        for name in error.validator_value:
            if name not in instance and repr(name) in error.message:
                yield SchemaProblem(
                    "missing-field",
                    format_path([*path, name]),
                    f"required field {name!r} is missing",
                    f"set {name!r}",
                )
        return
    if validator == "type":
        expected = error.validator_value
        expected = [t for t in expected if t != "null"] if isinstance(expected, list) else [expected]
        expected_text = " or ".join(expected)
        message = f"expected {expected_text}, {_got(error.instance)}"
    elif validator in ("anyOf", "oneOf") and _schema_types(error.schema):
        allowed = " or ".join(_schema_types(error.schema))
        message = f"expected {allowed}, {_got(error.instance)}"
    elif validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value if v is not None)
        message = f"{short(error.instance)} is not one of {allowed}"
    elif validator == "pattern":
        message = f"{short(error.instance)} does not match the pattern {error.validator_value!r}"
    else:
        message = error.message
        if len(message) > 200:
            message = f"{validator} failed for {short(error.instance)} ({validator}: {error.validator_value!r})"
            message = message[:200]
    yield SchemaProblem("invalid", where, message, "")
