"""The progress bar: on stderr, only on a terminal, only for long runs; rich is not imported otherwise."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from imds_lint import cli

SCRIPT = "#!/bin/sh\ncurl -s http://169.254.169.254/latest/meta-data/ami-id\n"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def many_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    for i in range(12):
        (tmp_path / f"s{i:02}.sh").write_text(SCRIPT if i % 3 == 0 else "echo hi\n")
    return tmp_path


def test_progress_bar_on_a_terminal_after_enough_files(many_files, monkeypatch, capsys):
    monkeypatch.setattr(cli, "PROGRESS_AFTER", 5)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["--jobs", "1", "."]) == 1
    drawn = terminal.getvalue()
    assert "scanning" in drawn and "12/12" in drawn
    assert "scanning" not in capsys.readouterr().out


def test_no_progress_bar_below_the_threshold(many_files, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["--jobs", "1", "."]) == 1
    assert terminal.getvalue() == ""


def test_no_progress_bar_and_no_rich_when_stderr_is_not_a_terminal(many_files):
    code = ("import sys\nfrom imds_lint import cli\ncli.PROGRESS_AFTER = 2\nrc = cli.main(['--jobs', '1', '.'])\n"
            "sys.stdout.flush()\nsys.stderr.write('RICH=' + str('rich' in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=many_files)
    assert proc.stderr == "RICH=False", proc.stderr
