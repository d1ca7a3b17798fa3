"""Fixtures are real files with their expectations written inside them.

``expect: IMDS101`` in a comment (``#``, ``//``, ``--``, ``;``, ``<#``) says a
finding with that code starts on that line (trailing comment) or on the next
code line (a comment alone on its line); several codes are comma-separated.
``ok: IMDS101`` documents a line that must not be flagged. Formats without
comments (JSON) put ``LINE CODE`` lines in a sidecar ``<file>.expect``.
A ``name.fixed.ext`` sibling is what ``--fix`` (safe fixes only) must produce;
``name.unsafe-fixed.ext`` the same with ``--unsafe-fixes``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imds_lint.config import Settings
from imds_lint.engine import Linter
from imds_lint.model import Applicability
from imds_lint.registry import rule_codes
from imds_lint.source import decode
from tests.conftest import FIXTURES

_ANNOTATION = re.compile(r"(?:#|//|--|;|<#)\s*(expect|ok):\s*([A-Z0-9, ]+)")
_FIXED = re.compile(r"\.(unsafe-)?fixed(\.|$)")


def fixture_files() -> list[Path]:
    files = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or _FIXED.search(path.name) or path.suffix == ".expect":
            continue
        if path.name.startswith("README") or path.name == ".gitignore":
            continue
        files.append(path)
    return files


def expectations(path: Path) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    expected, allowed_absent = set(), set()
    sidecar = path.with_name(path.name + ".expect")
    if sidecar.exists():
        for line in sidecar.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                number, code = line.split()
                expected.add((int(number), code))
        return expected, allowed_absent
    lines = decode(path.read_bytes()).text.splitlines()
    for index, line in enumerate(lines, 1):
        match = _ANNOTATION.search(line)
        if match is None:
            continue
        target = index
        if line[: match.start()].strip() == "":
            target = next((i for i in range(index + 1, len(lines) + 1)
                           if lines[i - 1].strip() and not _ANNOTATION.search(lines[i - 1])), index)
        for code in (c.strip() for c in match.group(2).split(",") if c.strip()):
            (expected if match.group(1) == "expect" else allowed_absent).add((target, code))
    return expected, allowed_absent


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_annotations(path):
    expected, must_not = expectations(path)
    known = rule_codes()
    unknown = {code for _, code in expected | must_not if code not in known}
    assert not unknown, f"annotation names unknown rule codes: {sorted(unknown)}"
    result = Linter(Settings()).lint_file(path, str(path.relative_to(FIXTURES)))
    found = {(f.start.line, f.code) for f in result.findings}
    assert found - expected == set(), f"unexpected findings: {sorted(found - expected)}"
    assert expected - found == set(), f"missed findings: {sorted(expected - found)}"
    assert not (found & must_not)


def _fixed_pairs():
    for path in fixture_files():
        for marker, unsafe in ((".fixed", False), (".unsafe-fixed", True)):
            stem, dot, suffix = path.name.partition(".")
            sibling = path.with_name(f"{stem}{marker}{dot}{suffix}" if dot else f"{stem}{marker}")
            if sibling.exists():
                yield pytest.param(path, sibling, unsafe, id=str(sibling.relative_to(FIXTURES)))


@pytest.mark.parametrize("path, fixed_path, unsafe", list(_fixed_pairs()))
def test_fixture_fixes_to_its_fixed_sibling(path, fixed_path, unsafe):
    linter = Linter(Settings())
    source = decode(path.read_bytes())
    from imds_lint.kinds import classify

    kind = classify(path, source.text)
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    fixed, applied, notes = linter.fix_text(source, kind, path.name, allowed)
    assert applied > 0
    assert fixed.encode(source.encoding) == decode(fixed_path.read_bytes()).text.encode(source.encoding)
    again, applied_again, _ = linter.fix_text(decode(source.bom + fixed.encode(source.encoding)), kind, path.name, allowed)
    assert again == fixed and applied_again == 0, "a second --fix must change nothing"


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_fix_converges(path):
    # A fix that the next pass does not see as done is applied again each pass (the Ruby
    # Rakefile's Net::HTTP.get gained ten token headers in --diff before its headers hash was read).
    # Every applicability, as --diff --unsafe-fixes shows them.
    from imds_lint.kinds import classify

    source = decode(path.read_bytes())
    fixed, _, notes = Linter(Settings()).fix_text(source, classify(path, source.text), path.name,
                                                  set(Applicability))
    assert not [n for n in notes if "converge" in str(n)], notes
