"""What breaks if ``http_tokens=required`` is flipped now: the numbers behind the
markdown report, the text summary table and the fleet report (no formatting here).

One vocabulary for every count, so no two numbers in a report disagree:
*findings* are what the run found, reported or only baselined; *breaking* ones
stop working code under IMDSv2-only; *fixable* means ``--fix`` or ``--fix
--unsafe-fixes`` rewrites it (split into *safe* and *unsafe*); *baselined*
ones are known and hidden from the checks, but break all the same.
"""

from __future__ import annotations

from collections import Counter

from imds_lint.model import Applicability, Category, Finding, Severity
from imds_lint.records import dataclass, field
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
    baselined: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class RuleRow:
    code: str
    name: str
    category: str
    severity: str
    findings: int = 0
    breaking: int = 0
    fixable: int = 0
    baselined: int = 0


@dataclass
class Readiness:
    files_scanned: int
    findings: int  # reported + baselined
    reported: int
    baselined: int
    by_category: dict[Category, Counter]  # Category -> Severity -> n
    by_kind: dict[str, tuple[int, int]]  # kind -> (findings, files)
    by_rule: list[RuleRow]
    first_files: list[FileRow]
    more_files: int
    safe: int
    unsafe: int
    display_only: int
    manual: int
    hop_limit: list[Finding]
    enforcement: list[Finding]
    breaking: int
    breaking_baselined: int
    breaking_files: int
    breaking_fixable: int
    verdict: str
    ready: bool

    @property
    def fixable(self) -> int:
        return self.safe + self.unsafe


def breaks(f: Finding) -> bool:
    return f.category in BREAKING and f.severity is not Severity.INFO


def assess(report: Report) -> Readiness:
    hidden = {id(f) for f in report.baselined}
    findings = sorted([*report.findings, *report.baselined], key=lambda f: f.sort_key())
    by_category: dict[Category, Counter] = {c: Counter() for c in CATEGORY_ORDER}
    rows: dict[str, FileRow] = {}
    kinds: dict[str, tuple[Counter, set]] = {}
    rules: dict[str, RuleRow] = {}
    for f in findings:
        baselined = id(f) in hidden
        by_category.setdefault(f.category, Counter())[f.severity] += 1
        kind = report.kinds.get(f.path, "unknown")
        path = report.project_path(f.path)
        row = rows.setdefault(path, FileRow(path, kind))
        row.counts[f.severity] += 1
        row.breaking += breaks(f)
        row.fixable += f.fixable
        row.baselined += baselined
        count, files = kinds.setdefault(kind, (Counter(), set()))
        count["n"] += 1
        files.add(path)
        rule = rules.setdefault(f.code, RuleRow(f.code, f.name, f.category.value, f.severity.value))
        rule.findings += 1
        rule.breaking += breaks(f)
        rule.fixable += f.fixable
        rule.baselined += baselined
    by_category = {c: n for c, n in by_category.items() if sum(n.values())}
    fixes = Counter(f.fix.applicability if f.fix is not None else None for f in findings)
    ranked = sorted(rows.values(), key=lambda r: (-r.breaking, -r.counts[Severity.ERROR], -r.total, r.path))
    breaking = [f for f in findings if breaks(f)]
    breaking_files = len({report.project_path(f.path) for f in breaking})
    breaking_fixable = sum(1 for f in breaking if f.fixable)
    breaking_baselined = sum(1 for f in breaking if id(f) in hidden)
    enforcement = [f for f in findings if f.category is Category.ENFORCEMENT]
    verdict, ready = verdict_for(len(breaking), breaking_files, breaking_fixable, breaking_baselined,
                                 len(enforcement))
    return Readiness(
        files_scanned=report.files_scanned,
        findings=len(findings),
        reported=len(report.findings),
        baselined=len(report.baselined),
        by_category=by_category,
        by_kind={k: (v[0]["n"], len(v[1])) for k, v in sorted(kinds.items(), key=lambda kv: (-kv[1][0]["n"], kv[0]))},
        by_rule=sorted(rules.values(), key=lambda r: (-r.breaking, -r.findings, r.code)),
        first_files=ranked[:TOP_FILES],
        more_files=max(0, len(ranked) - TOP_FILES),
        safe=fixes[Applicability.SAFE],
        unsafe=fixes[Applicability.UNSAFE],
        display_only=fixes[Applicability.DISPLAY_ONLY],
        manual=fixes[None],
        hop_limit=[f for f in findings if f.category is Category.HOP_LIMIT],
        enforcement=enforcement,
        breaking=len(breaking),
        breaking_baselined=breaking_baselined,
        breaking_files=breaking_files,
        breaking_fixable=breaking_fixable,
        verdict=verdict,
        ready=ready,
    )


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural_form or word + 's')}"


def verdict_for(breaking: int, files: int, fixable: int, baselined: int, enforcement: int) -> tuple[str, bool]:
    """The one-line verdict. Baselined findings count: a baseline hides findings from the checks,
    it does not make them work under IMDSv2-only."""
    if breaking:
        fix = f"{fixable} of them fixable automatically" if fixable else "none fixable automatically"
        known = ""
        if baselined == breaking:
            known = ", all of them only baselined"
        elif baselined:
            known = f", {baselined} of them only baselined"
        return (f"Not ready: {plural(breaking, 'finding')} in {plural(files, 'file')} would break "
                f"if http_tokens=required were flipped now ({fix}{known})."), False
    if enforcement:
        return (f"Ready to enforce: nothing found that breaks under IMDSv2-only; "
                f"{plural(enforcement, 'IaC resource')} still allow{'s' if enforcement == 1 else ''} IMDSv1."), True
    return "Ready: nothing found that breaks under IMDSv2-only, and no IaC resource allows IMDSv1.", True
