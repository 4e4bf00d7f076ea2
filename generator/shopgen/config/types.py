"""The reusable setting types (visible text, DNS labels, Kubernetes quantities, Go durations, bounded
ints) and the frozen, closed base Model: shared by models.py and platform.py, so neither imports the other.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Characters no setting may hold: controls (NUL, ESC, DEL, C1), format characters (zero-width space,
# bidi overrides), lone surrogates, and line/paragraph separators. They would reach a cluster, a
# terminal or a git remote as something other than what the reader of shopgen.yaml sees.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CATEGORY_WORDS = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Cs": "a lone surrogate: half of a UTF-16 pair, not a character (write e.g. \\U0001F680 above U+FFFF)",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


def shown(value: str, limit: int = 80) -> str:
    """``repr`` of a value for an error message: escapes what a terminal would obey, and stays short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def invisible_character(value: str) -> str | None:
    """Describe the first control or invisible character of ``value`` (None when it has none)."""
    if value.isprintable():  # the common case, at C speed; isprintable() is False for every category above
        return None
    for char in value:
        category = unicodedata.category(char)
        if category in _INVISIBLE_CATEGORIES:
            name = unicodedata.name(char, "") if category != "Cs" else ""
            return f"U+{ord(char):04X}{' ' + name if name else ''}, {_CATEGORY_WORDS[category]}"
    return None


def _visible(value: str) -> str:
    found = invisible_character(value)
    if found is not None:
        raise ValueError(f"{shown(value)} contains {found}; settings take visible text only")
    return value


# Put last in an Annotated string type (after Field(pattern=...)) so a pattern's own message comes first.
Visible = AfterValidator(_visible)
# Any string setting without a stricter pattern: visible text only.
Text = Annotated[str, Visible]


class Model(BaseModel):
    """Frozen, closed: an unknown key is an error, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)


_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_CPU = r"^([1-9][0-9]*m|[0-9]+(\.[0-9]+)?)$"
_MEMORY = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"
_DURATION = r"^([0-9]+(s|m|h))+$"
# A container image reference: [host[:port]/]path[:tag][@digest] (distribution/reference grammar, simplified).
_IMAGE = (
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)

# What a mismatch of each pattern above means, in words; any other pattern is quoted as it is.
PATTERN_HELP = {
    _DNS_LABEL: "is not a DNS label (lowercase letters, digits and inner '-', at most 63)",
    _CPU: "is not a CPU quantity of at least 1m (whole millicores like 128m, or cores like 0.5)",
    _MEMORY: "is not a memory quantity (e.g. 256Mi or 1Gi)",
    _DURATION: "is not a duration (e.g. 30s, 1m, 720h)",
    _IMAGE: "is not a container image reference (e.g. registry.example.com/pause:3.7)",
}

_MEMORY_FACTORS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
MIN_MEMORY_BYTES = 2**20  # 1Mi: below it no container starts (and "100" means 100 bytes, not 100Mi)
MIN_CPU_MILLIS = 1  # 1m: Kubernetes' CPU precision, and its smallest request
# Go's time.Duration is an int64 of nanoseconds: 2562047h47m16.854775807s at most.
GO_DURATION_MAX_NS = 2**63 - 1
_DURATION_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def _memory_exact(quantity: str) -> Decimal:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity).groups()  # type: ignore[union-attr]
    return Decimal(number) * _MEMORY_FACTORS[unit]


def memory_bytes(quantity: str) -> float:
    """Bytes of a Kubernetes memory quantity (for comparisons, never for output)."""
    return float(_memory_exact(quantity))


def _cpu_exact(quantity: str) -> Decimal:
    return Decimal(quantity[:-1]) if quantity.endswith("m") else Decimal(quantity) * 1000


def cpu_millis(quantity: str) -> float:
    return float(_cpu_exact(quantity))


def _cpu_runs(value: str) -> str:
    millis = _cpu_exact(value)
    if millis < MIN_CPU_MILLIS:
        raise ValueError(f"{shown(value)} is below 1m, the smallest CPU quantity Kubernetes takes")
    if millis != millis.to_integral_value():
        raise ValueError(f"{shown(value)} is finer than 1m, the precision of a Kubernetes CPU quantity")
    return value


def _memory_runs(value: str) -> str:
    if _memory_exact(value) < MIN_MEMORY_BYTES:
        raise ValueError(
            f"{shown(value)} is below 1Mi, too little to run anything (a plain number counts bytes: write e.g. 256Mi)"
        )
    return value


def _fits_go_duration(value: str) -> str:
    seconds = 0
    for digits, unit in re.findall(r"([0-9]+)([smh])", value):
        if len(digits.lstrip("0")) > 19:  # more than any int64 holds; int() of thousands of digits is refused
            seconds = GO_DURATION_MAX_NS
            break
        seconds += int(digits) * _DURATION_UNIT_SECONDS[unit]
    if seconds * 10**9 > GO_DURATION_MAX_NS:
        raise ValueError(
            f"{shown(value)} is longer than a Go duration holds (2562047h47m16s at most); "
            "the controllers that read it would refuse it"
        )
    return value


# Pattern first (its message says what form is expected), then what the form alone cannot say.
DnsLabel = Annotated[str, Field(pattern=_DNS_LABEL, min_length=1, max_length=63), Visible]
# Kubernetes CPU quantity, e.g. 128m; at least 1m, in whole millicores.
CpuQuantity = Annotated[str, Field(pattern=_CPU), AfterValidator(_cpu_runs), Visible]
# Kubernetes memory quantity, e.g. 256Mi; at least 1Mi.
MemoryQuantity = Annotated[str, Field(pattern=_MEMORY), AfterValidator(_memory_runs), Visible]
# Go duration, e.g. 1m or 720h; at most Go's largest time.Duration.
Duration = Annotated[str, Field(pattern=_DURATION), AfterValidator(_fits_go_duration), Visible]
# A container image reference, e.g. public.ecr.aws/eks-distro/kubernetes/pause:3.7.
ImageRef = Annotated[str, Field(pattern=_IMAGE, max_length=255), Visible]
PositiveInt = Annotated[int, Field(gt=0, le=1_000_000)]
Seconds = Annotated[int, Field(gt=0, le=86_400)]
Percent = Annotated[int, Field(gt=0, le=100)]
