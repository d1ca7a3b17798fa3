"""SARIF 2.1.0: valid against the official schema, shaped for GitHub code scanning.

tests/sarif-2.1.0.json is the schema shipped in the npm package
@microsoft/sarif-multitool-linux 5.7.0 (file sarif-2.1.0.json at the package
root), copied unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from imds_lint.cli import main
from imds_lint.fixers import apply_edits
from imds_lint.reporters import Report
from imds_lint.reporters import sarif
from tests.conftest import ROOT
from tests.helpers import lint

SCHEMA_FILE = Path(__file__).with_name("sarif-2.1.0.json")
TOKENLESS = "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"
WGET = "#!/bin/sh\nwget -q -O - http://169.254.169.254/latest/meta-data/ami-id\n"
WRAPPER = "#!/bin/bash\nID=$(ec2-metadata --instance-id | cut -d' ' -f2)\n"


def run_sarif(capsys, args) -> tuple[int, dict]:
    code = main(["--format", "sarif", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "facts.sh").write_text(TOKENLESS)
    (tmp_path / "scripts" / "ami.sh").write_text(WGET)
    (tmp_path / "scripts" / "old tool.sh").write_text(WRAPPER)
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01169.254.169.254\x00")
    return tmp_path


@pytest.fixture(scope="module")
def fixtures_log() -> dict:
    """The whole fixture tree (every front-end) as SARIF, run from the repository root."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        from contextlib import redirect_stdout
        from io import StringIO

        out = StringIO()
        with redirect_stdout(out):
            assert main(["--format", "sarif", "fixtures"]) == 1
    finally:
        os.chdir(cwd)
    return json.loads(out.getvalue())


def test_fixture_tree_is_valid_against_the_official_schema(fixtures_log):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(fixtures_log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]
    assert len(fixtures_log["runs"][0]["results"]) > 50


def test_schema_catches_a_broken_log(fixtures_log):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")
    schema = json.loads(SCHEMA_FILE.read_text())
    broken = json.loads(json.dumps(fixtures_log))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))


def test_github_code_scanning_shape(fixtures_log):
    run = fixtures_log["runs"][0]
    assert fixtures_log["version"] == "2.1.0"
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)), "duplicate reportingDescriptors"
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "## Why it breaks under IMDSv2-only" in rule["help"]["markdown"]
        assert rule["help"]["text"]
        prefix = "https://github.com/imds-lint/imds-lint/blob/main/rules/"
        assert rule["helpUri"].startswith(prefix)
        module = rule["helpUri"][len(prefix):]
        assert (ROOT / "rules" / module).is_file(), module
        assert module.startswith(rule["id"].lower() + "_")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    fingerprints = set()
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert uri.startswith("fixtures/") and ":" not in uri and not uri.startswith("/")
        region = location["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"].endswith(".")
        fingerprints.add(result["partialFingerprints"][sarif.FINGERPRINT_KEY])
    assert len(fingerprints) == len(run["results"])
    assert any("fixes" in r for r in run["results"])
    assert run["columnKind"] == "unicodeCodePoints"


def test_levels_paths_and_notifications(project, capsys):
    code, log = run_sarif(capsys, ["scripts", "blob.bin"])
    assert code == 1
    run = log["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["IMDS101"]["level"] == "error"
    assert by_rule["IMDS102"]["level"] == "note"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert "scripts/old%20tool.sh" in uris and "scripts/facts.sh" in uris
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True


def test_missing_path_marks_the_run_failed(project, capsys):
    code, log = run_sarif(capsys, ["scripts", "nowhere.sh"])
    assert code == 2
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert any(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "nowhere.sh" for n in notes)


def _apply_replacements(text: str, replacements: list[dict]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    edits = sorted(((offset(r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"]),
                     offset(r["deletedRegion"]["endLine"], r["deletedRegion"]["endColumn"]),
                     r["insertedContent"]["text"]) for r in replacements), reverse=True)
    for start, end, content in edits:
        text = text[:start] + content + text[end:]
    return text


@pytest.mark.parametrize("text", [TOKENLESS, WGET, "#!/bin/bash\n\n  x=1\n  curl -s \"http://169.254.169.254/latest/meta-data/é\"\n"],
                         ids=["curl", "wget-unsafe", "indented-non-ascii"])
def test_fixes_replay_to_the_engine_edits(text):
    findings = lint(text)
    fixed = [f for f in findings if f.fix is not None]
    assert fixed
    report = Report(findings=findings)
    log = sarif.document(report, Path("/"))
    for finding, result in zip(findings, log["runs"][0]["results"]):
        if finding.fix is None:
            assert "fixes" not in result
            continue
        fix = result["fixes"][0]
        assert fix["properties"]["applicability"] == finding.fix.applicability.value
        replacements = fix["artifactChanges"][0]["replacements"]
        assert _apply_replacements(text, replacements) == apply_edits(text, list(finding.fix.edits))


def test_partial_fingerprints_survive_moved_lines():
    before = lint(TOKENLESS, path="scripts/facts.sh")
    moved = TOKENLESS.replace("#!/bin/bash\n", "#!/bin/bash\nset -eu\n# fetch the id\n\n")
    after = lint(moved, path="scripts/facts.sh")
    one = sarif.document(Report(findings=before), Path("/"))["runs"][0]["results"]
    two = sarif.document(Report(findings=after), Path("/"))["runs"][0]["results"]
    assert one[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert two[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    assert one[0]["partialFingerprints"] == two[0]["partialFingerprints"]


def _multitool() -> str | None:
    candidates = [os.environ.get("SARIF_MULTITOOL"), shutil.which("Sarif.Multitool"), shutil.which("sarif-multitool")]
    candidates.append(str(ROOT / "node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"))
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _offline(argv: list[str]) -> list[str]:
    """Run without network where possible (SARIF2006 tries to fetch every URI)."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", *argv]
    return argv


@pytest.mark.slow
def test_sarif_multitool_validate_gh_and_sarif_rules(fixtures_log, tmp_path):
    tool = _multitool()
    if tool is None:
        pytest.skip("Sarif.Multitool is not installed (npm install @microsoft/sarif-multitool-linux, "
                    "or set SARIF_MULTITOOL to its path)")
    log = tmp_path / "imds-lint.sarif"
    log.write_text(json.dumps(fixtures_log))
    out = tmp_path / "validation.sarif"
    proc = subprocess.run(_offline([tool, "validate", "--rule-kind", "Gh;Sarif", "--level", "Error;Warning;Note",
                                    "--output", str(out), str(log)]),
                          capture_output=True, text=True, timeout=300, env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"})
    assert out.is_file(), proc.stdout + proc.stderr
    results = json.loads(out.read_text())["runs"][0]["results"]
    # A result without a level is a warning in SARIF.
    serious = [(r["ruleId"], r["message"]) for r in results if r.get("level", "warning") in ("error", "warning")]
    assert serious == []
    # The validator did run its rules: notes (message arguments, context regions) are expected.
    assert results
