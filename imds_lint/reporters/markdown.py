"""The readiness report in GitHub-flavoured Markdown, for ``$GITHUB_STEP_SUMMARY``
and pull-request comments: what breaks if ``http_tokens=required`` is flipped now."""

from __future__ import annotations

import re

from imds_lint.model import Finding
from imds_lint.reporters import Report, printable
from imds_lint.reporters.readiness import SEVERITY_ORDER, assess, plural

LIST_LIMIT = 20


# Backslash-escaped wherever data (names, messages that quote names or logical IDs) meets the
# page: HTML, links and images, emphasis, code spans and table pipes cannot start from a name.
# (An underscore inside a word starts no emphasis in GFM, so ``aws_instance`` stays as it is.)
_MARKUP = re.compile(r"[\\`*\[\]<>&|~!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


# What GitHub turns into a link or a notification even in plain text: bare URLs (GFM's autolink
# extension), @mentions of users and teams, e-mail addresses, issue references (#12, GH-12,
# owner/repo#12). A scanned name or a quoted line must not ping anyone or link anywhere; GitHub
# leaves code spans alone, so each such token is shown as one (readable, and copied as spelt).
_AUTOLINK = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w])@[A-Za-z0-9][\w-]*(?:/[\w.-]+)?"
    r"|(?<![\w&])(?:[\w.-]+/[\w.-]+)?#\d+\b|\bGH-\d+\b",
    re.IGNORECASE)


def _text(text: str) -> str:
    """Data as literal Markdown text on one line: controls escaped, markup characters backslashed,
    anything GitHub would autolink or notify put in a code span."""
    text = printable(text)
    out, start = [], 0
    for match in _AUTOLINK.finditer(text):
        out.append(_MARKUP.sub(_backslashed, text[start:match.start()]))
        out.append(_code(match.group(0)))
        start = match.end()
    out.append(_MARKUP.sub(_backslashed, text[start:]))
    return "".join(out)


def _backslashed(match: re.Match) -> str:
    return "\\" + match.group(0)


def _code(text: str) -> str:
    """A code span holding ``text`` literally (HTML is not interpreted in one): its fence is longer
    than any run of backticks inside, and ``|`` is escaped as a table cell needs."""
    text = printable(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def _where(f: Finding, report: Report) -> str:
    return _code(f"{report.project_path(f.path)}:{f.start.line}")


def _finding_list(findings: list[Finding], report: Report) -> list[str]:
    hidden = {id(f) for f in report.baselined}
    lines = [f"- {_where(f, report)} {f.code} {_text(f.message)}{' (baselined)' if id(f) in hidden else ''}"
             for f in findings[:LIST_LIMIT]]
    if len(findings) > LIST_LIMIT:
        lines.append(f"- ... and {len(findings) - LIST_LIMIT} more")
    return lines


def _subject(report: Report) -> str:
    project = report.project
    if project is None or not project.repository:
        return ""
    commit = f" at `{project.commit[:12]}`" if project.commit else ""
    return f"Repository {_code(project.repository)}{commit}. "


def render(report: Report) -> str:
    r = assess(report)
    mark = "✅" if r.ready else "❌"
    out = ["# IMDSv2 readiness", "", f"**{mark} {r.verdict}**", ""]
    headline = f"{_subject(report)}{plural(r.findings, 'finding')} in {plural(r.files_scanned, 'scanned file')}"
    if r.findings:
        headline += (f": {r.breaking} breaking, {r.findings - r.breaking} not breaking; {r.fixable} fixable "
                     f"automatically ({r.breaking_fixable} of the breaking ones).")
    else:
        headline += "."
    out.append(headline)
    if report.baseline is not None:
        b = report.baseline
        out.append(f"Baseline {_code(b.path)}: {plural(r.baselined, 'finding')} baselined ({r.breaking_baselined} "
                   f"breaking), {r.reported} not in it; {plural(len(b.stale), 'stale entry', 'stale entries')}. "
                   "Baselined findings pass the checks but still break when enforcement flips, "
                   "so the verdict and the tables count them.")
    out.append("")
    if not r.findings:
        return "\n".join(out)

    out += ["## By category", "", "| Category | Errors | Warnings | Info | Total |", "| --- | ---: | ---: | ---: | ---: |"]
    for category, counts in r.by_category.items():
        cells = " | ".join(str(counts[s]) for s in SEVERITY_ORDER)
        out.append(f"| {category.value} | {cells} | {sum(counts.values())} |")
    out += ["", "## By rule", "", "| Rule | Name | Category | Findings | Breaking | Fixable | Baselined |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for rule in r.by_rule:
        out.append(f"| {rule.code} | `{rule.name}` | {rule.category} | {rule.findings} | {rule.breaking} | "
                   f"{rule.fixable} | {rule.baselined} |")
    out += ["", "## By file kind", "", "| File kind | Findings | Files |", "| --- | ---: | ---: |"]
    for kind, (n, files) in r.by_kind.items():
        out.append(f"| {kind} | {n} | {files} |")

    out += ["", "## Files to change first", "",
            "| File | Kind | Breaking | Errors | Warnings | Info | Fixable | Baselined |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in r.first_files:
        counts = " | ".join(str(row.counts[s]) for s in SEVERITY_ORDER)
        out.append(f"| {_code(row.path)} | {_text(row.kind)} | {row.breaking} | {counts} | {row.fixable} | "
                   f"{row.baselined} |")
    if r.more_files:
        out.append(f"\n... and {r.more_files} more file{'s' if r.more_files != 1 else ''}.")

    out += ["", "## What can be fixed automatically", "",
            f"- {r.safe} with `imds-lint --fix`",
            f"- {r.unsafe} more with `imds-lint --fix --unsafe-fixes` (review these)",
            f"- {r.display_only} shown by `imds-lint --diff` only",
            f"- {r.manual} need a change by hand"]

    out += ["", "## Containers that need hop limit ≥ 2", ""]
    out += _finding_list(r.hop_limit, report) if r.hop_limit else ["None found."]
    out += ["", "## IaC resources still allowing IMDSv1", ""]
    out += _finding_list(r.enforcement, report) if r.enforcement else ["None found."]
    out += ["", f"<sub>imds-lint: {plural(r.findings, 'finding')}, {r.breaking} breaking, "
            f"{r.fixable} fixable; run `imds-lint --diff` to review the rewrites, `imds-lint --fix` to apply them.</sub>", ""]
    return "\n".join(out)
