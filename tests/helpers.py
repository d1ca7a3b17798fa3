"""Small helpers shared by the tests: lint or fix a string as a given kind."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml

from imds_lint.config import Settings
from imds_lint.engine import Linter
from imds_lint.model import Applicability, Finding
from imds_lint.source import SourceText


def source_of(text: str) -> SourceText:
    return SourceText(text.encode("utf-8"), text, "utf-8")


# Every rule, the opt-in ones (IMDS211) included: for tables that check a whole family.
EVERY_RULE = Settings(select=("ALL", "IMDS211"))


def lint(text: str, kind: str = "shell", settings: Settings | None = None, path: str = "example") -> list[Finding]:
    linter = Linter(settings or Settings())
    findings, _ = linter.lint_text(text, kind, source_of(text), path)
    return findings


def lint_notes(text: str, kind: str = "shell") -> tuple[list[Finding], list[str]]:
    return Linter(Settings()).lint_text(text, kind, source_of(text), "example")


def fix(text: str, kind: str = "shell", unsafe: bool = False, settings: Settings | None = None) -> str:
    linter = Linter(settings or Settings())
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    fixed, _, _ = linter.fix_text(source_of(text), kind, "example", allowed)
    return fixed


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(settings: Settings | None = None, **changes) -> Settings:
    return (settings or Settings()).replace(**changes)


GOLDEN = Path(__file__).with_name("golden")


def write(path: Path, text: str) -> Path:
    """``text`` into ``path``, its folders made as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def check_golden(name: str, actual: str, tmp_path: Path) -> None:
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    if actual != expected:
        written = tmp_path / name
        written.write_text(actual, encoding="utf-8")
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"tests/golden/{name}", f"actual ({written})"))
        pytest.fail(f"output differs from the reviewed golden file:\n{diff}")


class CloudFormationLoader(yaml.SafeLoader):
    """What CloudFormation itself would read: ``!Sub x`` is ``{"Fn::Sub": x}``."""


def _construct_short_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)
