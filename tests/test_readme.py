"""The README stays true: its rule catalog lists every rule, and the quick start matches CI."""

from __future__ import annotations

import re

from imds_lint.registry import all_rules
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_rule_catalog_links_every_rule_page():
    listed = dict(re.findall(r"^\| (IMDS\d{3}) \|.*\[[^\]]+\]\((rules/[a-z0-9_]+\.py)\) \|$", README, re.M))
    for rule in all_rules():
        module = rule.__module__.rpartition(".")[2]
        assert listed.get(rule.code) == f"rules/{module}.py", f"README catalog misses {rule.code}"
        assert (ROOT / listed[rule.code]).is_file()
    assert set(listed) == {rule.code for rule in all_rules()}


def test_quick_start_is_the_ci_command():
    block = re.search(r"## Quick start\n\n```sh\n(.*?)```", README, re.S).group(1)
    assert block == "pip install . && imds-lint fixtures/\npip install -e '.[test]' && python -m pytest\n"
    ci = (ROOT / ".ci" / "run").read_text() if (ROOT / ".ci" / "run").is_file() else None
    if ci is not None:
        assert "pip install -e '.[test]' && python -m pytest" in ci


def test_every_format_is_documented():
    from imds_lint.cli import FORMATS

    for name in FORMATS:
        assert f"`{name}`" in README
    for flag in ("--baseline", "--write-baseline", "--diff", "--fix", "--unsafe-fixes", "--format sarif",
                 "--format github", "--format markdown"):
        assert flag in README
