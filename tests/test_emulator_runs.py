"""Fixed scripts really run: against an IMDSv2-only emulator they print what the
original printed before enforcement, and the original fails there.

Every metadata host in the script is replaced by the emulator's 127.0.0.1
address before it runs; nothing here reaches a real metadata service.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from imds_lint.model import Applicability
from tests.conftest import FIXTURES
from tests.emulator import point_at
from tests.helpers import fix, lint

RUNNABLE = [
    ("shell/instance-facts.sh", False),
    ("shell/register-dns.sh", False),
    ("shell/crlf-deploy.sh", False),
    ("shell/imds-smoke-test", False),
    ("shell/remote-facts.sh", False),
    ("shell/wget-facts.sh", True),
    ("shell/node-labels.sh", True),
]


def run(script: str, tmp_path, bash: str) -> subprocess.CompletedProcess:
    path = tmp_path / "script.sh"
    path.write_bytes(script.encode())
    # CRLF scripts run as bash would run them after dos2unix: bash itself chokes on \r.
    if "\r\n" in script:
        path.write_bytes(script.replace("\r\n", "\n").encode())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LC_ALL": "C"}
    return subprocess.run([bash, str(path)], capture_output=True, text=True, timeout=30, env=env)


@pytest.mark.parametrize("name, unsafe", RUNNABLE, ids=[r[0] for r in RUNNABLE])
def test_fixed_script_runs_under_imdsv2_only(name, unsafe, emulator, tmp_path, bash):
    if "wget" in name and shutil.which("wget") is None:
        pytest.skip("wget is not installed")
    original = (FIXTURES / name).read_bytes().decode()

    emulator.reset(tokens_required=False)
    before = run(point_at(original, emulator), tmp_path, bash)
    assert before.returncode == 0, before.stderr
    assert emulator.log, "the script must talk to the emulator"

    emulator.reset(tokens_required=True)
    broken = run(point_at(original, emulator), tmp_path, bash)
    assert emulator.unauthorized > 0, "the original must hit 401 once tokens are required"
    assert broken.returncode != 0 or broken.stdout != before.stdout

    fixed = fix(original, "shell", unsafe=unsafe)
    assert fixed != original
    emulator.reset(tokens_required=True)
    after = run(point_at(fixed, emulator), tmp_path, bash)
    assert after.returncode == 0, after.stderr
    assert emulator.unauthorized == 0
    assert after.stdout == before.stdout
    puts = [entry for entry in emulator.log if entry[0] == "PUT"]
    # One token per script (a script handed to another shell fetches its own), never one per request.
    assert len(puts) == fixed.count("/latest/api/token") < len(emulator.log)


def test_emulator_answers_like_imds_with_tokens_required(emulator, tmp_path, bash):
    script = point_at(
        'curl -s -o /dev/null -w "%{http_code} " http://169.254.169.254/latest/meta-data/\n'
        'T=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")\n'
        'curl -s -o /dev/null -w "%{http_code} " -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/\n'
        'curl -s -o /dev/null -w "%{http_code} " http://169.254.169.254/latest/api/token\n'
        'curl -s -o /dev/null -w "%{http_code} " -X PUT http://169.254.169.254/latest/api/token\n'
        'curl -s -o /dev/null -w "%{http_code} " -X PUT http://169.254.169.254/latest/meta-data/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n'
        'curl -s -o /dev/null -w "%{http_code}" -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60" -H "X-Forwarded-For: 1.2.3.4"\n',
        emulator,
    )
    assert run(script, tmp_path, bash).stdout == "401 200 405 400 403 403"


@pytest.mark.parametrize("line", [
    'T=$(curl -s "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")',
    'T=$(curl -s -X PUT http://169.254.169.254/latest/meta-data/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")',
    'T=$(curl -s -X PUT http://169.254.169.254/latest/api/token)',
    'T=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 99999")',
    'T=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60" -H "X-Forwarded-For: 10.0.0.1")',
], ids=["no-put", "wrong-path", "no-ttl", "ttl-range", "forwarded-for"])
def test_protocol_fixes_make_the_token_work(line, emulator, tmp_path, bash):
    script = line + '\ncurl -fsS -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/instance-id\n'
    assert lint(script), "the mistake must be reported"
    broken = run(point_at(script, emulator), tmp_path, bash)
    assert broken.returncode != 0
    fixed = fix(script, "shell", unsafe=True)
    assert all(f.fix is None or f.fix.applicability is Applicability.DISPLAY_ONLY for f in lint(fixed))
    emulator.reset()
    result = run(point_at(fixed, emulator), tmp_path, bash)
    assert result.returncode == 0, (fixed, result.stderr)
    assert result.stdout == "i-0123456789abcdef0"
