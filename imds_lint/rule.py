"""The rule API: one class per rule, with its documentation and tested examples."""

from __future__ import annotations

from imds_lint.model import Category, Finding, Fix, Request, Severity, Span
from imds_lint.records import dataclass

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from typing import ClassVar, Iterator, Sequence

    from imds_lint.fixers import Fixer
    from imds_lint.frontends import Analysis


@dataclass(frozen=True)
class Valid:
    """Code this rule must not flag (executed by the test suite)."""

    kind: str
    code: str


@dataclass(frozen=True)
class Invalid:
    """Code this rule must flag ``count`` times; ``fixed`` is what ``--fix`` makes of it."""

    kind: str
    code: str
    fixed: str | None = None
    count: int = 1
    unsafe_fixes: bool = False


class RuleContext:
    """What a rule sees of the document it checks, and how it reports."""

    def __init__(self, analysis: Analysis, token_ttl: int, fixer: Fixer):
        self.analysis = analysis
        self.document = analysis.document
        # Chosen by the engine for the document's language (``fixers.fixer_for``).
        self.fixer = fixer
        self.token_ttl = token_ttl
        self.findings: list[Finding] = []

    def report(self, rule: Rule, span: Span, message: str, fix: Fix | None = None,
               severity: Severity | None = None, extent: Span | None = None) -> None:
        """Record a finding at ``span`` of this document; the engine places it in the file."""
        root_fix = self.document.fix_to_root(fix) if fix is not None else None
        self.findings.append(Finding(
            code=rule.code, name=rule.name, category=rule.category,
            severity=severity or rule.severity, message=message,
            span=self.document.to_root_span(span), fix=root_fix,
            extent=self.document.to_root_span(extent) if extent is not None else None,
        ))

    def report_request(self, rule: Rule, request: Request, message: str, fix: Fix | None = None,
                       severity: Severity | None = None) -> None:
        """Report at the request's anchor; suppressions anywhere on its statement apply."""
        self.report(rule, request.anchor, message, fix, severity, extent=request.span)


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    category: ClassVar[Category]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    fix_title: ClassVar[str | None] = None
    # What to do about a finding, for rules whose findings have no fix: shown as the `= help:`
    # line of the text output (the message says what is wrong; this, what to do).
    help: ClassVar[str | None] = None
    valid: ClassVar[Sequence[Valid]] = ()
    invalid: ClassVar[Sequence[Invalid]] = ()
    # Engine rules are raised by the engine itself, not by checking requests.
    engine: ClassVar[bool] = False
    # Opt-in rules run only when selected by their full code (`--select IMDS211`, or
    # `select = ["IMDS211"]`): ALL and prefixes leave them out. For advice the
    # linter cannot be sure of (it cannot see everything that starts containers).
    opt_in: ClassVar[bool] = False

    def check_request(self, request: Request, ctx: RuleContext) -> Iterator[None]:
        return iter(())

    def check_analysis(self, analysis: Analysis, ctx: RuleContext) -> Iterator[None]:
        return iter(())

    @classmethod
    def documentation(cls) -> str:
        import inspect  # only --explain and the docs tests read it: a run does not pay for inspect
        import textwrap

        return textwrap.dedent(inspect.getdoc(cls) or "").strip()
