"""The real pre-commit, running this repository's hooks (try-repo) on a temporary git repository.

pre-commit installs the hooks' environment from this checkout (language:
python: ``pip install .`` in a new virtualenv), which needs the dependencies from
the package index or pip's cache; where that cannot work the test skips and
says why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

TOKENLESS = "curl -s http://169.254.169.254/latest/meta-data/ami-id\n"
# Files pre-commit would not recognise by extension alone: they reach the hook through `types: [text]`.
FILES = {
    "scripts/probe": "#!/bin/sh\n" + TOKENLESS,
    "docker/Dockerfile": "FROM debian:bookworm-slim\nRUN " + TOKENLESS,
    "infra/user-data.tftpl": "#!/bin/bash\nset -eu\n" + TOKENLESS,
    "notes.md": "Nothing to see here.\n",
}
NETWORK_TROUBLE = re.compile(r"(No matching distribution found for \S+|Could not find a version that satisfies[^\n]*|"
                             r"Failed to establish a new connection[^\n]*|Temporary failure in name resolution)")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false",
                    *args], cwd=cwd, check=True, capture_output=True)


def _hooks_repo(tmp_path: Path) -> Path:
    """This checkout when it is a git repository (try-repo takes uncommitted changes too), else a committed copy."""
    if (ROOT / ".git").exists():
        return ROOT
    copy = tmp_path / "hooks-repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".ci", ".venv", "node_modules", "__pycache__", "*.egg-info"))
    _git(copy, "init", "-q")
    _git(copy, "add", "-A")
    _git(copy, "commit", "-q", "-m", "hooks")
    return copy


def test_hooks_file_is_what_pre_commit_expects():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"imds-lint", "imds-lint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["types"] == ["text"]
    assert hooks["imds-lint"]["entry"] == "imds-lint"
    assert hooks["imds-lint-fix"]["entry"] == "imds-lint --fix"


@pytest.mark.slow
def test_pre_commit_try_repo_runs_both_hooks(tmp_path, tmp_path_factory):
    pytest.importorskip("pre_commit", reason="pre-commit is not installed (it is in the test extra)")
    if shutil.which("git") is None:
        pytest.skip("git is not installed; pre-commit needs it")
    target = tmp_path / "target"
    for name, text in FILES.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (target / "scripts" / "probe").chmod(0o755)
    _git(target, "init", "-q")
    _git(target, "add", "-A")

    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.getbasetemp() / "pre-commit-home"),
           "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never"}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(_hooks_repo(tmp_path)), "--all-files"],
                          cwd=target, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    if "An unexpected error has occurred" in out:
        trouble = NETWORK_TROUBLE.search(out)
        if trouble:
            pytest.skip(f"pre-commit could not install the hook environment: {trouble.group(0)}")
        pytest.fail(out[-3000:])

    assert proc.returncode == 1, out[-3000:]
    check = out[out.index("imds-lint (IMDSv2 readiness)"):out.index("imds-lint --fix (token-first rewrites)")]
    assert "Failed" in check.splitlines()[0]
    for name in ("scripts/probe:2:1: IMDS101", "docker/Dockerfile:2:5: IMDS101", "infra/user-data.tftpl:3:1: IMDS101"):
        assert name in check, check
    assert "notes.md" not in check

    fixing = out[out.index("imds-lint --fix (token-first rewrites)"):]
    assert "files were modified by this hook" in fixing
    for name in ("scripts/probe", "docker/Dockerfile", "infra/user-data.tftpl"):
        assert "X-aws-ec2-metadata-token: $IMDS_TOKEN" in (target / name).read_text(), name
    assert (target / "notes.md").read_text() == FILES["notes.md"]
