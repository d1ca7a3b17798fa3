"""The pipeline for one file: read -> prefilter -> classify -> front-ends -> rules -> suppressions.

Also the fix loop (after ruff): apply non-overlapping fixes, re-parse, revert
fixes that break parsing, re-lint, and stop at convergence.
"""

from __future__ import annotations

import functools
import os

from imds_lint import screening
from imds_lint.config import Settings
from imds_lint.decoding import DecodeBudget
from imds_lint.fixers import apply_edits, fixer_for, merge_rewrites, select_fixes
from imds_lint.kinds import Kind
from imds_lint.frontends import Analysis, container_context, frontend_for
from imds_lint.model import Applicability, ContainerContext, Document, Finding, ScanError
from imds_lint.records import replace
from imds_lint.registry import FACTS, catalog_codes, matches, opt_in_codes, rule_by_code, rules_for, selects_by_name
from imds_lint.rule import RuleContext
from imds_lint.screening import FileResult  # noqa: F401 (re-exported)
from imds_lint.source import SkipFile, SourceText, write_fixed
from imds_lint.suppressions import apply_suppressions

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import Path

MAX_FIX_PASSES = 10
MAX_EMBEDDING_DEPTH = 8
# Kinds a container image can run by name (a Dockerfile's CMD, ENTRYPOINT or RUN; a compose
# service builds a Dockerfile). Looking for the image costs a walk up the folders and a parse of
# the Dockerfiles found, so Terraform, CloudFormation, manifests and the like never pay for it.
CONTAINER_RUNNABLE = frozenset({
    Kind.SHELL, Kind.PYTHON, Kind.POWERSHELL, Kind.DOCKERFILE, Kind.MAKEFILE, Kind.JUSTFILE,
    Kind.JAVASCRIPT, Kind.TYPESCRIPT, Kind.TSX, Kind.GO, Kind.JAVA, Kind.CSHARP, Kind.RUBY,
})


class Session:
    """Hands documents to front-ends; the one place their failures are caught."""

    def __init__(self, errors: list[str], origin: str | None = None, decode_limit: int | None = None,
                 project=None):
        self.errors = errors
        # The file the root document was read from, for formats that include others (-r).
        self.origin = origin
        # The project index (or a function making it, on first use): the only way a front-end
        # sees another file. None: it sees none.
        self._project = project
        # One budget for every payload decoded inside this file, however deeply nested (see decoding).
        self.decode_budget = None if decode_limit is None else DecodeBudget(decode_limit)

    @property
    def project(self):
        if callable(self._project):
            self._project = self._project()
        return self._project

    def analyze(self, document: Document) -> list[Analysis]:
        if document.depth > MAX_EMBEDDING_DEPTH:
            return []
        from imds_lint.frontends import ParserGaveUp

        try:
            return frontend_for(document.kind).analyze(document, self)
        except ParserGaveUp as exc:
            self.errors.append(f"{document.kind}: {exc}; fell back to text scanning")
        except RecursionError:
            self.errors.append(f"{document.kind} document nested too deeply; fell back to text scanning")
        except Exception as exc:  # a front-end bug must cost one document, not the run
            self.errors.append(f"internal error in the {document.kind} front-end ({type(exc).__name__}: {exc}); "
                               "fell back to text scanning")
        from imds_lint.frontends import text

        fallback = text.analyze(document, self)
        for analysis in fallback:
            analysis.fell_back = True
        return fallback


