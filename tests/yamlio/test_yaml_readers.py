"""What shopgen writes means the same to every common YAML reader, YAML 1.1 as well as 1.2.

ruamel.yaml writes YAML 1.2, where ``off``, ``yes``, ``y``, ``1:20`` or ``0X1F`` are strings; a YAML 1.1
reader (PyYAML; go-yaml v2, which Helm, Argo CD and sigs.k8s.io/yaml use) reads them as booleans and
numbers. Every rendered file is read with PyYAML (1.1 resolvers) and ruamel.yaml (1.2) and the two
must agree; go-yaml v2's extra resolutions (``y``/``n``, ``0X1F``, ``1e3``) are checked against a
small model of its resolve.go, since no Go reader runs here.
"""

from __future__ import annotations

import datetime
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from shopgen import yamlio

from conftest import run_cli


def words(text: str) -> list[str]:
    return text.split()


# Scalars some YAML reader resolves to something other than a string (or that are YAML syntax): quoted.
QUOTED = [
    *words("yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF"),
    *words("y Y n N"),  # go-yaml v2 booleans (PyYAML has none of these)
    *words("null Null NULL ~"),
    "",
    *words(".inf .Inf .INF +.inf -.inf -.INF .nan .NaN .NAN"),
    *words("1:20 190:20:30 -1:30 190:20:30.15 1:2:3"),  # YAML 1.1 sexagesimal
    *words("0o17 0O17 0x1F 0X1F 0xff 0b101 0B101 -0b101 017 09 0_1 0b_ 0x_1F"),
    *words("1_000 1__0 +1 -1 0 -0 1.0 1. .5 +.5 ._5 1e3 1E3 1e+3 1.e3 1_0e3 6.8523015e+5 685.230_15e+03"),
    *words("2001-12-14 2001-12-14t21:59:43.10-05:00 2002-12-14 2001-12-14T21:59:43Z"),
    "2001-12-14 21:59:43.10 -5",
    *words("= << - ? :"),
]
# Near misses: strings for every reader, written plain (quoting them would churn committed files).
PLAIN = words("yEs oN tRUE nULL yes. y. n/a 0x 0o 0b 1.2.3 1.17.1 0.7.1 v1.0 1:x 1-2 2001-12 2001-1-2 main HEAD")
SPECIAL = [*QUOTED, *PLAIN, "true\n", "yes ", " no", "'yes'", "y'"]

_SAFE_1_2 = YAML(typ="safe", pure=True)


def read_1_1(text: str) -> list[Any]:
    """PyYAML: YAML 1.1's resolvers (booleans yes/no/on/off, sexagesimal, =, timestamps)."""
    return list(pyyaml.safe_load_all(text))


def read_1_2(text: str) -> list[Any]:
    return list(_SAFE_1_2.load_all(text))


