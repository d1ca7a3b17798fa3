"""Inline suppressions: ``# imds-lint: ignore[IMDS101]`` and ``file-ignore``.

A trailing comment applies to its line (and to a finding whose statement spans
that line); a comment alone on its line applies to the next code line; a
``file-ignore`` in the file's leading comments applies to the whole file.
Any comment syntax works: ``#``, ``//``, ``--``, ``;``, ``<#``, ``/*``, ``REM``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from imds_lint.model import Category, Finding, Severity, Span
from imds_lint.patterns import lazy
from imds_lint.records import dataclass, field
from imds_lint.registry import matches
from imds_lint.source import SourceText

_DIRECTIVE = lazy(
    r"(?P<marker>#|//|--|;|<#|/\*|\bREM\b)\s*imds-lint:\s*(?P<kind>ignore|file-ignore)\b"
    r"(?:\[(?P<codes>[^\]\n]{0,200})\])?",
    re.I,
)
_CODE = lazy(r"^IMDS\d{0,3}$|^ALL$", re.I)


@dataclass
class Suppression:
    line: int
    target_lines: tuple[int, ...]
    codes: tuple[str, ...]  # empty: every rule
    span: Span
    whole_file: bool = False
    used: set[str] = field(default_factory=set)

    def covers(self, finding: Finding, lines: range) -> bool:
        if not self.whole_file and not any(line in lines for line in self.target_lines):
            return False
        return not self.codes or matches(finding.code, self.codes)


def _python_comment_lines(text: str) -> set[int] | None:
    """Lines holding a real comment token, so directives inside strings do not count (None: unknown)."""
    import io
    import tokenize

    lines = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and "imds-lint:" in token.string.lower():
                lines.add(token.start[0])
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return lines


def parse_suppressions(source: SourceText, kind: str | None = None) -> list[Suppression]:
    text = source.text
    if "imds-lint:" not in text.lower():
        return []
    comment_lines = _python_comment_lines(text) if kind == "python" else None
    found = []
    leading_comments = True
    total_lines = len(source.line_starts)
    for number in range(1, total_lines + 1):
        line = source.line_text(number)
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "//", "--", ";", "<#", "/*", "REM", "rem")):
            leading_comments = False
        if "imds-lint:" not in line.lower():
            continue
        if comment_lines is not None and number not in comment_lines:
            continue
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        codes = tuple(c.strip().upper() for c in (match.group("codes") or "").split(",") if c.strip())
        start = source.line_starts[number - 1] + match.start()
        span = Span(start, start + len(match.group(0)))
        own_line = line[: match.start()].strip() == ""
        if match.group("kind").lower() == "file-ignore":
            if leading_comments or own_line:
                found.append(Suppression(number, (), codes, span, whole_file=True))
            continue
        if own_line:
            target = _next_code_line(source, number, total_lines)
            found.append(Suppression(number, (target,) if target else (), codes, span))
        else:
            found.append(Suppression(number, (number,), codes, span))
    return found


def _next_code_line(source: SourceText, line: int, total: int) -> int | None:
    for number in range(line + 1, min(total, line + 50) + 1):
        stripped = source.line_text(number).strip()
        if stripped and not stripped.startswith(("#", "//")):
            return number
    return None


def apply_suppressions(
    findings: list[Finding],
    source: SourceText,
    known_codes: set[str],
    enabled: callable,
    kind: str | None = None,
) -> list[Finding]:
    """Drop suppressed findings; add findings for unused and unknown suppressions."""
    suppressions = parse_suppressions(source, kind)
    if not suppressions:
        return findings
    kept = []
    # Which suppressions can cover a finding, by the lines they target (bisection), plus the
    # file-wide ones; of those, the first in the file whose codes match wins. Comparing every
    # finding with every suppression was quadratic (20,000 of each: 400 million checks).
    targets = sorted((line, i) for i, s in enumerate(suppressions) for line in s.target_lines)
    target_lines = [line for line, _ in targets]
    whole_file = [i for i, s in enumerate(suppressions) if s.whole_file]
    for finding in findings:
        extent = finding.extent or finding.span
        first = source.location(extent.start).line
        last = source.location(max(extent.end - 1, extent.start)).line
        lines = range(first, last + 1)
        near = {i for _, i in targets[bisect_left(target_lines, first):bisect_right(target_lines, last)]}
        hit = next((suppressions[i] for i in sorted(near.union(whole_file)) if suppressions[i].covers(finding, lines)),
                   None)
        if hit is None:
            kept.append(finding)
        else:
            hit.used.add(finding.code)
    for suppression in suppressions:
        unknown = [c for c in suppression.codes if not _is_known(c, known_codes)]
        for code in unknown:
            if enabled("IMDS003"):
                kept.append(Finding(
                    "IMDS003", "unknown-suppression-code", Category.ENGINE, Severity.WARNING,
                    f"suppression names {code}, which is no imds-lint rule", suppression.span,
                ))
        if unknown or suppression.used:
            continue
        if enabled("IMDS002") and (not suppression.codes or any(enabled(c) for c in suppression.codes)):
            what = ", ".join(suppression.codes) or "any rule"
            kept.append(Finding(
                "IMDS002", "unused-suppression", Category.ENGINE, Severity.WARNING,
                f"suppression for {what} matches no finding; remove it", suppression.span,
            ))
    return kept


def _is_known(code: str, known: set[str]) -> bool:
    if not _CODE.match(code):
        return False
    if code == "ALL" or code in known:
        return True
    # A prefix such as IMDS1 selects a family; it is known if any rule starts with it.
    return len(code) < 7 and any(k.startswith(code) for k in known)
