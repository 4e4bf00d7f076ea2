"""CEL for CRD validation rules: cel-python plus the Kubernetes library functions rules use.

cel-python implements core CEL; the API server adds libraries (strings, regex, lists). The subset
below covers every rule in the CRDs shopgen targets; a rule calling anything else is reported as
"not evaluated" (never passed), which the static check in ``compile`` finds before running it.
Each rule text is parsed once per ``CelEngine`` and reused for every object.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import celpy
import re2
from celpy import celtypes
from celpy.evaluation import CELEvalError, base_functions

_MACROS = frozenset({"has", "dyn", "all", "exists", "exists_one", "map", "filter", "min"})
_TRANSITION_VARIABLE = "oldSelf"


def _str(value: Any) -> celtypes.StringType:
    return celtypes.StringType(value)


def _find(text: str, pattern: str) -> celtypes.StringType:
    """Kubernetes regex library: the first match, or "" when nothing matches."""
    match = re2.search(pattern, text)
    return _str(match.group(0) if match else "")


def _find_all(text: str, pattern: str, limit: int = -1) -> celtypes.ListType:
    found = [_str(m.group(0)) for m in re2.finditer(pattern, text)]
    return celtypes.ListType(found if limit < 0 else found[:limit])


def _split(text: str, separator: str, limit: int = -1) -> celtypes.ListType:
    """cel-go strings ext: ``split(sep[, n])`` with Go's SplitN semantics."""
    if limit == 0:
        return celtypes.ListType([])
    if separator == "":
        parts = list(text)
        if 0 < limit < len(parts):
            parts = [*parts[: limit - 1], "".join(parts[limit - 1 :])]
    else:
        parts = text.split(separator, limit - 1 if limit > 0 else -1)
    return celtypes.ListType([_str(p) for p in parts])


def _index_of(container: Any, item: Any, offset: int = 0) -> celtypes.IntType:
    """Strings ext ``indexOf`` and the lists library's ``indexOf``: -1 when absent."""
    if isinstance(container, str):
        if offset < 0 or offset > len(container):
            raise ValueError("index out of range")
        return celtypes.IntType(container.find(item, offset))
    for index, element in enumerate(container):
        if element == item:
            return celtypes.IntType(index)
    return celtypes.IntType(-1)


def _last_index_of(container: Any, item: Any, offset: int | None = None) -> celtypes.IntType:
    if isinstance(container, str):
        end = len(container) if offset is None else offset + len(item)
        return celtypes.IntType(container.rfind(item, 0, end))
    for index in range(len(container) - 1, -1, -1):
        if container[index] == item:
            return celtypes.IntType(index)
    return celtypes.IntType(-1)


def _substring(text: str, start: int, end: int | None = None) -> celtypes.StringType:
    end = len(text) if end is None else end
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"substring({start}, {end}) out of range")
    return _str(text[start:end])


def _char_at(text: str, index: int) -> celtypes.StringType:
    if not 0 <= index <= len(text):
        raise ValueError(f"charAt({index}) out of range")
    return _str(text[index : index + 1])


def _replace(text: str, old: str, new: str, limit: int = -1) -> celtypes.StringType:
    return _str(text.replace(old, new, limit))


def _join(items: Any, separator: str = "") -> celtypes.StringType:
    return _str(separator.join(items))


def _is_sorted(items: Any) -> celtypes.BoolType:
    return celtypes.BoolType(all(a <= b for a, b in itertools.pairwise(items)))


def _sum(items: Any) -> Any:
    total: Any = celtypes.IntType(0)
    for index, item in enumerate(items):
        total = item if index == 0 else total + item
    return total


def _max(items: Any) -> Any:
    if not items:
        raise ValueError("max of an empty list")
    return max(items)


