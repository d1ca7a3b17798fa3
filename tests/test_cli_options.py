"""Options linter users reach for (ruff, ShellCheck, hadolint), and results that do not depend on
the folder imds-lint runs from."""

from __future__ import annotations

import io
import json
import os
import sys

import pytest

from imds_lint.cli import main

TOKENLESS = "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"
TWO = TOKENLESS + "wget -qO- http://169.254.169.254/latest/meta-data/ami-id\n"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def fake_git(root, url="git@github.com:acme/payments.git", branch="main", packed=False):
    """A repository's .git as git writes it (HEAD, a ref, the origin remote): no git needed."""
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(f"ref: refs/heads/{branch}\n")
    if packed:
        (git / "packed-refs").write_text(f"# pack-refs with: peeled fully-peeled sorted\n{SHA} refs/heads/{branch}\n")
    else:
        (git / "refs" / "heads" / branch).write_text(SHA + "\n")
    (git / "config").write_text(f'[core]\n\tbare = false\n[remote "origin"]\n\turl = {url}\n'
                                '\tfetch = +refs/heads/*:refs/remotes/origin/*\n')


def stdin(monkeypatch, text):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


# -- exit codes and outputs --------------------------------------------------------

def test_exit_zero_reports_findings_but_exits_0(project, capsys):
    write(project / "a.sh", TOKENLESS)
    assert main(["--exit-zero", "a.sh"]) == 0
    assert "IMDS101" in capsys.readouterr().out
    assert main(["--exit-zero", "missing.sh"]) == 2, "usage errors still exit 2"
    assert main(["--exit-zero", "--diff", "a.sh"]) == 0


