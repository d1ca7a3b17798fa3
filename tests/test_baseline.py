"""--write-baseline / --baseline: brownfield adoption that survives edits which move lines."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from imds_lint.cli import main
from imds_lint.fingerprint import fingerprints
from tests.helpers import lint

SCRIPT = (
    "#!/bin/bash\n"
    "set -eu\n"
    "ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\n"
    "AZ=$(curl -s http://169.254.169.254/latest/meta-data/placement/availability-zone)\n"
    "echo \"$ID $AZ\"\n"
)
NEW_REQUEST = "ROLE=$(curl -s http://169.254.169.254/latest/meta-data/iam/info)\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "boot.sh").write_text(SCRIPT)
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "facts.sh").write_text("#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n")
    return tmp_path


def json_run(capsys, *args) -> tuple[int, dict]:
    code = main(["--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_write_then_apply_reports_nothing(project, capsys):
    assert main(["--write-baseline", "imds-baseline.json", "."]) == 0
    assert "recorded 3 findings in imds-baseline.json" in capsys.readouterr().err
    data = json.loads((project / "imds-baseline.json").read_text())
    assert data["version"] == 1 and data["fingerprint_version"] == 1
    entries = data["findings"]
    assert [(e["path"], e["line"]) for e in entries] == [("boot.sh", 3), ("boot.sh", 4), ("ops/facts.sh", 2)]
    assert all(len(e["fingerprint"]) == 32 and e["rule"] == "IMDS101" for e in entries)
    assert "169.254" not in (project / "imds-baseline.json").read_text(), "the baseline must not flag itself"
    code, out = json_run(capsys, "--baseline", "imds-baseline.json", ".")
    assert code == 0
    assert out["findings"] == []
    hidden = out["baseline"].pop("hidden")
    assert out["baseline"] == {"path": "imds-baseline.json", "matched": 3, "stale": 0, "stale_entries": []}
    assert [(h["path"], h["line"], h["rule"], h["fix"]) for h in hidden] == [
        ("boot.sh", 3, "IMDS101", "safe"), ("boot.sh", 4, "IMDS101", "safe"), ("ops/facts.sh", 2, "IMDS101", "safe")]


def test_writing_is_deterministic(project, capsys):
    main(["--write-baseline", "one.json", "."])
    main(["--write-baseline", "two.json", "ops", "boot.sh"])
    assert (project / "one.json").read_bytes() == (project / "two.json").read_bytes()


def test_moved_lines_keep_matching_and_only_new_findings_show(project, capsys):
    main(["--write-baseline", "b.json", "."])
    moved = SCRIPT.replace("set -eu\n", "set -eu\n# a comment\n\nlog() { echo \"$@\"; }\n")
    moved = moved.replace("AZ=$(", "    AZ=$(")  # re-indented: whitespace does not count
    (project / "boot.sh").write_text(moved + NEW_REQUEST)
    code, out = json_run(capsys, "--baseline", "b.json", ".")
    assert code == 1
    assert [(f["path"], f["line"]) for f in out["findings"]] == [("boot.sh", 9)]
    assert "iam/info" in (project / "boot.sh").read_text().splitlines()[8]
    assert out["baseline"]["matched"] == 3 and out["baseline"]["stale"] == 0
    assert out["findings"][0]["fingerprint"] not in (project / "b.json").read_text()


def test_fixed_findings_become_stale_entries(project, capsys):
    main(["--write-baseline", "b.json", "."])
    (project / "boot.sh").write_text(SCRIPT.replace(
        "AZ=$(curl -s http://169.254.169.254/latest/meta-data/placement/availability-zone)\n", "AZ=us-east-1a\n"))
    code, out = json_run(capsys, "--baseline", "b.json", ".")
    assert code == 0
    assert out["baseline"]["stale"] == 1
    assert out["baseline"]["stale_entries"][0]["line"] == 4
    assert main(["--baseline", "b.json", "."]) == 0
    text = capsys.readouterr().out
    assert "Baseline b.json: 2 known findings hidden; 1 stale entry no longer found (rewrite it with --write-baseline)." in text


def test_baseline_applies_to_sarif_and_markdown(project, capsys):
    main(["--write-baseline", "b.json", "."])
    (project / "ops" / "facts.sh").write_text("#!/bin/sh\n" + NEW_REQUEST)
    assert main(["--format", "sarif", "--baseline", "b.json", "."]) == 1
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert len(run["results"]) == 1 and "iam/info" in run["results"][0]["message"]["text"]
    assert run["properties"]["baseline"] == {"path": "b.json", "matched": 2, "stale": 1}
    assert main(["--format", "markdown", "--baseline", "b.json", "."]) == 1
    out = capsys.readouterr().out
    assert "Baseline `b.json`: 2 findings baselined (2 breaking), 1 not in it; 1 stale entry." in out
    # Baselined findings still break when enforcement flips: the verdict counts them.
    assert ("Not ready: 3 findings in 2 files would break if http_tokens=required were flipped now "
            "(3 of them fixable automatically, 2 of them only baselined)") in out
    assert "| IMDS101 | `tokenless-request` | imdsv1-call | 3 | 3 | 3 | 2 |" in out


def test_a_baseline_never_makes_the_readiness_verdict_ready(project, capsys):
    main(["--write-baseline", "b.json", "."])
    assert main(["--format", "markdown", "--baseline", "b.json", "."]) == 0
    out = capsys.readouterr().out
    assert "Ready" not in out.split("\n")[2].replace("Not ready", "")
    assert "**❌ Not ready: 3 findings in 2 files would break" in out and "all of them only baselined" in out


def test_partial_runs_do_not_call_unscanned_files_stale(project, capsys):
    main(["--write-baseline", "b.json", "."])
    code, out = json_run(capsys, "--baseline", "b.json", "ops/facts.sh")
    assert code == 0 and out["baseline"]["stale"] == 0 and out["baseline"]["matched"] == 1
    (project / "boot.sh").unlink()
    code, out = json_run(capsys, "--baseline", "b.json", "ops/facts.sh")
    assert out["baseline"]["stale"] == 2, "entries of deleted files are stale"


def test_identical_lines_are_told_apart_by_occurrence(project, capsys):
    line = "curl -s http://169.254.169.254/latest/meta-data/instance-id\n"
    (project / "dup.sh").write_text("#!/bin/sh\n" + line * 2)
    main(["--write-baseline", "b.json", "dup.sh"])
    (project / "dup.sh").write_text("#!/bin/sh\n" + line + "echo between\n" + line * 2)
    code, out = json_run(capsys, "--baseline", "b.json", "dup.sh")
    assert code == 1 and len(out["findings"]) == 1 and out["baseline"]["matched"] == 2


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "invalid JSON"),
    ('{"version": 9, "fingerprint_version": 1, "findings": []}', "format version 9 is not supported"),
    ('{"version": 1, "fingerprint_version": 0, "findings": []}', "fingerprint version 0"),
    ('{"version": 1, "fingerprint_version": 1, "findings": [{"rule": "IMDS101"}]}', "has no fingerprint"),
    ("[]", "no 'findings' list"),
])
def test_bad_baselines_are_usage_errors(project, capsys, content, message):
    (project / "b.json").write_text(content)
    assert main(["--baseline", "b.json", "."]) == 2
    assert message in capsys.readouterr().err


def test_missing_baseline_is_a_usage_error(project, capsys):
    assert main(["--baseline", "nope.json", "."]) == 2
    assert "create it with --write-baseline" in capsys.readouterr().err


BODY = [
    "ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)",
    "wget -q -O - http://169.254.169.254/latest/meta-data/ami-id",
    "curl -s http://169.254.169.254/latest/meta-data/instance-id",
    "curl -s -X PUT http://169.254.169.254/latest/api/token",
]
FILLER = st.sampled_from(["", "# comment", "echo hello", "x=1", "  ", "if true; then :; fi"])


@given(st.lists(st.tuples(st.integers(0, len(BODY)), FILLER), max_size=8))
def test_fingerprints_survive_inserted_lines(insertions):
    original = ["#!/bin/bash"] + BODY
    edited = list(original)
    for position, filler in sorted(insertions, key=lambda p: -p[0]):
        edited.insert(position + 1, filler)
    before = lint("\n".join(original) + "\n", path="s.sh")
    after = lint("\n".join(edited) + "\n", path="s.sh")
    assert [f.code for f in before] == [f.code for f in after]
    assert fingerprints(before) == fingerprints(after)
    assert len(set(fingerprints(before))) == len(before)
