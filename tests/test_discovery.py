"""Ignore patterns: the one-regex shortcut never changes pathspec's answer."""

from __future__ import annotations

import pathspec
from hypothesis import given
from hypothesis import strategies as st

from imds_lint.discovery import IgnorePatterns

_PATTERN_PIECES = ["*", "**", "/", "a", "b", "x.py", ".tmp", "?", "[ab]", "!", "\\!", "#", " ", "dir/", "\\"]
_PATH_PIECES = ["a", "b", "x.py", "dir", "c.tmp", "!", "#", " ", "[ab]", "é"]

patterns = st.lists(st.lists(st.sampled_from(_PATTERN_PIECES), min_size=1, max_size=5).map("".join), max_size=6)
paths = st.tuples(st.lists(st.sampled_from(_PATH_PIECES), min_size=1, max_size=4).map("/".join), st.booleans())


@given(patterns, st.lists(paths, min_size=1, max_size=8))
def test_the_shortcut_agrees_with_pathspec(lines, candidates):
    try:
        reference = pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
    except Exception:  # a pattern pathspec refuses (a lone "\\") is refused by both
        return
    ours = IgnorePatterns(lines)
    for path, is_dir in candidates:
        path += "/" if is_dir else ""
        assert ours.match_file(path) == reference.match_file(path), (lines, path)


def test_the_shortcut_is_taken_and_the_real_rules_decide_the_rest():
    ours = IgnorePatterns(["build/", "*.log", "!keep.log"])
    assert ours._any is not None
    assert ours.match_file("build/") and ours.match_file("src/x.log")
    assert not ours.match_file("keep.log") and not ours.match_file("src/main.py")
