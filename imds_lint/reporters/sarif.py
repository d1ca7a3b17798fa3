"""SARIF 2.1.0, shaped for GitHub code scanning.

Paths are relative to ``%SRCROOT%`` (the repository root, else the config's folder, given
in ``originalUriBaseIds``: imds_lint.project); every rule of the catalog has one reportingDescriptor
whose help is its rule page; ``partialFingerprints`` are the content-based
fingerprints of imds_lint.fingerprint, so alerts survive lines moving; columns
count Unicode code points, as the rest of imds-lint does.
"""

from __future__ import annotations

import re
from pathlib import Path

from imds_lint import __version__
from imds_lint.fingerprint import normalise_path
from imds_lint.model import Applicability, Finding, Severity
from imds_lint.reporters import Report, dumps

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/imds-lint/imds-lint"
# Rule pages are the rule modules themselves; this pattern is stable as long as
# the catalog keeps one module per rule at rules/<module>.py on main.
HELP_URI = INFORMATION_URI + "/blob/main/rules/{module}.py"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "imdsLintFingerprint/v1"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report, root: Path | None = None) -> str:
    return dumps(document(report, root))


def document(report: Report, root: Path | None = None) -> dict:
    from imds_lint.registry import all_rules

    rules = all_rules()
    index = {rule.code: i for i, rule in enumerate(rules)}
    root_uri = (root or Path.cwd()).resolve().as_uri().rstrip("/") + "/"
    results = [_result(f, fp, index) for f, fp in zip(report.findings, report.fingerprints)]
    run = {
        "tool": {"driver": {
            "name": "imds-lint",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [_descriptor(rule) for rule in rules],
        }},
        "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
        "invocations": [{
            "executionSuccessful": report.execution_successful,
            "toolExecutionNotifications": [_notification(e) for e in report.errors],
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if report.baseline is not None:
        run["properties"] = {"baseline": {"path": report.baseline.path, "matched": report.baseline.matched,
                                          "stale": len(report.baseline.stale)}}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _section(doc: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
    return " ".join(match.group(1).split()) if match else ""


def _descriptor(rule) -> dict:
    doc = rule.documentation()
    module = rule.__module__.rpartition(".")[2]
    page = f"# {rule.code} {rule.name}\n\n{_sentence(rule.summary)}\n\n{doc}\n"
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _sentence(rule.summary)},
        "fullDescription": {"text": _sentence(_section(doc, "What it does") or rule.summary)},
        "help": {"text": page, "markdown": page},
        "helpUri": HELP_URI.format(module=module),
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["imdsv2", rule.category.value], "precision": "high"},
    }


def _artifact(path: str) -> dict:
    return {"uri": _uri(normalise_path(path)), "uriBaseId": SRCROOT}


def _uri(path: str) -> str:
    import os
    from urllib.parse import quote

    # The file name's own bytes, percent-encoded: an undecodable byte is %FF, as RFC 3986 spells it.
    return quote(os.fsencode(path), safe="/-._~")


def _region(start, end, snippet: str | None = None) -> dict:
    region = {"startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column}
    if snippet:
        region["snippet"] = {"text": snippet}
    return region


def _result(f: Finding, fingerprint: str, index: dict[str, int]) -> dict:
    result = {
        "ruleId": f.code,
        "level": _LEVEL[f.severity],
        "message": {"text": _sentence(f.message)},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(f.path),
            "region": _region(f.start, f.end, f.snippet),
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if f.code in index:
        result["ruleIndex"] = index[f.code]
    if f.fix is not None and f.fix.edits and len(f.fix_locations) == len(f.fix.edits):  # a withheld fix has none
        replacements = [
            {"deletedRegion": _region(start, end), "insertedContent": {"text": edit.content}}
            for edit, (start, end) in zip(f.fix.edits, f.fix_locations)
        ]
        result["fixes"] = [{
            "description": {"text": _sentence(f.fix.title)},
            "artifactChanges": [{"artifactLocation": _artifact(f.path), "replacements": replacements}],
            "properties": {"applicability": f.fix.applicability.value,
                           "appliedBy": _applied_by(f.fix.applicability)},
        }]
    return result


def _applied_by(applicability: Applicability) -> str:
    return {Applicability.SAFE: "--fix", Applicability.UNSAFE: "--fix --unsafe-fixes",
            Applicability.DISPLAY_ONLY: "--diff (shown, not applied)"}[applicability]


def _notification(error) -> dict:
    # A crashed file is an error of the run; a front-end that fell back to text scanning, a warning.
    message = error.message
    level = "error" if message.startswith("internal error") else "warning" if "internal error" in message else "note"
    return {
        "level": level,
        "message": {"text": _sentence(error.message)},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(error.path)}}],
    }