class Linter:
    def __init__(self, settings: Settings, cache=None):
        from imds_lint.project import forget_real_paths
        from imds_lint.project_index import forget_groups

        forget_real_paths()
        forget_groups()
        self.settings = settings
        # The results cache (imds_lint.cache.ResultsCache) lint_file reads and writes; None: off.
        self.cache = cache
        self._settings_print: str | None = None
        # The rules each set of facts needs (registry.rules_for), one instance of each rule.
        self._rules: dict[frozenset[str], list] = {}
        self._instances: dict[type, object] = {}
        self._known: set[str] | None = None
        self._project = None

    @property
    def project(self):
        """The cross-file index of this run, built on first use (most files never ask)."""
        if self._project is None:
            from imds_lint.project_index import ProjectIndex

            self._project = ProjectIndex.for_settings(self.settings)
        return self._project

    def rules_for(self, analysis: Analysis) -> list:
        """The enabled rules for ``analysis``: the catalog is loaded with the first file a front-end
        reads (a pre-commit run whose files all fail the prefilter never imports it), and a rule
        that checks one fact only with the first document that holds it (registry.FACT_RULES)."""
        facts = frozenset(name for name, values in analysis.facts.items() if values and name in FACTS)
        rules = self._rules.get(facts)
        if rules is None:
            rules = self._rules[facts] = []
            for rule in rules_for(facts):
                if not rule.engine and self.enabled(rule.code):
                    if rule not in self._instances:
                        self._instances[rule] = rule()
                    rules.append(self._instances[rule])
        return rules

    @property
    def known(self) -> set[str]:
        # Read off the catalog's module names (tests/test_hostile_inputs.py holds them to the classes'
        # codes): knowing a code must not import its rule.
        if self._known is None:
            self._known = set(catalog_codes())
        return self._known

    def enabled(self, code: str, path: str | None = None) -> bool:
        s = self.settings
        if not matches(code, s.select) or matches(code, s.ignore):
            return False
        if code in opt_in_codes() and not selects_by_name(code, s.select):
            return False
        if path is not None:
            for pattern, codes in s.per_file_ignores:
                if matches(code, codes) and _path_matches(path, pattern):
                    return False
        return True

    # -- one text ------------------------------------------------------------
    def lint_text(self, text: str, kind: str, source: SourceText, path: str,
                  origin: str | None = None,
                  container: ContainerContext | None = None,
                  project_path: str | None = None) -> tuple[list[Finding], list[str]]:
        """``path`` is what findings show; ``project_path`` (relative to the config's folder) is
        what per-file-ignores match, so they mean the same from any folder."""
        notes: list[str] = []
        ignore_path = path if project_path is None else project_path
        session = Session(notes, origin, self.settings.max_file_size,
                          project=(lambda: self.project.with_root_for(origin)) if origin is not None else None)
        analyses = session.analyze(Document(kind, text, container=container, path=path))
        findings: list[Finding] = []
        text_scanned: list[tuple[int, str]] = []
        # Each document is let go once its rules have run (its findings keep no reference to it):
        # a file of n embedded documents then never holds all n parsed trees beside all n findings.
        analyses.reverse()
        while analyses:
            analysis = analyses.pop()
            ctx = RuleContext(analysis, self.settings.token_ttl, fixer_for(analysis))
            self._parse_problems(analysis, ctx, source, text_scanned)
            for rule in self.rules_for(analysis):
                for request in analysis.requests:
                    rule.check_request(request, ctx)
                rule.check_analysis(analysis, ctx)
            findings.extend(_unfixable_where_unparsed(ctx.findings, analysis))
        if text_scanned:
            notes.append(_text_scanned_note(text_scanned))
        findings = _dedupe(findings)
        findings = apply_suppressions(findings, source, self.known, lambda c: self.enabled(c, ignore_path), kind)
        findings = [f for f in findings if self.enabled(f.code, ignore_path)]
        located = []
        for f in findings:
            start = source.location(f.span.start)
            end = source.location(f.span.end)
            edits = () if f.fix is None else tuple(
                (source.location(e.start), source.location(e.end)) for e in f.fix.edits)
            snippet, snippet_column = source.snippet(start.line, start.column)
            located.append(replace(f, path=path, start=start, end=end, snippet=snippet, snippet_column=snippet_column,
                                   fix_locations=edits))
        located.sort(key=Finding.sort_key)
        return located, notes

    def _parse_problems(self, analysis: Analysis, ctx: RuleContext, source: SourceText,
                        text_scanned: list[tuple[int, str]]) -> None:
        """Text-scan what the parser could not read; say so once, at the file's own lines.

        Only a parser that is the language's own (or as strict) proves the file broken
        (IMDS001). A grammar that gave up gets a note: the file may well be fine.
        """
        if not analysis.problems:
            return
        from imds_lint.frontends import text as text_frontend

        known = {r.span for r in analysis.requests}
        for problem in analysis.problems:
            for request in text_frontend.scan(analysis.document, problem.span):
                if not any(s.overlaps(request.span) or s.contains(request.span) for s in known):
                    analysis.requests.append(request)
        document = analysis.document
        first = analysis.problems[0]
        line = source.location(document.to_root_offset(first.span.start)).line
        where = f" in {document.label}" if document.label else ""
        if not first.exact:
            text_scanned.append((line, f"{first.message}{where}"))
            return
        if self.enabled("IMDS001"):
            rule = rule_by_code("IMDS001")
            if rule is not None:
                ctx.report(rule(), first.span, f"{first.message} (line {line}){where}; requests in the broken "
                           "region were found by text scanning and cannot be fixed automatically")

    # -- one file --------------------------------------------------------------
    def lint_file(self, path: str | Path, display: str, raw: bytes | None = None) -> FileResult:
        """Lint the file at ``path``; with ``raw``, those bytes as if they were its content (stdin)."""
        result = FileResult(display)
        loaded = self._load(path, result, raw)
        if loaded is None:
            return result
        source, kind = loaded
        if self.cache is not None and raw is None:
            findings, notes, dialect = self._lint_cached(path, display, source, kind)
        else:
            findings, notes = self._lint_loaded(path, display, source, kind)
            dialect = _dialect(kind, source.text) if findings else None
        result.findings = findings
        result.errors.extend(ScanError(display, n) for n in notes)
        if dialect is not None:
            result.kind = dialect
        return result

    def _lint_loaded(self, path: str | Path, display: str, source: SourceText, kind: str,
                     project_path: str | None = None):
        return self.lint_text(source.text, kind, source, display, origin=_pure(path),
                              container=self._container(path, kind),
                              project_path=self._project_path(path) if project_path is None else project_path)

    def _lint_cached(self, path: str | Path, display: str, source: SourceText, kind: str):
        """lint_file's result from the cache when every question its analysis asked of the project
        index gets the answer it got then; else computed, and stored with those questions."""
        from imds_lint import cache, project_index

        if self._settings_print is None:
            self._settings_print = cache.settings_fingerprint(self.settings)
        project_path = self._project_path(path)
        try:
            key, stored = cache.lookup(self.cache, self._settings_print, self.project, str(path), display,
                                       project_path, source.raw)
        except Exception:  # the cache can only spare work: on any trouble the file is linted
            key, stored = None, None
        if stored is not None:
            return stored
        project_index.start_recording()
        try:
            findings, notes = self._lint_loaded(path, display, source, kind, project_path)
        finally:
            asked = project_index.stop_recording()
        dialect = _dialect(kind, source.text) if findings else None
        if asked is not None and key is not None:
            try:
                self.cache.put_groups(asked)
                self.cache.put(key, cache.encode_result(findings, notes, dialect, asked))
            except Exception:  # an entry not written is a miss next time, never this run's loss
                pass
        return findings, notes, dialect

    def _project_path(self, path: str | Path) -> str:
        from imds_lint.project import relative_to_root

        return relative_to_root(str(path), self.settings.root)

    def _container(self, path: str | Path, kind: str) -> ContainerContext | None:
        """Where the file runs when a container image in the repo copies and runs it."""
        if kind not in CONTAINER_RUNNABLE:
            return None
        try:
            return container_context(_pure(path), self.project.with_root_for(path))
        except Exception:  # a heuristic must never cost the file its scan
            return None

    def _load(self, path: str | Path, result: FileResult, raw: bytes | None = None) -> tuple[SourceText, str] | None:
        if raw is not None:
            return screening.load_bytes(raw, path, result)
        return screening.load(path, result, self.settings.max_file_size)

    # -- fixing ----------------------------------------------------------------
    def fix_file(self, path: str | Path, display: str, unsafe: bool, write: bool,
                 through_links: bool = False, raw: bytes | None = None, display_only: bool | None = None) -> FileResult:
        """Fix one file; with ``write`` False (``--diff``) display-only fixes are shown too.

        A symbolic link or a file with several hard links is not rewritten unless
        ``through_links``: an atomic rename would replace the link with a plain
        file, or split the hard links.
        """
        result = FileResult(display)
        loaded = self._load(path, result, raw)
        if loaded is None:
            return result
        source, kind = loaded
        allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
        if (not write) if display_only is None else display_only:
            allowed.add(Applicability.DISPLAY_ONLY)
        project_path = self._project_path(path)
        fixed, applied, notes, last = self._fix_passes(source, kind, display, allowed, origin=_pure(path),
                                                       project_path=project_path)
        result.original, result.fixed, result.fixes_applied = source.text, fixed, applied
        container = self._container(path, kind)
        if last is not None and container is None:
            final, more_notes = last  # the fix loop's last pass linted this very text, as this would
        else:
            final, more_notes = self.lint_text(fixed, kind, _retext(source, fixed), display, origin=_pure(path),
                                               container=container, project_path=project_path)
        result.findings = final
        if final:
            result.kind = _dialect(kind, source.text)
        result.errors.extend(ScanError(display, n) for n in notes + more_notes)
        if write and fixed != source.text:
            try:
                from pathlib import Path  # a fix written: not a lint run's cost

                write_fixed(Path(path), source.encode(fixed), source.raw, through_links)
            except SkipFile as exc:
                result.errors.append(ScanError(display, f"fix not written: {exc}"))
                result.fixed, result.fixes_applied = source.text, 0
                result.findings, _ = self.lint_text(source.text, kind, source, display, origin=_pure(path),
                                                    container=container, project_path=project_path)
            except OSError as exc:
                result.errors.append(ScanError(display, f"fix not written: {exc.strerror or exc}"))
                result.fixed, result.fixes_applied = source.text, 0
                result.findings, _ = self.lint_text(source.text, kind, source, display, origin=_pure(path),
                                                    container=container, project_path=project_path)
        return result

    def fix_text(self, source: SourceText, kind: str, path: str,
                 allowed: set[Applicability], origin: str | None = None,
                 project_path: str | None = None) -> tuple[str, int, list[str]]:
        text, applied, notes, _ = self._fix_passes(source, kind, path, allowed, origin, project_path)
        return text, applied, notes

    def _fix_passes(self, source: SourceText, kind: str, path: str, allowed: set[Applicability],
                    origin: str | None = None, project_path: str | None = None):
        """The fixed text, the fixes applied, notes, and the last pass's (findings, notes) where that
        pass linted the text returned (None otherwise): linting it once more would cost a third of
        a --diff of many MIME parts, and its peak memory."""
        text = source.text
        applied = 0
        notes: list[str] = []
        if not source.rewritable:
            return text, 0, notes, None
        baseline_errors = syntax_errors(text, kind)
        seen: set[bytes] = {_digest(text)}  # every text a pass produced, to stop on a cycle
        for _ in range(MAX_FIX_PASSES):
            linted = self.lint_text(text, kind, _retext(source, text), path, origin=origin,
                                    project_path=project_path)
            # A withheld suggestion (no edits, only the reason in its title) is nothing to apply.
            fixes = [f.fix for f in linted[0] if f.fix is not None and f.fix.applicability in allowed and f.fix.edits]
            if not fixes:
                return text, applied, notes, linted
            chosen, _ = select_fixes(merge_rewrites(fixes))
            candidate = apply_edits(text, [e for fix in chosen for e in fix.edits])
            if syntax_errors(candidate, kind) > baseline_errors:
                chosen, candidate = self._without_breaking_fixes(text, kind, chosen, baseline_errors, notes)
            if candidate == text or _digest(candidate) in seen:
                return text, applied, notes, linted
            seen.add(_digest(candidate))
            text = candidate
            applied += sum(fix.merged for fix in chosen)
            del linted, fixes, chosen  # not held while the next pass parses the new text
        notes.append(f"fixes did not converge after {MAX_FIX_PASSES} passes; the last pass was kept")
        return text, applied, notes, None

    def _without_breaking_fixes(self, text, kind, chosen, baseline, notes):
        """The fixes that parse, found by halving: a group that parses with those kept so far is
        kept whole, one that does not is split. k breaking fixes among n cost about k*log(n)
        re-parses, where trying them one by one cost n (each of the whole file)."""
        kept: list = []

        def parses(fixes) -> bool:
            return syntax_errors(apply_edits(text, [e for f in fixes for e in f.edits]), kind) <= baseline

        pending = [chosen]
        while pending:
            group = pending.pop()
            if parses(kept + group):
                kept.extend(group)
            elif len(group) == 1:
                notes.append(f"reverted a fix that would not parse: {group[0].title}")
            else:
                half = len(group) // 2
                pending.append(group[half:])
                pending.append(group[:half])  # popped first: fixes are tried in their order
        return kept, apply_edits(text, [e for f in kept for e in f.edits])


