"""java source: the shared reader in ``sourcecode`` with the java grammar."""

from __future__ import annotations

from imds_lint.frontends.sourcecode import syntax_errors_for
from imds_lint.frontends.sourcecode_clients import analyze_language


def analyze(document, session):
    return analyze_language(document, session, "java")


def syntax_errors(text: str) -> int:
    return syntax_errors_for(text, "java")
