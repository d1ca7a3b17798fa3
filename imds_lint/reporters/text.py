"""Human output: ``path:line:col: CODE message``, a code frame, and a summary.

Colour (through rich) only on a terminal and never with NO_COLOR set; plain
output needs no rich import at all, which keeps pre-commit runs fast.
"""

from __future__ import annotations

import os
from typing import TextIO

from imds_lint.model import Applicability, Finding, Severity
from imds_lint.reporters import Report

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _frame(finding: Finding) -> list[str]:
    line = finding.snippet.expandtabs(4) if "\t" not in finding.snippet else finding.snippet.replace("\t", " ")
    number = str(finding.start.line)
    gutter = " " * len(number)
    start = finding.start.column - 1
    width = (finding.end.column - 1 - start) if finding.end.line == finding.start.line else len(line) - start
    width = max(1, min(width, max(len(line) - start, 1)))
    return [
        f"{gutter} |",
        f"{number} | {line}",
        f"{gutter} | {' ' * start}{'^' * width}",
    ]


def _fix_line(finding: Finding) -> str | None:
    fix = finding.fix
    if fix is None:
        return None
    how = {
        Applicability.SAFE: "--fix",
        Applicability.UNSAFE: "--fix --unsafe-fixes",
        Applicability.DISPLAY_ONLY: "shown by --diff, not applied",
    }[fix.applicability]
    return f"  = fix: {fix.title} ({how})"


def render(report: Report, stream: TextIO, quiet: bool = False, show_source: bool = True) -> None:
    colour = use_colour(stream)
    console = None
    if colour:
        from rich.console import Console  # only on a terminal: rich costs ~50 ms to import

        console = Console(file=stream, highlight=False, soft_wrap=True)

    def emit(text: str, style: str | None = None) -> None:
        if console is not None:
            console.print(text, style=style, markup=False)
        else:
            stream.write(text + "\n")

    for f in report.findings:
        head = f"{f.path}:{f.start.line}:{f.start.column}: {f.code} [{f.severity.value}] {f.message}"
        emit(head, _SEVERITY_STYLE[f.severity] if colour else None)
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
        emit(f"{error.path}: note: {error.message}", "dim" if colour else None)
    if quiet and not report.findings:
        return
    emit(summary(report), "bold" if colour else None)


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
    return " ".join(parts)
