"""Run a program and its fixed version side by side in the three worlds a safe fix must keep.

1. **IMDSv2-only**: the fixed program, against an emulator that requires
   tokens, must print and exit as the original did against one that still
   allows IMDSv1; it may send no tokenless GET and at most one token PUT per
   process (``Program.processes``).
2. **No service** (a loopback port that refuses connections): both succeed or
   both fail, with the same output.
3. **Black-holed route** (a port that accepts and never answers): where the
   original ends in time because its requests carry a time limit, the fixed
   one ends within the original's time plus one such limit per process (the
   token fetch that failed first in each) and a little slack.

Every metadata host spelling is replaced by a 127.0.0.1 address in a temporary
copy; nothing here reaches a real metadata service. Processes run in their own
session and the whole group is killed at the deadline, so a hung ``curl`` never
outlives its run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from tests.emulator import Blackhole, Emulator, Refusing, point_at

# Tiny stand-ins for frameworks the Python fixtures import, so only their metadata code matters.
PYTHON_STUBS = {
    "flask.py": "class Flask:\n    def __init__(self, name):\n        pass\n\n    def route(self, rule):\n"
                "        return lambda function: function\n\n\ndef jsonify(**values):\n    return values\n",
    "celery.py": "class Celery:\n    def __init__(self, *args, **kwargs):\n        pass\n\n"
                 "    def task(self, function):\n        return function\n",
}

RUN_TIMEOUT = 30.0     # a run that talks to a live emulator never takes this long
SLACK = 0.75           # process start-up and scheduling on a loaded 2-core machine


@dataclass(frozen=True)
class Program:
    """One runnable program: its main file, sibling files it sources or imports, and its argv."""

    language: str                       # "shell", "python", "javascript"
    text: str
    name: str = "main"
    siblings: tuple[tuple[str, str], ...] = ()
    argv: tuple[str, ...] = ()
    processes: int = 1                  # processes that may each fetch one token (bash -c children)
    time_limit: float | None = None     # the largest per-request time limit; None: requests may hang
    # Text replaced in every world but the black-holed one: generated scripts write a tight limit that
    # keeps thousands of black-holed runs fast, and get a generous one where a loaded machine answers.
    relaxed: tuple[tuple[str, str], ...] = ()

    def with_texts(self, text: str, siblings: tuple[tuple[str, str], ...]) -> "Program":
        return replace(self, text=text, siblings=siblings)


@dataclass(frozen=True)
class Outcome:
    stdout: str
    returncode: int | None              # None: killed at the deadline
    elapsed: float
    puts: int = 0
    tokenless: int = 0
    unauthorized: int = 0
    requests: int = 0
    stderr: str = ""

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0


@dataclass
class Verdict:
    """What broke, world by world; empty lists mean the fix kept the program's behaviour."""

    imdsv2: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    blackhole: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.imdsv2 or self.refused or self.blackhole)

    def problems(self) -> list[str]:
        return [f"{world}: {p}" for world in ("imdsv2", "refused", "blackhole") for p in getattr(self, world)]


def interpreter(program: Program) -> list[str] | None:
    """The command that runs ``program``, or None when its runtime is not installed."""
    if program.language == "shell":
        first = program.text.split("\n", 1)[0]
        shell = "sh" if first.startswith("#!") and "bash" not in first and first.rstrip().endswith("sh") else "bash"
        path = shutil.which(shell)
        return [path] if path else None
    if program.language == "python":
        return [sys.executable]
    if program.language == "javascript":
        path = shutil.which("node")
        return [path] if path else None
    if program.language == "powershell":
        path = shutil.which("pwsh")
        return [path, "-NoProfile", "-NonInteractive", "-File"] if path else None
    if program.language == "go":
        path = shutil.which("go")
        return [path, "run"] if path else None
    return None