def typed(value: Any) -> Any:
    """Data with each scalar's type spelled out: in Python True == 1 == 1.0, in YAML they differ."""
    if isinstance(value, dict):
        return ("map", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    if isinstance(value, datetime.date):  # both readers build dates; compare them as text
        return (type(value).__name__, value.isoformat())
    return (type(value).__name__, value)


# --- go-yaml v2, modelled on gopkg.in/yaml.v2 resolve.go (resolveMapList and resolve()), e.g.
# kubernetes/kubernetes vendor/gopkg.in/yaml.v2/resolve.go. Only whether a plain scalar stays a string.
GO_YAML_V2_MAP = {
    *words("y Y yes Yes YES true True TRUE on On ON n N no No NO false False FALSE off Off OFF"),
    *words("~ null Null NULL .nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF <<"),
    "",
}
GO_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def _go_parse_int(text: str) -> bool:
    """strconv.ParseInt/ParseUint(text, 0, 64): a sign, then 0x/0o/0b (either case), 0 + octal or decimal."""
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isalnum():
        return False
    try:
        if len(body) > 1 and body[0] == "0" and body[1].isdigit():
            int(body[1:], 8)
        else:
            int(body, 0)
    except ValueError:
        return False
    return True


def go_yaml_v2_reads_non_string(text: str) -> bool:
    if text in GO_YAML_V2_MAP:
        return True
    hint = text[:1]
    if hint == ".":  # strconv.ParseFloat, no underscores
        return re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", text) is not None
    if hint and hint in "+-0123456789":  # ints, floats; every '_' dropped first
        plain = text.replace("_", "")
        return _go_parse_int(plain) or GO_YAML_STYLE_FLOAT.fullmatch(plain) is not None
    return False


def plain_strings(text: str) -> list[str]:
    """Every scalar written without quotes (keys and values) that PyYAML resolves to a string."""
    found: list[str] = []

    def walk(node: pyyaml.Node) -> None:
        if isinstance(node, pyyaml.ScalarNode):
            if node.style is None and node.tag == "tag:yaml.org,2002:str":
                found.append(node.value)
        elif isinstance(node, pyyaml.SequenceNode):
            for item in node.value:
                walk(item)
        elif isinstance(node, pyyaml.MappingNode):
            for key, value in node.value:
                walk(key)
                walk(value)

    for document in pyyaml.compose_all(text, Loader=pyyaml.SafeLoader):
        walk(document)
    return found


def test_go_yaml_v2_model_knows_its_words():
    for word in ("y", "N", "On", "0X1F", "0O17", "0B101", "-0b101", "1_0", "1e3", "09", ".5e3", "+1", "<<"):
        assert go_yaml_v2_reads_non_string(word), word
    for word in ("yEs", "0x", "1.2.3", "0.7.1", "v1.0", "2001-1-2", "._5", "main", "1:20"):
        assert not go_yaml_v2_reads_non_string(word), word


def difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two loaded documents first differ (types included), or None."""
    if type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)):
        return f"{path or '<root>'}: {a!r} ({type(a).__name__}) vs {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        if [typed(k) for k in a] != [typed(k) for k in b]:
            return f"{path or '<root>'}: keys {list(a)!r} vs {list(b)!r}"
        for k in a:
            found = difference(a[k], b[k], f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if typed(a) == typed(b) else f"{path or '<root>'}: {a!r} vs {b!r}"


def tree_disagreements(root: Path) -> list[str]:
    """Every .yaml file under root read by YAML 1.1 and 1.2 readers; each disagreement, with its path."""
    problems: list[str] = []
    files = sorted(root.rglob("*.yaml"))
    assert files, f"no YAML under {root}"
    for path in files:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root)
        old, new = read_1_1(text), read_1_2(text)
        found = difference(old, new) if len(old) == len(new) else f"{len(old)} vs {len(new)} documents"
        if found:
            problems.append(f"{name}: YAML 1.1 vs 1.2: {found}")
        problems += [
            f"{name}: go-yaml v2 reads {s!r} as a non-string"
            for s in plain_strings(text)
            if go_yaml_v2_reads_non_string(s)
        ]
    return problems


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {s for k, v in value.items() for s in _strings(k) | _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return {value} if isinstance(value, str) else set()


def test_every_file_of_the_default_render_reads_the_same_everywhere(rendered: Path):
    assert tree_disagreements(rendered) == []


# Config values that pass validation and that YAML 1.1 readers take for booleans, nulls and numbers.
HOSTILE_CONFIGS = {
    "words": (
        'namespace: "on"\n'
        'cluster: {name: "yes"}\n'
        'gitops: {target_revision: "off"}\n'
        'karpenter: {nodepool: {name: "y"}, nodeclass: {name: "n"}}\n'
        'secrets: {store: "no"}\n'
        'stores: {storage_class: "null"}\n',
        {"on", "yes", "off", "y", "n", "no", "null"},
    ),
    "numbers": (
        'namespace: "1e3"\n'
        'cluster: {name: "0X1F"}\n'
        'gitops: {target_revision: "1:20"}\n'
        'karpenter: {nodepool: {name: "017"}, nodeclass: {name: "0x1f"}}\n'
        'secrets: {store: "123"}\n'
        'stores: {storage_class: "2001-12-14"}\n',
        {"1e3", "0X1F", "1:20", "017", "0x1f", "123", "2001-12-14"},
    ),
}


@pytest.fixture(scope="module", params=sorted(HOSTILE_CONFIGS))
def hostile(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    text, words = HOSTILE_CONFIGS[request.param]
    root = tmp_path_factory.mktemp(f"hostile-{request.param}")
    config = root.parent / f"{root.name}.shopgen.yaml"
    config.write_text(text, encoding="utf-8")
    result = run_cli("synth", "--out", root, "--config", config)
    assert result.code == 0, result.err
    return root, words


def test_a_hostile_config_renders_files_every_reader_reads_the_same(hostile: tuple[Path, set[str]]):
    root, words = hostile
    assert tree_disagreements(root) == []
    found: set[str] = set()
    for path in root.rglob("*.yaml"):
        found |= _strings(read_1_1(path.read_text(encoding="utf-8")))
    assert words <= found, f"the config's values are not in the render as strings: {sorted(words - found)}"


texts = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(alphabet="yYnNoOfFtT01789xXbBeE._:+-~=<> ", max_size=8),  # near the special forms
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
)


def _read_back(text: str) -> tuple[list[Any], list[Any]]:
    return read_1_1(text), read_1_2(text)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.slow
@given(texts, texts)
def test_strings_read_back_as_the_same_strings_in_every_reader(value: str, key: str):
    doc = {"value": value, key: "key", "list": [value, {key: value}]}
    docs = [doc, {key: [value]}]
    for dumped, expected in (
        (yamlio.dump(doc), [doc]),
        (yamlio.dump_ruamel(doc), [doc]),
        (yamlio.dump_all(docs), docs),
    ):
        old, new = _read_back(dumped)
        assert typed(old) == typed(new) == typed(expected), dumped
        for scalar in plain_strings(dumped):
            assert not go_yaml_v2_reads_non_string(scalar), dumped


def test_special_words_are_single_quoted_as_values_and_keys():
    for word in QUOTED:
        assert yamlio.dump({word: word}) == f"'{word}': '{word}'\n", word
        assert yamlio.dump_ruamel({word: [word]}) == f"'{word}':\n- '{word}'\n", word
    assert yamlio.dump({"targetRevision": "off", "clusterName": "yes"}) == "targetRevision: 'off'\nclusterName: 'yes'\n"


def test_near_misses_stay_plain():
    """Quoting only what needs it: versions, names and near misses keep the committed bytes."""
    for word in PLAIN:
        assert yamlio.dump({word: word}) == f"{word}: {word}\n", word
