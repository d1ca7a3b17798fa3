"""Content-based identity of a finding, shared by the baseline and SARIF.

A finding is known by (rule code, path, normalised source line, occurrence
index), never by its line number: inserting or deleting lines elsewhere in the
file leaves every fingerprint unchanged (after detect-secrets and semgrep). The
occurrence index tells apart identical lines in one file, counted top down.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, Sequence

from imds_lint.model import Finding

# Bump when the recipe changes: old baselines then match nothing, and say so.
VERSION = 1


def normalise_path(path: str) -> str:
    """The path as a repository-relative POSIX path where it can be one."""
    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            relative = path
        if not relative.startswith(".."):
            path = relative
    path = path.replace(os.sep, "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def normalise_snippet(snippet: str) -> str:
    """Whitespace-insensitive: re-indenting a block keeps its findings."""
    return " ".join(snippet.split())


def fingerprint(code: str, path: str, snippet: str, occurrence: int) -> str:
    import hashlib  # OpenSSL's, ~3 ms: only a run that writes or reads fingerprints pays for it

    material = "\0".join((str(VERSION), code, normalise_path(path), normalise_snippet(snippet), str(occurrence)))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def occurrences(findings: Iterable[Finding], path_of: Callable[[str], str] = normalise_path) -> list[int]:
    """For each finding, how many earlier ones share its code, path and normalised line."""
    seen: dict[tuple[str, str, str], int] = {}
    result = []
    for f in findings:
        key = (f.code, path_of(f.path), normalise_snippet(f.snippet))
        result.append(seen.get(key, 0))
        seen[key] = result[-1] + 1
    return result


def fingerprints(findings: Sequence[Finding], path_of: Callable[[str], str] = normalise_path) -> list[str]:
    """One fingerprint per finding, in the same order; ``findings`` in file order. ``path_of`` gives
    the path recorded (relative to the project root, so a run from a subfolder matches)."""
    return [fingerprint(f.code, path_of(f.path), f.snippet, n) for f, n in zip(findings, occurrences(findings, path_of))]
