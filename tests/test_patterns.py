"""imds_lint.patterns: a pattern compiled on first use answers as the compiled one does."""

from __future__ import annotations

import re

from imds_lint.patterns import lazy


def test_a_lazy_pattern_compiles_on_first_use_and_answers_as_re_does():
    pattern = lazy(r"a(b+)", re.I)
    assert "search" not in vars(pattern)  # nothing compiled yet
    assert pattern.search("xABB").group(1) == "BB"
    assert "search" in vars(pattern)  # later calls go straight to the compiled pattern's method
    assert pattern.sub("-", "ab AB") == re.sub(r"a(b+)", "-", "ab AB", flags=re.I)
    assert pattern.pattern == r"a(b+)" and pattern.flags & re.I
    assert [m.span() for m in pattern.finditer("abab")] == [(0, 2), (2, 4)]
    assert lazy(rb"x\d").fullmatch(b"x1") is not None
