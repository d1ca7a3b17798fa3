"""Hierarchical configuration, as ruff has it: the config closest to each file applies, nested
configs replace their parent's unless they ``extend`` it, patterns stay anchored to the folder of
the file that wrote them, and what is recorded (baseline, JSON, SARIF) is the same whichever
folder imds-lint runs from."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from imds_lint.cli import main
from imds_lint.config import rebase_pattern
from tests.helpers import write

TOKENLESS = "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"


def found(capsys, args: list[str], code: int = 1) -> list[tuple[str, str]]:
    assert main(["--format", "json", *args]) == code
    data = json.loads(capsys.readouterr().out)
    return sorted((f["project_path"], f["rule"]) for f in data["findings"])


def monorepo(root: Path) -> None:
    """A repository config, a service with its own, and files in both that their configs treat apart."""
    write(root / "imds-lint.toml", 'exclude = ["/gen/"]\nper-file-ignores = { "legacy/*.sh" = ["IMDS101"] }\n')
    for folder in (root, root / "svc"):
        write(folder / "boot.sh", TOKENLESS)
        write(folder / "gen" / "x.sh", TOKENLESS)
        write(folder / "legacy" / "old.sh", TOKENLESS)
    # The service skips its own generated code only; its legacy scripts are to be fixed.
    write(root / "svc" / "imds-lint.toml", 'exclude = ["/gen/"]\n')


EXPECTED = [("boot.sh", "IMDS101"), ("svc/boot.sh", "IMDS101"), ("svc/legacy/old.sh", "IMDS101")]


def test_a_nested_config_applies_to_its_folder_and_replaces_the_parents(repo, capsys):
    monorepo(repo)
    assert found(capsys, ["."]) == EXPECTED
    # The parent's per-file-ignores did not reach svc/legacy; each /gen/ meant its own folder's gen/.


def test_same_files_and_paths_from_a_subfolder_from_outside_and_by_name(repo, capsys, tmp_path):
    monorepo(repo)
    assert found(capsys, [str(repo)]) == EXPECTED
    os.chdir(repo / "svc")
    assert found(capsys, [".."]) == EXPECTED
    assert found(capsys, ["."]) == [p for p in EXPECTED if p[0].startswith("svc/")]
    # Named files (pre-commit passes them) get the config closest to each.
    assert found(capsys, ["legacy/old.sh", "../legacy/old.sh", "gen/x.sh"]) == [
        ("svc/gen/x.sh", "IMDS101"), ("svc/legacy/old.sh", "IMDS101")]
    os.chdir(tmp_path)
    assert found(capsys, ["repo/svc", "repo/boot.sh"]) == EXPECTED


def test_stdin_takes_the_config_closest_to_its_filename(repo, capsys, monkeypatch):
    monorepo(repo)
    for name, code in (("legacy/old.sh", 0), ("svc/legacy/old.sh", 1)):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(TOKENLESS.encode())))
        assert main(["-", "--stdin-filename", name]) == code, name
    capsys.readouterr()


def test_a_baseline_written_at_the_root_matches_from_a_nested_project(repo, capsys):
    monorepo(repo)
    assert main(["--write-baseline", "baseline.json", "."]) == 0
    entries = json.loads((repo / "baseline.json").read_text())["findings"]
    assert sorted(e["path"] for e in entries) == [p for p, _ in EXPECTED]
    os.chdir(repo / "svc")
    assert main(["--format", "json", "--baseline", "../baseline.json", "."]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["baseline"]["stale"] == 0 and data["baseline"]["matched"] == 2


def test_pyproject_with_a_table_is_a_nested_config_and_one_without_is_not(repo, capsys):
    write(repo / "imds-lint.toml", 'ignore = ["IMDS101"]\n')
    write(repo / "a" / "pyproject.toml", '[project]\nname = "a"\n')  # no [tool.imds-lint]: not a project of ours
    write(repo / "a" / "boot.sh", TOKENLESS)
    write(repo / "b" / "pyproject.toml", '[project]\nname = "b"\n\n[tool.imds-lint]\nselect = ["IMDS1"]\n')
    write(repo / "b" / "boot.sh", TOKENLESS)
    assert found(capsys, ["."]) == [("b/boot.sh", "IMDS101")]


def test_extend_inherits_and_keeps_patterns_anchored_where_they_were_written(repo, capsys):
    write(repo / "imds-lint.toml", 'ignore = ["IMDS102"]\nexclude = ["/svc/gen/", "*.tmp.sh"]\n'
                                   'per-file-ignores = { "svc/legacy/**" = ["IMDS101"], "other/**" = ["IMDS1"] }\n')
    write(repo / "svc" / "imds-lint.toml", 'extend = "../imds-lint.toml"\nextend-exclude = ["/scratch/"]\n')
    for name in ("boot.sh", "gen/x.sh", "legacy/old.sh", "scratch/y.sh", "z.tmp.sh", "other/w.sh"):
        write(repo / "svc" / name, TOKENLESS)
    assert found(capsys, ["svc"]) == [("svc/boot.sh", "IMDS101"), ("svc/other/w.sh", "IMDS101")]
    assert found(capsys, ["."]) == [("svc/boot.sh", "IMDS101"), ("svc/other/w.sh", "IMDS101")]
    # ``other/**`` was written for the repository's other/, not svc/other/: it did not carry over.
    # An own key replaces the base's: the base's exclude list is gone, extend-exclude adds.
    write(repo / "svc" / "imds-lint.toml", 'extend = "../imds-lint.toml"\nexclude = ["/scratch/"]\n')
    assert ("svc/gen/x.sh", "IMDS101") in found(capsys, ["svc"])


@pytest.mark.parametrize(("child", "message"), [
    ('extend = "imds-lint.toml"\n', "makes a cycle"),
    ('extend = "../missing.toml"\n', "which is not a file"),
    ('extend = 3\n', "must be the path of another config file"),
    ('selct = ["IMDS1"]\n', "unknown setting(s): selct"),
])
def test_a_bad_nested_config_is_a_usage_error(repo, capsys, child, message):
    write(repo / "svc" / "imds-lint.toml", child)
    write(repo / "svc" / "boot.sh", TOKENLESS)
    assert main(["."]) == 2
    assert message in capsys.readouterr().err


def test_config_option_names_one_config_for_every_file(repo, capsys):
    monorepo(repo)
    # The repository's patterns, anchored to its folder, do not reach svc/gen or svc/legacy.
    assert found(capsys, ["--config", "imds-lint.toml", "."]) == sorted(
        [*EXPECTED, ("svc/gen/x.sh", "IMDS101")])


def test_a_nested_config_inside_an_excluded_folder_is_never_read(repo, capsys):
    write(repo / "imds-lint.toml", 'exclude = ["third/"]\n')
    write(repo / "third" / "imds-lint.toml", "not toml at all [[[\n")
    write(repo / "third" / "x.sh", TOKENLESS)
    write(repo / "a.sh", TOKENLESS)
    assert found(capsys, ["."]) == [("a.sh", "IMDS101")]


def test_links_inside_a_nested_project_do_not_walk_back_out(repo, capsys):
    monorepo(repo)
    os.symlink(repo, repo / "svc" / "up")  # a loop through the parent
    assert main(["--format", "json", "."]) == 1
    data = json.loads(capsys.readouterr().out)
    paths = [f["project_path"] for f in data["findings"]]
    assert sorted(paths) == [p for p, _ in EXPECTED], "no file scanned twice"
    assert any(e["path"] == "svc/up" and "outside the scanned folder" in e["message"] for e in data["errors"])


@pytest.mark.parametrize(("pattern", "new", "expected"), [
    ("*.sh", "svc", "*.sh"),                 # a name at any depth reads the same anywhere
    ("gen/", "svc", "gen/"),                 # a trailing slash alone does not anchor
    ("/svc/gen/", "svc", "/gen/"),
    ("svc/gen/*.sh", "svc", "/gen/*.sh"),
    ("*/gen/", "svc", "/gen/"),
    ("**/gen/", "svc", "/**/gen/"),
    ("other/x", "svc", None),                # cannot match below svc/
    ("svc/**", "svc", "/**"),
    ("/svc", "svc/deep", "**"),              # the pattern names a folder above: all of it
    ("!svc/keep.sh", "svc", "!/keep.sh"),
    ("/a/b", ".", "/base/a/b"),              # from above the base: the way down in front
    ("x.sh", ".", "/base/**/x.sh"),
    ("/a/b", "../elsewhere", None),          # a sibling: only names-at-any-depth carry over
    ("x.sh", "../elsewhere", "x.sh"),
])
def test_rebase_pattern(pattern, new, expected):
    base = Path("/r/base")
    target = Path(os.path.normpath(base / new)) if new != "." else base.parent
    assert rebase_pattern(pattern, base, target) == expected


def test_files_of_several_configs_in_one_repository_are_one_project(repo, capsys):
    monorepo(repo)
    (repo / ".git" / "HEAD").write_text("0123456789abcdef0123456789abcdef01234567\n")
    for args in (["."], ["boot.sh", "svc/boot.sh"]):  # walked, or named as pre-commit names them
        assert main(["--format", "json", *args]) == 1
        data = json.loads(capsys.readouterr().out)
        assert data["commit"] == "0123456789abcdef0123456789abcdef01234567"
        assert sorted(p["config"] for p in data["projects"]) == [
            str(repo / "imds-lint.toml"), str(repo / "svc" / "imds-lint.toml")]
        assert {p["root"] for p in data["projects"]} == {str(repo.resolve())}
    assert main(["--format", "sarif", "boot.sh", "svc/boot.sh"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/repo/")
    assert sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]) \
        == ["boot.sh", "svc/boot.sh"]


def test_show_files_names_the_config_each_file_gets(repo, capsys):
    monorepo(repo)
    assert main(["--show-files", "."]) == 0
    lines = dict(line.split("  ", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["boot.sh"] == lines["legacy/old.sh"] == str(repo / "imds-lint.toml")
    assert lines["svc/boot.sh"] == lines["svc/legacy/old.sh"] == str(repo / "svc" / "imds-lint.toml")
    assert "gen/x.sh" not in lines and "svc/gen/x.sh" not in lines, "each config's own /gen/ is excluded"
    assert main(["--show-files", "missing"]) == 2


def test_show_settings_is_what_a_file_gets_after_options(repo, capsys):
    monorepo(repo)
    write(repo / "svc" / "imds-lint.toml", 'extend = "../imds-lint.toml"\nignore = ["IMDS102"]\n')
    assert main(["--show-settings", "--ignore", "IMDS5", "svc/legacy/old.sh"]) == 0
    shown = {key: json.loads(value) for key, value in
             (line.split(": ", 1) for line in capsys.readouterr().out.splitlines())}
    assert shown["config"] == str(repo / "svc" / "imds-lint.toml")
    assert shown["patterns relative to"] == str((repo / "svc").resolve())
    assert shown["paths recorded relative to"] == str(repo.resolve())
    assert shown["ignore"] == ["IMDS102", "IMDS5"]
    # The base's patterns, rebased: its legacy/*.sh and /gen/ were written for the repository's own.
    assert shown["per-file-ignores"] == {} and shown["exclude"] == []