def syntax_errors(text: str, kind: str) -> int:
    """How many syntax errors the front-end of ``kind`` sees; 0 where it cannot tell."""
    from imds_lint.frontends import ParserGaveUp

    module = frontend_for(kind)
    counter = getattr(module, "syntax_errors", None)
    try:
        return counter(text) if counter is not None else 0
    except ParserGaveUp:
        return 10**9  # as good as unparseable: no fix may be judged against it


def _digest(text: str) -> bytes:
    """A text's identity for the fix loop's cycle check: the texts themselves were kept, a copy of
    the whole file per pass."""
    from imds_lint.project_index import blake2b  # hashlib's, without its import of OpenSSL

    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=32).digest()


def _retext(source: SourceText, text: str) -> SourceText:
    return SourceText(source.raw, text, source.encoding, source.bom, source.lossy, source.escaped)


def _unfixable_where_unparsed(findings: list[Finding], analysis: Analysis) -> list[Finding]:
    """No fix touches a region the parser could not read: its tree there is the grammar's guess,
    so an edit placed by it may land inside the broken construct and never take (a header added
    into an unclosed ``$(`` was added again on every pass)."""
    if not analysis.problems:
        return findings
    document = analysis.document
    regions = [(document.to_root_offset(p.span.start), document.to_root_offset(p.span.end))
               for p in analysis.problems]

    def touches(start: int, end: int) -> bool:
        return any(start <= r_end and end >= r_start for r_start, r_end in regions)

    return [replace(f, fix=None) if f.fix is not None and (
        touches(f.span.start, f.span.end) or any(touches(e.start, e.end) for e in f.fix.edits)) else f
        for f in findings]


