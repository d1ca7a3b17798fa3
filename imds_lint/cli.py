"""Command line: argv -> options -> exit code. No lint logic lives here.

Exit codes: 0 nothing found, 1 findings (or, with --diff, changes to show),
2 usage or internal error.
"""

from __future__ import annotations

import os
import sys

from imds_lint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github", "markdown", "gitlab", "junit", "checkstyle")
SEVERITIES = ("info", "warning", "error")
# A progress bar is worth drawing only once a run has taken this many files.
PROGRESS_AFTER = 300


def _output(value: str) -> tuple[str, str]:
    """``FORMAT:FILE`` (semgrep has --sarif-output=FILE per format; one option for all reads better)."""
    name, sep, path = value.partition(":")
    if not sep or not path or name not in FORMATS:
        import argparse

        raise argparse.ArgumentTypeError(f"expected FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}, got {value!r}")
    return name, path


def _codes(value: str) -> list[str]:
    return [v.strip().upper() for v in value.split(",") if v.strip()]


def build_parser():
    import argparse  # only here: a run over plain file names is parsed by plain_args

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

    parser = _Parser(
        prog="imds-lint",
        description="Find code that breaks when EC2 instances require IMDSv2 tokens, and fix it token-first.",
        epilog="Exit codes: 0 no findings, 1 findings, 2 usage or internal error.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to scan (default: .)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="output format: text, json, sarif (code scanning), github (workflow annotations), "
                             "markdown (readiness report), gitlab (Code Quality), junit (JUnit XML), checkstyle (default: text)")
    parser.add_argument("--output-file", "-o", metavar="FILE",
                        help="write the --format output to FILE instead of standard output")
    parser.add_argument("--output", action="append", type=_output, default=[], metavar="FORMAT:FILE",
                        help="also write FORMAT to FILE from the same run; repeatable "
                             "(e.g. --output sarif:imds.sarif --output markdown:report.md)")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when findings are reported (usage and internal errors still exit 2)")
    parser.add_argument("--failure-threshold", choices=SEVERITIES, default="info", metavar="SEVERITY",
                        help="exit 1 only for findings of this severity or above: info, warning or error; "
                             "the others are still reported (default: info, any finding)")
    parser.add_argument("--statistics", action="store_true",
                        help="print counts per rule instead of the findings (with --format json: a JSON list)")
    parser.add_argument("--color", "--colour", choices=("auto", "always", "never"), default="auto",
                        help="colour the text output: auto (on a terminal, unless NO_COLOR; FORCE_COLOR forces it), "
                             "always or never (default: auto)")
    parser.add_argument("--stdin-filename", metavar="NAME",
                        help="with PATH '-': the name standard input stands for (kind, config, per-file-ignores)")
    parser.add_argument("--repository-name", metavar="OWNER/NAME",
                        help="repository named in JSON, SARIF and markdown output (default: from .git)")
    parser.add_argument("--commit", metavar="SHA", help="commit named in the output (default: HEAD, read from .git)")
    parser.add_argument("--merge", action="store_true",
                        help="PATHs are JSON reports (files or folders of *.json), one per repository: write the "
                             "fleet readiness report (--format markdown or json)")
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
    parser.add_argument("--no-cache", action="store_true",
                        help="do not read or write the results cache (also: IMDS_LINT_NO_CACHE=1)")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="results cache folder (also: IMDS_LINT_CACHE_DIR, config cache-dir; "
                             "default: .imds_lint_cache in the project root); lint runs only")
    parser.add_argument("--jobs", "-j", type=int, metavar="N",
                        help="processes for large runs, the main one included (default: one per core; 1 = serial)")
    parser.add_argument("--quiet", "-q", action="store_true", help="one line per finding, no summary when clean")
    parser.add_argument("--watch", action="store_true",
                        help="scan, then scan again whenever a file under PATH changes; Ctrl-C stops")
    parser.add_argument("--show-files", action="store_true",
                        help="list the files a run would read, each with the config that applies to it, and exit")
    parser.add_argument("--show-settings", action="store_true",
                        help="print the config and settings that apply to the first PATH, and exit")
    parser.add_argument("--explain", metavar="CODE", help="print the documentation of a rule and exit")
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    parser.add_argument("--version", action="version", version=f"imds-lint {__version__}")
    return parser


# On/off options a hook passes before the file names (pre-commit: ``entry: imds-lint --fix``).
_PLAIN_FLAGS = {"--fix": "fix", "--diff": "diff", "--unsafe-fixes": "unsafe_fixes", "--quiet": "quiet", "-q": "quiet",
                "--exit-zero": "exit_zero", "--no-gitignore": "no_gitignore", "--statistics": "statistics",
                "--no-cache": "no_cache"}


