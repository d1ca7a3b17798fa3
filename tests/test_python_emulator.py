"""Fixed Python really runs: originals get 401 from the IMDSv2-only emulator, fixed code gets the value.

Each module runs in a subprocess of this interpreter (the project's venv) with
the metadata host swapped for the emulator's loopback address. Flask and
Celery are replaced by tiny stubs so only the metadata code matters.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.emulator import point_at
from tests.helpers import fix, lint

pytestmark = pytest.mark.slow

STUBS = {
    "flask.py": "class Flask:\n    def __init__(self, name):\n        pass\n\n    def route(self, rule):\n"
                "        return lambda function: function\n\n\ndef jsonify(**values):\n    return values\n",
    "celery.py": "class Celery:\n    def __init__(self, *args, **kwargs):\n        pass\n\n"
                 "    def task(self, function):\n        return function\n",
}


def run(code: str, emulator, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    for name, stub in STUBS.items():
        (tmp_path / name).write_text(stub)
    script = tmp_path / "module_under_test.py"
    script.write_text(point_at(code, emulator))
    return subprocess.run([sys.executable, str(script), *argv], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)})


FIXTURE_RUNS = [
    ("instance_info_cli.py", "instance_info_cli.fixed.py", ["region"], "eu-west-1"),
    ("flask_app.py", "flask_app.fixed.py", [], "eu-west-1 eu-west-1a"),
    ("celery_worker.py", "celery_worker.unsafe-fixed.py", [], "i-0123456789abcdef0 t3.micro"),
    ("async_service.py", "async_service.unsafe-fixed.py", [], "i-0123456789abcdef0 ami-0abcdef1234567890"),
]


@pytest.mark.parametrize("original, fixed, argv, expected", FIXTURE_RUNS, ids=[r[0] for r in FIXTURE_RUNS])
def test_fixture_fails_before_and_works_after_the_fix(original, fixed, argv, expected, emulator, tmp_path):
    before = run((FIXTURES / "python" / original).read_text(), emulator, tmp_path, *argv)
    assert emulator.unauthorized > 0, "the original must have been refused with 401"
    assert before.stdout.strip() != expected

    emulator.reset()
    after = run((FIXTURES / "python" / fixed).read_text(), emulator, tmp_path, *argv)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == expected
    assert emulator.unauthorized == 0
    assert ("PUT", "/latest/api/token") in [(m, p) for m, p, _ in emulator.log]


SNIPPETS = {
    "requests-headers-merge": ("""
        import requests
        HEADERS = {"Accept": "text/plain"}
        print(requests.get("http://169.254.169.254/latest/meta-data/instance-id", headers={"Accept": "text/plain"}, timeout=5).text)
        """, False, "i-0123456789abcdef0"),
    "requests-headers-variable": ("""
        import requests
        HEADERS = {"Accept": "text/plain"}
        print(requests.get("http://169.254.169.254/latest/meta-data/instance-type", headers=HEADERS, timeout=5).text)
        """, True, "t3.micro"),
    "urllib-request-object": ("""
        from urllib.request import Request, urlopen
        req = Request("http://169.254.169.254/latest/meta-data/ami-id")
        print(urlopen(req, timeout=5).read().decode())
        """, True, "ami-0abcdef1234567890"),
    "http-client": ("""
        import http.client
        conn = http.client.HTTPConnection("169.254.169.254", timeout=5)
        conn.request("GET", "/latest/meta-data/local-ipv4")
        print(conn.getresponse().read().decode())
        """, True, "10.0.0.12"),
    "urllib3": ("""
        import urllib3
        pool = urllib3.PoolManager()
        print(pool.request("GET", "http://169.254.169.254/latest/meta-data/mac").data.decode())
        """, True, "0a:1b:2c:3d:4e:5f"),
    "httpx-sync": ("""
        import httpx
        print(httpx.get("http://169.254.169.254/latest/meta-data/hostname").text)
        """, False, "ip-10-0-0-12.ec2.internal"),
    "os-system-shell-string": ("""
        import os
        os.system("curl -s http://169.254.169.254/latest/meta-data/placement/availability-zone")
        """, False, "eu-west-1a"),
    "subprocess-curl-argv": ("""
        import subprocess
        print(subprocess.check_output(["curl", "-sf", "http://169.254.169.254/latest/meta-data/public-ipv4"], text=True))
        """, True, "203.0.113.7"),
}


@pytest.mark.parametrize("code, unsafe, expected", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_each_client_family_runs_after_the_fix(code, unsafe, expected, emulator, tmp_path):
    code = textwrap.dedent(code)
    if "curl" in code and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    for module in ("requests", "httpx", "urllib3"):
        if f"import {module}" in code and importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    before = run(code, emulator, tmp_path)
    assert emulator.unauthorized > 0 and before.stdout.strip() != expected
    emulator.reset()
    fixed = fix(code, "python", unsafe=unsafe)
    assert fixed != code and [f.code for f in lint(fixed, "python")] == []
    if not unsafe:
        assert fix(code, "python", unsafe=False) == fixed
    result = run(fixed, emulator, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
    assert emulator.unauthorized == 0
