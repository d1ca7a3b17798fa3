"""Regular expressions compiled on first use.

A module-level ``re.compile`` runs at import, whether or not the run ever
needs the pattern: in a pre-commit run with four findings, 25 of the 34 patterns
the imported modules compiled were never used (the git remote reader's, the
suppression directive's where no file has one, the shell parser's masks for
input it did not get...). ``lazy`` stands in for such a pattern: the first
method called on it compiles the pattern, and each method is then an attribute
of its own, so later calls cost what calls on a compiled pattern do.
"""

from __future__ import annotations

import re


class LazyPattern:
    """``re.compile(pattern, flags)``, made on the first attribute asked of it."""

    def __init__(self, pattern: str | bytes, flags: int = 0):
        self._source = (pattern, flags)

    def __getattr__(self, name: str):
        # Only for names the instance does not hold yet: the first use of each method.
        value = getattr(re.compile(*self._source), name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"lazy({self._source[0]!r})"


def lazy(pattern: str | bytes, flags: int = 0) -> re.Pattern:
    """A pattern compiled when first used (typed as the pattern it stands for)."""
    return LazyPattern(pattern, flags)  # type: ignore[return-value]
