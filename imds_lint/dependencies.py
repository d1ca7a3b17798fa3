"""Dependency facts: a package pin or range found in a manifest, lock file or install command.

Front-ends record them under ``analysis.facts[FACT]``; the IMDS4xx rules compare
them with ``imds_lint.versions``. Constraint helpers turn each ecosystem's range
syntax into the few bounds the rules need.
"""

from __future__ import annotations

import re

from imds_lint.model import Span
from imds_lint.patterns import lazy
from imds_lint.records import dataclass

FACT = "dependency"


@dataclass(frozen=True, slots=True)
class Constraint:
    """What a written requirement lets the package manager install.

    ``exact`` is the one version it resolves to (a pin, a lock entry, NuGet's and
    Go's minimum-version resolution). Otherwise ``lower`` is the lowest admitted
    version and ``upper`` the first excluded one. ``upper_follows_lower`` marks
    operators (``^``, ``~``, ``~=``) whose upper bound moves when the written
    version is bumped.
    """

    exact: str | None = None
    lower: str | None = None
    upper: str | None = None
    upper_inclusive: bool = False
    upper_follows_lower: bool = False

    @property
    def pinned(self) -> bool:
        return self.exact is not None


@dataclass(frozen=True, slots=True)
class DependencyFact:
    ecosystem: str
    package: str
    constraint: Constraint
    # The manifest entry (a line) findings point at.
    span: Span
    # Where the version to bump is written, without operators or a "v" prefix.
    version_span: Span | None = None
    manifest: str = ""
    locked: bool = False
    # True when changing the written version is the whole update (no lock, no hashes).
    lock_free_pin: bool = False
    # How the version was reached: "via ${aws.version}", "from base.in".
    via: str = ""
    # Datadog: the same document opts into IMDSv2 (ec2_prefer_imdsv2).
    prefers_imdsv2: bool = False


def line_span(text: str, offset: int) -> Span:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end == -1 else end
    if end > start and text[end - 1] == "\r":
        end -= 1
    return Span(start, max(start, end))


# ---------------------------------------------------------------------------
# PEP 440 (pip, PEP 621, setup.cfg, Pipfile).


def pep440(specifier: str) -> Constraint | None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specs = SpecifierSet(specifier)
    except InvalidSpecifier:
        return None
    lower = upper = None
    upper_inclusive = follows = False
    for spec in specs:
        op, version = spec.operator, spec.version
        if op in ("==", "===") and not version.endswith(".*"):
            return Constraint(exact=version)
        if op == "==" and version.endswith(".*"):
            parts = version[:-2].split(".")
            lower = _max(lower, ".".join(parts + ["0"] * (3 - len(parts))))
            upper = _bump_at(parts, len(parts) - 1)
            follows = True
        elif op in (">=", ">"):
            lower = _max(lower, version)
        elif op == "~=":
            parts = version.split(".")
            lower = _max(lower, version)
            upper = _bump_at(parts[:-1], len(parts) - 2)
            follows = True
        elif op in ("<", "<="):
            upper, upper_inclusive = version, op == "<="
    if lower is None and upper is None:
        return Constraint()
    return Constraint(lower=lower, upper=upper, upper_inclusive=upper_inclusive, upper_follows_lower=follows)


def _max(current: str | None, candidate: str) -> str:
    if current is None:
        return candidate
    from imds_lint.versions import compare

    return candidate if compare("pypi", candidate, current) > 0 else current


def _bump_at(parts: list[str], index: int) -> str:
    numbers = [int(p) if p.isdigit() else 0 for p in parts] or [0]
    index = max(0, min(index, len(numbers) - 1))
    numbers = numbers[: index + 1]
    numbers[index] += 1
    return ".".join(str(n) for n in numbers)


# ---------------------------------------------------------------------------
# npm / Poetry / Composer style ranges: ^1.2.3, ~1.2, 1.2.x, >=1 <2, a - b, x || y.

_VERSION = r"v?(\d+(?:\.(?:\d+|[xX*]))*(?:-[0-9A-Za-z.-]+)?)"
_COMPARATOR = lazy(r"(\^|~>|~=|~|>=|<=|>|<|==|=)?\s*" + _VERSION + r"\s*$")


def semver_range(text: str, separator: str = " ") -> tuple[Constraint, str | None] | None:
    """The constraint of one range and the written version whose bump fixes it."""
    text = text.strip()
    if not text or text in ("*", "latest", "x", "X"):
        return Constraint(), None
    alternatives = [a.strip() for a in text.split("||")]
    results = [r for r in (_one_range(a, separator) for a in alternatives) if r is not None]
    if not results:
        return None
    if len(results) == 1:
        return results[0]
    from functools import cmp_to_key

    from imds_lint.versions import compare

    # A union admits old versions if its most permissive branch does.
    def key(result):
        return result[0].exact or result[0].lower or "0"

    lowest = min(results, key=cmp_to_key(lambda a, b: compare("npm", key(a), key(b))))
    return Constraint(lower=key(lowest)), None


