"""The package, its tests and benchmarks pass pyflakes' checks (ruff's F rules).

An undefined name in an annotation or a lazily run branch is a NameError waiting
for the one input that reaches it; an f-string with no placeholder usually lost one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is a test extra: pip install -e '.[test]'")
    return [found]


def test_pyflakes_finds_nothing():
    run = subprocess.run([*_ruff(), "check", "--no-cache", "--isolated", "--select", "F", "--output-format", "concise",
                          "imds_lint", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_pyflakes_check_can_fail(tmp_path):
    (tmp_path / "broken.py").write_text("def f() -> Missing:\n    return f'no placeholder'\n")
    run = subprocess.run([*_ruff(), "check", "--no-cache", "--isolated", "--select", "F", "--output-format", "concise",
                          str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "F821" in run.stdout and "F541" in run.stdout
