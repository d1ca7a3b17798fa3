"""Deep YAML: PyYAML's safe loader with a stack composer and a linear scanner, held equal to PyYAML's own.

The deep loader reads what libyaml refuses past 1,000 levels. It must give the
same nodes (ids, tags, values, styles, marks, shared aliases) and the same
errors as ``yaml.SafeLoader`` wherever that one finishes, and go deeper in time
linear in depth.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from imds_lint.frontends import yaml_nodes

ROOT = Path(__file__).resolve().parent.parent


def _shape(roots) -> list:
    """Every node in document order, with what identifies it and which earlier node it repeats."""
    seen: dict[int, int] = {}
    out = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            out.append(("alias of", seen[id(node)]))
            continue
        seen[id(node)] = len(out)
        marks = tuple((m.index, m.line, m.column) for m in (node.start_mark, node.end_mark))
        out.append((node.id, node.tag, marks, getattr(node, "style", None), getattr(node, "flow_style", None),
                    node.value if node.id == "scalar" else len(node.value)))
        if node.id == "sequence":
            stack.extend(reversed(node.value))
        elif node.id == "mapping":
            stack.extend(reversed([n for pair in node.value for n in pair]))
    return out


def _compose(text: str, loader) -> object:
    # PyYAML's own composer recurses twice a level: give it the room the edge cases need.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5_000))
    try:
        return _shape(list(yaml.compose_all(text, Loader=loader)))
    except yaml.YAMLError as error:
        return ("error", type(error).__name__, str(error))
    finally:
        sys.setrecursionlimit(limit)


def _same(text: str) -> None:
    assert _compose(text, yaml_nodes._deep_safe_loader()) == _compose(text, yaml.SafeLoader)


YAML_FILES = sorted(p for pattern in ("*.yaml", "*.yml") for p in (ROOT / "fixtures").rglob(pattern))


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_fixture_composes_as_pyyaml_does(path):
    _same(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [
    "a: &x [1, {b: *x}]\n",  # an alias inside its own anchor's collection
    "a: &x 1\nb: &x 2\n",  # a re-defined anchor
    "a: *nowhere\n",  # an undefined alias: the same ComposerError
    "? [a, b]\n: c\n{x: [y, {z: w}]}: 1\n",  # complex keys
    "a:\n  b: [1, 2\n",  # an unclosed flow sequence
    "key\nwith: no colon\n",  # a required simple key without its ':'
    "a: " + "x" * 1100 + ": 1\n",  # a simple key longer than 1,024 characters
    "[" * 900 + "]" * 900 + "\n",
    "{a: " * 400 + "1" + "}" * 400 + "\n" + "---\n" + "- " * 300 + "x\n",
    "- [a,\n  b,\n  [c,\n   d]]\n",  # flow collections over several lines
    "".join("  " * i + "- \n" for i in range(300)) + "  " * 300 + "x\n",  # block sequences 300 deep
])
def test_edge_cases_compose_as_pyyaml_does(text):
    _same(text)


_PIECES = ["a", "b: ", "- ", "  ", "\n", "|\n", ">-\n", '"x\\ty"', "'q''r'", "!Sub ", "!!str ", "{", "}", "[", "]",
           ", ", "#c", "---\n", "&a ", "*a", "&b ", "*b", "? ", ": ", "é", "\r\n", "\t", "...\n", "-", ":", "'", '"']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_generated_yaml_composes_as_pyyaml_does_nodes_and_errors(pieces):
    _same("".join(pieces))


@pytest.mark.parametrize("shape", ["sequence", "mapping"])
def test_depth_costs_linear_time(shape):
    # (Block nesting is linear too, in the text's size: its indentation grows with the depth.)
    def text(depth: int) -> str:
        if shape == "sequence":
            return "pad: " + "[" * depth + "]" * depth + "\n"
        return "pad: " + "{a: " * depth + "1" + "}" * depth + "\n"

    def seconds(depth: int) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            roots = yaml_nodes.compose_all(text(depth))
            best = min(best, time.process_time() - start)
        assert roots
        return best

    small, large = seconds(2_000), seconds(8_000)
    # Four times the depth; PyYAML's scanner took sixteen times as long (quadratic). Linear is ~4.
    assert large < 8 * small + 0.05, (small, large)


def test_deeper_than_the_bound_is_a_recursion_error_not_a_syntax_error():
    """The engine turns it into its 'nested too deeply; fell back to text scanning' note, not IMDS001."""
    deep = "[" * (yaml_nodes.MAX_DEPTH + 1) + "]" * (yaml_nodes.MAX_DEPTH + 1)
    with pytest.raises(RecursionError):
        yaml_nodes.compose_all(deep)
    assert yaml_nodes.compose_all("[" * yaml_nodes.MAX_DEPTH + "]" * yaml_nodes.MAX_DEPTH)


def test_libyamls_nesting_limit_is_not_a_broken_file():
    deep = "a: " + "[" * 1_500 + "]" * 1_500 + "\n"
    assert yaml_nodes.compose_all(deep, exact_error=False)
