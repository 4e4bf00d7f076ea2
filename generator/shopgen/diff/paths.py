"""Field paths (``containers[ui].readinessProbe``): the segments, their text form and its parser.

Lists of named things are addressed by name (``Named``), so a path survives reordering.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from shopgen.errors import ConfigError


@dataclass(frozen=True, order=True)
class Named:
    """A list item identified by its name (a container, an env var, an HPA metric's resource name)."""

    name: str


Segment = str | Named | int
Path = tuple[Segment, ...]
WILDCARD = "*"

_BARE_KEY = re.compile(r"[^.\[\]\"\\/\s]+")
_BARE_NAME = re.compile(r"[^\[\]\"\\\s]+")


def format_path(path: Sequence[Segment]) -> str:
    """``spec.template.spec.containers[ui].readinessProbe``; keys with ``.``, ``/`` or spaces are quoted."""
    out: list[str] = []
    for segment in path:
        if isinstance(segment, Named):
            name = segment.name
            plain = (
                _BARE_NAME.fullmatch(name) and not _is_index(name) and name != WILDCARD and not name.startswith("name=")
            )
            out.append(f"[{name}]" if plain else f"[name={json.dumps(name, ensure_ascii=False)}]")
        elif isinstance(segment, int):
            out.append(f"[{segment}]")
        elif segment == WILDCARD:
            out.append("[*]")  # any one segment; a key that is literally "*" reads back the same
        elif _BARE_KEY.fullmatch(segment):
            out.append(f".{segment}" if out else segment)
        else:
            out.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(out)


def parse_path(text: str) -> Path:
    """The inverse of format_path; also reads ``[*]`` / ``*`` as the wildcard used by changes_within."""
    segments: list[Segment] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "[":
            end, segment = _parse_bracket(text, i)
            segments.append(segment)
            i = end
            continue
        if char == ".":
            if not segments:
                raise _bad_path(text, i, "a path cannot start with '.'")
            i += 1
        elif segments:
            raise _bad_path(text, i, "expected '.' or '[' between segments")
        match = _BARE_KEY.match(text, i)
        if match is None:
            raise _bad_path(text, i, "expected a key (quote keys with '.', '/' or spaces: [\"a.b/c\"])")
        segments.append(match.group())
        i = match.end()
    return tuple(segments)


def _parse_bracket(text: str, start: int) -> tuple[int, Segment]:
    """One ``[...]`` segment starting at ``start``: index, wildcard, quoted key, or item name."""
    body_start = start + 1
    if text.startswith('"', body_start) or text.startswith('name="', body_start):
        named = text.startswith("name=", body_start)
        quote_at = body_start + (5 if named else 0)
        try:
            value, end = json.JSONDecoder().raw_decode(text, quote_at)
        except json.JSONDecodeError:
            raise _bad_path(text, quote_at, "unterminated quoted string") from None
        if not text.startswith("]", end):
            raise _bad_path(text, end, "expected ']' after the quoted string")
        return end + 1, Named(value) if named else value
    end = text.find("]", body_start)
    if end < 0:
        raise _bad_path(text, start, "missing ']'")
    body = text[body_start:end]
    if body == WILDCARD:
        return end + 1, WILDCARD
    if _is_index(body):
        return end + 1, int(body)
    if not _BARE_NAME.fullmatch(body):
        raise _bad_path(text, body_start, 'expected an index, "*", a name or a quoted key inside [...]')
    return end + 1, Named(body)


def _is_index(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _bad_path(text: str, at: int, problem: str) -> ConfigError:
    return ConfigError(f"invalid field path {text!r} at character {at + 1}: {problem}")
