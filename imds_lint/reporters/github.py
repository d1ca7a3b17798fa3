"""GitHub Actions workflow commands: one annotation per finding.

``::error file=a.sh,line=3,col=1,endLine=3,endColumn=5,title=IMDS101 tokenless-request::message``;
warnings and info findings become ``::warning`` and ``::notice``. Values are
escaped as the runner expects: ``%``, CR and LF everywhere, and ``:`` and ``,``
inside properties too.
"""

from __future__ import annotations

from pathlib import Path

from imds_lint.model import Severity
from imds_lint.reporters import Report, printable

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _shown(message: str) -> str:
    """The message with controls and bidi characters escaped (a log viewer acts on ESC; a raw CR
    would start a runner command); line breaks stay breaks of a multi-line annotation."""
    return "\n".join(printable(line) for line in message.split("\n"))


def _command(name: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {props}::{escape_data(message)}\n"


def render(report: Report) -> str:
    from imds_lint.fingerprint import normalise_path
    from imds_lint.reporters.text import rule_help, summary

    project = report.project

    def where(path: str) -> str:
        # GitHub attaches an annotation to a path relative to the checkout (the repository root).
        if project is not None and project.repository_root is not None:
            from imds_lint.project import relative_to_root

            return relative_to_root(path, Path(project.repository_root))
        return normalise_path(path)

    lines = []
    for f in report.findings:
        properties = {"file": printable(where(f.path)), "line": f.start.line, "col": f.start.column,
                      "endLine": f.end.line, "endColumn": f.end.column, "title": f"{f.code} {f.name}"}
        message = _shown(f.message)
        if f.fix is not None and f.fixable:
            message += f"\nFix: {f.fix.title} (imds-lint --fix{' --unsafe-fixes' if f.fix.applicability.value == 'unsafe' else ''})"
        elif f.fix is None and (advice := rule_help(f.code)):
            message += f"\nHelp: {advice}"
        lines.append(_command(_COMMAND[f.severity], properties, message))
    for error in report.errors:
        if "internal error" in error.message:
            lines.append(_command("warning", {"file": printable(where(error.path)), "title": "imds-lint"},
                                  _shown(error.message)))
    lines.append(summary(report) + "\n")
    return "".join(lines)
