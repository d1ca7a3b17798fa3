"""go source: the shared reader in ``sourcecode`` with the go grammar."""

from __future__ import annotations

from imds_lint.frontends.sourcecode import syntax_errors_for
from imds_lint.frontends.sourcecode_clients import analyze_language


def analyze(document, session):
    return analyze_language(document, session, "go")


def syntax_errors(text: str) -> int:
    return syntax_errors_for(text, "go")
