"""Properties of the linear replacements for quadratic steps: they must agree with the simple
definitions they replace. (IMDS_LINT_FUZZ=1 runs 10,000 examples each.)"""

from __future__ import annotations

from hypothesis import given, strategies as st

from imds_lint.model import Applicability, Edit, Fix
from tests.test_hostile_bounds import _apply


def _pairwise_select(fixes):
    """select_fixes as it was: every new edit against every chosen one."""
    def overlaps(edit, span):
        start, end = span
        if edit.start == edit.end or start == end:
            point, (s, e) = (edit.start, span) if edit.start == edit.end else (start, (edit.start, edit.end))
            return s < point < e
        return edit.start < end and start < edit.end

    def self_overlap(edits):
        spans = sorted((e.start, e.end) for e in edits)
        return any(a_end > b_start and a_start != a_end for (a_start, a_end), (b_start, _) in zip(spans, spans[1:]))

    chosen, skipped, taken, spans = [], [], set(), []
    for fix in sorted(fixes, key=lambda f: min((e.start for e in f.edits), default=0)):
        new = [e for e in fix.edits if e not in taken]
        if any(overlaps(e, s) for e in new for s in spans) or self_overlap(new):
            skipped.append(fix)
            continue
        chosen.append(fix)
        for e in new:
            taken.add(e)
            spans.append((e.start, e.end))
    return chosen, skipped


edits = st.builds(lambda start, length, content: Edit(start, start + length, content),
                  st.integers(0, 40), st.integers(0, 6), st.sampled_from(["", "a", "TOKEN\n"]))
fixes = st.lists(st.builds(lambda es: Fix("f", tuple(es), Applicability.SAFE), st.lists(edits, min_size=1, max_size=3)),
                 max_size=12)


@given(fixes)
def test_fix_selection_by_bisection_agrees_with_the_pairwise_one(candidates):
    from imds_lint.fixers import select_fixes

    assert select_fixes(candidates) == _pairwise_select(candidates)


lines = st.lists(st.sampled_from(["a\n", "b\n", "curl x\n", "curl -H t x\n", "\n", "c"]), max_size=60)


@given(lines, lines)
def test_the_linear_diff_applies(a, b):
    from imds_lint import textdiff

    a = [line if line.endswith("\n") else line + "\n" for line in a]
    b = [line if line.endswith("\n") else line + "\n" for line in b]
    saved = textdiff.DIFFLIB_LINES
    textdiff.DIFFLIB_LINES = 0  # the linear walk on small inputs too
    try:
        diff = textdiff.unified_diff(a, b, "a/x", "b/x")
    finally:
        textdiff.DIFFLIB_LINES = saved
    assert _apply(a, diff) == b
    assert (diff == "") == (a == b)
