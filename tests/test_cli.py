"""The command line: exit codes, formats, configuration, suppressions, fixes on disk."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from imds_lint.cli import main

TOKENLESS = "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"
CLEAN = '#!/bin/bash\nT=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")\ncurl -s -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/instance-id\n'


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def write(path, text, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    if mode is not None:
        path.chmod(mode)
    return path


def test_exit_codes(project, capsys):
    write(project / "bad.sh", TOKENLESS)
    write(project / "good.sh", CLEAN)
    assert main(["good.sh"]) == 0
    assert main(["bad.sh"]) == 1
    assert main(["missing.sh"]) == 2
    assert "missing.sh: no such file or directory" in capsys.readouterr().err
    assert main(["--format", "yaml"]) == 2
    assert main(["--select", "IMDS5", "bad.sh"]) == 0
    assert main(["--ignore", "IMDS101", "bad.sh"]) == 0


def test_text_output_names_file_line_rule_and_shows_the_code(project, capsys):
    write(project / "bad.sh", TOKENLESS)
    assert main(["bad.sh"]) == 1
    out = capsys.readouterr().out
    assert "bad.sh:2:1: IMDS101 [error] curl sends GET http://169.254.169.254/latest/meta-data/instance-id" in out
    assert "2 | curl -s http" in out and "  | ^^^^" in out
    assert "Found 1 finding in 1 of 1 file. 1 fixable with --fix." in out
    assert "\x1b[" not in out


def test_json_output_is_the_documented_schema(project, capsys):
    write(project / "scripts" / "bad.sh", TOKENLESS)
    write(project / "notes.md", "nothing to see\n")
    assert main(["--format", "json", "scripts", "notes.md"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1 and data["tool"]["name"] == "imds-lint"
    finding = data["findings"][0]
    assert {k: finding[k] for k in ("rule", "category", "severity", "path", "line", "column", "end_line", "end_column", "fixable")} == {
        "rule": "IMDS101", "category": "imdsv1-call", "severity": "error", "path": "scripts/bad.sh",
        "line": 2, "column": 1, "end_line": 2, "end_column": 5, "fixable": True,
    }
    assert data["summary"] == {"files_scanned": 2, "findings": 1, "fixes_applied": 0}
    assert data["errors"] == []


def test_config_in_pyproject_and_closest_wins(project, capsys):
    write(project / "pyproject.toml", '[tool.imds-lint]\nignore = ["IMDS101"]\n')
    write(project / "sub" / "imds-lint.toml", 'select = ["IMDS1"]\nper-file-ignores = {"legacy/*" = ["IMDS1"]}\n')
    write(project / "a.sh", TOKENLESS)
    assert main(["a.sh"]) == 0
    os.chdir(project / "sub")
    write(project / "sub" / "b.sh", TOKENLESS)
    write(project / "sub" / "legacy" / "c.sh", TOKENLESS)
    assert main(["b.sh"]) == 1
    assert main(["legacy/c.sh"]) == 0


def test_bad_config_is_a_usage_error(project, capsys):
    write(project / "imds-lint.toml", 'selct = ["IMDS1"]\n')
    assert main(["."]) == 2
    assert "unknown setting(s): selct" in capsys.readouterr().err
    write(project / "imds-lint.toml", "token-ttl = 0\n")
    assert main(["."]) == 2
    assert main(["--config", "nope.toml", "."]) == 2


def test_token_ttl_option_reaches_the_fix(project, capsys):
    write(project / "a.sh", TOKENLESS)
    assert main(["--diff", "--token-ttl", "300", "a.sh"]) == 1
    assert "X-aws-ec2-metadata-token-ttl-seconds: 300" in capsys.readouterr().out
    assert main(["--token-ttl", "0", "a.sh"]) == 2


def test_discovery_skips_gitignored_and_excluded_but_not_named_files(project, capsys):
    write(project / ".gitignore", "build/\n*.generated.sh\n")
    write(project / "build" / "x.sh", TOKENLESS)
    write(project / "gen.generated.sh", TOKENLESS)
    write(project / "node_modules" / "y.sh", TOKENLESS)
    write(project / "vendor" / "z.sh", TOKENLESS)
    write(project / "ok.sh", CLEAN)
    assert main(["--exclude", "vendor/", "."]) == 0
    assert main(["gen.generated.sh"]) == 1, "a file named on the command line is scanned even if ignored"


def test_parent_gitignore_applies_inside_a_named_folder_but_not_to_it(project, capsys):
    write(project / ".gitignore", "/tree/\ngenerated/\n")
    (project / ".git").mkdir()
    write(project / "tree" / "a.sh", TOKENLESS)
    write(project / "src" / "generated" / "b.sh", TOKENLESS)
    assert main(["tree"]) == 1
    assert main(["src"]) == 0
    assert main(["."]) == 0


def test_a_named_folder_is_scanned_even_when_excluded(project, capsys):
    write(project / "imds-lint.toml", 'exclude = ["samples/", "*.gen.sh"]\n')
    write(project / "samples" / "a.sh", TOKENLESS)
    write(project / "samples" / "b.gen.sh", TOKENLESS)
    assert main(["."]) == 0
    capsys.readouterr()
    assert main(["--format", "json", "samples"]) == 1
    assert [f["path"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["samples/a.sh"]


def test_symlinks_do_not_escape_the_root_or_loop(project, tmp_path_factory, capsys):
    outside = tmp_path_factory.mktemp("outside")
    write(outside / "secret.sh", TOKENLESS)
    (project / "tree").mkdir()
    os.symlink(outside / "secret.sh", project / "tree" / "link.sh")
    os.symlink(project / "tree", project / "tree" / "loop")
    assert main(["--format", "json", "tree"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any("outside the scanned folder" in e["message"] for e in data["errors"])


def test_suppressions_inline_next_line_file_and_unknown(project, capsys):
    write(project / "a.sh", "#!/bin/bash\n"
          "curl -s http://169.254.169.254/latest/meta-data/ami-id  # imds-lint: ignore[IMDS101]\n"
          "# imds-lint: ignore\n"
          "curl -s http://169.254.169.254/latest/meta-data/hostname\n"
          "curl -s http://169.254.169.254/latest/meta-data/mac  # imds-lint: ignore[IMDS999]\n")
    assert main(["--format", "json", "a.sh"]) == 1
    found = [(f["rule"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]]
    assert found == [("IMDS101", 5), ("IMDS003", 5)]
    write(project / "b.sh", "#!/bin/bash\n# imds-lint: file-ignore[IMDS1]\ncurl http://169.254.169.254/latest/meta-data/\n")
    assert main(["b.sh"]) == 0


def test_binary_invalid_utf8_and_huge_files_are_handled(project, capsys):
    write(project / "blob.bin", b"\x00\x01169.254.169.254\x00")
    write(project / "latin1.sh", "#!/bin/sh\n# caf\xe9\ncurl http://169.254.169.254/latest/meta-data/\n".encode("latin-1"))
    write(project / "huge.sh", b"#!/bin/sh\n" + b"# padding\n" * 700_000)
    assert main(["--format", "json", "."]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["path"] for f in data["findings"]] == ["latin1.sh"]
    messages = {e["path"]: e["message"] for e in data["errors"]}
    assert "keeps every undecodable byte" in messages["latin1.sh"]
    assert "over the" in messages["huge.sh"]
    before = (project / "latin1.sh").read_bytes()
    assert main(["--fix", "latin1.sh"]) == 0
    after = (project / "latin1.sh").read_bytes()
    # The Latin-1 comment line is kept byte for byte; the fix inserted ASCII only.
    assert after.startswith(b"#!/bin/sh\n# caf\xe9\n") and after.count(b"\xe9") == 1 and len(after) > len(before)
    assert after.decode("latin-1").isascii() is False and b"X-aws-ec2-metadata-token:" in after


def test_diff_changes_nothing_and_fix_writes_atomically_keeping_mode_and_newlines(project, capsys):
    path = write(project / "deploy.sh", TOKENLESS.replace("\n", "\r\n"), mode=0o750)
    before = path.read_bytes()
    assert main(["--diff", "deploy.sh"]) == 1
    assert '+: "${IMDS_TOKEN=' in capsys.readouterr().out
    assert path.read_bytes() == before
    assert main(["--fix", "deploy.sh"]) == 0
    after = path.read_bytes()
    assert after != before
    assert after.count(b"\r\n") == after.count(b"\n") == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]
    assert main(["--fix", "deploy.sh"]) == 0
    assert path.read_bytes() == after, "a second --fix changes nothing"
    assert main(["--diff", "deploy.sh"]) == 0


def test_fix_keeps_a_utf8_bom(project):
    path = write(project / "bom.sh", b"\xef\xbb\xbf" + TOKENLESS.encode())
    assert main(["--fix", "bom.sh"]) == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf#!/bin/bash\n: \"${IMDS_TOKEN=")


def test_unsafe_fixes_need_the_flag(project, capsys):
    script = 'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 99999"\n'
    path = write(project / "t.sh", script)
    assert main(["--fix", "t.sh"]) == 1
    assert path.read_text() == script
    assert "1 more with --unsafe-fixes" in capsys.readouterr().out
    assert main(["--fix", "--unsafe-fixes", "t.sh"]) == 0
    assert "seconds: 21600" in path.read_text()


def test_fix_refuses_when_the_file_changed_under_it(project, monkeypatch):
    from imds_lint import source

    path = write(project / "a.sh", TOKENLESS)
    real = source.read_bytes

    reads = []

    def read_then_edit(p, limit):
        data = real(p, limit)
        reads.append(p)
        path.write_text(TOKENLESS + f"echo edited by someone else, time {len(reads)}\n")
        return data

    monkeypatch.setattr("imds_lint.screening.read_bytes", read_then_edit)
    assert main(["--fix", "a.sh"]) == 1
    assert path.read_text().endswith(f"edited by someone else, time {len(reads)}\n")
    assert "IMDS_TOKEN" not in path.read_text()


def test_list_rules_and_explain(capsys):
    assert main(["--list-rules"]) == 0
    assert "IMDS101  tokenless-request" in capsys.readouterr().out
    assert main(["--explain", "IMDS101"]) == 0
    page = capsys.readouterr().out
    assert "## Why it breaks under IMDSv2-only" in page
    assert main(["--explain", "IMDS999"]) == 2


def test_version_and_help_exit_zero(capsys):
    assert main(["--version"]) == 0
    assert main(["--help"]) == 0


def test_python_dash_m_and_version():
    result = subprocess.run([sys.executable, "-m", "imds_lint", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("imds-lint ")


def test_internal_error_is_a_message_not_a_traceback(project, monkeypatch, capsys):
    write(project / "a.sh", TOKENLESS)
    monkeypatch.setattr("imds_lint.reporters.text.render", lambda *a, **k: 1 / 0)
    assert main(["a.sh"]) == 2
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError" in err and "Traceback" not in err


def test_a_crash_on_one_file_is_reported_for_that_file_and_the_run_goes_on(project, monkeypatch, capsys):
    from imds_lint.engine import Linter

    write(project / "a.sh", TOKENLESS)
    write(project / "b.sh", TOKENLESS)
    real = Linter.lint_file
    monkeypatch.setattr(Linter, "lint_file", lambda self, p, d: 1 / 0 if d == "a.sh" else real(self, p, d))
    assert main(["--format", "json", "a.sh", "b.sh"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["path"] for f in data["findings"]] == ["b.sh"]
    assert data["errors"] == [{"path": "a.sh", "message": "internal error (ZeroDivisionError: division by zero); file skipped"}]


def test_results_are_identical_with_one_and_many_workers(project, capsys, monkeypatch):
    from imds_lint import parallel

    monkeypatch.setattr(parallel, "MIN_FILES_FOR_POOL", 4)
    monkeypatch.setattr(parallel, "CHUNK", 3)
    for i in range(20):
        write(project / f"d{i % 3}" / f"s{i}.sh", TOKENLESS if i % 2 else CLEAN)
    assert main(["--format", "json", "-j", "1", "."]) == 1
    serial = capsys.readouterr().out
    assert main(["--format", "json", "-j", "2", "."]) == 1
    assert capsys.readouterr().out == serial


@pytest.mark.parametrize("dense", [True, False], ids=["dense", "sparse"])
def test_a_second_worker_joins_only_when_most_files_need_parsing(project, capsys, monkeypatch, dense):
    import concurrent.futures

    from imds_lint import parallel

    monkeypatch.setattr(parallel, "MIN_FILES_FOR_POOL", 4)
    monkeypatch.setattr(parallel, "CHUNK", 3)
    started = []

    class Counted(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, max_workers=None, **kw):
            started.append(max_workers)
            super().__init__(max_workers=max_workers, **kw)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Counted)
    for i in range(90):
        write(project / f"d{i % 3}" / f"s{i:02}.sh", TOKENLESS if dense or i == 89 else "#!/bin/sh\necho ready\n")
    # Cold runs (a warm one settles its hits in the main process: nothing to parse, no second worker).
    assert main(["--no-cache", "--format", "json", "-j", "1", "."]) == 1
    serial = capsys.readouterr().out
    assert main(["--no-cache", "--format", "json", "-j", "2", "."]) == 1
    assert capsys.readouterr().out == serial
    # One worker beside the walking main process; a second when the main one would mostly wait.
    assert started == ([1, 1] if dense else [1])


def test_with_dense_candidates_the_main_process_stops_screening(project, capsys, monkeypatch):
    """Once most files need parsing, screening them in the main process only reads each twice."""
    import time

    from imds_lint import parallel
    from imds_lint.engine import Linter

    monkeypatch.setattr(parallel, "MIN_FILES_FOR_POOL", 4)
    monkeypatch.setattr(parallel, "CHUNK", 3)
    monkeypatch.setattr(parallel, "IN_FLIGHT_WHEN_DENSE", 2)
    screened = []  # filled in the main process only (workers fork their own copy)
    real_screen, real_lint = parallel._screen, Linter.lint_file

    def counting(settings, path, display):
        screened.append(display)
        return real_screen(settings, path, display)

    def slow(self, path, display, raw=None):
        time.sleep(0.01)  # workers slower than the walk: the main process would screen, as on a big tree
        return real_lint(self, path, display, raw)

    monkeypatch.setattr(parallel, "_screen", counting)
    monkeypatch.setattr(Linter, "lint_file", slow)
    for i in range(90):
        write(project / f"d{i % 3}" / f"s{i:02}.sh", TOKENLESS)
    assert main(["--format", "json", "-j", "1", "."]) == 1
    serial = capsys.readouterr().out
    screened.clear()
    assert main(["--format", "json", "-j", "2", "."]) == 1
    assert capsys.readouterr().out == serial
    # The density sample (two chunks) is all the main process read itself.
    assert len(screened) <= parallel.DENSITY_SAMPLE_CHUNKS * parallel.CHUNK


def test_frontend_crash_falls_back_to_text_scanning(project, monkeypatch, capsys):
    write(project / "a.sh", TOKENLESS)
    monkeypatch.setattr("imds_lint.frontends.shell.analyze", lambda d, s: 1 / 0)
    assert main(["--format", "json", "a.sh"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["findings"][0]["rule"] == "IMDS101" and "text scan" in data["findings"][0]["message"]
    assert "fell back to text scanning" in data["errors"][0]["message"]


def test_a_crash_while_writing_leaves_the_original_intact(project, monkeypatch):
    path = write(project / "a.sh", TOKENLESS)

    def power_cut(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("imds_lint.source.os.replace", power_cut)
    assert main(["--fix", "a.sh"]) == 1
    assert path.read_text() == TOKENLESS
    assert [p.name for p in project.iterdir()] == ["a.sh"], "the temporary file is cleaned up"


def test_display_only_fixes_show_in_diff_but_are_never_applied(project, monkeypatch, capsys):
    from imds_lint.model import Applicability, Fix

    path = write(project / "a.sh", TOKENLESS)
    real = __import__("imds_lint.fixers.shell", fromlist=["ShellFixer"]).ShellFixer.add_token

    def display_only(self, request, analysis, ttl):
        fix = real(self, request, analysis, ttl)
        return Fix(fix.title, fix.edits, Applicability.DISPLAY_ONLY)

    monkeypatch.setattr("imds_lint.fixers.shell.ShellFixer.add_token", display_only)
    assert main(["--diff", "a.sh"]) == 1
    assert '+: "${IMDS_TOKEN=' in capsys.readouterr().out
    assert main(["--fix", "--unsafe-fixes", "a.sh"]) == 1
    assert path.read_text() == TOKENLESS


def test_a_worker_process_that_dies_costs_one_file(project, capsys, monkeypatch):
    import signal

    from imds_lint import parallel
    from imds_lint.engine import Linter

    monkeypatch.setattr(parallel, "MIN_FILES_FOR_POOL", 4)
    monkeypatch.setattr(parallel, "CHUNK", 3)
    for i in range(12):
        write(project / f"s{i:02}.sh", TOKENLESS)
    real = Linter.lint_file

    def crash_on_one(self, path, display):
        if display == "s07.sh":
            import faulthandler

            # pytest's faulthandler, inherited by the forked worker, would print a "Fatal Python
            # error" stack into a green run: this crash is on purpose.
            faulthandler.disable()
            os.kill(os.getpid(), signal.SIGSEGV)  # what a native parser bug looks like
        return real(self, path, display)

    monkeypatch.setattr(Linter, "lint_file", crash_on_one)
    assert main(["--format", "json", "-j", "2", "."]) == 1
    data = json.loads(capsys.readouterr().out)
    assert sorted({f["path"] for f in data["findings"]}) == [f"s{i:02}.sh" for i in range(12) if i != 7]
    assert data["errors"] == [{"path": "s07.sh", "message": "the worker process crashed on this file; file skipped "
                                                            "(please report it)"}]


def test_fix_leaves_links_alone_unless_asked(project, capsys):
    target = write(project / "real.sh", TOKENLESS)
    os.symlink("real.sh", project / "link.sh")
    os.link(project / "real.sh", project / "hard.sh")
    assert main(["--format", "json", "--fix", "link.sh", "hard.sh"]) == 1
    notes = {e["path"]: e["message"] for e in json.loads(capsys.readouterr().out)["errors"]}
    assert "is a symbolic link" in notes["link.sh"] and "2 hard links" in notes["hard.sh"]
    assert target.read_text() == TOKENLESS
    assert main(["--fix", "--fix-through-links", "hard.sh"]) == 0
    assert "IMDS_TOKEN" in (project / "real.sh").read_text(), "the fix reached every hard link"
    assert os.path.samefile(project / "real.sh", project / "hard.sh")
    assert os.path.islink(project / "link.sh")


@pytest.mark.parametrize("argv", [
    [], ["a.sh"], ["a.sh", "dir/", "with space.tf"], ["--fix", "a.sh"], ["--fix", "--unsafe-fixes", "-q", "a.sh"],
    ["--diff", "--exit-zero", "--no-gitignore", "--statistics", "--quiet", "x"], ["--fix"], ["--fix", "--fix", "a"],
    ["--no-cache", "a.sh", "b.sh"],
])
def test_plain_arguments_are_read_as_argparse_reads_them(argv):
    """The parser-free path pre-commit runs take gives what argparse would (defaults included)."""
    from imds_lint.cli import build_parser, plain_args

    assert vars(plain_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [
    ["-"], ["a.sh", "--fix"], ["a.sh", "--fix", "b.sh"], ["--format", "json", "a.sh"], ["--fi", "a.sh"],
    ["--", "a.sh"], ["-qq", "a.sh"], ["--jobs=2", "a.sh"], ["--version"], ["-j", "1", "a.sh"],
])
def test_anything_else_goes_to_argparse(argv):
    from imds_lint.cli import plain_args

    assert plain_args(argv) is None


def test_plain_argument_defaults_are_not_shared_between_runs():
    from imds_lint.cli import plain_args

    first = plain_args(["a.sh"])
    first.output.append(("json", "x"))
    assert plain_args(["a.sh"]).output == []
