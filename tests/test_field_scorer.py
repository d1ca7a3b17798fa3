"""The field benchmark's arithmetic (benchmarks/field/score.py) on synthetic labels.

The benchmark itself is run by hand against public repositories; only its scoring
is tested here, so the figures it prints can be trusted.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_SCORE = Path(__file__).resolve().parents[1] / "benchmarks" / "field" / "score.py"


@pytest.fixture(scope="module")
def score():
    spec = importlib.util.spec_from_file_location("field_score", _SCORE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _label(score, path, line, category, verdict, rule="IMDS101"):
    return score.Label("o/r", path, line, category, rule, verdict, "")


def _finding(path, line, rule, message="m"):
    return {"path": path, "line": line, "rule": rule, "message": message}


def test_matches_on_place_and_category_and_counts_each_outcome(score):
    labels = [
        _label(score, "a.sh", 3, "tokenless", "TP"),
        _label(score, "a.sh", 9, "tokenless", "FN"),     # real, not found: a miss
        _label(score, "b.sh", 1, "tokenless", "FP"),     # found and wrong
        _label(score, "b.sh", 5, "tokenless", "TN"),     # a grep hit, rightly quiet
        _label(score, "c.tf", 2, "hop-limit", "TP", "IMDS211"),
    ]
    findings = {"o/r": [
        _finding("a.sh", 3, "IMDS101"),
        _finding("a.sh", 3, "IMDS102"),   # same place, same family: counted once
        _finding("b.sh", 1, "IMDS101"),
        _finding("c.tf", 2, "IMDS301"),   # right place, other family: not the hop-limit one
        _finding("d.py", 7, "IMDS101"),   # nobody labelled it: a false positive until read
    ]}
    tallies, unlabeled = score.score(findings, labels)
    assert (tallies["tokenless"].tp, tallies["tokenless"].fp, tallies["tokenless"].fn) == (1, 2, 1)
    assert (tallies["hop-limit"].tp, tallies["hop-limit"].fp, tallies["hop-limit"].fn) == (0, 0, 1)
    assert (tallies["enforcement"].tp, tallies["enforcement"].fp) == (0, 1)
    assert [u[:4] for u in unlabeled] == [("o/r", "c.tf", 2, "enforcement"), ("o/r", "d.py", 7, "tokenless")]
    assert tallies["tokenless"].precision() == pytest.approx(1 / 3)
    assert tallies["tokenless"].recall() == pytest.approx(1 / 2)


def test_a_repository_not_scanned_has_no_misses(score):
    labels = [_label(score, "a.sh", 3, "tokenless", "FN")]
    tallies, _ = score.score({"other/repo": []}, labels)
    assert "tokenless" not in tallies


def test_empty_tallies_have_no_ratio(score):
    tally = score.Tally()
    assert tally.precision() is None and tally.recall() is None


def test_rule_families_name_the_categories_of_the_targets(score):
    assert [score.category_of(c) for c in ("IMDS001", "IMDS103", "IMDS211", "IMDS301", "IMDS401", "IMDS503")] == [
        "engine", "tokenless", "hop-limit", "enforcement", "dependency", "protocol"]


def test_labels_file_parses_and_uses_known_verdicts(score):
    labels = score.read_labels(_SCORE.parent / "labels.tsv")
    repos = {r.name for r in score.read_corpus(_SCORE.parent / "corpus.toml")}
    assert len(repos) >= 30
    assert labels and {l.verdict for l in labels} <= score.VERDICTS
    assert {l.repo for l in labels} <= repos


def test_interpreter_check_never_runs_the_file(score, tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "boot.sh"
    script.write_text(f"#!/bin/bash\ntouch {marker}\ncat <<EOF\n(${{x}})\nEOF\n")
    assert score.interpreter_accepts(script) is True
    broken = tmp_path / "broken.py"
    broken.write_text(f"open({str(marker)!r}, 'w')\nprint 'py2'\n")
    assert score.interpreter_accepts(broken) is False
    assert not marker.exists()


def test_a_parse_error_is_matched_by_file_not_line(score):
    labels = [_label(score, "old.py", 1, "engine", "TP", "IMDS001")]
    tallies, unlabeled = score.score({"o/r": [_finding("old.py", 39, "IMDS001")]}, labels)
    assert (tallies["engine"].tp, tallies["engine"].fp, tallies["engine"].fn) == (1, 0, 0) and unlabeled == []


def test_a_run_that_prints_no_report_stops_the_benchmark(score, tmp_path):
    # A crashed interpreter exits 1, the code for "findings": scoring its empty output would
    # count every label as missed.
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "boot.sh").write_text("#!/bin/sh\necho hi\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    crashing = f"{sys.executable} -c 'raise ValueError'"
    with pytest.raises(SystemExit, match="without a JSON report"):
        score.run_repo(score.Repo("o/r", commit, ""), repo / ".git", crashing, None)
    with pytest.raises(SystemExit, match="cannot run"):
        score.run_repo(score.Repo("o/r", commit, ""), repo / ".git", str(tmp_path / "missing"), None)
