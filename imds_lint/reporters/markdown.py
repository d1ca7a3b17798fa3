"""The readiness report in GitHub-flavoured Markdown, for ``$GITHUB_STEP_SUMMARY``
and pull-request comments: what breaks if ``http_tokens=required`` is flipped now."""

from __future__ import annotations

import re

from imds_lint.fingerprint import normalise_path
from imds_lint.model import Finding, Severity
from imds_lint.reporters import Report, printable
from imds_lint.reporters.readiness import SEVERITY_ORDER, assess

LIST_LIMIT = 20


# Backslash-escaped wherever data (names, messages that quote names or logical IDs) meets the
# page: HTML, links and images, emphasis, code spans and table pipes cannot start from a name.
# (An underscore inside a word starts no emphasis in GFM, so ``aws_instance`` stays as it is.)
_MARKUP = re.compile(r"[\\`*\[\]<>&|~!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _text(text: str) -> str:
    """Data as literal Markdown text on one line: controls escaped, markup characters backslashed."""
    return _MARKUP.sub(lambda m: "\\" + m.group(0), printable(text))


def _code(text: str) -> str:
    """A code span holding ``text`` literally (HTML is not interpreted in one): its fence is longer
    than any run of backticks inside, and ``|`` is escaped as a table cell needs."""
    text = printable(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def _where(f: Finding) -> str:
    return _code(f"{normalise_path(f.path)}:{f.start.line}")


def _finding_list(findings: list[Finding]) -> list[str]:
    lines = [f"- {_where(f)} {f.code} {_text(f.message)}" for f in findings[:LIST_LIMIT]]
    if len(findings) > LIST_LIMIT:
        lines.append(f"- ... and {len(findings) - LIST_LIMIT} more")
    return lines


def render(report: Report) -> str:
    r = assess(report)
    mark = "✅" if r.ready else "❌"
    out = ["# IMDSv2 readiness", "", f"**{mark} {r.verdict}**", ""]
    fixable = r.safe + r.unsafe
    out.append(f"{r.findings} finding{'s' if r.findings != 1 else ''} in {r.files_scanned} scanned "
               f"file{'s' if r.files_scanned != 1 else ''}; {fixable} fixable automatically.")
    if report.baseline is not None:
        b = report.baseline
        out.append(f"Baseline {_code(b.path)}: {b.matched} known finding{'s' if b.matched != 1 else ''} hidden, "
                   f"{len(b.stale)} stale entr{'ies' if len(b.stale) != 1 else 'y'}. "
                   "The verdict and the tables cover only findings not in the baseline.")
    out.append("")
    if not r.findings:
        return "\n".join(out)

    out += ["## By category", "", "| Category | Errors | Warnings | Info | Total |", "| --- | ---: | ---: | ---: | ---: |"]
    for category, counts in r.by_category.items():
        cells = " | ".join(str(counts[s]) for s in SEVERITY_ORDER)
        out.append(f"| {category.value} | {cells} | {sum(counts.values())} |")
    out += ["", "## By file kind", "", "| File kind | Findings | Files |", "| --- | ---: | ---: |"]
    for kind, (n, files) in r.by_kind.items():
        out.append(f"| {kind} | {n} | {files} |")

    out += ["", "## Files to change first", "",
            "| File | Kind | Breaking | Errors | Warnings | Info | Fixable |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in r.first_files:
        counts = " | ".join(str(row.counts[s]) for s in SEVERITY_ORDER)
        out.append(f"| {_code(normalise_path(row.path))} | {_text(row.kind)} | {row.breaking} | {counts} | {row.fixable} |")
    if r.more_files:
        out.append(f"\n... and {r.more_files} more file{'s' if r.more_files != 1 else ''}.")

    out += ["", "## What can be fixed automatically", "",
            f"- {r.safe} with `imds-lint --fix`",
            f"- {r.unsafe} more with `imds-lint --fix --unsafe-fixes` (review these)",
            f"- {r.display_only} shown by `imds-lint --diff` only",
            f"- {r.manual} need a change by hand"]

    out += ["", "## Containers that need hop limit ≥ 2", ""]
    out += _finding_list(r.hop_limit) if r.hop_limit else ["None found."]
    out += ["", "## IaC resources still allowing IMDSv1", ""]
    out += _finding_list(r.enforcement) if r.enforcement else ["None found."]
    errors = sum(1 for f in report.findings if f.severity is Severity.ERROR)
    out += ["", f"<sub>imds-lint: {errors} error{'s' if errors != 1 else ''}; "
            "run `imds-lint --diff` to review the rewrites, `imds-lint --fix` to apply them.</sub>", ""]
    return "\n".join(out)
