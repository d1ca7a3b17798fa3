"""The readiness report (--format markdown) and the other human-facing outputs, against golden files.

The golden files under tests/golden/ were written once and reviewed line by
line; there is deliberately no switch that rewrites them. When an output
changes on purpose, read the diff this test prints, then update the file by
hand (or copy the "actual" file it names after reviewing it).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from imds_lint.cli import main
from imds_lint.model import Category, Finding, Location, Severity, Span
from imds_lint.reporters import Report
from imds_lint.reporters import markdown
from imds_lint.reporters.readiness import assess
from tests.helpers import check_golden

GOLDEN = Path(__file__).with_name("golden")
PROJECT = GOLDEN / "project"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of tests/golden/project, so no configuration or .gitignore of this repository applies."""
    target = tmp_path / "project"
    shutil.copytree(PROJECT, target)
    monkeypatch.chdir(target)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return target


@pytest.mark.parametrize(("name", "args", "exit_code"), [
    ("readiness.md", ["--format", "markdown", "."], 1),
    ("annotations.txt", ["--format", "github", "."], 1),
    ("text.txt", ["."], 1),
    ("readiness-clean.md", ["--format", "markdown", "deploy/token.sh", "--ignore", "IMDS5"], 0),
])
def test_golden_outputs(project, capsys, tmp_path, name, args, exit_code):
    assert main(args) == exit_code
    check_golden(name, capsys.readouterr().out, tmp_path)


def test_golden_check_fails_on_any_change(project, capsys, tmp_path):
    main(["--format", "markdown", "."])
    out = capsys.readouterr().out
    with pytest.raises(pytest.fail.Exception):
        check_golden("readiness.md", out.replace("| shell | 5 | 2 |", "| shell | 5 | 3 |"), tmp_path)


def _finding(path: str, code: str, category: Category, severity: Severity, line: int = 1) -> Finding:
    return Finding(code=code, name="x", category=category, severity=severity, message=f"{code} message",
                   span=Span(0, 1), path=path, start=Location(line, 1), end=Location(line, 2))


def test_verdicts():
    ready = assess(Report(files_scanned=3))
    assert ready.ready and ready.verdict.startswith("Ready: nothing found")
    enforce = assess(Report(findings=[_finding("main.tf", "IMDS301", Category.ENFORCEMENT, Severity.WARNING)]))
    assert enforce.ready and enforce.verdict.startswith("Ready to enforce") and "1 IaC resource still allows" in enforce.verdict
    info_only = assess(Report(findings=[_finding("a.sh", "IMDS102", Category.IMDSV1_CALL, Severity.INFO)]))
    assert info_only.ready
    broken = assess(Report(findings=[_finding("a.sh", "IMDS210", Category.HOP_LIMIT, Severity.WARNING)]))
    assert not broken.ready and broken.verdict.startswith("Not ready: 1 finding in 1 file would break")


def test_files_to_change_first_ranks_breaking_findings_and_caps_the_list():
    findings = [_finding(f"f{i:02}.sh", "IMDS101", Category.IMDSV1_CALL, Severity.ERROR, line)
                for i in range(14) for line in range(1, i % 3 + 2)]
    findings.append(_finding("main.tf", "IMDS301", Category.ENFORCEMENT, Severity.WARNING))
    r = assess(Report(findings=findings))
    assert [row.path for row in r.first_files[:3]] == ["f02.sh", "f05.sh", "f08.sh"]
    assert len(r.first_files) == 10 and r.more_files == 5
    assert "... and 5 more files." in markdown.render(Report(findings=findings))


def test_markdown_cells_cannot_break_the_table():
    finding = _finding("odd|name.sh", "IMDS101", Category.IMDSV1_CALL, Severity.ERROR)
    out = markdown.render(Report(findings=[finding], kinds={"odd|name.sh": "shell"}))
    row = next(line for line in out.splitlines() if "odd" in line and line.startswith("|"))
    assert "odd\\|name.sh" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 9  # 8 columns


def test_text_mode_on_a_terminal_adds_the_readiness_table(project, capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["."]) == 1
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert "IMDSv2 readiness" in out and "Files to change first" in out
    assert re.search(r"imdsv1-call\s*│\s*4\s*│\s*0\s*│\s*1\s*│\s*5", out)
    assert "Not ready: 8 findings in 4 files would break" in out


def test_plain_text_never_imports_rich(project):
    import subprocess
    import sys

    code = ("import sys\nfrom imds_lint.cli import main\nrc = main(['--format', 'markdown', '.'])\n"
            "rc2 = main(['.'])\nsys.stdout.flush()\nsys.stderr.write('RICH=' + str('rich' in sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR",)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=project)
    assert proc.stderr.endswith("RICH=False"), proc.stderr


# -- what GitHub would autolink or notify ------------------------------------------------------

AUTOLINKED = ["@octocat", "@acme/platform-team", "https://evil.example/x?y=1", "www.evil.example",
              "ops@acme.example", "#12", "acme/infra#7", "GH-3"]


def _outside_code_spans(markdown_text: str) -> str:
    """The rendered page's text that GitHub's mention, reference and autolink passes read: all of it
    but code elements (they skip <code>, as its docs say for @mentions)."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(markdown_text)
    return re.sub(r"<code>.*?</code>", "", html, flags=re.S)


@pytest.mark.parametrize("token", AUTOLINKED)
def test_mentions_urls_and_references_from_data_are_code_spans(tmp_path, monkeypatch, capsys, token):
    # Scanned data reaches the page through a message (a CloudFormation logical ID quoted in it)
    # and through the file kind; paths are code spans already.
    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        f"  \"ping {token} now\":\n    Type: AWS::EC2::Instance\n    Properties:\n      ImageId: ami-12345678\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "markdown", "--select", "IMDS301", "."]) == 1
    out = capsys.readouterr().out
    assert token in out, "the name is shown as it is spelt"
    assert token not in _outside_code_spans(out)
    assert "ping" in _outside_code_spans(out), "only the autolinked token leaves plain text"


def test_plain_words_near_autolink_signs_stay_plain():
    rendered = markdown._text("user@ and C# and a#1 and x @ y")
    assert "`" not in rendered
    assert markdown._text("see @bob") == "see `@bob`"
    assert markdown._text("go to https://x.example/a|b now") == "go to `https://x.example/a\\|b` now"
