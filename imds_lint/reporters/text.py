"""Human output: ``path:line:col: CODE message``, a code frame, and a summary.

Colour (through rich) on a terminal unless NO_COLOR is set, anywhere with
FORCE_COLOR or ``--color always``; plain output needs no rich import at all,
which keeps pre-commit runs fast.
"""

from __future__ import annotations

import os

from imds_lint.reporters import Report, printable

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from typing import TextIO

    from imds_lint.model import Finding

# Keyed by the enums' values: a clean run prints its summary without importing the model.
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_HOW_TO_APPLY = {"safe": "--fix", "unsafe": "--fix --unsafe-fixes", "display-only": "shown by --diff, not applied"}


def use_colour(stream: TextIO) -> bool:
    """``--color auto``: NO_COLOR (https://no-color.org) wins over FORCE_COLOR, which wins over the terminal test."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _frame(finding: Finding) -> list[str]:
    line = finding.snippet.replace("\t", " ")
    number = str(finding.start.line)
    gutter = " " * len(number)
    start = finding.start.column - finding.snippet_column
    if finding.snippet_column > 1:  # a window cut from a long line
        line, start = "…" + line, start + 1
    width = (finding.end.column - 1 - start) if finding.end.line == finding.start.line else len(line) - start
    width = max(1, min(width, max(len(line) - start, 1)))
    # Controls and bidi characters are shown as escapes; the caret follows the escaped text.
    before, marked, after = printable(line[:start]), printable(line[start:start + width]), printable(line[start + width:])
    return [
        f"{gutter} |",
        f"{number} | {before}{marked}{after}",
        f"{gutter} | {' ' * len(before)}{'^' * max(1, len(marked))}",
    ]


def _fix_line(finding: Finding) -> str | None:
    fix = finding.fix
    if fix is None or not fix.edits:  # a withheld fix: its reason is in the message already
        advice = rule_help(finding.code)
        return f"  = help: {advice}" if advice else None
    return f"  = fix: {fix.title} ({_HOW_TO_APPLY[fix.applicability.value]})"


def rule_help(code: str) -> str | None:
    """The rule's advice for findings it cannot fix (Rule.help)."""
    from imds_lint.registry import rule_by_code

    rule = rule_by_code(code)
    return getattr(rule, "help", None) if rule is not None else None


def _console(stream: TextIO):
    from rich.console import Console  # only when colouring: rich costs ~50 ms to import

    # force_terminal: the caller decided (FORCE_COLOR, --color always), rich must not second-guess it.
    # emoji=False: ":x:" in data stays text.
    return Console(file=stream, highlight=False, soft_wrap=True, force_terminal=True, no_color=False, emoji=False,
                   color_system="standard" if not getattr(stream, "isatty", lambda: False)() else "auto")


def render(report: Report, stream: TextIO, quiet: bool = False, show_source: bool = True,
           colour: bool | None = None) -> None:
    colour = use_colour(stream) if colour is None else colour
    console = _console(stream) if colour else None

    def emit(text: str, style: str | None = None) -> None:
        if console is not None:
            console.print(text, style=style, markup=False)
        else:
            stream.write(text + "\n")

    for f in report.findings:
        head = f"{printable(f.path)}:{f.start.line}:{f.start.column}: {f.code} [{f.severity.value}] {printable(f.message)}"
        emit(head, _SEVERITY_STYLE[f.severity.value] if colour else None)
        if quiet:
            continue
        if show_source and f.snippet:
            for line in _frame(f):
                emit(line, "dim" if colour else None)
        fix_line = _fix_line(f)
        if fix_line:
            emit(fix_line, "green" if colour else None)
        emit("")
    for error in report.errors:
        emit(f"{printable(error.path)}: note: {printable(error.message)}", "dim" if colour else None)
    if quiet and not report.findings:
        return
    if console is not None and report.findings and not quiet:
        _readiness_table(report, console)
    emit(summary(report), "bold" if colour else None)


