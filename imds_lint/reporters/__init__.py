"""Reporters turn a run's results into text for people or machines."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from imds_lint.model import Finding, ScanError


# Characters scanned text may carry that would act on a terminal or a log instead of showing:
# C0 controls (ESC starts colour and OSC sequences, CR overwrites a line and starts a new GitHub
# runner command), DEL, C1 controls (CSI, OSC in one byte), bidirectional overrides and isolates
# (text that reads differently from what it says), line and paragraph separators.
_UNSAFE = [*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x2028, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES: dict[int, str] | None = None


def printable(text: str) -> str:
    """``text`` with every control, bidi character and lone surrogate spelt as an escape (``\\x1b``, ``\\u202e``)."""
    global _ESCAPES
    if text.isprintable():  # the common case, and every character above is non-printable
        return text
    if _ESCAPES is None:
        _ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE}
        _ESCAPES.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
        # Lone surrogates cannot be written as UTF-8; U+DC80..U+DCFF are undecodable bytes (surrogateescape).
        _ESCAPES.update({c: f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"\\u{c:04x}"
                         for c in range(0xD800, 0xE000)})
    return text.translate(_ESCAPES)


_NOT_XML = None


def xml_text(text: str) -> str:
    """``text`` as XML 1.0 can hold it (JUnit, Checkstyle): controls and lone surrogates spelt as
    by ``printable``, and the rest XML cannot hold at all (U+FFFE, U+FFFF) as ``\\u`` escapes."""
    global _NOT_XML
    if _NOT_XML is None:
        import re

        _NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group(0)):04x}", printable(text))


def valid_text(text: str) -> str:
    """``text`` as it can be written in UTF-8: a lone surrogate (from a Python literal
    ``"\\ud800"``, or an undecodable byte in a file name) becomes its escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(printable(c) if 0xD800 <= ord(c) < 0xE000 else c for c in text)
    return text


def dumps(document) -> str:
    """JSON text that is valid UTF-8 whatever the findings hold (a surrogate stays as a ``\\u`` escape)."""
    import json

    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(document, indent=2, ensure_ascii=True) + "\n"
    return text


class BaselineOutcome:
    """What ``--baseline FILE`` did: findings it hid, and entries nothing matched any more."""

    def __init__(self, path: str, matched: int = 0, stale: list[dict] | None = None):
        self.path, self.matched = path, matched
        self.stale = [] if stale is None else stale


class ProjectInfo:
    """Which repository (and commit) a run scanned, and the root its recorded paths are relative to."""

    def __init__(self, root: str, repository: str | None = None, commit: str | None = None,
                 config: str | None = None, repository_root: str | None = None):
        self.root, self.repository, self.commit = root, repository, commit
        self.config, self.repository_root = config, repository_root

    def as_json(self) -> dict:
        return {"repository": self.repository, "commit": self.commit, "root": self.root, "config": self.config}


class Report:
    """A run's results, for the reporters. (Plain classes here: the dataclasses import is ~10 ms
    of a pre-commit run that finds nothing.)"""

    def __init__(self, findings: list[Finding] | None = None, errors: list[ScanError] | None = None,
                 files_scanned: int = 0, fixes_applied: int = 0, fix_mode: bool = False, unsafe_fixes: bool = False,
                 kinds: dict[str, str] | None = None, baseline: BaselineOutcome | None = None,
                 execution_successful: bool = True):
        self.findings: list[Finding] = [] if findings is None else findings
        self.errors: list[ScanError] = [] if errors is None else errors
        self.files_scanned = files_scanned
        self.fixes_applied = fixes_applied
        self.fix_mode = fix_mode
        self.unsafe_fixes = unsafe_fixes
        # File kind per path that held findings ("shell", "terraform", ...), for the readiness report.
        self.kinds: dict[str, str] = {} if kinds is None else kinds
        # Set by --baseline: what the baseline hid and what in it is stale.
        self.baseline = baseline
        # False when the run itself failed (a usage error, a missing path).
        self.execution_successful = execution_successful
        # One fingerprint per finding, same order (imds_lint.fingerprint); computed on demand.
        self._fingerprints: list[str] | None = None
        # Display path -> path relative to its project root (imds_lint.project), for every path
        # a report or baseline records: the same whichever folder imds-lint ran from.
        self.project_paths: dict[str, str] = {}
        # The projects scanned (usually one): repository, commit, root.
        self.projects: list[ProjectInfo] = []
        # Findings a baseline hid: still there, still breaking, only known.
        self.baselined: list[Finding] = []

    def project_path(self, path: str) -> str:
        found = self.project_paths.get(path)
        if found is not None:
            return found
        from imds_lint.fingerprint import normalise_path

        return normalise_path(path)

    @property
    def project(self) -> ProjectInfo | None:
        """The one project this run scanned, where every path is recorded from the same root in
        the same repository (nested configs of one repository are one project here); None when
        it scanned several (or none)."""
        if not self.projects:
            return None
        first = self.projects[0]
        same = all((p.root, p.repository, p.commit) == (first.root, first.repository, first.commit)
                   for p in self.projects[1:])
        return first if same else None

    def keep(self, findings: list[Finding], fingerprints: list[str]) -> None:
        """Narrow the findings (a baseline hid some) without recomputing their fingerprints:
        occurrence indices count every finding of the file, hidden or not."""
        self.findings, self._fingerprints = findings, fingerprints

    @property
    def fingerprints(self) -> list[str]:
        if self._fingerprints is None or len(self._fingerprints) != len(self.findings):
            from imds_lint.fingerprint import fingerprints

            self._fingerprints = fingerprints(self.findings, self.project_path)
        return self._fingerprints

    @property
    def fixable(self) -> int:
        if not self.findings:
            return 0
        from imds_lint.model import Applicability

        allowed = {Applicability.SAFE, Applicability.UNSAFE} if self.unsafe_fixes else {Applicability.SAFE}
        return sum(1 for f in self.findings if f.fix is not None and f.fix.applicability in allowed)

    @property
    def unsafe_fixable(self) -> int:
        if not self.findings:
            return 0
        from imds_lint.model import Applicability

        return sum(1 for f in self.findings if f.fix is not None and f.fix.applicability is Applicability.UNSAFE)
