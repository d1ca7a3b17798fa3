"""syntax.treesitter.Ancestry answers every node's parent as tree-sitter's own ``Node.parent`` does.

Ancestry finds parents by descending from the root (tree-sitter's ``Node.parent``
costs a search from the root per step); these tests hold the two equal on every
node of the shell fixtures and of generated and mutated scripts, asked in
random order, and bound the cost on deep and on long flat trees.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from imds_lint.frontends import shell
from imds_lint.syntax.treesitter import Ancestry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
URL = "http://169.254.169.254/latest/meta-data/instance-id"
PIECES = ["curl -s " + URL, "$( ", " )", "`", "; ", " && ", " | ", "\n", "if true; then ", "; fi", "for i in a b; do ",
          "; done", '"', "'", "${X:-", "}", "<<EOF\nbody $(curl " + URL + ")\nEOF\n", "f() { ", " }", "(", ")", "#",
          "x=", "[[ -n $a ]]", "case $x in a) ", ";; esac", "\\\n", "{ ", "; }", "$((1+", "))", "<(", "2>&1 ", "&"]


def _nodes(root) -> list:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def _check(text: str, rng: random.Random) -> int:
    tree = shell._parser().parse(text.encode("utf-8", "surrogatepass"))
    nodes = _nodes(tree.root_node)
    rng.shuffle(nodes)
    ancestry = Ancestry(tree.root_node)
    for node in nodes:
        expected, got = node.parent, ancestry.parent(node)
        assert (expected is None) == (got is None), (text, node)
        if expected is not None:
            assert got.id == expected.id, (text, node.type, node.start_byte)
    # Walking up from each node, step by step, as enclosing() does.
    for node in nodes[:200]:
        current = node
        while current is not None:
            expected = current.parent
            current = ancestry.parent(current)
            assert (current is None) == (expected is None) and (current is None or current.id == expected.id)
    return len(nodes)


@pytest.mark.parametrize("path", sorted(p for p in (FIXTURES / "shell").rglob("*") if p.is_file()),
                         ids=lambda p: p.name)
def test_every_fixture_node_has_tree_sitters_parent(path):
    assert _check(path.read_text(encoding="utf-8", errors="replace"), random.Random(path.name)) > 0


def _fuzz(pieces: list[str], check, seed: int) -> int:
    """As many random scripts (pieces glued together, then bytes cut, doubled or swapped) as fit
    in the budget, each checked; at least 50. By hand: IMDS_FUZZ_SECONDS=600 runs ~10,000 or more."""
    import os

    budget = float(os.environ.get("IMDS_FUZZ_SECONDS", "3"))
    rng = random.Random(seed)
    deadline, examples = time.monotonic() + budget, 0
    while time.monotonic() < deadline or examples < 50:
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        for _ in range(rng.randint(0, 3)):
            i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
            text = rng.choice([text[:i] + text[j:], text[:j] + text[i:j] + text[j:], text[j:] + text[:i]])
        check(text, rng)
        examples += 1
    return examples


def test_generated_and_mutated_scripts_have_tree_sitters_parents():
    assert _fuzz(PIECES, _check, 19) >= 50


def test_deep_and_flat_trees_cost_linear_time():
    # 3,000 nested $( (Node.parent: d**2 steps from the root) and 30,000 lines (n per step).
    for text in ("x=" + "$( " * 3000 + f"curl {URL}" + " )" * 3000 + "\n", f"curl -s {URL}\n" * 30000):
        tree = shell._parser().parse(text.encode())
        nodes = _nodes(tree.root_node)
        ancestry = Ancestry(tree.root_node)
        start = time.process_time()
        for node in nodes:
            ancestry.parent(node)
        assert time.process_time() - start < 20, "ancestry is not linear"


# -- PowerShell -----------------------------------------------------------------------------------
# The PowerShell front-end and fixer ask the same Ancestry; its top-level statement is found by
# bisection where it walked Node.parent up to a top-level span.
PS_PIECES = [f'Invoke-RestMethod -Uri "{URL}"', "$r = ", "if ($true) { ", " }", "function f { ", "param($u = 1) ",
             "& { ", "try { ", " } catch { ", " } finally { ", "\n", "; ", " -and ", " | ", "foreach ($i in 1..2) { ",
             "$wc = New-Object System.Net.WebClient\n", f"$wc.DownloadString('{URL}')", "@{ a = ", "'", '"', "(",
             ")", "#", "elseif ($x) { ", "else { ", "[Net.WebRequest]::Create('" + URL + "')", "$(", "<# c #>"]


def _walked_top_level_statement(state, node):
    """The old walk: up Node.parent to the first node whose span is a top-level statement's."""
    from imds_lint.syntax.powershell import top_level_statements

    tops = {(s.start_byte, s.end_byte) for s in top_level_statements(state)}
    while node is not None and (node.start_byte, node.end_byte) not in tops:
        node = node.parent
    return node


def _check_powershell(text: str, rng: random.Random) -> int:
    from imds_lint.frontends import powershell
    from imds_lint.syntax.powershell import PowerShellState, top_level_statement

    tree, src = powershell.parse(text)
    state = PowerShellState(tree, src, text, len(src) == len(text))
    nodes = _nodes(tree.root_node)
    rng.shuffle(nodes)
    for node in nodes:
        expected, got = node.parent, state.parent(node)
        assert (expected is None) == (got is None) and (got is None or got.id == expected.id), (text, node)
        walked, found = _walked_top_level_statement(state, node), top_level_statement(state, node)
        assert (walked is None) == (found is None), (text, node.type, node.start_byte)
        # The walk stops at the innermost node spanning a statement; the bisection names the statement.
        assert walked is None or walked.start_byte == found.start_byte, (text, node.type, node.start_byte)
    return len(nodes)


@pytest.mark.parametrize("path", sorted(p for p in (FIXTURES / "powershell").rglob("*") if p.is_file()),
                         ids=lambda p: p.name)
def test_every_powershell_fixture_node_has_tree_sitters_parent(path):
    assert _check_powershell(path.read_text(encoding="utf-8", errors="replace"), random.Random(path.name)) > 0


def test_a_zero_width_node_where_a_statement_ends_is_placed_by_the_tree():
    # Found by the fuzz below (seed 18, example 693): a MISSING literal at the byte where the first
    # top-level statement ends sits in the ERROR node after it, so no statement holds it.
    text = ("oadString('http://169.254.169.254/latest/meta-data/instance-id')$wc.DownloadString('http:/"
            '/169.254.169.254/latest/meta-data/instance-id\')Invoke-RestMethod -Uri "http://169.254.169.'
            '254/latest/meta-data/instancem.Net.WebClient\n | elseif ($x) { param($u = 1) $( | Invoke-Re'
            'stMethod -Uri "http://169.254.169.254/latest/meta-data/instance-id" } catch { <# c #><# c '
            '#>$(e')
    assert _check_powershell(text, random.Random(0)) > 0


def test_generated_and_mutated_powershell_has_tree_sitters_parents():
    assert _fuzz(PS_PIECES, _check_powershell, 18) >= 50