def _text_scanned_note(regions: list[tuple[int, str]]) -> str:
    """One note per file for every region a grammar could not read (IMDS001 is not raised)."""
    regions = sorted(set(regions))
    shown = "; ".join(f"line {line}: {message}" for line, message in regions[:5])
    more = f"; and {len(regions) - 5} more" if len(regions) > 5 else ""
    return (f"scanned as text ({shown}{more}): requests there were found by text scanning "
            "and cannot be fixed automatically")


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and place: a helper reached from many callers is reported once.

    Requests inside a blob written back whole (base64 user-data) all land on the
    blob: the one finding kept there carries every one of their fixes, merged.
    """
    seen: dict[tuple, int] = {}
    unique: list[Finding] = []
    for f in findings:
        key = (f.code, f.span)
        if key not in seen:
            seen[key] = len(unique)
            unique.append(f)
            continue
        kept = unique[seen[key]]
        if kept.fix is not None and f.fix is not None and kept.fix.rerender is not None \
                and f.fix.rerender is not None and kept.fix.rerender[0] is f.fix.rerender[0] \
                and kept.fix.applicability is f.fix.applicability:
            document = kept.fix.rerender[0]
            edits = (*kept.fix.rerender[1], *f.fix.rerender[1])
            merged = merge_rewrites([kept.fix, f.fix])
            if len(merged) == 1:
                unique[seen[key]] = replace(kept, fix=replace(merged[0], rerender=(document, edits)))
    return unique


def _dialect(kind: str, text: str) -> str:
    """What reports call the file: YAML and JSON by what they hold (cloud-init, compose, ...)."""
    if kind in (Kind.YAML, Kind.JSON, Kind.TERRAFORM_JSON):
        from imds_lint.frontends.structured import dialect

        return dialect(kind, text)
    return kind


def _path_matches(path: str, pattern: str) -> bool:
    return _per_file_pattern(pattern).match_file(path)


@functools.lru_cache(maxsize=256)
def _per_file_pattern(pattern: str):
    from imds_lint.discovery import IgnorePatterns

    return IgnorePatterns([pattern])


def unified_diff(result: FileResult) -> str:
    if result.original is None or result.fixed is None or result.original == result.fixed:
        return ""
    from imds_lint.textdiff import unified_diff as diff

    return diff(result.original.splitlines(keepends=True), result.fixed.splitlines(keepends=True),
                fromfile=f"a/{result.path}", tofile=f"b/{result.path}")


def _pure(path: str | Path) -> str:
    """``str(PurePosixPath(path))`` without pathlib (~3 ms to import): the spelling front-ends see
    as their document's origin, doubled slashes and ``.`` parts dropped as pathlib drops them."""
    text = os.fspath(path)
    lead = "//" if text.startswith("//") and not text.startswith("///") else "/" if text.startswith("/") else ""
    return lead + "/".join(part for part in text.split("/") if part and part != ".") or "."
