"""Reporters turn a run's results into text for people or machines."""

from __future__ import annotations

from dataclasses import dataclass, field

from imds_lint.model import Finding, ScanError


@dataclass
class BaselineOutcome:
    """What ``--baseline FILE`` did: findings it hid, and entries nothing matched any more."""

    path: str
    matched: int = 0
    stale: list[dict] = field(default_factory=list)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    files_scanned: int = 0
    fixes_applied: int = 0
    fix_mode: bool = False
    unsafe_fixes: bool = False
    # File kind per path that held findings ("shell", "terraform", ...), for the readiness report.
    kinds: dict[str, str] = field(default_factory=dict)
    # Set by --baseline: what the baseline hid and what in it is stale.
    baseline: BaselineOutcome | None = None
    # False when the run itself failed (a usage error, a missing path).
    execution_successful: bool = True
    # One fingerprint per finding, same order (imds_lint.fingerprint); computed on demand.
    _fingerprints: list[str] | None = field(default=None, repr=False)

    def keep(self, findings: list[Finding], fingerprints: list[str]) -> None:
        """Narrow the findings (a baseline hid some) without recomputing their fingerprints:
        occurrence indices count every finding of the file, hidden or not."""
        self.findings, self._fingerprints = findings, fingerprints

    @property
    def fingerprints(self) -> list[str]:
        if self._fingerprints is None or len(self._fingerprints) != len(self.findings):
            from imds_lint.fingerprint import fingerprints

            self._fingerprints = fingerprints(self.findings)
        return self._fingerprints

    @property
    def fixable(self) -> int:
        from imds_lint.model import Applicability

        allowed = {Applicability.SAFE, Applicability.UNSAFE} if self.unsafe_fixes else {Applicability.SAFE}
        return sum(1 for f in self.findings if f.fix is not None and f.fix.applicability in allowed)

    @property
    def unsafe_fixable(self) -> int:
        from imds_lint.model import Applicability

        return sum(1 for f in self.findings if f.fix is not None and f.fix.applicability is Applicability.UNSAFE)
