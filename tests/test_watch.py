"""--watch: the run again whenever a scanned file changes, as ruff's --watch."""

from __future__ import annotations

from imds_lint.cli import main
from tests.helpers import write

TOKENLESS = "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"


def test_watch_scans_again_when_a_file_changes_and_stops_on_ctrl_c(git_repo, capsys):
    from imds_lint import watch

    write(git_repo / "boot.sh", TOKENLESS)
    runs: list[int] = []
    sleeps = iter([
        lambda: None,                                                 # nothing changed: keep waiting
        lambda: (git_repo / "boot.sh").write_text("echo fixed\n"),        # a change: scan again
        lambda: write(git_repo / "svc" / "new.sh", TOKENLESS),            # a new file: scan again
        lambda: (_ for _ in ()).throw(KeyboardInterrupt),             # Ctrl-C
    ])

    def run_once() -> int:
        runs.append(main(["--format", "json", "."]))
        return runs[-1]

    assert watch.watch(run_once, ["."], sleep=lambda _: next(sleeps)()) == 0
    assert runs == [1, 0, 1]
    err = capsys.readouterr().err
    assert err.count("files changed; scanning again") == 2 and "watching 1 file for changes" in err
    assert main(["--watch", "-"]) == 2 and main(["--watch", "--write-baseline", "b.json"]) == 2


def test_the_console_command_watches_until_ctrl_c(git_repo):
    import signal
    import subprocess
    import sys
    import threading
    import time

    write(git_repo / "boot.sh", TOKENLESS)
    proc = subprocess.Popen([sys.executable, "-m", "imds_lint", "--watch", "."], cwd=git_repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines: list[str] = []
    reader = threading.Thread(target=lambda: err_lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()

    def wait_for_watching(count: int) -> None:
        deadline = time.monotonic() + 60
        while sum("watching 1 file" in line for line in err_lines) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum("watching 1 file" in line for line in err_lines) >= count, err_lines

    try:
        wait_for_watching(1)  # the first scan is done
        (git_repo / "boot.sh").write_text("echo fixed\n")
        wait_for_watching(2)  # the change was seen and scanned
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        reader.join(timeout=5)
    assert proc.returncode == 0 and not any("Traceback" in line for line in err_lines)
    assert "Found 1 finding" in out and out.rstrip().endswith("No IMDSv1 breakage found in 1 file.")
