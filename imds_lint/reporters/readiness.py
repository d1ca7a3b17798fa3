"""What breaks if ``http_tokens=required`` is flipped now: the numbers behind the
markdown report and the text summary table (no formatting here)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from imds_lint.model import Applicability, Category, Finding, Severity
from imds_lint.reporters import Report

# Findings in these categories stop working code under IMDSv2-only (401s, or
# tokens that never reach a container); enforcement findings are the switch
# itself, and engine findings are about the scan.
BREAKING = (Category.IMDSV1_CALL, Category.PROTOCOL, Category.DEPENDENCY, Category.HOP_LIMIT)
CATEGORY_ORDER = (Category.IMDSV1_CALL, Category.PROTOCOL, Category.DEPENDENCY, Category.HOP_LIMIT,
                  Category.ENFORCEMENT, Category.ENGINE)
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)
TOP_FILES = 10


@dataclass
class FileRow:
    path: str
    kind: str
    counts: Counter = field(default_factory=Counter)  # Severity -> n
    breaking: int = 0
    fixable: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Readiness:
    files_scanned: int
    findings: int
    by_category: dict[Category, Counter]  # Category -> Severity -> n
    by_kind: dict[str, tuple[int, int]]  # kind -> (findings, files)
    first_files: list[FileRow]
    more_files: int
    safe: int
    unsafe: int
    display_only: int
    manual: int
    hop_limit: list[Finding]
    enforcement: list[Finding]
    breaking: int
    breaking_files: int
    verdict: str
    ready: bool


def _breaks(f: Finding) -> bool:
    return f.category in BREAKING and f.severity is not Severity.INFO


def assess(report: Report) -> Readiness:
    findings = report.findings
    by_category: dict[Category, Counter] = {c: Counter() for c in CATEGORY_ORDER}
    rows: dict[str, FileRow] = {}
    kinds: dict[str, tuple[Counter, set]] = {}
    for f in findings:
        by_category.setdefault(f.category, Counter())[f.severity] += 1
        kind = report.kinds.get(f.path, "unknown")
        row = rows.setdefault(f.path, FileRow(f.path, kind))
        row.counts[f.severity] += 1
        row.breaking += _breaks(f)
        row.fixable += f.fixable
        count, files = kinds.setdefault(kind, (Counter(), set()))
        count["n"] += 1
        files.add(f.path)
    by_category = {c: n for c, n in by_category.items() if sum(n.values())}
    fixes = Counter(f.fix.applicability if f.fix is not None else None for f in findings)
    ranked = sorted(rows.values(), key=lambda r: (-r.breaking, -r.counts[Severity.ERROR], -r.total, r.path))
    breaking = [f for f in findings if _breaks(f)]
    breaking_files = len({f.path for f in breaking})
    enforcement = [f for f in findings if f.category is Category.ENFORCEMENT]
    safe = fixes[Applicability.SAFE]
    verdict, ready = _verdict(len(breaking), breaking_files, sum(1 for f in breaking if f.fixable), len(enforcement))
    return Readiness(
        files_scanned=report.files_scanned,
        findings=len(findings),
        by_category=by_category,
        by_kind={k: (v[0]["n"], len(v[1])) for k, v in sorted(kinds.items(), key=lambda kv: (-kv[1][0]["n"], kv[0]))},
        first_files=ranked[:TOP_FILES],
        more_files=max(0, len(ranked) - TOP_FILES),
        safe=safe,
        unsafe=fixes[Applicability.UNSAFE],
        display_only=fixes[Applicability.DISPLAY_ONLY],
        manual=fixes[None],
        hop_limit=[f for f in findings if f.category is Category.HOP_LIMIT],
        enforcement=enforcement,
        breaking=len(breaking),
        breaking_files=breaking_files,
        verdict=verdict,
        ready=ready,
    )


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _verdict(breaking: int, files: int, fixable: int, enforcement: int) -> tuple[str, bool]:
    if breaking:
        fix = f"{fixable} of them fixable automatically" if fixable else "none fixable automatically"
        return (f"Not ready: {_plural(breaking, 'finding')} in {_plural(files, 'file')} would break "
                f"if http_tokens=required were flipped now ({fix})."), False
    if enforcement:
        return (f"Ready to enforce: nothing found that breaks under IMDSv2-only; "
                f"{_plural(enforcement, 'IaC resource')} still allow{'s' if enforcement == 1 else ''} IMDSv1."), True
    return "Ready: nothing found that breaks under IMDSv2-only, and no IaC resource allows IMDSv1.", True
