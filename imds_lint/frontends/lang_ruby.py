"""ruby source: the shared reader in ``sourcecode`` with the ruby grammar."""

from __future__ import annotations

from imds_lint.frontends.sourcecode import analyze_language, syntax_errors_for


def analyze(document, session):
    return analyze_language(document, session, "ruby")


def syntax_errors(text: str) -> int:
    return syntax_errors_for(text, "ruby")
