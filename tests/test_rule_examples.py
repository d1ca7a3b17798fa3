"""Every rule's documented examples are executed, so the docs cannot lie."""

from __future__ import annotations

import re

import pytest

from imds_lint.config import Settings
from imds_lint.registry import all_rules
from tests.helpers import codes, fix, lint

SECTIONS = ["What it does", "Why it breaks under IMDSv2-only", "Example", "Use instead", "Fix safety", "References"]


def _cases(attribute: str):
    for rule in all_rules():
        for index, example in enumerate(getattr(rule, attribute)):
            yield pytest.param(rule, example, id=f"{rule.code}-{attribute}-{index + 1}")


def _selecting(rule) -> Settings:
    """Opt-in rules run only when named; every other rule runs under the default settings."""
    return Settings(select=("ALL", rule.code)) if rule.opt_in else Settings()


@pytest.mark.parametrize("rule, example", list(_cases("valid")))
def test_valid_example_is_not_flagged(rule, example):
    assert rule.code not in codes(lint(example.code, example.kind, _selecting(rule)))


@pytest.mark.parametrize("rule, example", list(_cases("invalid")))
def test_invalid_example_is_flagged(rule, example):
    found = [f for f in lint(example.code, example.kind, _selecting(rule)) if f.code == rule.code]
    assert len(found) == example.count, [f.message for f in found]


@pytest.mark.parametrize("rule, example", [p for p in _cases("invalid") if p.values[0].opt_in])
def test_opt_in_rule_is_silent_unless_named(rule, example):
    for select in (("ALL",), (rule.code[:5],), (rule.code[:4],)):
        assert rule.code not in codes(lint(example.code, example.kind, Settings(select=select)))


@pytest.mark.parametrize("rule, example", [p for p in _cases("invalid") if p.values[1].fixed is not None])
def test_invalid_example_fixes_as_documented(rule, example):
    fixed = fix(example.code, example.kind, unsafe=example.unsafe_fixes)
    assert fixed == example.fixed
    assert rule.code not in codes(lint(fixed, example.kind)), "the fix must clear the finding"
    assert fix(fixed, example.kind, unsafe=example.unsafe_fixes) == fixed, "fixes must be idempotent"


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_page_has_every_section(rule):
    doc = rule.documentation()
    headings = re.findall(r"^## (.+)$", doc, re.M)
    assert headings == SECTIONS
    assert re.match(r"^IMDS\d{3}$", rule.code)
    assert re.match(r"^[a-z0-9]+(-[a-z0-9]+)*$", rule.name)
    module = rule.__module__.rpartition(".")[2]
    assert module == f"{rule.code.lower()}_{rule.name.replace('-', '_')}", "rules/imdsNNN_<name>.py names the rule"
    assert rule.invalid, "every rule shows at least one flagged example"


def _block(doc: str, heading: str) -> str:
    section = doc.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```\w*\n(.*?)```", section, re.S)
    assert match, f"section {heading} has no code block"
    return match.group(1)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_documented_example_is_a_tested_pair(rule):
    doc = rule.documentation()
    example, use_instead = _block(doc, "Example"), _block(doc, "Use instead")
    flagged = [e for e in rule.invalid if e.code == example]
    assert flagged, "the Example block must be one of the rule's invalid examples"
    accepted = {e.fixed for e in flagged} | {e.code for e in rule.valid}
    assert use_instead in accepted, "the Use-instead block must be the example's fix or a valid example"


def test_codes_and_names_are_unique():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
