"""The fast YAML path writes exactly the bytes ruamel.yaml writes (the straightforward path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopgen import yamlio
from shopgen.yamlio import _fast, write

from stage_tree import load_stage

TRICKY = [
    "",
    " ",
    "a b",
    " lead",
    "trail ",
    "true",
    "True",
    "yes",
    "no",
    "on",
    "off",
    "null",
    "~",
    "0",
    "8080",
    "1.0",
    "0x1F",
    "1e3",
    "-",
    "- x",
    "a: b",
    "a:b",
    "#x",
    "a #b",
    "@x",
    "`x",
    "!x",
    "&x",
    "*x",
    "|x",
    ">x",
    "%x",
    "{x}",
    "[x]",
    "x,y",
    "?x",
    "'q'",
    '"q"',
    "it's",
    "50%",
    "ünïcode",
    "日本",
    "a\tb",
    "=",
    "a=b,c=d",
    "http://x:80/a?b=c#d",
    "/bin/sh",
    "-c",
    "sleep 80",
    "2026-11-25",
    "12:30",
    "1_000",
    "+1",
    ".5",
    "..",
    # read as booleans, nulls or numbers by some YAML reader (1.1: PyYAML, go-yaml v2): quoted
    "y",
    "Y",
    "n",
    "N",
    "Off",
    "NULL",
    "0X1F",
    "0o17",
    "1:20",
    "1e3",
    ".inf",
    "<<",
    "\x85",
    "a\x85b",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(TRICKY),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
)
keys = st.one_of(st.sampled_from(TRICKY), st.text(max_size=20))
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(st.one_of(scalars, st.dictionaries(keys, children, max_size=4)), max_size=4),
            st.dictionaries(keys, children, max_size=4),
        ),
        max_leaves=20,
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.slow
@given(documents)
def test_fast_path_equals_ruamel_on_generated_documents(doc):
    assert yamlio.dump(doc) == yamlio.dump_ruamel(doc)


def test_fast_path_is_taken_and_identical_on_every_rendered_object(rendered: Path):
    fast = write._fast_dump()
    for stage in ("baseline", "prestop"):
        for obj in load_stage(rendered, stage).values():
            assert fast(obj) == yamlio.dump_ruamel(obj)  # no fallback: the fast path really ran


@settings(max_examples=300, deadline=None)
@pytest.mark.slow
@given(st.one_of(st.from_regex(r"[A-Za-z/_][A-Za-z0-9_./-]{0,8}", fullmatch=True), st.sampled_from(TRICKY)))
def test_fast_path_quotes_what_the_ruamel_path_quotes(text):
    """_surely_plain and the ruamel representer apply one rule: what a reader would misread is quoted."""
    doc = {text: [text, {"k": text}]}
    assert yamlio.dump(doc) == yamlio.dump_ruamel(doc)
    if yamlio.needs_quotes(text):
        assert not write._surely_plain(text)
        assert yamlio.dump({"k": text})[3] in "'\"", text


def test_words_that_look_plain_match_ruamel():
    for word in TRICKY:
        assert yamlio.dump({word: word}) == yamlio.dump_ruamel({word: word}), word


def test_unsupported_data_falls_back():
    fast = write._fast_dump()
    for doc in ({"a": 1.5}, {"a": [[1]]}, {"a": "line1\nline2"}, {"a": "x" * 2000}):
        try:
            fast(doc)
        except _fast.Unsupported:
            pass
        else:
            raise AssertionError(f"fast path accepted {doc!r}")
        assert yamlio.dump(doc) == yamlio.dump_ruamel(doc)
