"""GitLab Code Quality and JUnit XML outputs, checked against what their consumers require, and
the severity threshold that decides the exit code (hadolint's --failure-threshold)."""

from __future__ import annotations

import json
import os
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from imds_lint.cli import main
from tests.helpers import write

URL = "http://169.254.169.254/latest/meta-data/instance-id"
TOKENLESS = f"#!/bin/bash\ncurl -s {URL}\n"
# A warning only: an IaC resource that keeps IMDSv1 open (IMDS301), no error anywhere.
OPEN_INSTANCE = ('resource "aws_instance" "web" {\n  ami           = "ami-12345678"\n'
                 '  instance_type = "t3.micro"\n}\n')

# GitLab's documented Code Quality report format (docs.gitlab.com/ci/testing/code_quality,
# "Code Quality report format"): a JSON array of issues, each with these fields; severity from
# its five levels; the location a path relative to the repository and a begin line, given as
# lines.begin or positions.begin.line. Code Climate's spec adds type "issue" and its categories.
GITLAB_CODE_QUALITY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "type": {"const": "issue"},
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "categories": {"type": "array", "minItems": 1, "items": {"enum": [
                "Bug Risk", "Clarity", "Compatibility", "Complexity", "Duplication", "Performance",
                "Security", "Style"]}},
            "location": {
                "type": "object",
                "required": ["path"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "not": {"pattern": "^(/|\\./|\\.\\./)"}},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1},
                                             "end": {"type": "integer", "minimum": 1}}},
                },
                "oneOf": [{"required": ["lines"]}, {"required": ["positions"]}],
            },
        },
    },
}


