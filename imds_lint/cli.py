"""Command line: argv -> options -> exit code. No lint logic lives here.

Exit codes: 0 nothing found, 1 findings (or, with --diff, changes to show),
2 usage or internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from imds_lint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github", "markdown")
# A progress bar is worth drawing only once a run has taken this many files.
PROGRESS_AFTER = 300


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 too; keep its message, lose the traceback risk
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"imds-lint: error: {message}\n")


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the width: left to itself it imports shutil (and with it bz2
    and lzma, ~6 ms of every run) just to ask the terminal's size."""

    def __init__(self, prog: str):
        try:
            columns = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 80
        super().__init__(prog, width=columns - 2)


def _codes(value: str) -> list[str]:
    return [v.strip().upper() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="imds-lint",
        description="Find code that breaks when EC2 instances require IMDSv2 tokens, and fix it token-first.",
        epilog="Exit codes: 0 no findings, 1 findings, 2 usage or internal error.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to scan (default: .)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="output format: text, json, sarif (code scanning), github (workflow annotations), "
                             "markdown (readiness report) (default: text)")
    parser.add_argument("--select", type=_codes, action="extend", metavar="CODES",
                        help="only these rule codes or prefixes, comma-separated (e.g. IMDS1,IMDS501)")
    parser.add_argument("--ignore", type=_codes, action="extend", metavar="CODES", help="skip these rule codes or prefixes")
    parser.add_argument("--exclude", action="extend", type=lambda v: [p for p in v.split(",") if p],
                        metavar="PATTERNS", help="gitignore-style patterns to skip, added to the configured ones")
    parser.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    parser.add_argument("--unsafe-fixes", action="store_true", help="also apply (or show) fixes marked unsafe")
    parser.add_argument("--fix-through-links", action="store_true",
                        help="let --fix rewrite symlinked files (their target) and hard-linked files (in place)")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; change nothing")
    parser.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in this baseline file")
    parser.add_argument("--write-baseline", metavar="FILE", help="record the current findings in FILE and exit 0")
    parser.add_argument("--token-ttl", type=int, metavar="SECONDS", help="token TTL the fixes request (default 21600)")
    parser.add_argument("--config", metavar="FILE", help="read settings from this file instead of searching")
    parser.add_argument("--no-gitignore", action="store_true", help="scan files that .gitignore excludes")
    parser.add_argument("--jobs", "-j", type=int, metavar="N",
                        help="processes for large runs, the main one included (default: one per core; 1 = serial)")
    parser.add_argument("--quiet", "-q", action="store_true", help="one line per finding, no summary when clean")
    parser.add_argument("--explain", metavar="CODE", help="print the documentation of a rule and exit")
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    parser.add_argument("--version", action="version", version=f"imds-lint {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        sys.stderr.write("imds-lint: interrupted\n")
        return EXIT_ERROR
    except BrokenPipeError:
        # Output piped into head: not an error of ours, but nothing more can be said.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_ERROR
    except Exception as exc:  # the last line of defence: a message, never a traceback
        sys.stderr.write(f"imds-lint: internal error: {type(exc).__name__}: {exc}\n"
                         "Please report this with the file that caused it.\n")
        if os.environ.get("IMDS_LINT_DEBUG"):
            raise
        return EXIT_ERROR


def run() -> None:
    """The console command: ``main``, then an exit that skips tearing down the interpreter.

    Freeing every object of a large run one by one costs ~20 ms (5% of a
    monorepo scan) and helps no one: output is flushed here, files are
    already written and closed, and the worker pool is already shut down.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head) or stream: nothing more can be said
            code = code or EXIT_ERROR
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    if args.list_rules:
        return _list_rules()
    if args.explain:
        return _explain(args.explain)

    from imds_lint import config

    try:
        settings = _settings(args, config)
    except config.ConfigError as exc:
        sys.stderr.write(f"imds-lint: {exc}\n")
        return EXIT_ERROR

    # The engine, the model and the front-ends load with the first file a front-end must read
    # (imds_lint.parallel): a run whose files all fail the prefilter never pays for them.
    from imds_lint.discovery import PatternError, discover
    from imds_lint.reporters import Report

    from imds_lint import parallel

    baseline_entries = None
    if args.baseline and not args.diff:
        from imds_lint import baseline

        from imds_lint.fingerprint import normalise_path

        try:
            baseline_entries = baseline.load(args.baseline)
        except baseline.BaselineError as exc:
            sys.stderr.write(f"imds-lint: {exc}\n")
            return EXIT_ERROR

    report = Report(fix_mode=args.fix, unsafe_fixes=args.unsafe_fixes)
    usage_error = False
    diffs: list[str] = []
    scanned: set[str] = set()

    def note(problem) -> None:
        nonlocal usage_error
        from imds_lint.model import ScanError

        report.errors.append(ScanError(problem.display, problem.message))
        usage_error |= problem.usage

    fixing = args.fix or args.diff
    job = ("fix" if fixing else "lint", args.unsafe_fixes, args.fix and not args.diff, args.fix_through_links)
    # Cross-file reads (sibling .tf files, -r includes, Dockerfiles) stay inside what was named.
    settings = settings.replace(scan_roots=tuple(
        p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in (args.paths or ["."])))
    items = _Counted(discover(args.paths, settings.root, settings.exclude, settings.respect_gitignore))
    progress = None
    try:
        for done, result in enumerate(parallel.run(settings, items, job, note, workers=args.jobs), 1):
            if progress is not None:
                progress.update(done, items.count)
            elif done == PROGRESS_AFTER and _progress_wanted():
                from imds_lint.reporters.text import Progress  # rich, only on a terminal

                progress = Progress(sys.stderr)
                progress.update(done, items.count)
            if args.diff:
                from imds_lint.engine import unified_diff

                diffs.append(unified_diff(result))
            elif args.fix:
                report.fixes_applied += result.fixes_applied
            report.files_scanned += result.scanned
            if result.scanned and baseline_entries is not None:
                scanned.add(normalise_path(result.path))
            if result.findings:
                report.kinds[result.path] = result.kind
            report.findings.extend(result.findings)
            report.errors.extend(result.errors)
    except PatternError as exc:
        sys.stderr.write(f"imds-lint: {exc}\n")
        return EXIT_ERROR
    finally:
        if progress is not None:
            progress.stop()

    if args.diff:
        text = "".join(d for d in diffs if d)
        sys.stdout.write(text)
        from imds_lint.reporters import printable

        for error in report.errors:
            sys.stderr.write(f"{printable(error.path)}: note: {printable(error.message)}\n")
        if usage_error:
            return EXIT_ERROR
        return EXIT_FINDINGS if text else EXIT_CLEAN

    if args.write_baseline:
        from imds_lint import baseline

        try:
            baseline.write(args.write_baseline, report.findings, report.fingerprints)
        except OSError as exc:
            sys.stderr.write(f"imds-lint: cannot write {args.write_baseline}: {exc.strerror or exc}\n")
            return EXIT_ERROR
        n = len(report.findings)
        sys.stderr.write(f"imds-lint: recorded {n} finding{'s' if n != 1 else ''} in {args.write_baseline}\n")
        return EXIT_ERROR if usage_error else EXIT_CLEAN

    if baseline_entries is not None:
        from imds_lint import baseline
        from imds_lint.reporters import BaselineOutcome

        filtered = baseline.apply(baseline_entries, report.findings, report.fingerprints, scanned)
        report.keep(filtered.kept, filtered.kept_fingerprints)
        report.baseline = BaselineOutcome(args.baseline, filtered.matched, filtered.stale)
    report.execution_successful = not usage_error
    _render(args, report)
    if usage_error:
        for error in report.errors:
            if error.message == "no such file or directory":
                sys.stderr.write(f"imds-lint: {error.path}: no such file or directory\n")
        return EXIT_ERROR
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN


class _Counted:
    """Discovery, counting the files it has handed out so far (the progress bar's total)."""

    def __init__(self, items):
        self._items = items
        self.count = 0

    def __iter__(self):
        from imds_lint.discovery import Candidate

        for item in self._items:
            if isinstance(item, Candidate):
                self.count += 1
            yield item


def _progress_wanted() -> bool:
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


def _render(args, report) -> None:
    out = sys.stdout
    if args.format == "json":
        from imds_lint.reporters import json as reporter

        out.write(reporter.render(report))
    elif args.format == "sarif":
        from imds_lint.reporters import sarif as reporter

        out.write(reporter.render(report))
    elif args.format == "github":
        from imds_lint.reporters import github as reporter

        out.write(reporter.render(report))
    elif args.format == "markdown":
        from imds_lint.reporters import markdown as reporter

        out.write(reporter.render(report))
    else:
        from imds_lint.reporters import text as text_reporter

        text_reporter.render(report, out, quiet=args.quiet)


def _settings(args, config):
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise config.ConfigError(f"{args.config}: no such config file")
        settings = config.load(path)
    else:
        found = config.find_config(Path.cwd())
        settings = config.load(found) if found is not None else config.Settings()
    updates = {}
    if args.select:
        updates["select"] = config.check_codes(tuple(args.select), "--select")
    if args.ignore:
        updates["ignore"] = settings.ignore + config.check_codes(tuple(args.ignore), "--ignore")
    if args.exclude:
        updates["exclude"] = settings.exclude + tuple(args.exclude)
    if args.token_ttl is not None:
        updates["token_ttl"] = config.check_ttl(args.token_ttl, "--token-ttl")
    if args.no_gitignore:
        updates["respect_gitignore"] = False
    return settings.replace(**updates)


def _list_rules() -> int:
    from imds_lint.registry import all_rules

    for rule in all_rules():
        fix = "fix" if rule.fix_title else "   "
        opt_in = " (opt-in: --select " + rule.code + ")" if rule.opt_in else ""
        sys.stdout.write(f"{rule.code}  {rule.name:<30} {rule.category.value:<12} {rule.severity.value:<8} {fix}  "
                         f"{rule.summary}{opt_in}\n")
    return EXIT_CLEAN


def _explain(code: str) -> int:
    from imds_lint.registry import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        sys.stderr.write(f"imds-lint: no rule called {code}; see --list-rules\n")
        return EXIT_ERROR
    sys.stdout.write(f"# {rule.code} {rule.name}\n\n{rule.summary}.\n\n"
                     f"Category: {rule.category.value}. Severity: {rule.severity.value}.\n\n{rule.documentation()}\n")
    return EXIT_CLEAN
