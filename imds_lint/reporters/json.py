"""The stable JSON format (version 1); see README for the schema."""

from __future__ import annotations

from imds_lint import __version__
from imds_lint.reporters import Report, dumps, valid_text


def _brief(f, report: Report) -> dict:
    return {"rule": f.code, "name": f.name, "category": f.category.value, "severity": f.severity.value,
            "path": report.project_path(f.path), "line": f.start.line, "fixable": f.fixable,
            "fix": None if f.fix is None else f.fix.applicability.value}


def render(report: Report) -> str:
    project = report.project
    document = {
        "version": 1,
        "tool": {"name": "imds-lint", "version": __version__},
        # Which repository and commit this report describes (a fleet report merges many).
        "repository": project.repository if project is not None else None,
        "commit": project.commit if project is not None else None,
        "projects": [p.as_json() for p in report.projects],
        "findings": [
            {
                "rule": f.code,
                "name": f.name,
                "category": f.category.value,
                "severity": f.severity.value,
                "path": valid_text(f.path),
                "project_path": valid_text(report.project_path(f.path)),
                "line": f.start.line,
                "column": f.start.column,
                "end_line": f.end.line,
                "end_column": f.end.column,
                "message": f.message,
                "fixable": f.fixable,
                "fix": None if f.fix is None else {
                    "title": f.fix.title,
                    "applicability": f.fix.applicability.value,
                },
                "fingerprint": fp,
            }
            for f, fp in zip(report.findings, report.fingerprints)
        ],
        "errors": [{"path": valid_text(e.path), "message": valid_text(e.message)} for e in report.errors],
        "summary": {
            "files_scanned": report.files_scanned,
            "findings": len(report.findings),
            "fixes_applied": report.fixes_applied,
        },
    }
    if report.baseline is not None:
        document["baseline"] = {
            "path": report.baseline.path,
            "matched": report.baseline.matched,
            "stale": len(report.baseline.stale),
            "stale_entries": report.baseline.stale,
            # What the baseline hid, still breaking when enforcement flips (the readiness needs it).
            "hidden": [_brief(f, report) for f in report.baselined],
        }
    return dumps(document)
