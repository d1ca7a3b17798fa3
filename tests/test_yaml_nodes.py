"""libyaml's composer stands in for the pure-Python one: same nodes, same marks, same tags."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from imds_lint.frontends import yaml_nodes

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml: one composer only")


def _shape(node, out):
    start, end = node.start_mark, node.end_mark
    # An empty scalar has no characters, and the composers place it differently (before or
    # after the spaces that precede it); everything with characters has one place.
    place = (start.index, end.index, start.line, start.column) if start.index != end.index else None
    out.append((node.id, node.tag, place, getattr(node, "style", None), node.value if node.id == "scalar" else None))
    if node.id == "sequence":
        for child in node.value:
            _shape(child, out)
    elif node.id == "mapping":
        for key, value in node.value:
            _shape(key, out)
            _shape(value, out)
    return out


def _pure(text):
    try:
        return [_shape(n, []) for n in yaml.compose_all(text, Loader=yaml.SafeLoader)]
    except yaml.YAMLError:
        return "error"


def _ours(text):
    try:
        return [_shape(n, []) for n in yaml_nodes.compose_all(text)]
    except yaml.YAMLError:
        return "error"


YAML_FILES = sorted(p for pattern in ("*.yaml", "*.yml") for p in (ROOT / "fixtures").rglob(pattern))


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_fixture_composes_the_same(path):
    text = path.read_text(encoding="utf-8")
    assert _ours(text) == _pure(text)  # broken ones (an unrendered Helm chart) fail in both


@pytest.mark.parametrize("text", [
    "a: 1\r\nb: |\r\n  x\r\n  y\r\nc: \"q\"\r\n",  # CRLF
    "\ufeffa: b\n",  # a byte order mark: the pure-Python path
    "k: !Sub \"x${A}\"\nj: !Ref Y\nl: !GetAtt [A, B]\n",
    "- a\n- {b: c}\n---\nx: \"é€😀\"\n",
    "s: '\ud800'\n",  # a lone surrogate cannot go to libyaml
])
def test_edge_cases_compose_the_same(text):
    assert _ours(text) == _pure(text)


_PIECES = ["a", "b: ", "- ", "  ", "\n", "|\n", ">-\n", '"x\\ty"', "'q''r'", "!Sub ", "!!str ", "{", "}", "[", "]",
           ", ", "#c", "---\n", "&a ", "*a", "? ", "é", "😀", "\r\n", "\t"]


@given(st.lists(st.sampled_from(_PIECES), max_size=20))
def test_generated_yaml_composes_the_same_where_both_accept_it(pieces):
    text = "".join(pieces)
    pure, ours = _pure(text), _ours(text)
    # libyaml accepts a few things the pure-Python reader rejects (a tab after a key's colon);
    # whatever the pure-Python composer accepts must come out the same.
    if pure != "error":
        assert ours == pure


_MORE_PIECES = [p for p in _PIECES if p != "\t"] + ["...\n", "%YAML 1.1\n", ":", "-", "|-\n", "|+2\n", " #x", "\\",
                                                   '"', "'", "@", "`", "\x85", "\u2028", "\r"]


@given(st.lists(st.sampled_from(_MORE_PIECES), max_size=25))
def test_without_tabs_what_libyaml_rejects_the_pure_composer_rejects_too(pieces):
    # What lets a caller that only needs "broken or not" skip the second, pure-Python parse.
    text = "".join(pieces)
    try:
        yaml_nodes.compose_all(text, exact_error=False)
    except yaml.YAMLError:
        assert _pure(text) == "error", text


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_leading_byte_order_mark_composes_the_same(path):
    # libyaml reads the text without it and the marks are moved back by one character.
    text = "\ufeff" + path.read_text(encoding="utf-8")
    assert _ours(text) == _pure(text)


@given(st.lists(st.sampled_from(_PIECES), max_size=20))
def test_generated_yaml_with_a_byte_order_mark_composes_the_same(pieces):
    text = "\ufeff" + "".join(pieces)
    pure, ours = _pure(text), _ours(text)
    if pure != "error":
        assert ours == pure


def test_a_file_with_a_byte_order_mark_takes_libyamls_path(monkeypatch):
    """Not PyYAML's pure reader (slower, and bounded by a node budget): a large manifest saved by a
    Windows editor keeps its structure."""
    def no_pure_reader():
        raise AssertionError("the pure-Python reader was used")

    monkeypatch.setattr(yaml_nodes, "_deep_safe_loader", no_pure_reader)
    roots = yaml_nodes.compose_all("\ufeffitems:\n  - {name: a}\n  - {name: b}\n")
    assert len(roots[0].value[0][1].value) == 2 and roots[0].value[0][0].start_mark.index == 1
    with pytest.raises(AssertionError):
        yaml_nodes.compose_all("a: \ufeff\n")  # a mark inside the text: only the pure reader keeps it
