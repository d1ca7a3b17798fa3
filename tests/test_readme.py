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


# -- the README's examples, executed ----------------------------------------------------------

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402


def _block(after: str, language: str) -> str:
    match = re.search(re.escape(after) + r".*?```" + language + r"\n(.*?)```", README, re.S)
    assert match, f"README: no {language} block after {after!r}"
    return match.group(1)


def _run(*args: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "imds_lint", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})


def test_the_finding_example_is_what_the_tool_prints():
    example = _block("## What a finding looks like", "")
    out = _run("fixtures/shell/instance-facts.sh").stdout
    for line in example.splitlines():
        assert line in out.splitlines(), f"README shows a line the tool does not print: {line!r}"


def test_the_diff_example_is_part_of_the_real_diff():
    example = _block("`imds-lint --diff` shows the rewrite", "diff")
    proc = _run("--diff", "fixtures/shell/instance-facts.sh")
    assert proc.returncode == 1 and proc.stderr.startswith("Would change 1 file")
    real = proc.stdout.splitlines()
    for line in example.splitlines():
        assert line in real, f"README's diff has a line the tool does not print: {line!r}"


def test_the_json_example_matches_the_real_output():
    example = json.loads(_block("## JSON output", "json"))
    real = json.loads(_run("--format", "json", "fixtures/shell/wget-facts.sh").stdout)
    assert set(example) == set(real), "README's JSON example has other top-level fields than the tool"
    shown, actual = example["findings"][0], real["findings"][0]
    assert set(shown) == set(actual)
    for key, value in shown.items():
        if value != "…":
            assert actual[key] == value, f"README's JSON example says {key}={value!r}, the tool prints {actual[key]!r}"
    assert example["summary"] == real["summary"]
    assert set(example["projects"][0]) == set(real["projects"][0])


def test_the_config_examples_are_valid_settings():
    import tomllib
    from pathlib import Path

    from imds_lint import config

    table = tomllib.loads(_block("## Configuration", "toml"))
    assert table == {"ignore": ["IMDS102"], "extend-exclude": ["generated/"]}
    config.from_table(table, Path("imds-lint.toml"))
    full = tomllib.loads(_block("```toml\n# imds-lint.toml", "toml"))["tool"]["imds-lint"]
    settings = config.from_table(full, Path("pyproject.toml"))
    assert "build/" in settings.exclude and "vendor/" in settings.exclude
    documented = set(re.findall(r"^\| `([a-z-]+)` \| ", README[README.index("| key | type |"):], re.M))
    assert documented == config._KEYS, "every config key has a row in the README's table"


def test_every_option_is_in_the_usage_block():
    from imds_lint.cli import build_parser

    usage = _block("## Command line", "")
    for action in build_parser()._actions:
        longs = [o for o in action.option_strings if o.startswith("--") and o not in ("--help", "--colour")]
        if longs:
            assert any(o in usage for o in longs), f"{longs[0]} is missing from the README's usage block"


def test_the_statistics_example_is_the_real_format():
    line = re.search(r"`(\d+  IMDS\d{3}  \S+  \[\*\])`", README).group(1)
    proc = _run("--statistics", "fixtures/shell/instance-facts.sh")
    assert re.fullmatch(r"\d+  IMDS101  tokenless-request  \[\*\]", proc.stdout.splitlines()[0])
    assert re.fullmatch(r"\d+  IMDS101  tokenless-request  \[\*\]", line)


def test_supported_files_table_names_every_file_kind():
    """Each kind a front-end reads has a row (YAML and JSON are listed by what they hold)."""
    from imds_lint.frontends import _FRONTENDS
    from imds_lint.kinds import MANIFESTS, Kind

    table = README.split("### Supported files", 1)[1].split("\n#", 1)[0]
    named = {word for cell in re.findall(r"^\| (.*?) \|", table, re.M) for word in re.findall(r"`([^`]+)`", cell)}
    missing = sorted(k for k in _FRONTENDS if k not in MANIFESTS and k not in (Kind.YAML, Kind.JSON) and k not in named)
    assert missing == [], f"README's supported-files table misses {missing}"