def test_gitlab_code_quality_has_what_gitlab_requires(git_repo, capsys):
    write(git_repo / "ops" / "boot.sh", TOKENLESS + TOKENLESS)  # the same line twice: fingerprints still differ
    write(git_repo / "infra" / "main.tf", OPEN_INSTANCE)
    os.chdir(git_repo / "ops")  # paths are the repository's, whichever folder it runs from
    assert main(["--format", "gitlab", ".."]) == 1
    issues = json.loads(capsys.readouterr().out)
    jsonschema.validate(issues, GITLAB_CODE_QUALITY)
    assert sorted((i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"]) for i in issues) == [
        ("infra/main.tf", 1, "IMDS301 metadata-tokens-optional"),
        ("ops/boot.sh", 2, "IMDS101 tokenless-request"),
        ("ops/boot.sh", 4, "IMDS101 tokenless-request"),
    ]
    assert len({i["fingerprint"] for i in issues}) == 3, "GitLab shows one issue per fingerprint"
    assert {i["severity"] for i in issues} == {"critical", "major"}
    # The fingerprint is the baseline's: a line inserted above leaves it unchanged.
    before = {i["fingerprint"] for i in issues}
    write(git_repo / "ops" / "boot.sh", "# moved down\n" + TOKENLESS + TOKENLESS)
    assert main(["--format", "gitlab", ".."]) == 1
    assert {i["fingerprint"] for i in json.loads(capsys.readouterr().out)} == before


def test_gitlab_clean_run_is_an_empty_array(git_repo, capsys):
    write(git_repo / "ok.sh", "echo hello\n")
    assert main(["--format", "gitlab", "."]) == 0
    assert json.loads(capsys.readouterr().out) == []


def _junit(text: str) -> ET.Element:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    for suite in root.iter("testsuite"):
        # Ant/Jenkins JUnit schema: a suite has a name and counts; a case a name and a classname.
        assert suite.get("name") and suite.get("tests") is not None and suite.get("failures") is not None
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        for case in cases:
            assert case.get("name") and case.get("classname")
    return root


def test_junit_one_failing_case_per_finding_unique_per_gitlab_key(git_repo, capsys):
    write(git_repo / "ops" / "boot.sh", TOKENLESS + TOKENLESS)
    write(git_repo / "infra" / "main.tf", OPEN_INSTANCE)
    assert main(["--format", "junit", "--output", f"junit:{git_repo / 'report.xml'}", "."]) == 1
    root = _junit(capsys.readouterr().out)
    assert ET.tostring(root) == ET.tostring(_junit((git_repo / "report.xml").read_text()))
    cases = list(root.iter("testcase"))
    assert len(cases) == 3 and int(root.get("failures")) == 3
    # GitLab keys a test case by (classname, name) and drops repeats: two findings of one rule in
    # one file must not collapse into one.
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == 3
    boot = [c for c in cases if c.get("classname") == "ops/boot.sh"]
    assert [c.get("line") for c in boot] == ["2", "4"] and all(c.get("file") == "ops/boot.sh" for c in boot)
    failure = boot[0].find("failure")
    assert failure.get("type") == "IMDS101" and "without an IMDSv2 token" in failure.get("message")
    assert failure.text.startswith("ops/boot.sh:2:")


def test_junit_clean_run_is_one_passing_case(git_repo, capsys):
    write(git_repo / "ok.sh", "echo hello\n")
    assert main(["--format", "junit", "."]) == 0
    root = _junit(capsys.readouterr().out)
    cases = list(root.iter("testcase"))
    assert len(cases) == 1 and cases[0].find("failure") is None and root.get("failures") == "0"


def test_junit_is_well_formed_whatever_the_names_hold(git_repo, capsys):
    # Controls cannot appear in XML 1.0 even as character references; markup must stay text.
    write(git_repo / "e\x1bvil<&>\".sh", f"curl {URL} # \x07\ufffe\n")
    assert main(["--format", "junit", "."]) == 1
    root = _junit(capsys.readouterr().out)
    (case,) = root.iter("testcase")
    assert case.get("classname") == 'e\\x1bvil<&>".sh'


@pytest.mark.parametrize(("threshold", "files", "expected"), [
    ("info", ["main.tf"], 1),
    ("warning", ["main.tf"], 1),
    ("error", ["main.tf"], 0),
    ("error", ["main.tf", "boot.sh"], 1),
    ("warning", ["clean.sh"], 0),
])
def test_failure_threshold_decides_the_exit_code(git_repo, capsys, threshold, files, expected):
    write(git_repo / "main.tf", OPEN_INSTANCE)
    write(git_repo / "boot.sh", TOKENLESS)
    write(git_repo / "clean.sh", "echo hi\n")
    assert main(["--failure-threshold", threshold, *files]) == expected
    out = capsys.readouterr().out
    if "main.tf" in files:
        assert "IMDS301" in out, "findings below the threshold are still reported"


def test_failure_threshold_keeps_usage_errors_and_rejects_unknown_levels(git_repo, capsys):
    write(git_repo / "main.tf", OPEN_INSTANCE)
    assert main(["--failure-threshold", "error", "missing.sh"]) == 2
    assert main(["--failure-threshold", "style", "main.tf"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_readme_gitlab_ci_job_writes_what_its_artifacts_name(git_repo, capsys):
    import re
    import shlex
    from pathlib import Path

    import yaml

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### GitLab CI\n\n```yaml\n(.*?)```", readme, re.S).group(1)
    job = yaml.safe_load(block)["imds-lint"]
    (command,) = [line for line in job["script"] if line.startswith("imds-lint ")]
    write(git_repo / "boot.sh", TOKENLESS)
    write(git_repo / "main.tf", OPEN_INSTANCE)
    assert main(["--write-baseline", ".imds-lint-baseline.json", "main.tf"]) == 0
    assert main(shlex.split(command)[1:]) == 1, "boot.sh breaks: the job fails"
    reports = job["artifacts"]["reports"]
    jsonschema.validate(json.loads((git_repo / reports["codequality"]).read_text()), GITLAB_CODE_QUALITY)
    _junit((git_repo / reports["junit"]).read_text())
    assert all((git_repo / p).is_file() for p in job["artifacts"]["paths"])
    # The next pipeline starts from a fresh checkout: last run's reports are not there to be scanned
    # (they quote the URLs they found, and a JSON report's strings are text-scanned like any JSON).
    for path in [*reports.values(), *job["artifacts"]["paths"]]:
        (git_repo / path).unlink()
    (git_repo / "boot.sh").write_text("echo fixed\n")
    write(git_repo / "other.tf", OPEN_INSTANCE)  # a new warning, not in the baseline
    assert main(shlex.split(command)[1:]) == 0, "warnings alone pass the job at --failure-threshold error"


def test_reports_left_in_the_tree_are_not_scanned_again(git_repo, capsys):
    write(git_repo / "boot.sh", TOKENLESS)
    assert main(["--output", "json:r.json", "--output", "gitlab:gl.json", "--output", "sarif:r.sarif",
                 "--output", "junit:r.xml", "--output", "markdown:r.md", "."]) == 1
    assert main(["--merge", "r.json", "--format", "json", "-o", "fleet.json"]) == 1
    capsys.readouterr()
    assert main(["--format", "json", "."]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["project_path"] for f in data["findings"]] == ["boot.sh"], "each finding once, where it is"
    assert {e["path"] for e in data["errors"] if e["message"] == "an imds-lint report; not scanned"} == {
        "gl.json", "r.json"}
    # Only the reporters' own opening is recognised: other JSON naming imds-lint is scanned as ever.
    write(git_repo / "notes.json", json.dumps({"tool": {"name": "imds-lint"}, "version": 1,
                                           "cmd": f"curl -s {URL}"}, indent=2))
    assert main(["--format", "json", "notes.json"]) == 1


def test_checkstyle_as_shellcheck_and_hadolint_write_it(git_repo, capsys):
    write(git_repo / "ops" / "boot.sh", TOKENLESS + TOKENLESS)
    write(git_repo / "main.tf", OPEN_INSTANCE)
    write(git_repo / "e\x1bvil<&>.sh", f"curl {URL}\n")
    os.chdir(git_repo / "ops")
    assert main(["--format", "checkstyle", ".."]) == 1
    root = ET.fromstring(capsys.readouterr().out.encode("utf-8"))
    assert root.tag == "checkstyle" and root.get("version")
    errors = {(file.get("name"), e.get("line")): e for file in root.findall("file") for e in file.findall("error")}
    assert sorted(errors) == [("e\\x1bvil<&>.sh", "1"), ("main.tf", "1"), ("ops/boot.sh", "2"), ("ops/boot.sh", "4")]
    boot = errors[("ops/boot.sh", "2")]
    # What reviewdog's checkstyle parser and Jenkins' Warnings plugin read of each error.
    assert (boot.get("column"), boot.get("severity"), boot.get("source")) == ("1", "error", "imds-lint.IMDS101")
    assert "without an IMDSv2 token" in boot.get("message")
    assert errors[("main.tf", "1")].get("severity") == "warning"
    assert main(["--format", "checkstyle", str(git_repo / "ops")]) == 1
    capsys.readouterr()
    write(git_repo / "ops" / "boot.sh", "echo fixed\n")
    assert main(["--format", "checkstyle", "."]) == 0
    assert ET.fromstring(capsys.readouterr().out.encode()).findall("file") == []
