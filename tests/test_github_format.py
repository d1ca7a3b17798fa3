"""--format github: workflow command annotations, escaped as the Actions runner expects."""

from __future__ import annotations

import re

import pytest

from imds_lint.cli import main
from imds_lint.model import Category, Finding, Location, Severity, Span
from imds_lint.reporters import Report
from imds_lint.reporters.github import escape_data, escape_property, render

TOKENLESS = "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"
WRAPPER = "#!/bin/bash\nID=$(ec2-metadata --instance-id | cut -d' ' -f2)\n"
COMMAND = re.compile(r"^::(error|warning|notice) ((?:[A-Za-z]+=[^,:]*)(?:,[A-Za-z]+=[^,:]*)*)::(.*)$")


def _finding(**changes) -> Finding:
    base = dict(code="IMDS101", name="tokenless-request", category=Category.IMDSV1_CALL, severity=Severity.ERROR,
                message="curl sends GET", span=Span(0, 4), path="a.sh", start=Location(2, 1), end=Location(2, 5))
    base.update(changes)
    return Finding(**base)


def test_error_annotation_has_every_property(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.sh").write_text(TOKENLESS)
    (tmp_path / "old.sh").write_text(WRAPPER)
    assert main(["--format", "github", "bad.sh", "old.sh"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("::error file=bad.sh,line=2,col=1,endLine=2,endColumn=5,"
                               "title=IMDS101 tokenless-request::curl sends GET http://169.254.169.254/")
    assert "%0AFix: " in lines[0] and lines[0].endswith("(imds-lint --fix)")
    assert lines[1].startswith("::notice file=old.sh,line=2,")
    assert lines[-1].startswith("Found 2 findings in 2 of 2 files.")
    for line in lines[:-1]:
        assert COMMAND.match(line), line


def test_warning_level():
    out = render(Report(findings=[_finding(severity=Severity.WARNING)]))
    assert out.startswith("::warning file=a.sh,")


@pytest.mark.parametrize(("raw", "data", "prop"), [
    ("100%", "100%25", "100%25"),
    ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
    ("x:y,z", "x:y,z", "x%3Ay%2Cz"),
    ("%0A", "%250A", "%250A"),
])
def test_escaping(raw, data, prop):
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_hostile_path_and_message_cannot_inject_a_command():
    finding = _finding(path="dir,x=1/a:b%.sh", message="line one\n::error file=evil::injected")
    out = render(Report(findings=[finding]))
    first = out.splitlines()[0]
    assert first.startswith("::error file=dir%2Cx=1/a%3Ab%25.sh,line=2,")
    assert "\n::error file=evil" not in out
    assert first.endswith("line one%0A::error file=evil::injected")
    match = COMMAND.match(first)
    assert match and match.group(1) == "error"
