"""JUnit XML, for CI systems that show test results (GitLab unit test reports, Jenkins, Azure).

One ``testsuite`` per file with findings, one failing ``testcase`` per finding. GitLab keys test
cases by classname and name and keeps only the first of a pair, so the name carries the line and
column. A clean run is one passing test case, so "0 tests" never reads as "nothing ran".
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from imds_lint.reporters import Report, xml_text


def render(report: Report) -> str:
    by_file: dict[str, list] = {}
    for f in report.findings:
        by_file.setdefault(report.project_path(f.path), []).append(f)
    total = len(report.findings)
    root = ET.Element("testsuites", name="imds-lint", tests=str(max(total, 1)), failures=str(total),
                      errors="0", time="0")
    for path, findings in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=xml_text(path), tests=str(len(findings)),
                              failures=str(len(findings)), errors="0", skipped="0", time="0")
        for f in findings:
            case = ET.SubElement(suite, "testcase", classname=xml_text(path),
                                 name=f"{f.code} {f.name} at line {f.start.line}, column {f.start.column}",
                                 file=xml_text(path), line=str(f.start.line), time="0")
            failure = ET.SubElement(case, "failure", message=xml_text(f.message), type=f.code)
            failure.text = f"{xml_text(path)}:{f.start.line}:{f.start.column}: {f.code} [{f.severity.value}] {xml_text(f.message)}"
    if not by_file:
        suite = ET.SubElement(root, "testsuite", name="imds-lint", tests="1", failures="0", errors="0",
                              skipped="0", time="0")
        ET.SubElement(suite, "testcase", classname="imds-lint",
                      name=f"No IMDSv1 breakage found in {report.files_scanned} file{'s' if report.files_scanned != 1 else ''}",
                      time="0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
