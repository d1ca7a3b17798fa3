"""A hostile tree through the whole CLI: no traceback, a correct exit code, bounded time.

Every hostile file also names the metadata address, so it gets past the
prefilter and really reaches the front-ends.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import time

import pytest

from imds_lint.cli import main

URL = "http://169.254.169.254/latest/meta-data/instance-id"
CURL = f"curl -s {URL}\n"


def build_hostile_tree(root):
    files = {
        "binary.bin": b"\x7fELF\x00\x00" + URL.encode() + b"\x00" * 64,
        "nul-in-script.sh": b"#!/bin/sh\n" + CURL.encode() + b"\x00\x01\x02",
        "invalid-utf8.sh": b"#!/bin/sh\n\xff\xfe\xc3(\n" + CURL.encode(),
        "latin1.sh": "#!/bin/sh\n# r\xe9gion\n".encode("latin-1") + CURL.encode(),
        "utf16-bom.ps1": "\ufeffInvoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/ami-id\r\n".encode("utf-16-le"),
        "utf16-be.sh": "\ufeff#!/bin/sh\ncurl http://169.254.169.254/latest/meta-data/\n".encode("utf-16-be"),
        "mixed-newlines.sh": b"#!/bin/sh\r\necho a\n" + CURL.encode() + b"echo b\r\n",
        "bom-utf8.sh": b"\xef\xbb\xbf#!/bin/bash\n" + CURL.encode(),
        "nested.sh": ("#!/bin/bash\nx=" + "$( " * 500 + "curl " + URL + " )" * 500 + "\n").encode(),
        "unterminated.sh": b"#!/bin/bash\nif [ -n \"$X\" ]; then\n  cat <<EOF\n" + CURL.encode(),
        "quotes.sh": b"#!/bin/bash\necho \"unterminated " + CURL.encode(),
        "py-syntax-error.py": b"import requests\ndef broken(:\n    requests.get('" + URL.encode() + b"')\n",
        "py2.py": b"import urllib2\nprint urllib2.urlopen('" + URL.encode() + b"').read()\n",
        "py-deep.py": ("import requests\nx = " + "[" * 300 + "]" * 300 + f"\nrequests.get('{URL}')\n").encode(),
        "Dockerfile": b"FROM alpine\nRUN <<EOF\n" + CURL.encode(),
        "Dockerfile.badjson": b'FROM alpine\nCMD ["curl", "' + URL.encode() + b'"\n',
        "broken.tf": b'resource "aws_instance" "x" {\n  user_data = <<EOF\n' + CURL.encode() + b'\n  metadata_options {\n',
        "broken.json": b'{"UserData": "' + URL.encode() + b'", "x": [1, 2,',
        "broken.yaml": b"runcmd:\n  - " + CURL.encode() + b"  - [unclosed\n: : :\n",
        "anchors.yaml": b"base: &b {cmd: \"" + CURL.strip().encode() + b"\"}\nuse: *b\nmore: [*b, *b, *b]\n",
        "laughs.yaml": (
            b"# " + URL.encode() + b"\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
            + b"".join(f"{chr(98 + i)}: &{chr(98 + i)} [".encode() + b",".join([f"*{chr(97 + i)}".encode()] * 9) + b"]\n"
                      for i in range(8))
        ),
        "truncated-mime.txt": (b"Content-Type: multipart/mixed; boundary=\"XX\"\nMIME-Version: 1.0\n\n--XX\n"
                               b"Content-Type: text/x-shellscript\n\n#!/bin/sh\n" + CURL.encode()[:30]),
        "bad-b64.json": b'{"UserData": "' + base64.b64encode(CURL.encode())[:-3] + b'!!!@@@"}',
        "cloud-config-b64.yaml": (b"#cloud-config\nwrite_files:\n  - encoding: b64\n    path: /x\n    content: %%%not-base64%%%"
                                  + URL.encode() + b"\n"),
        "evil.csproj": (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + URL.encode() + b'">]>'
                        b"<Project><ItemGroup><PackageReference Include=\"AWSSDK.Core\" Version=\"&a;\"/></ItemGroup></Project>"),
        "long-line.sh": b"#!/bin/sh\n" + b"curl " + URL.encode() + b" " + b"a" * 2_000_000 + b"\n",
        "many-tokens.sh": b"#!/bin/sh\n" + (b"curl -H x -H y " + URL.encode() + b"\n") * 5000,
        "with space.sh": CURL.encode(),
        "new\nline.sh": CURL.encode(),
        b"bytes-\xff-name.sh": CURL.encode(),
        "ps-broken.ps1": b"Invoke-RestMethod -Uri " + URL.encode() + b" -Headers @{ 'a' = \n",
        "template.tftpl": b"#!/bin/bash\n%{ if x }\ncurl ${url}/latest\n" + CURL.encode(),
    }
    for name, data in files.items():
        path = os.path.join(os.fsencode(root), name if isinstance(name, bytes) else name.encode())
        with open(path, "wb") as handle:
            handle.write(data)
    big = root / "big.sh"
    with open(big, "wb") as handle:
        handle.write(b"#!/bin/sh\n" + CURL.encode())
        handle.truncate(50 * 1024 * 1024)
    (root / "loop").mkdir()
    os.symlink("..", root / "loop" / "up")
    os.symlink(root / "loop", root / "loop" / "self")
    os.symlink("/etc/hostname", root / "escape.sh")
    os.symlink(root / "missing-target", root / "dangling.sh")
    os.mkfifo(root / "fifo.sh")
    if os.geteuid() == 0:
        os.mknod(root / "zero.sh", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    locked = root / "locked"
    locked.mkdir()
    (locked / "secret.sh").write_text(CURL)
    locked.chmod(0)
    unreadable = root / "unreadable.sh"
    unreadable.write_text(CURL)
    unreadable.chmod(0)
    return files


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    root = tmp_path / "hostile"
    root.mkdir()
    files = build_hostile_tree(root)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "imds-lint.toml").write_text("max-file-size = 8388608\n")
    yield root, files
    (root / "locked").chmod(0o755)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_hostile_tree_never_produces_a_traceback(hostile, capsys, jobs, monkeypatch):
    from imds_lint import parallel

    monkeypatch.setattr(parallel, "MIN_FILES_FOR_POOL", 4)
    root, files = hostile
    start = time.monotonic()
    code = main(["--format", "json", "-j", jobs, "hostile"])
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "Traceback" not in err and "Traceback" not in out
    data = json.loads(out)
    messages = [e["message"] for e in data["errors"]]
    assert not [m for m in messages if "internal error" in m], messages
    assert elapsed < 60, "no input may make the run slow"
    by_path = {}
    for error in data["errors"]:
        by_path.setdefault(os.path.basename(error["path"]), []).append(error["message"])
    assert any("over the" in m for m in by_path["big.sh"])
    # FIFOs and devices met while walking are skipped without a word (like ruff); named ones get a note.
    assert "fifo.sh" not in by_path and "zero.sh" not in by_path
    assert any("outside the scanned folder" in m for m in by_path["escape.sh"])
    assert any("broken or looping" in m for m in by_path["dangling.sh"])
    found = {os.path.basename(f["path"]) for f in data["findings"]}
    # Readable scripts are still scanned despite their quirks.
    for name in ("latin1.sh", "utf16-bom.ps1", "mixed-newlines.sh", "bom-utf8.sh", "nested.sh", "with space.sh",
                 "unterminated.sh", "py-syntax-error.py", "py2.py"):
        assert name in found, name


def test_a_named_fifo_or_device_is_a_note_not_a_hang(hostile, capsys):
    root, _ = hostile
    named = ["hostile/fifo.sh"] + (["hostile/zero.sh"] if (root / "zero.sh").exists() else [])
    assert main(["--format", "json", *named]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {e["message"] for e in data["errors"]} == {"not a regular file or folder"}


def _subsequence(small: bytes, large: bytes) -> bool:
    it = iter(large)
    return all(byte in it for byte in small)


@pytest.mark.slow
def test_fix_over_the_hostile_tree_loses_nothing(hostile, capsys):
    root, files = hostile
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()
              and os.access(p, os.R_OK) and p.stat().st_size < 10_000_000 and stat.S_ISREG(p.stat().st_mode)}
    code = main(["--fix", "--unsafe-fixes", "hostile"])
    assert code in (0, 1)
    assert "Traceback" not in capsys.readouterr().err
    for path, data in before.items():
        after = path.read_bytes()
        if path.name in ("binary.bin", "nul-in-script.sh"):
            assert after == data, f"{path.name} must never be rewritten"
        if path.name in ("latin1.sh", "invalid-utf8.sh"):
            # Fixed since issue 16 keeping every undecodable byte: the token fix only inserts, so
            # the original bytes are all still there, in order.
            assert after != data and _subsequence(data, after), f"{path.name} lost bytes"
        if after != data and data.startswith(b"\xff\xfe"):
            assert after.startswith(b"\xff\xfe"), "encoding kept"
    assert not list(root.rglob("*.imds-lint.tmp"))


def test_a_file_deleted_mid_scan_is_a_note(tmp_path, monkeypatch, capsys):
    from imds_lint import discovery

    (tmp_path / "a.sh").write_text(CURL)
    (tmp_path / "b.sh").write_text(CURL)
    real = discovery.discover

    def discover_then_delete(*args, **kwargs):
        for item in real(*args, **kwargs):
            if getattr(item, "display", "").endswith("a.sh"):
                os.unlink(item.path)
            yield item

    monkeypatch.setattr(discovery, "discover", discover_then_delete)
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "json", "."]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["errors"] == [{"path": "a.sh", "message": "no such file (deleted during the scan?)"}]


def test_usage_errors_exit_2(capsys):
    assert main(["--no-such-flag"]) == 2
    assert main(["--jobs", "x"]) == 2
    assert main(["/definitely/not/here"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_console_script_never_prints_a_traceback(tmp_path):
    import subprocess
    import sys

    (tmp_path / "x.sh").write_bytes(b"\xff\xfe\x00" * 10 + CURL.encode())
    result = subprocess.run([sys.executable, "-m", "imds_lint", str(tmp_path), "--format", "json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 1)
    assert "Traceback" not in result.stderr


# -- no silent pass ----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--select", "IMSD101"], ["--select", "IMDS10l"], ["--select", "IMDS1,IMDS9"],
                                  ["--ignore", "E501"], ["--select", "101"]])
def test_an_unknown_code_or_prefix_on_the_command_line_is_a_usage_error(tmp_path, monkeypatch, capsys, args):
    # Before: no rule ran, exit 0, "No IMDSv1 breakage found".
    (tmp_path / "a.sh").write_text(CURL)
    monkeypatch.chdir(tmp_path)
    assert main([*args, "a.sh"]) == 2
    err = capsys.readouterr().err
    assert "unknown rule code" in err and "Traceback" not in err


@pytest.mark.parametrize("setting", ['select = ["IMDS10l"]', 'ignore = ["IMSD"]',
                                     '[per-file-ignores]\n"*.sh" = ["IMDS1O1"]'])
def test_an_unknown_code_in_the_config_is_a_usage_error(tmp_path, monkeypatch, capsys, setting):
    (tmp_path / "a.sh").write_text(CURL)
    (tmp_path / "imds-lint.toml").write_text(setting + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(["a.sh"]) == 2
    assert "unknown rule code" in capsys.readouterr().err


@pytest.mark.parametrize("selector", ["ALL", "IMDS", "IMDS1", "IMDS10", "IMDS101", "imds101"])
def test_known_codes_and_prefixes_still_select(tmp_path, monkeypatch, selector):
    (tmp_path / "a.sh").write_text(CURL)
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "--select", selector, "a.sh"]) == 1


def test_catalog_codes_are_the_rule_codes():
    from imds_lint.registry import catalog_codes, rule_codes

    assert catalog_codes() == rule_codes()


@pytest.mark.parametrize("given", ["fifo", "/dev/zero", "folder"])
def test_a_fifo_or_device_as_baseline_is_an_error_not_a_hang(tmp_path, monkeypatch, capsys, given):
    (tmp_path / "a.sh").write_text(CURL)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    assert main(["--baseline", given, "a.sh"]) == 2
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err
    assert "not a regular file" in err and "internal error" not in err


@pytest.mark.parametrize("where", ["--exclude", "config", "per-file-ignores"])
def test_an_invalid_exclude_pattern_is_a_usage_error(tmp_path, monkeypatch, capsys, where):
    (tmp_path / "a.sh").write_text(CURL)
    monkeypatch.chdir(tmp_path)
    args = ["."]
    if where == "--exclude":
        args = ["--exclude", "\\", "."]
    elif where == "config":
        (tmp_path / "imds-lint.toml").write_text('exclude = ["ok", "\\\\"]\n')
    else:
        (tmp_path / "imds-lint.toml").write_text('[per-file-ignores]\n"\\\\" = ["IMDS101"]\n')
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "pattern" in err and "internal error" not in err and "Traceback" not in err


def test_a_gitignore_line_git_cannot_use_costs_the_run_nothing(tmp_path, monkeypatch, capsys):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("\\\n*.log\n")
    (tmp_path / "a.sh").write_text(CURL)
    (tmp_path / "b.log").write_text(CURL)
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "json", "."]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["path"] for f in data["findings"]] == ["a.sh"], "the valid lines still apply"


# -- interrupts, imports, encodings ---------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _busy_tree(root) -> None:
    body = "#!/bin/sh\n" + "".join(f"curl -s {URL}\nwget -qO- {URL}\n" for _ in range(40))
    for i in range(1500):
        (root / f"s{i}.sh").write_text(body)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_pooled_run_ends_its_workers_quietly(tmp_path, how):
    import signal
    import subprocess
    import sys

    _busy_tree(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "imds_lint", "-j", "2", "--format", "json", "."], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while not workers and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        workers = _children(proc.pid)
    assert workers, "the run started a pool"
    time.sleep(0.5)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole group
    else:
        proc.send_signal(signal.SIGTERM)  # as a CI runner's timeout does: the main process only
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in err.decode(), err.decode()[-2000:]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{w}") and _children(proc.pid) is not None
                                              and _alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "no orphaned worker"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_python_dash_m_does_not_import_the_scanned_folder(tmp_path):
    import subprocess
    import sys

    # A repository with modules named like our dependencies, scanned from its own root.
    for name in ("yaml.py", "pathspec.py", "hyperscan.py", "tree_sitter.py"):
        (tmp_path / name).write_text("raise SystemExit('imported from the scanned folder')\n")
    (tmp_path / "rich").mkdir()
    (tmp_path / "rich" / "__init__.py").write_text("raise SystemExit('imported from the scanned folder')\n")
    (tmp_path / "user-data.yaml").write_text(f"#cloud-config\nruncmd:\n  - {CURL}")
    (tmp_path / ".gitignore").write_text("build/\n")
    env = dict(os.environ, FORCE_COLOR="1")
    env.pop("NO_COLOR", None)
    env.pop("PYTHONSAFEPATH", None)
    result = subprocess.run([sys.executable, "-m", "imds_lint", "--exclude", "x", "."], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, env=env)
    assert "scanned folder" not in result.stderr + result.stdout
    assert result.returncode == 1, result.stderr


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be", "utf-16-le"])
def test_a_powershell_script_with_a_wide_bom_is_scanned(tmp_path, monkeypatch, capsys, encoding):
    text = "\ufeffInvoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/ami-id\r\n"
    (tmp_path / "boot.ps1").write_bytes(text.encode(encoding))
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "json", "boot.ps1"]) == 1
    assert [f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["IMDS101"]


# -- --write-baseline targets: opened as the shell's '>' opens them (like ruff's --output-file) --


def _write_baseline(tmp_path, target: str, **popen):
    import subprocess
    import sys

    (tmp_path / "a.sh").write_text(CURL)
    return subprocess.Popen([sys.executable, "-m", "imds_lint", "--write-baseline", target, "a.sh"], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True, **popen)


def _waiting_on_the_fifo(proc) -> bool:
    """Whether the process sits in open() of a FIFO with no reader (Linux names that wait)."""
    wchan = f"/proc/{proc.pid}/wchan"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if not os.path.exists(wchan):
            time.sleep(1.0)  # no /proc: give the scan time to finish
            return proc.poll() is None
        with open(wchan) as f:
            if f.read().strip() in ("wait_for_partner", "fifo_open"):
                return True
        time.sleep(0.05)
    return False


def test_write_baseline_to_a_fifo_waits_for_its_reader_and_then_writes_it_whole(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    proc = _write_baseline(tmp_path, "fifo")
    try:
        assert _waiting_on_the_fifo(proc), "a FIFO without a reader is waited for, as the shell's '>' does"
        with open(tmp_path / "fifo", encoding="utf-8") as reader:
            written = json.loads(reader.read())
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    assert [e["rule"] for e in written["findings"]] == ["IMDS101"]
    assert "recorded 1 finding in fifo" in proc.stderr.read()


def test_write_baseline_waiting_on_a_fifo_stops_on_ctrl_c(tmp_path):
    import signal

    os.mkfifo(tmp_path / "fifo")
    proc = _write_baseline(tmp_path, "fifo")
    try:
        assert _waiting_on_the_fifo(proc)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 2
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert "interrupted" in err and "Traceback" not in err


def test_write_baseline_to_stdout_feeds_a_pipe(tmp_path):
    import subprocess

    proc = _write_baseline(tmp_path, "/dev/stdout", stdout=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert [e["rule"] for e in json.loads(out)["findings"]] == ["IMDS101"]


@pytest.mark.parametrize("target, reason", [("folder", "Is a directory"), ("/dev/full", "No space left on device")])
def test_write_baseline_to_what_cannot_take_it_is_a_usage_error(tmp_path, monkeypatch, capsys, target, reason):
    if target == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    (tmp_path / "folder").mkdir()
    (tmp_path / "a.sh").write_text(CURL)
    monkeypatch.chdir(tmp_path)
    assert main(["--write-baseline", target, "a.sh"]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {target}: {reason}" in err and "internal error" not in err


def test_write_baseline_to_a_reader_that_goes_away_is_a_usage_error(tmp_path):
    import subprocess

    # Enough findings that the baseline outgrows a pipe's buffer, read by a process that stops at once.
    import sys

    (tmp_path / "many.sh").write_text("#!/bin/sh\n" + "".join(f"curl -s {URL}/{i}\n" for i in range(3000)))

    head = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    lint = subprocess.Popen([sys.executable, "-m", "imds_lint", "--write-baseline", "/dev/stdout", "many.sh"],
                            cwd=tmp_path, stdout=head.stdin, stderr=subprocess.PIPE, text=True)
    head.stdin.close()
    err = lint.communicate(timeout=120)[1]
    head.wait(timeout=30)
    assert lint.returncode == 2, err
    assert "cannot write /dev/stdout: Broken pipe" in err and "Traceback" not in err