SUFFIX = {"shell": ".sh", "python": ".py", "javascript": ".js", "powershell": ".ps1", "go": ".go"}
# Go builds share one cache (a fresh HOME per run would rebuild net/http each time); never the network.
GO_ENV = {"GOCACHE": os.path.join(tempfile.gettempdir(), "three-worlds-go-cache"), "GOPROXY": "off",
          "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}


class Worlds:
    """The servers of the three worlds, started once per test session."""

    def __init__(self, workdir: Path | None = None):
        self.emulator = Emulator().start()  # IMDSv2 only (the fixed program)
        self.imdsv1 = Emulator().start()    # tokens optional (the original, as it was written for)
        self.imdsv1.reset(tokens_required=False)
        self.refusing = Refusing()
        self.blackhole = Blackhole().start()
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="three-worlds-")) if workdir is None else workdir

    def stop(self) -> None:
        self.emulator.stop()
        self.imdsv1.stop()
        self.refusing.stop()
        self.blackhole.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def run(self, program: Program, server, deadline: float = RUN_TIMEOUT, slot: str = "run") -> Outcome:
        """Run ``program`` with every metadata host pointed at ``server`` (in ``slot``'s folder)."""
        return self.launch(program, server, slot).finish(deadline)

    def launch(self, program: Program, server, slot: str = "run") -> "Launched":
        command = interpreter(program)
        if command is None:
            raise RuntimeError(f"no runtime for {program.language}")
        folder = self.workdir / slot
        folder.mkdir(parents=True, exist_ok=True)
        main = folder / (program.name if "." in program.name else program.name + SUFFIX[program.language])
        relax = (lambda t: t) if server is self.blackhole else (lambda t: _replace_all(t, program.relaxed))
        _write(main, point_at(relax(program.text), server))
        for name, text in program.siblings:
            _write(folder / name, point_at(relax(text), server))
        if program.language == "python":
            for name, stub in PYTHON_STUBS.items():
                _write(folder / name, stub)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "LC_ALL": "C",
               "PYTHONPATH": str(folder), "PYTHONDONTWRITEBYTECODE": "1",
               **(GO_ENV if program.language == "go" else {})}
        return Launched([*command, str(main), *program.argv], folder, env)

    def run_imds(self, program: Program, tokens_required: bool, slot: str = "run") -> Outcome:
        server = self.emulator if tokens_required else self.imdsv1
        server.reset(tokens_required=tokens_required)
        return _with_log(self.run(program, server, slot=slot), server)

    def compare(self, original: Program, fixed: Program, blackhole_cap: float = 8.0) -> Verdict:
        """Run both programs in the three worlds and say where the fixed one behaves differently."""
        verdict = Verdict()
        # Four independent runs at once: each world has its own server, each program its own folder.
        self.imdsv1.reset(tokens_required=False)
        self.emulator.reset(tokens_required=True)
        launched = [self.launch(original, self.imdsv1, "original"), self.launch(fixed, self.emulator, "fixed"),
                    self.launch(original, self.refusing, "original-refused"),
                    self.launch(fixed, self.refusing, "fixed-refused")]
        before, after, refused_before, refused_after = (run.finish(RUN_TIMEOUT) for run in launched)
        before = _with_log(before, self.imdsv1)
        after = _with_log(after, self.emulator)
        if (after.stdout, after.returncode) != (before.stdout, before.returncode):
            verdict.imdsv2.append(f"printed {after.stdout!r} (exit {after.returncode}) where the original printed "
                                  f"{before.stdout!r} (exit {before.returncode}) with IMDSv1; stderr: {after.stderr[-300:]!r}")
        if after.tokenless:
            verdict.imdsv2.append(f"{after.tokenless} GET request(s) without a token")
        added = after.puts - before.puts
        if not before.requests and after.puts:
            verdict.imdsv2.append(f"fetched {after.puts} token(s) on a run where the original sent no request")
        elif added > fixed.processes:
            verdict.imdsv2.append(f"{added} token PUTs added where one per process ({fixed.processes}) would do")

        before, after = refused_before, refused_after
        if after.succeeded != before.succeeded or after.stdout != before.stdout:
            verdict.refused.append(f"printed {after.stdout!r} (exit {after.returncode}) where the original printed "
                                   f"{before.stdout!r} (exit {before.returncode}); stderr: {after.stderr[-300:]!r}")

        if original.time_limit is None:
            verdict.notes.append("black-holed route not run: the original's requests carry no time limit")
            return verdict
        # Both wait on sockets that never answer: run them side by side, it is idle time.
        fixed_run = self.launch(fixed, self.blackhole, slot="fixed-bh")
        before = self.run(original, self.blackhole, deadline=blackhole_cap, slot="original-bh")
        if before.returncode is None:
            fixed_run.finish(0)
            self.blackhole.reset()
            verdict.blackhole.append(f"the original did not end within {blackhole_cap} s on a black-holed route, "
                                     f"though it declares a {original.time_limit} s limit")
            return verdict
        # Each process may spend one limit on its own failed token fetch.
        allowed = before.elapsed + original.time_limit * fixed.processes + SLACK
        after = fixed_run.finish(max(0.0, allowed - fixed_run.elapsed) + 0.25)
        self.blackhole.reset()
        if after.returncode is None or after.elapsed > allowed:
            verdict.blackhole.append(f"ran {after.elapsed:.2f} s (exit {after.returncode}) where the original ended "
                                     f"after {before.elapsed:.2f} s (allowed {allowed:.2f} s)")
        elif after.succeeded != before.succeeded or after.stdout != before.stdout:
            verdict.blackhole.append(f"printed {after.stdout!r} (exit {after.returncode}) where the original printed "
                                     f"{before.stdout!r} (exit {before.returncode})")
        return verdict


def _replace_all(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def _with_log(outcome: Outcome, emulator: Emulator) -> Outcome:
    return replace(outcome, puts=emulator.puts, tokenless=emulator.tokenless, unauthorized=emulator.unauthorized,
                   requests=len(emulator.log))


class Launched:
    """A started program; ``finish`` collects it, killing its whole process group at the deadline."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]):
        self.started = time.monotonic()
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, text=True, errors="replace", stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def finish(self, deadline: float) -> Outcome:
        """Wait until ``deadline`` seconds from now at most."""
        try:
            stdout, stderr = self.process.communicate(timeout=deadline)
            returncode: int | None = self.process.returncode
        except subprocess.TimeoutExpired:
            _kill_group(self.process)
            stdout, stderr = self.process.communicate()
            returncode = None
        else:
            _kill_group(self.process)  # children left in the background must not outlive the run
        return Outcome(stdout, returncode, self.elapsed, stderr=stderr)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # CRLF scripts run as they would after dos2unix: bash itself chokes on \r.
    if path.suffix in (".sh", "") and "\r\n" in text:
        text = text.replace("\r\n", "\n")
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    path.chmod(0o755)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
