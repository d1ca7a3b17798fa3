"""The cheap part of every file: read it, run the prefilter, name its kind.

About 99% of a repository's files end here, so this module imports nothing
heavy (no dataclasses, no model, no front-end): a pre-commit run whose files
all fail the prefilter is done after it. ``imds_lint.engine`` does the rest.
"""

from __future__ import annotations

from imds_lint import prefilter
from imds_lint.kinds import Kind, classify, kind_from_name
from imds_lint.source import SkipFile, SourceText, decode, looks_binary, read_bytes

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import Path


class FileResult:
    """What one file's scan produced."""

    __slots__ = ("path", "findings", "errors", "scanned", "kind", "original", "fixed", "fixes_applied")

    def __init__(self, path: str, findings: list | None = None, errors: list | None = None, scanned: bool = False,
                 kind: str = Kind.UNKNOWN, original: str | None = None, fixed: str | None = None,
                 fixes_applied: int = 0):
        self.path = path
        self.findings = [] if findings is None else findings
        self.errors = [] if errors is None else errors
        self.scanned = scanned
        self.kind = kind
        # Set by fix runs: the text as read, the fixed text and how many fixes went in.
        self.original = original
        self.fixed = fixed
        self.fixes_applied = fixes_applied

    def __repr__(self) -> str:
        return (f"FileResult({self.path!r}, {len(self.findings)} findings, {len(self.errors)} errors, "
                f"scanned={self.scanned}, kind={self.kind!r})")


def _note(result: FileResult, message: str) -> None:
    from imds_lint.model import ScanError

    result.errors.append(ScanError(result.path, message))


def load(path: str | Path, result: FileResult, max_file_size: int) -> tuple[SourceText, str] | None:
    """The file's text and kind when a front-end must read it; None when ``result`` is final."""
    try:
        raw = read_bytes(path, max_file_size)
    except SkipFile as exc:
        _note(result, str(exc))
        return None
    return load_bytes(raw, path, result)


def load_bytes(raw: bytes, path: str | Path, result: FileResult) -> tuple[SourceText, str] | None:
    """``load`` for bytes already read (stdin); ``path`` names the file for its kind."""
    result.scanned = True
    # The prefilter first: it rejects almost every file, and the binary check is for the rest.
    if not prefilter.is_candidate(raw, kind_from_name(path)) or looks_binary(raw):
        return None
    source = decode(raw)
    kind = classify(path, source.text)
    result.kind = kind
    if kind == Kind.UNKNOWN:
        return None
    if kind == Kind.JSON and is_own_report(source.text):
        # Last run's --output json/gitlab left in the tree quotes every URL it found: scanning it
        # would report each finding twice, once where it is and once in the report.
        _note(result, "an imds-lint report; not scanned")
        return None
    if source.lossy:
        _note(result, f"not valid {source.encoding}; scanned with replacement characters" + (
            " (a fix keeps every undecodable byte)" if source.rewritable else " and never rewritten"))
    return source, kind


def screen(path: str | Path, display: str, max_file_size: int) -> FileResult | None:
    """The final result for a file no front-end needs to see, else None (``engine`` reads it again)."""
    result = FileResult(display)
    return result if load(path, result, max_file_size) is None else None


_OWN_REPORT = None


def is_own_report(text: str) -> bool:
    """Whether ``text`` is a report imds-lint wrote: its JSON (one repository's or a fleet's) or its
    GitLab Code Quality list, recognised by how each begins as the reporters write it."""
    global _OWN_REPORT
    if _OWN_REPORT is None:
        import re

        _OWN_REPORT = re.compile(
            r'\{\s*"version": 1,\s*(?:"kind": "fleet",\s*)?"tool": \{\s*"name": "imds-lint",'
            r'|\[\s*\{\s*"type": "issue",\s*"check_name": "IMDS\d{3} [a-z0-9-]+",')
    return _OWN_REPORT.match(text, 0, 400) is not None