def _one_range(text: str, separator: str) -> tuple[Constraint, str | None] | None:
    if " - " in text:
        low, _, high = text.partition(" - ")
        return Constraint(lower=low.strip().lstrip("v"), upper=high.strip().lstrip("v"), upper_inclusive=True), low.strip().lstrip("v")
    parts = [p for p in re.split(r"\s*,\s*" if separator == "," else r"\s+", text) if p]
    # ">= 1.2" written with a space: join operators to their versions.
    joined: list[str] = []
    for part in parts:
        if joined and re.fullmatch(r"\^|~>|~=|~|>=|<=|>|<|==|=", joined[-1]):
            joined[-1] += part
        else:
            joined.append(part)
    lower = upper = written = None
    upper_inclusive = follows = False
    for part in joined:
        match = _COMPARATOR.match(part)
        if match is None:
            return None
        op, version = match.group(1) or "", match.group(2)
        numbers = version.split("-", 1)[0].split(".")
        wild = [i for i, n in enumerate(numbers) if not n.isdigit()]
        if wild:
            fixed = numbers[: wild[0]]
            if not fixed:
                continue
            lower = ".".join(fixed + ["0"] * (3 - len(fixed)))
            upper = _bump_at(fixed, len(fixed) - 1)
            follows = True
            continue
        if op in ("", "=", "==") and len(joined) == 1:
            if len(numbers) < 3 and op == "":
                # "1.2" is a range (npm) - the lowest is what old resolvers pick.
                return Constraint(lower=version, upper=_bump_at(numbers, len(numbers) - 1), upper_follows_lower=True), version
            return Constraint(exact=version), version
        if op == "^":
            lead = next((i for i, n in enumerate(numbers) if int(n) != 0), len(numbers) - 1)
            lower, upper, follows, written = version, _bump_at(numbers, lead), True, version
        elif op in ("~", "~="):
            lower, written, follows = version, version, True
            upper = _bump_at(numbers, 1 if len(numbers) > 1 else 0) if op == "~" else _bump_at(numbers, len(numbers) - 2)
        elif op == "~>":
            lower, written, follows = version, version, True
            upper = _bump_at(numbers, len(numbers) - 2)
        elif op in (">=", ">"):
            lower, written = version, version
        elif op in ("<", "<="):
            upper, upper_inclusive = version, op == "<="
        elif op in ("=", "=="):
            return Constraint(exact=version), version
    return Constraint(lower=lower, upper=upper, upper_inclusive=upper_inclusive, upper_follows_lower=follows), written


# ---------------------------------------------------------------------------
# Maven / NuGet interval notation: [1.0,2.0), [1.0], (,1.0], 1.0.


def interval(text: str, *, bare_is_exact: bool = True) -> tuple[Constraint, str | None] | None:
    text = text.strip()
    if not text:
        return None
    if text[0] not in "[(":
        if re.fullmatch(r"[0-9][0-9A-Za-z.+_-]*", text) is None:
            return None
        return (Constraint(exact=text) if bare_is_exact else Constraint(lower=text)), text
    match = re.fullmatch(r"([\[(])\s*([^,\])]*?)\s*(?:,\s*([^\])]*?)\s*)?([\])])", text)
    if match is None:
        return None
    opening, low, high, closing = match.groups()
    if high is None:
        return Constraint(exact=low), low
    return Constraint(lower=low or None, upper=high or None, upper_inclusive=closing == "]"), (low or None)


# ---------------------------------------------------------------------------
# Judging a fact against the table (shared by IMDS401-403).


@dataclass(frozen=True, slots=True)
class Verdict:
    fact: DependencyFact
    row: object  # imds_lint.versions.Minimum
    # The version it resolves to, or the lowest one its range admits.
    resolved: str | None
    # True when the range also admits a token-aware version (a warning, not an error).
    admits_supported: bool


def judge(fact: DependencyFact, role: str) -> Verdict | None:
    """Why ``fact`` installs a version without IMDSv2 support, or None when it does not."""
    from imds_lint.versions import compare, lookup

    row = lookup(fact.ecosystem, fact.package)
    if row is None or row.role != role or fact.prefers_imdsv2:
        return None
    c = fact.constraint
    if row.minimum is None:
        return Verdict(fact, row, c.exact or c.lower, False)
    minimum, eco = row.minimum, fact.ecosystem
    if c.exact is not None:
        return Verdict(fact, row, c.exact, False) if compare(eco, c.exact, minimum) < 0 else None
    admits = c.upper is None or compare(eco, c.upper, minimum) > 0 or (c.upper_inclusive and compare(eco, c.upper, minimum) == 0)
    if c.lower is not None and compare(eco, c.lower, minimum) < 0:
        return Verdict(fact, row, c.lower, admits)
    if c.lower is None and c.upper is not None and not admits:
        return Verdict(fact, row, None, False)
    return None


def describe(verdict: Verdict) -> str:
    fact, row = verdict.fact, verdict.row
    via = f" ({fact.via})" if fact.via else ""
    if row.minimum is None:
        pinned = f" {verdict.resolved}" if verdict.resolved else ""
        return f"{fact.package}{pinned}{via} is {row.product}, which never sends IMDSv2 tokens"
    if verdict.resolved is None:
        return (f"{fact.package}{via} is capped below {row.minimum}, the first {row.product} release with "
                "IMDSv2 support")
    if fact.constraint.exact is not None:
        what = "locked at" if fact.locked else "resolves to"
        return (f"{fact.package} {what} {verdict.resolved}{via}; {row.product} uses IMDSv2 tokens only "
                f"from {row.minimum}")
    tail = f"; raise it to {row.minimum}" if verdict.admits_supported else f", and nothing it admits reaches {row.minimum}"
    return (f"{fact.package} admits {verdict.resolved}{via}, older than {row.minimum} (the first {row.product} "
            f"release with IMDSv2 support){tail}")