def test_output_file_and_several_outputs_from_one_run(project, capsys):
    write(project / "a.sh", TOKENLESS)
    assert main(["--output-file", "out.json", "--format", "json", "a.sh"]) == 1
    assert capsys.readouterr().out == ""
    assert json.loads((project / "out.json").read_text())["findings"][0]["rule"] == "IMDS101"
    assert main(["a.sh", "--output", "sarif:r/out.sarif", "--output", "markdown:report.md"]) == 2, \
        "a folder that does not exist is an error, not a silent skip"
    capsys.readouterr()
    (project / "r").mkdir()
    assert main(["a.sh", "--output", "sarif:r/out.sarif", "--output", "markdown:report.md"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("a.sh:2:1: IMDS101") and "\x1b[" not in out
    assert json.loads((project / "r" / "out.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "IMDS101"
    assert (project / "report.md").read_text().startswith("# IMDSv2 readiness\n\n**❌ Not ready")
    assert main(["--output", "yaml:x", "a.sh"]) == 2
    assert "expected FORMAT:FILE" in capsys.readouterr().err


def test_statistics_counts_per_rule(project, capsys):
    write(project / "a.sh", TWO)
    write(project / "b.sh", TOKENLESS)
    assert main(["--statistics", "."]) == 1
    assert capsys.readouterr().out == "3  IMDS101  tokenless-request  [*]\n"
    assert main(["--statistics", "--format", "json", "."]) == 1
    assert json.loads(capsys.readouterr().out) == [
        {"code": "IMDS101", "name": "tokenless-request", "count": 3, "fixable": 3}]


def test_list_rules_as_json_and_aligned_text(capsys):
    from imds_lint.registry import all_rules

    assert main(["--list-rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in rules] == [r.code for r in all_rules()]
    assert {"code", "name", "category", "severity", "fix", "summary", "opt_in"} == set(rules[0])
    assert main(["--list-rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # Every category starts in the same column: the longest name (IMDS302's) does not push it.
    columns = {line.index(r["category"], len(r["code"]) + 2 + len(r["name"])) for line, r in zip(lines, rules)}
    assert len(columns) == 1
    longest = max(rules, key=lambda r: len(r["name"]))
    assert f"{longest['name']}  {longest['category']}" in "\n".join(lines)


def test_colour_auto_always_never_and_the_environment(project, capsys, monkeypatch):
    write(project / "a.sh", TOKENLESS)
    main(["a.sh"])
    assert "\x1b[" not in capsys.readouterr().out
    main(["--color", "always", "a.sh"])
    assert "\x1b[" in capsys.readouterr().out, "--color always beats NO_COLOR"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    main(["a.sh"])
    assert "\x1b[" in capsys.readouterr().out
    main(["--color", "never", "a.sh"])
    assert "\x1b[" not in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    main(["a.sh"])
    assert "\x1b[" not in capsys.readouterr().out, "NO_COLOR wins over FORCE_COLOR"


def test_diff_is_coloured_on_request_and_summarised_on_stderr(project, capsys):
    write(project / "a.sh", TWO)
    assert main(["--diff", "a.sh"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("--- a/a.sh\n+++ b/a.sh\n") and "\x1b[" not in captured.out
    assert captured.err.strip() == "Would change 1 file (3 lines added, 2 removed); run with --fix to apply."
    assert main(["--diff", "--color", "always", "a.sh"]) == 1
    coloured = capsys.readouterr().out
    assert "\x1b[32m+" in coloured and "\x1b[31m-" in coloured


# -- standard input ------------------------------------------------------------------

def test_stdin_with_a_filename_takes_its_kind_and_config(project, capsys, monkeypatch):
    write(project / "imds-lint.toml", 'per-file-ignores = { "legacy/**" = ["IMDS1"] }\n')
    stdin(monkeypatch, "FROM alpine\nRUN curl -s http://169.254.169.254/latest/meta-data/ami-id\n")
    assert main(["-", "--stdin-filename", "app/Dockerfile"]) == 1
    assert "app/Dockerfile:2:5: IMDS101" in capsys.readouterr().out
    stdin(monkeypatch, "curl -s http://169.254.169.254/latest/meta-data/ami-id\n")
    assert main(["-", "--stdin-filename", "legacy/boot.sh"]) == 0, "per-file-ignores apply to the named file"
    assert "No IMDSv1 breakage found in 1 file." in capsys.readouterr().out
    stdin(monkeypatch, TOKENLESS)
    assert main(["-", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["findings"][0]["path"] == "-"
    assert main(["-", "a.sh"]) == 2
    assert main(["--stdin-filename", "x.sh", "a.sh"]) == 2


def test_stdin_fix_writes_the_fixed_text_to_stdout(project, capsys, monkeypatch):
    stdin(monkeypatch, TOKENLESS)
    assert main(["-", "--fix", "--stdin-filename", "boot.sh"]) == 0
    captured = capsys.readouterr()
    assert "X-aws-ec2-metadata-token: $" in captured.out and captured.out.startswith("#!/bin/bash\n")
    assert "Fixed 1 finding." in captured.err
    stdin(monkeypatch, TOKENLESS)
    assert main(["-", "--diff", "--stdin-filename", "boot.sh"]) == 1
    assert capsys.readouterr().out.startswith("--- a/boot.sh\n+++ b/boot.sh\n")


# -- results independent of the current folder --------------------------------------------

def test_baseline_written_at_the_root_is_not_stale_from_a_subfolder(project, capsys):
    fake_git(project)
    write(project / "imds-lint.toml", "ignore = []\n")
    write(project / "ops" / "a.sh", TWO)
    write(project / "boot.sh", TOKENLESS)
    assert main(["--write-baseline", "baseline.json", "."]) == 0
    entries = json.loads((project / "baseline.json").read_text())["findings"]
    assert sorted(e["path"] for e in entries) == ["boot.sh", "ops/a.sh", "ops/a.sh"]
    os.chdir(project / "ops")
    assert main(["--format", "json", "--baseline", "../baseline.json", "."]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"]["matched"] == 2 and out["baseline"]["stale"] == 0 and out["findings"] == []
    assert main(["--format", "json", "--baseline", "../baseline.json", "a.sh"]) == 0


def test_a_repository_scanned_from_outside_uses_its_own_config(project, capsys, tmp_path_factory):
    repo = tmp_path_factory.mktemp("elsewhere") / "repo"
    fake_git(repo)
    write(repo / "pyproject.toml", '[tool.imds-lint]\nexclude = ["vendor/"]\n'
                                   'per-file-ignores = { "legacy/*.sh" = ["IMDS101"] }\n')
    write(repo / "vendor" / "x.sh", TOKENLESS)
    write(repo / "legacy" / "old.sh", TOKENLESS)
    write(repo / "src" / "new.sh", TOKENLESS)
    assert main(["--format", "json", str(repo)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["project_path"] for f in data["findings"]] == ["src/new.sh"]
    # The same from inside the repository, and from one of its subfolders: same files, same paths.
    os.chdir(repo / "src")
    assert main(["--format", "json", ".."]) == 1
    inside = json.loads(capsys.readouterr().out)
    assert [f["project_path"] for f in inside["findings"]] == ["src/new.sh"]
    assert inside["findings"][0]["fingerprint"] == data["findings"][0]["fingerprint"]
    assert main([str(repo / "legacy" / "old.sh")]) == 0, "per-file-ignores anchored to the config's folder"


def test_a_config_above_the_repository_root_does_not_apply_silently(project, capsys):
    write(project / "pyproject.toml", '[tool.imds-lint]\nignore = ["IMDS1"]\n')
    repo = project / "work" / "repo"
    fake_git(repo)
    write(repo / "a.sh", TOKENLESS)
    assert main([str(repo)]) == 1, "a stray config outside the repository must not hide its findings"
    err = capsys.readouterr().err
    assert f"{project / 'pyproject.toml'} is above the repository root {repo} and does not apply" in err
    assert main(["--config", str(project / "pyproject.toml"), str(repo)]) == 0, "--config still names it"
    # Outside any repository the search goes on upwards, as ruff's does.
    write(project / "loose" / "b.sh", TOKENLESS)
    assert main([str(project / "loose")]) == 0


def test_json_names_the_repository_and_commit(project, capsys):
    fake_git(project, url="https://user:secret@github.com/acme/payments.git", packed=True)
    write(project / "a.sh", TOKENLESS)
    assert main(["--format", "json", "."]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["repository"], data["commit"]) == ("acme/payments", SHA)
    assert "secret" not in json.dumps(data)
    assert main(["--format", "json", "--repository-name", "acme/other", "--commit", "abc123", "."]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["repository"], data["commit"]) == ("acme/other", "abc123")


def test_a_worktree_git_file_is_followed(project, capsys):
    from imds_lint.project import head_commit, repository_name

    main_repo = project / "main"
    fake_git(main_repo, url="ssh://git@example.com:2222/team/infra.git")
    worktree_git = main_repo / ".git" / "worktrees" / "wt"
    worktree_git.mkdir(parents=True)
    (worktree_git / "HEAD").write_text("ref: refs/heads/main\n")
    (worktree_git / "commondir").write_text("../..\n")
    write(project / "wt" / ".git", f"gitdir: {worktree_git}\n")
    assert head_commit(project / "wt") == SHA
    assert repository_name(project / "wt") == "team/infra"


def test_reports_name_yaml_and_json_files_by_what_they_are(project, capsys):
    write(project / "cloud-config.yaml", "#cloud-config\nruncmd:\n"
                                         "  - curl -s http://169.254.169.254/latest/meta-data/instance-id\n")
    write(project / "docker-compose.yml", "services:\n  app:\n    image: alpine\n"
                                          "    command: curl -s http://169.254.169.254/latest/meta-data/ami-id\n")
    assert main(["--format", "markdown", "."]) == 1
    out = capsys.readouterr().out
    kinds = out[out.index("## By file kind"):out.index("## Files to change first")]
    assert "| cloud-init |" in kinds and "| compose |" in kinds and "| yaml |" not in kinds
