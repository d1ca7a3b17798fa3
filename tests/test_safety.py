"""Nothing is sent anywhere, nothing scanned is executed, no input makes a regex explode."""

from __future__ import annotations

import ast
import shutil
import socket
import time

import pytest

from imds_lint.cli import main
from tests.conftest import FIXTURES, ROOT
from tests.helpers import lint_notes


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access is not allowed in imds-lint")

    class GuardedSocket(socket.socket):
        def connect(self, address):
            refuse(address)

        def connect_ex(self, address):
            refuse(address)
            return 1

        def sendto(self, *args):
            refuse(*args)

    monkeypatch.setattr(socket, "socket", GuardedSocket)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.slow
def test_the_whole_cli_never_touches_the_network(no_network, tmp_path, monkeypatch, capsys):
    tree = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, tree)
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "json", "-j", "1", "fixtures"]) == 1
    assert main(["--diff", "--unsafe-fixes", "-j", "1", "fixtures"]) == 1
    assert main(["--fix", "--unsafe-fixes", "-j", "1", "fixtures"]) in (0, 1)
    assert main(["--explain", "IMDS101"]) == 0
    capsys.readouterr()
    assert no_network == []


FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "subprocess", "socket", "urllib.request", "http.client",
                     "requests", "httpx", "ftplib", "telnetlib", "smtplib"}


def _package_modules():
    return sorted((ROOT / "imds_lint").rglob("*.py")) + sorted((ROOT / "rules").glob("*.py"))


@pytest.mark.parametrize("path", _package_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_package_code_cannot_run_what_it_scans_or_reach_the_network(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {a.name for a in node.names} & FORBIDDEN_MODULES, ast.dump(node)
        elif isinstance(node, ast.ImportFrom):
            assert node.module not in FORBIDDEN_MODULES, node.module
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            # __import__ of a constant libcst submodule is a lazy import, not input-derived.
            if node.func.id == "__import__" and node.args and isinstance(node.args[0], ast.Constant):
                continue
            # records.py compiles each value type's __init__ from its own field names (checked to be
            # identifiers; tests/test_records.py): the package's declarations, never scanned text.
            if node.func.id == "exec" and path.name == "records.py" and path.parent.name == "imds_lint":
                continue
            assert node.func.id not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {node.func.id}"
        elif isinstance(node, ast.Attribute) and node.attr in ("load", "load_all", "unsafe_load", "full_load"):
            base = node.value
            if isinstance(base, ast.Name) and base.id == "yaml":
                pytest.fail(f"{path.name}:{node.lineno} uses yaml.{node.attr}; only safe loaders are allowed")


WORST_CASES = [
    "169.254.169.254" * 20000,
    "http://169.254.169.254/" + "a/" * 50000,
    "curl " * 20000 + "http://169.254.169.254/",
    "x-aws-ec2-metadata-token" * 10000 + " http://169.254.169.254/",
    "# imds-lint: ignore[" + "IMDS1," * 20000,
    "${" * 20000 + "http://169.254.169.254/",
    "\\" * 100000 + "http://169.254.169.254/",
    "'" * 50001 + " curl http://169.254.169.254/",
    "a" * 200000 + "!" + " curl http://169.254.169.254/",
    "instance-data." * 20000,
    "%{" * 20000 + "http://169.254.169.254/",
    "<" * 30000 + "http://169.254.169.254/",
]
KINDS = ["shell", "python", "powershell", "dockerfile", "terraform", "template", "yaml", "json", "user-data",
         "unknown-text", "requirements.txt", "package.json", "pom.xml", "go.mod", "javascript", "typescript", "go",
         "java", "csharp", "ruby", "makefile", "justfile", "jenkinsfile"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_worst_case_lines_take_bounded_time(kind):
    for case in WORST_CASES:
        # CPU time, not wall time: on a shared machine (load 16 on 2 cores) the wall clock also counts
        # the time other processes held the CPU, and a 3 s case took 5.6 s.
        start = time.process_time()
        lint_notes(case + "\n", "text" if kind == "unknown-text" else kind)
        assert time.process_time() - start < 5, (kind, case[:40])


@pytest.mark.parametrize("kind, line", [
    ("shell", "ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\n"),
    ("powershell", "Invoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/instance-id\n"),
    ("python", "requests.get('http://169.254.169.254/latest/meta-data/instance-id', timeout=2)\n"),
    ("dockerfile", "RUN curl -s http://169.254.169.254/latest/meta-data/instance-id\n"),
])
def test_a_megabyte_of_requests_is_linear(kind, line):
    """Thousands of findings in one file: every per-request decision must be made once per file."""
    small, big = line * 500, line * 5000
    lint_notes(line, kind)  # imports and grammar loading are not what is measured

    def best_of(runs: int, text: str) -> float:
        # The fastest of a few runs, in CPU time: the other test workers (pytest-xdist) and a
        # shared machine take the core away at times, which wall time would count against us.
        times = []
        for _ in range(runs):
            start = time.process_time()
            lint_notes(text, kind)
            times.append(time.process_time() - start)
        return min(times)

    t_small = best_of(3, small)
    t_big = best_of(2, big)
    # Ten times the input: linear is ~10x, quadratic ~100x; 20x leaves room for a noisy machine.
    assert t_big < max(20 * t_small, 2.0), (kind, t_small, t_big)