def _defaults() -> dict:
    """What ``build_parser().parse_args([])`` holds (tests/test_cli.py keeps the two equal)."""
    return {"paths": [], "format": "text", "output_file": None, "output": [], "exit_zero": False,
            "failure_threshold": "info", "statistics": False, "color": "auto", "stdin_filename": None,
            "repository_name": None, "commit": None, "merge": False, "select": None, "ignore": None,
            "exclude": None, "fix": False, "unsafe_fixes": False, "fix_through_links": False, "diff": False,
            "baseline": None, "write_baseline": None, "token_ttl": None, "config": None, "no_gitignore": False,
            "jobs": None, "quiet": False, "watch": False, "show_files": False, "show_settings": False,
            "explain": None, "list_rules": False, "no_cache": False, "cache_dir": None}


def plain_args(argv: list[str]):
    """The options argparse gives ``argv`` when it is on/off flags followed by file names (how
    pre-commit and editors call us), else None. Building the parser costs ~3.5 ms of such a run:
    argparse's import, and gettext looking for a catalogue for every help string."""
    start = 0
    while start < len(argv) and argv[start] in _PLAIN_FLAGS:
        start += 1
    paths = argv[start:]
    if any(path.startswith("-") for path in paths):
        return None
    from types import SimpleNamespace

    options = _defaults()
    options.update((_PLAIN_FLAGS[flag], True) for flag in argv[:start])
    options["paths"] = list(paths)
    return SimpleNamespace(**options)


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
    import gc

    gc.disable()  # before the imports below too: imds_lint.parallel.pause_collector says why
    from imds_lint.parallel import pause_collector

    pause_collector()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head) or stream: nothing more can be said
            code = code or EXIT_ERROR
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    args = plain_args(sys.argv[1:] if argv is None else argv)
    try:
        if args is None:
            args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    if args.list_rules:
        return _list_rules(args.format)
    if args.explain:
        return _explain(args.explain)
    if args.merge:
        from imds_lint import fleet

        return fleet.main(args)
    if args.watch:
        return _watch(args, sys.argv[1:] if argv is None else argv)
    stdin = args.paths == ["-"]
    if "-" in args.paths and not stdin:
        sys.stderr.write("imds-lint: error: '-' (standard input) cannot be combined with other paths\n")
        return EXIT_ERROR
    if args.stdin_filename and not stdin:
        sys.stderr.write("imds-lint: error: --stdin-filename needs PATH '-'\n")
        return EXIT_ERROR

    from imds_lint import config

    try:
        groups = _projects(args, config)
    except config.ConfigError as exc:
        sys.stderr.write(f"imds-lint: {exc}\n")
        return EXIT_ERROR
    if args.show_settings:
        return _show_settings(args, config, groups)
    if args.show_files:
        return _show_files(args, config, groups)

    # The engine, the model and the front-ends load with the first file a front-end must read
    # (imds_lint.parallel): a run whose files all fail the prefilter never pays for them.
    from imds_lint.discovery import PatternError
    from imds_lint.project import relative_to_root
    from imds_lint.reporters import Report

    from imds_lint import parallel

    baseline_entries = None
    if args.baseline and not args.diff:
        from imds_lint import baseline

        try:
            baseline_entries = baseline.load(args.baseline)
        except baseline.BaselineError as exc:
            sys.stderr.write(f"imds-lint: {exc}\n")
            return EXIT_ERROR

    report = Report(fix_mode=args.fix, unsafe_fixes=args.unsafe_fixes)
    usage_error = False
    diffs: list[str] = []
    fixed_stdin: str | None = None
    scanned: set[str] = set()

    nested: list = []

    def note(problem) -> None:
        nonlocal usage_error
        from imds_lint.discovery import Nested
        from imds_lint.model import ScanError

        if isinstance(problem, Nested):
            nested.append(problem)
            return
        report.errors.append(ScanError(problem.display, problem.message))
        usage_error |= problem.usage

    fixing = args.fix or args.diff
    job = ("fix" if fixing else "lint", args.unsafe_fixes, args.fix and not args.diff, args.fix_through_links)
    cache = None if fixing or stdin else _results_cache(args, groups)
    walks = ((p, s, None) for p, s, _ in groups) if stdin else _walks(args, config, groups, nested)
    try:
        for project, settings, items in walks:
            report.projects.append(_project_info(args, project))
            if project.ignored_config is not None:
                sys.stderr.write(f"imds-lint: note: {project.ignored_config} is above the repository root "
                                 f"{project.repository_root} and does not apply (name it with --config to use it)\n")
            if items is None:
                results = iter([_lint_stdin(args, settings)])
            else:
                results = parallel.run(settings, items, job, note, workers=args.jobs, cache=cache)
            progress = None
            try:
                for done, result in enumerate(results, 1):
                    if progress is not None:
                        progress.update(done, items.count)
                    elif done == PROGRESS_AFTER and items is not None and _progress_wanted():
                        from imds_lint.reporters.text import Progress  # rich, only on a terminal

                        progress = Progress(sys.stderr)
                        progress.update(done, items.count)
                    if args.diff:
                        from imds_lint.engine import unified_diff

                        # A patch shows no findings (nor does its summary): the final pass's hold
                        # a parsed tree per embedded document, which would sit beside the diff.
                        result.findings = []
                        diffs.append(unified_diff(result))
                    elif args.fix:
                        report.fixes_applied += result.fixes_applied
                        if stdin:
                            fixed_stdin = result.fixed if result.fixed is not None else result.original
                    report.files_scanned += result.scanned
                    if result.findings or (result.scanned and baseline_entries is not None):
                        relative = relative_to_root(_real_path(args, result.path), project.record_root)
                        report.project_paths[result.path] = relative
                        if result.scanned:
                            scanned.add(relative)
                    if result.findings:
                        report.kinds[result.path] = result.kind
                    report.findings.extend(result.findings)
                    report.errors.extend(result.errors)
            finally:
                if progress is not None:
                    progress.stop()
    except (PatternError, config.ConfigError) as exc:
        sys.stderr.write(f"imds-lint: {exc}\n")
        return EXIT_ERROR
    if cache is not None:
        cache.prune()

    if args.diff:
        return _show_diffs(args, diffs, report, usage_error)

    if args.write_baseline:
        from imds_lint import baseline

        try:
            baseline.write(args.write_baseline, report.findings, report.fingerprints, report.project_path)
        except OSError as exc:
            sys.stderr.write(f"imds-lint: cannot write {args.write_baseline}: {exc.strerror or exc}\n")
            return EXIT_ERROR
        n = len(report.findings)
        sys.stderr.write(f"imds-lint: recorded {n} finding{'s' if n != 1 else ''} in {args.write_baseline}\n")
        return EXIT_ERROR if usage_error else EXIT_CLEAN

    if baseline_entries is not None:
        from imds_lint import baseline
        from imds_lint.reporters import BaselineOutcome

        roots = list(dict.fromkeys(project.record_root for project, _, _ in groups))
        filtered = baseline.apply(baseline_entries, report.findings, report.fingerprints, scanned, roots)
        report.keep(filtered.kept, filtered.kept_fingerprints)
        report.baselined = filtered.hidden
        report.baseline = BaselineOutcome(args.baseline, filtered.matched, filtered.stale)
    report.execution_successful = not usage_error
    if fixed_stdin is not None:
        sys.stdout.write(fixed_stdin)  # as ruff does: the fixed text on stdout, what remains on stderr
        failed = _write_outputs(args, report, default_stream=sys.stderr)
    else:
        failed = _write_outputs(args, report)
    if failed:
        return EXIT_ERROR
    if usage_error:
        for error in report.errors:
            if error.message == "no such file or directory":
                sys.stderr.write(f"imds-lint: {error.path}: no such file or directory\n")
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    threshold = SEVERITIES.index(args.failure_threshold)
    failing = any(f.severity.rank >= threshold for f in report.findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def _watch(args, argv: list[str]) -> int:
    """--watch: the same run again whenever a scanned file changes (imds_lint.watch)."""
    clashing = [name for name, given in (("'-' (standard input)", args.paths == ["-"]),
                                         ("--write-baseline", args.write_baseline),
                                         ("--show-files", args.show_files), ("--show-settings", args.show_settings))
                if given]
    if clashing:
        sys.stderr.write(f"imds-lint: error: --watch cannot be combined with {', '.join(clashing)}\n")
        return EXIT_ERROR
    from imds_lint import watch

    # Each rescan runs without the results cache: a scan is the cold one, as the figures are.
    once = [a for a in argv if a != "--watch"] + ["--no-cache"]
    return watch.watch(lambda: _main(once), args.paths or ["."])


def _walks(args, config, groups, nested: list):
    """(project, settings, files) for each group of command-line paths, then for each folder with
    a config of its own met while walking them (ruff's hierarchical config; not with --config).
    ``nested`` is filled with those folders (discovery.Nested) as the caller consumes the files."""
    from imds_lint.discovery import discover, discover_nested

    queue = [(project, settings, paths, None) for project, settings, paths in groups]
    while queue:
        project, settings, paths, found = queue.pop(0)
        if found is not None:
            items = discover_nested(found, settings.root, settings.exclude, settings.respect_gitignore,
                                    config.config_in)
        else:
            # Cross-file reads (sibling .tf files, -r includes, Dockerfiles) stay inside what was named.
            settings = settings.replace(scan_roots=tuple(
                p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in paths))
            items = discover(paths, settings.root, settings.exclude, settings.respect_gitignore,
                             config_in=config.config_in if args.config is None else None)
        yield project, settings, _Counted(items)
        for folder in nested:
            inner = project.nested(folder.path, folder.config)
            queue.append((inner, _settings(args, config, inner).replace(scan_roots=settings.scan_roots),
                          [folder.path], folder))
        nested.clear()


def _results_cache(args, groups):
    """The results cache of a lint run (one folder for the run, from the first project's settings),
    or None with --no-cache or IMDS_LINT_NO_CACHE set."""
    if args.no_cache or os.environ.get("IMDS_LINT_NO_CACHE", "") not in ("", "0"):
        return None
    from imds_lint.cache import open_cache

    return open_cache(groups[0][1], args.cache_dir)


def _show_files(args, config, groups) -> int:
    """Each file a run would read, with the config that applies to it (ruff's --show-files)."""
    from imds_lint.discovery import Candidate, Nested, PatternError

    nested: list = []
    usage_error = False
    try:
        for project, _, items in _walks(args, config, groups, nested):
            source = str(project.config_path) if project.config_path is not None else "(no config: defaults)"
            for item in items:
                if isinstance(item, Candidate):
                    sys.stdout.write(f"{item.display}  {source}\n")
                elif isinstance(item, Nested):
                    nested.append(item)
                else:
                    sys.stderr.write(f"imds-lint: {item.display}: {item.message}\n")
                    usage_error |= item.usage
    except (PatternError, config.ConfigError) as exc:
        sys.stderr.write(f"imds-lint: {exc}\n")
        return EXIT_ERROR
    return EXIT_ERROR if usage_error else EXIT_CLEAN


def _show_settings(args, config, groups) -> int:
    """The config and the settings that apply to the first path, after command-line options
    (ruff's --show-settings): what to look at when a nested config seems to be ignored."""
    import json

    project, settings, paths = groups[0]
    shown = {
        "path": paths[0],
        "config": str(project.config_path) if project.config_path is not None else None,
        "patterns relative to": str(settings.root),
        "paths recorded relative to": str(project.record_root),
        "select": list(settings.select), "ignore": list(settings.ignore), "exclude": list(settings.exclude),
        "per-file-ignores": {pattern: list(codes) for pattern, codes in settings.per_file_ignores},
        "token-ttl": settings.token_ttl, "max-file-size": settings.max_file_size,
        "respect-gitignore": settings.respect_gitignore,
        "cache-dir": str(settings.cache_dir) if settings.cache_dir is not None else None,
    }
    for key, value in shown.items():
        sys.stdout.write(f"{key}: {json.dumps(value, ensure_ascii=False)}\n")
    return EXIT_CLEAN


def _real_path(args, display: str) -> str:
    return (args.stdin_filename or "-") if args.paths == ["-"] else display


def _projects(args, config) -> list:
    """The command-line paths grouped by project, each with its settings: the config is found from
    each path (as ruff does), so ``imds-lint /repo`` run elsewhere uses /repo's config."""
    from imds_lint.project import project_for

    explicit = None
    if args.config:
        explicit = args.config
        if not os.path.isfile(explicit):
            raise config.ConfigError(f"{args.config}: no such config file")
    given = [args.stdin_filename or "."] if args.paths == ["-"] else (args.paths or ["."])
    groups: dict[tuple, tuple] = {}
    cache: dict = {}
    for path in given:
        project = project_for(path, explicit, cache)
        if project.key not in groups:
            groups[project.key] = (project, _settings(args, config, project), [])
        groups[project.key][2].append(path)
    return list(groups.values())


def _project_info(args, project):
    from imds_lint.project import head_commit, repository_name
    from imds_lint.reporters import ProjectInfo

    repo = project.repository_root
    return ProjectInfo(
        root=str(project.record_root),
        repository=args.repository_name or (repository_name(repo) if repo is not None else None),
        commit=args.commit or (head_commit(repo) if repo is not None else None),
        config=str(project.config_path) if project.config_path is not None else None,
        repository_root=str(repo) if repo is not None else None,
    )


def _lint_stdin(args, settings):
    """Standard input as one file named by --stdin-filename (its kind, config and per-file-ignores)."""
    from imds_lint.engine import Linter

    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    name = args.stdin_filename or "-"
    linter = Linter(settings)
    if args.fix or args.diff:
        return linter.fix_file(name, name, unsafe=args.unsafe_fixes, write=False, raw=raw,
                               display_only=bool(args.diff))
    return linter.lint_file(name, name, raw=raw)


def _show_diffs(args, diffs: list[str], report, usage_error: bool) -> int:
    text = "".join(d for d in diffs if d)
    stream = sys.stdout
    if text:
        from imds_lint.reporters.text import diff_summary, render_diff

        render_diff(text, stream, colour=_colour(args, stream))
        # On stderr, as ruff does: stdout stays a patch that `git apply` takes.
        sys.stderr.write(diff_summary(diffs) + "\n")
    from imds_lint.reporters import printable

    for error in report.errors:
        sys.stderr.write(f"{printable(error.path)}: note: {printable(error.message)}\n")
    if usage_error:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if text else EXIT_CLEAN


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


def _colour(args, stream) -> bool:
    if args.color != "auto":
        return args.color == "always"
    from imds_lint.reporters.text import use_colour

    return use_colour(stream)


def _write_outputs(args, report, default_stream=None) -> bool:
    """The --format output (to stdout or --output-file), then each --output FORMAT:FILE.
    Returns True when a file could not be written (a usage error: exit 2)."""
    targets = [(args.format, args.output_file)] + list(args.output)
    failed = False
    for name, path in targets:
        if path is None or path == "-":
            stream = default_stream or sys.stdout
            _render(args, name, report, stream, colour=_colour(args, stream))
            continue
        try:
            with open(path, "w", encoding="utf-8", newline="") as stream:
                _render(args, name, report, stream, colour=args.color == "always")
        except OSError as exc:
            sys.stderr.write(f"imds-lint: cannot write {path}: {exc.strerror or exc}\n")
            failed = True
    return failed


def _render(args, name: str, report, out, colour: bool = False) -> None:
    if args.statistics and name in ("text", "json"):
        from imds_lint.reporters import statistics

        out.write(statistics.render(report, as_json=name == "json"))
    elif name == "json":
        from imds_lint.reporters import json as reporter

        out.write(reporter.render(report))
    elif name == "sarif":
        from pathlib import Path

        from imds_lint.reporters import sarif as reporter

        project = report.project
        out.write(reporter.render(report, Path(project.root) if project is not None else None))
    elif name == "github":
        from imds_lint.reporters import github as reporter

        out.write(reporter.render(report))
    elif name == "markdown":
        from imds_lint.reporters import markdown as reporter

        out.write(reporter.render(report))
    elif name == "gitlab":
        from imds_lint.reporters import gitlab as reporter

        out.write(reporter.render(report))
    elif name == "junit":
        from imds_lint.reporters import junit as reporter

        out.write(reporter.render(report))
    elif name == "checkstyle":
        from imds_lint.reporters import checkstyle as reporter

        out.write(reporter.render(report))
    else:
        from imds_lint.reporters import text as text_reporter

        text_reporter.render(report, out, quiet=args.quiet, colour=colour)


def _settings(args, config, project):
    settings = config.load(project.config_path) if project.config_path is not None else config.Settings(root=project.root)
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


def _list_rules(format: str = "text") -> int:
    from imds_lint.registry import all_rules

    rules = all_rules()
    if format == "json":
        import json

        sys.stdout.write(json.dumps([{
            "code": r.code, "name": r.name, "category": r.category.value, "severity": r.severity.value,
            "fix": bool(r.fix_title), "summary": r.summary, "opt_in": bool(r.opt_in),
        } for r in rules], indent=2, ensure_ascii=False) + "\n")
        return EXIT_CLEAN
    # Columns as wide as their longest entry: no name runs into its category.
    name_width = max(len(r.name) for r in rules)
    category_width = max(len(r.category.value) for r in rules)
    severity_width = max(len(r.severity.value) for r in rules)
    for rule in rules:
        fix = "fix" if rule.fix_title else "   "
        opt_in = " (opt-in: --select " + rule.code + ")" if rule.opt_in else ""
        sys.stdout.write(f"{rule.code}  {rule.name:<{name_width}}  {rule.category.value:<{category_width}}  "
                         f"{rule.severity.value:<{severity_width}}  {fix}  {rule.summary}{opt_in}\n")
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