# Kubernetes CEL libraries (strings ext, regex, lists) that cel-python does not have.
KUBERNETES_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "find": _find,
    "findAll": _find_all,
    "split": _split,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "substring": _substring,
    "charAt": _char_at,
    "replace": _replace,
    "join": _join,
    "lowerAscii": lambda text: _str("".join(c.lower() if c.isascii() else c for c in text)),
    "upperAscii": lambda text: _str("".join(c.upper() if c.isascii() else c for c in text)),
    "trim": lambda text: _str(text.strip()),
    "reverse": lambda text: _str(text[::-1]),
    "isSorted": _is_sorted,
    "sum": _sum,
    "max": _max,
}


PROVIDED_FUNCTIONS = frozenset(base_functions) | frozenset(KUBERNETES_FUNCTIONS) | _MACROS


@dataclass(frozen=True)
class CompiledRule:
    """A parsed rule: runnable, or the reason it cannot run (transition rule, missing function)."""

    text: str
    program: Any  # celpy.Runner; None when the rule cannot run
    transition: bool
    unsupported: tuple[str, ...]
    parse_error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """``passed`` True/False, or ``error`` (then ``passed`` is False) for a rule that blew up."""

    passed: bool
    error: str | None = None
    value: Any = None


class CelEngine:
    """Parses each rule once and evaluates it with ``self`` bound to a CEL value."""

    def __init__(self) -> None:
        self._env: celpy.Environment | None = None
        self._rules: dict[str, CompiledRule] = {}

    def compile(self, text: str) -> CompiledRule:
        """The cached compiled form of a rule (or message expression)."""
        rule = self._rules.get(text)
        if rule is None:
            rule = self._compile(text)
            self._rules[text] = rule
        return rule

    def _compile(self, text: str) -> CompiledRule:
        if self._env is None:
            # Building the parser costs ~0.1 s: only when a CRD actually has rules.
            self._env = celpy.Environment()
        try:
            ast = self._env.compile(text)
        except Exception as exc:  # celpy raises CELParseError and lark errors
            return CompiledRule(text, None, False, (), parse_error=str(exc).splitlines()[0])
        transition = False
        unsupported: list[str] = []
        for node in ast.iter_subtrees():
            if node.data == "ident" and node.children and node.children[0] == _TRANSITION_VARIABLE:
                transition = True
            name = None
            if node.data == "ident_arg":
                name = str(node.children[0])
            elif node.data == "member_dot_arg":
                name = str(node.children[1])
            elif node.data == "member_dot" and str(node.children[1]).startswith("__"):
                # Kubernetes escapes property names like __dash__; cel-python cannot follow them.
                name = f"escaped property {node.children[1]}"
            if name and name not in PROVIDED_FUNCTIONS and name not in unsupported:
                unsupported.append(name)
        program = None
        if not transition and not unsupported:
            program = self._env.program(ast, functions=KUBERNETES_FUNCTIONS)
        return CompiledRule(text, program, transition, tuple(sorted(unsupported)))

    @staticmethod
    def evaluate(rule: CompiledRule, self_value: Any) -> Outcome:
        """Run a runnable rule; any evaluation error is an outcome, not an exception."""
        try:
            value = rule.program.evaluate({"self": self_value})
        except CELEvalError as exc:
            return Outcome(False, error=_error_text(exc))
        except Exception as exc:  # cel-python lets some Python errors through
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        if isinstance(value, CELEvalError):
            return Outcome(False, error=_error_text(value))
        if isinstance(value, celtypes.BoolType | bool):
            return Outcome(bool(value), value=value)
        return Outcome(False, value=value, error=f"rule returned {type(value).__name__}, not a bool")


def _error_text(exc: CELEvalError) -> str:
    """cel-python's args are (message, cause type, cause args): keep the cause, it says what broke."""
    if not exc.args:
        return type(exc).__name__
    text = str(exc.args[0])
    cause = exc.args[2] if len(exc.args) > 2 else None
    if isinstance(cause, tuple) and cause and str(cause[0]) not in text:
        text = f"{text}: {cause[0]}"
    return text


def to_cel(value: Any) -> Any:
    """JSON-ish Python (also ruamel's dict/list/str subclasses) to CEL values."""
    return celpy.json_to_cel(value)
