"""GitLab Code Quality: the subset of the Code Climate issue format that GitLab's merge-request
widget reads (``artifacts: reports: codequality:``).

One issue per finding with the fields GitLab requires (description, check_name, fingerprint,
severity, location.path, location.lines.begin) plus the Code Climate ``type``, ``categories``
and ``location.positions`` that other consumers read. The fingerprint is the baseline's (rule,
path, normalised snippet, occurrence): unique within a report, as GitLab needs to tell issues
apart, and stable across inserted lines, as it needs to tell new issues from fixed ones.
"""

from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.reporters import Report, dumps, valid_text

# GitLab's scale is info, minor, major, critical, blocker. An error breaks when enforcement flips;
# blocker is left for nothing here, as a finding never stops the code from running today.
SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}
# Code Climate categories: a tokenless call is a compatibility problem, an IaC resource that
# keeps IMDSv1 open a security one, a file that does not parse a bug risk.
_CATEGORIES = {Category.ENFORCEMENT: ["Security"], Category.ENGINE: ["Bug Risk"]}


def render(report: Report) -> str:
    issues = []
    for f, fingerprint in zip(report.findings, report.fingerprints):
        path = valid_text(report.project_path(f.path))
        issues.append({
            "type": "issue",
            "check_name": f"{f.code} {f.name}",
            "description": valid_text(f.message),
            "categories": _CATEGORIES.get(f.category, ["Compatibility"]),
            "severity": SEVERITY[f.severity],
            "fingerprint": fingerprint,
            "location": {
                "path": path,
                # Code Climate takes lines or positions, not both; GitLab reads either.
                "lines": {"begin": f.start.line, "end": max(f.end.line, f.start.line)},
            },
        })
    return dumps(issues)
