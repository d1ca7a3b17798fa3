"""Checkstyle XML, as ShellCheck and hadolint write it (``-f checkstyle``): what reviewdog,
Jenkins' Warnings plugin and many editors read. One ``file`` per path with findings, one
``error`` per finding; ``source`` names the rule as ``imds-lint.IMDS101``.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from imds_lint.reporters import Report, xml_text


def render(report: Report) -> str:
    root = ET.Element("checkstyle", version="4.3")
    files: dict[str, ET.Element] = {}
    for f in report.findings:
        path = report.project_path(f.path)
        element = files.get(path)
        if element is None:
            element = files[path] = ET.SubElement(root, "file", name=xml_text(path))
        ET.SubElement(element, "error", line=str(f.start.line), column=str(f.start.column),
                      severity=f.severity.value, message=xml_text(f.message), source=f"imds-lint.{f.code}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
