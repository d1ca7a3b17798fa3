"""Shared helpers for the source-language tests: suggested (display-only) rewrites, grammar parses."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from imds_lint.fixers import apply_edits, select_fixes
from imds_lint.frontends.sourcecode import syntax_errors_for
from imds_lint.model import Applicability
from tests.helpers import lint


def suggested(text: str, kind: str, code: str = "IMDS101") -> tuple[str, list]:
    """``text`` with every display-only suggestion for ``code`` applied (what --diff shows)."""
    findings = [f for f in lint(text, kind) if f.code == code]
    fixes = [f.fix for f in findings if f.fix is not None and f.fix.applicability is Applicability.DISPLAY_ONLY]
    chosen, _ = select_fixes(fixes)
    return apply_edits(text, [e for fix in chosen for e in fix.edits]), findings


def parses(text: str, language: str) -> bool:
    return syntax_errors_for(text, language) == 0


def tool(name: str) -> str | None:
    return shutil.which(name)


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
