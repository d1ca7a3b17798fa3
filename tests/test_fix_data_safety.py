"""--fix never loses data: a full disk, a file growing while it is fixed, owners and modes,
extended attributes, and the temporary files a killed run leaves behind."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from imds_lint import source
from imds_lint.cli import main

URL = "http://169.254.169.254/latest/meta-data/instance-id"
SCRIPT = "#!/bin/sh\n" + "".join(f"echo step {i}\ncurl -s {URL}\n" for i in range(200))


def _fix(paths, *extra) -> tuple[int, dict]:
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--fix", "--format", "json", *extra, *paths])
    return code, json.loads(out.getvalue())


@pytest.fixture
def linked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.sh").write_text(SCRIPT)
    os.link(tmp_path / "a.sh", tmp_path / "b.sh")
    return tmp_path


def test_a_write_that_fails_half_way_through_a_hard_link_restores_the_file(linked, monkeypatch):
    # Before: truncated mid-line, and the note still said "fix not written".
    real = source._write_all
    calls = []

    def half_then_full_disk(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            os.write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, data)

    monkeypatch.setattr(source, "_write_all", half_then_full_disk)
    code, data = _fix(["a.sh"], "--fix-through-links")
    assert (linked / "a.sh").read_text() == SCRIPT and (linked / "b.sh").read_text() == SCRIPT
    assert any("fix not written" in e["message"] and "restored" in e["message"] for e in data["errors"])
    assert code == 1, "the findings are still reported"


def test_no_room_for_the_fix_refuses_before_a_byte_changes(linked, monkeypatch):
    def no_room(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_room, raising=False)
    _, data = _fix(["a.sh"], "--fix-through-links")
    assert (linked / "a.sh").read_text() == SCRIPT
    assert os.stat(linked / "a.sh").st_size == len(SCRIPT)
    assert any("no room" in e["message"] for e in data["errors"])


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    where = tmp_path / "disk"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.mark.parametrize("through_links", [True, False])
def test_a_really_full_disk_loses_nothing(small_disk, monkeypatch, through_links):
    script = small_disk / "a.sh"
    script.write_text(SCRIPT)  # ~13 KB; its fix is ~3x that
    if through_links:
        os.link(script, small_disk / "b.sh")
    filler = small_disk / "filler"
    with open(filler, "wb") as handle:  # leave less room than the fix needs
        try:
            handle.write(b"\0" * (64 * 1024 - len(SCRIPT) - 4096))
        except OSError:
            pass
    monkeypatch.chdir(small_disk)
    _, data = _fix(["a.sh"], *(["--fix-through-links"] if through_links else []))
    assert script.read_text() == SCRIPT
    assert any("fix not written" in e["message"] for e in data["errors"]), data["errors"]
    assert not [n for n in os.listdir(small_disk) if n.endswith(source.TEMP_SUFFIX)]


def test_lines_appended_while_the_fix_is_written_are_not_lost(tmp_path, monkeypatch):
    # Before: the check ran before write+fsync; with a slow fsync, 45 of 1,590 appended lines were lost.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.sh").write_text(SCRIPT)
    real_fsync = os.fsync

    def slow_fsync_while_appending(fd):
        with open(tmp_path / "a.sh", "a") as handle:
            handle.write("echo appended meanwhile\n")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync_while_appending)
    _, data = _fix(["a.sh"])
    assert (tmp_path / "a.sh").read_text().endswith("echo appended meanwhile\n")
    assert (tmp_path / "a.sh").read_text().startswith(SCRIPT)
    assert any("changed on disk" in e["message"] for e in data["errors"])


def test_a_change_just_before_the_rename_is_seen(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.sh").write_text(SCRIPT)

    def append_instead_of_copying(path, fd):
        with open(path, "a") as handle:
            handle.write("late line\n")

    monkeypatch.setattr(source, "_copy_xattrs", append_instead_of_copying)
    _fix(["a.sh"])
    assert (tmp_path / "a.sh").read_text() == SCRIPT + "late line\n"


def test_setuid_setgid_owner_and_extended_attributes_are_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "a.sh"
    script.write_text(SCRIPT)
    owner = (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        owner = (1234, 4321)
        os.chown(script, *owner)
    os.chmod(script, 0o6755)
    try:
        os.setxattr(script, "user.origin", b"provisioning")
        xattrs = True
    except (OSError, AttributeError):
        xattrs = False
    code, data = _fix(["a.sh"])
    assert not data["errors"] and data["summary"]["fixes_applied"] > 0
    info = os.stat(script)
    assert "X-aws-ec2-metadata-token" in script.read_text()
    assert stat.S_IMODE(info.st_mode) == 0o6755, oct(info.st_mode)
    assert (info.st_uid, info.st_gid) == owner
    if xattrs:
        assert os.getxattr(script, "user.origin") == b"provisioning"


def test_a_temporary_left_by_sigkill_is_never_scanned_and_is_cleaned(tmp_path, monkeypatch):
    (tmp_path / "a.sh").write_text(SCRIPT)
    # A fixer killed between writing its temporary file and the rename.
    writer = subprocess.Popen([sys.executable, "-c", (
        "import pathlib, time\n"
        "from imds_lint import source\n"
        "source._copy_xattrs = lambda *a: time.sleep(60)\n"
        "source.write_atomic(pathlib.Path('a.sh'), b'#!/bin/sh\\ncurl -s http://169.254.169.254/latest/user-data\\n')\n"
    )], cwd=tmp_path)
    deadline = time.monotonic() + 30
    while not [n for n in os.listdir(tmp_path) if n.endswith(source.TEMP_SUFFIX)] and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    left = [n for n in os.listdir(tmp_path) if n.endswith(source.TEMP_SUFFIX)]
    assert left, "the killed writer left its temporary file"
    monkeypatch.chdir(tmp_path)

    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        main(["--format", "json", "."])
    assert {f["path"] for f in json.loads(out.getvalue())["findings"]} == {"a.sh"}, "the temporary is not scanned"
    source._cleaned.clear()
    _fix(["."])
    assert not [n for n in os.listdir(tmp_path) if n.endswith(source.TEMP_SUFFIX)], "a --fix run removes it"


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    live = tmp_path / f".a.sh.{os.getppid()}.beef{source.TEMP_SUFFIX}"
    live.write_text("in progress")
    foreign = tmp_path / f".notes.txt{source.TEMP_SUFFIX}"
    foreign.write_text("not ours: no pid")
    source._cleaned.discard(os.fspath(tmp_path))
    source.clean_stale_temporaries(tmp_path)
    assert live.exists() and foreign.exists()
