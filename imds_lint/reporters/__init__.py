"""Reporters turn a run's results into text for people or machines."""

from __future__ import annotations

from dataclasses import dataclass, field

from imds_lint.model import Finding, ScanError


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    files_scanned: int = 0
    fixes_applied: int = 0
    fix_mode: bool = False
    unsafe_fixes: bool = False

    @property
    def fixable(self) -> int:
        from imds_lint.model import Applicability

        allowed = {Applicability.SAFE, Applicability.UNSAFE} if self.unsafe_fixes else {Applicability.SAFE}
        return sum(1 for f in self.findings if f.fix is not None and f.fix.applicability in allowed)

    @property
    def unsafe_fixable(self) -> int:
        from imds_lint.model import Applicability

        return sum(1 for f in self.findings if f.fix is not None and f.fix.applicability is Applicability.UNSAFE)