def _readiness_table(report: Report, console) -> None:
    """On a terminal: counts per category and severity, the first files to change, the verdict."""
    from rich.table import Table
    from rich.text import Text

    from imds_lint.reporters.readiness import SEVERITY_ORDER, assess

    r = assess(report)
    table = Table(title="IMDSv2 readiness", title_justify="left")
    table.add_column("category")
    for severity in SEVERITY_ORDER:
        table.add_column(severity.value, justify="right", style=_SEVERITY_STYLE[severity.value])
    table.add_column("total", justify="right")
    for category, counts in r.by_category.items():
        table.add_row(category.value, *(str(counts[s]) for s in SEVERITY_ORDER), str(sum(counts.values())))
    console.print(table)
    files = Table(title="Files to change first", title_justify="left")
    for name, justify in (("file", "left"), ("kind", "left"), ("breaking", "right"), ("fixable", "right")):
        files.add_column(name, justify=justify)
    for row in r.first_files[:5]:
        # Text, not a string: rich would read markup in a file called x[/bold].sh.
        files.add_row(Text(printable(row.path)), Text(row.kind), str(row.breaking), str(row.fixable))
    console.print(files)
    console.print(r.verdict, style="bold red" if not r.ready else "bold green", markup=False)


_DIFF_STYLE = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def render_diff(text: str, stream: TextIO, colour: bool = False) -> None:
    """A unified diff, coloured as git colours it when ``colour``."""
    if not colour:
        stream.write(text)
        return
    console = _console(stream)
    for line in text.splitlines():
        style = next((s for prefix, s in _DIFF_STYLE if line.startswith(prefix)), None)
        console.print(line, style=style, markup=False, highlight=False)


def diff_summary(diffs: list[str]) -> str:
    """``Would fix N findings in M files``-style closing line for --diff (ruff prints one too)."""
    changed = [d for d in diffs if d]
    added = sum(1 for d in changed for line in d.splitlines() if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for d in changed for line in d.splitlines() if line.startswith("-") and not line.startswith("---"))
    n = len(changed)
    return (f"Would change {n} file{'s' if n != 1 else ''} ({added} line{'s' if added != 1 else ''} added, "
            f"{removed} removed); run with --fix to apply.")


class Progress:
    """A progress bar on stderr, for long runs on a terminal (the CLI decides when)."""

    def __init__(self, stream: TextIO):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._progress = RichProgress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                      console=Console(file=stream), transient=True)
        self._task = self._progress.add_task("scan", total=None)
        self._progress.start()

    def update(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=max(total, done))

    def stop(self) -> None:
        self._progress.stop()


def summary(report: Report) -> str:
    n = len(report.findings)
    files = len({f.path for f in report.findings})
    parts = []
    if report.fix_mode:
        parts.append(f"Fixed {report.fixes_applied} finding{'s' if report.fixes_applied != 1 else ''}.")
    if n == 0:
        parts.append(f"No IMDSv1 breakage found in {report.files_scanned} file{'s' if report.files_scanned != 1 else ''}.")
    else:
        parts.append(f"Found {n} finding{'s' if n != 1 else ''} in {files} of {report.files_scanned} "
                     f"file{'s' if report.files_scanned != 1 else ''}.")
        if report.fixable:
            parts.append(f"{report.fixable} fixable with --fix"
                         + (" --unsafe-fixes." if report.unsafe_fixes else "."))
        if report.unsafe_fixes is False and report.unsafe_fixable:
            parts.append(f"{report.unsafe_fixable} more with --unsafe-fixes.")
    if report.baseline is not None:
        b = report.baseline
        text = f"Baseline {b.path}: {b.matched} known finding{'s' if b.matched != 1 else ''} hidden"
        if b.stale:
            text += (f"; {len(b.stale)} stale entr{'ies' if len(b.stale) != 1 else 'y'} no longer found "
                     "(rewrite it with --write-baseline)")
        parts.append(text + ".")
    return " ".join(parts)
