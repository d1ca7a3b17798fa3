"""Brownfield adoption: record today's findings once, then report only new ones.

The file is JSON, versioned and sorted, so it diffs well in review. Entries are
matched by fingerprint alone (imds_lint.fingerprint: rule, path, normalised
line, occurrence), so moving code or editing other lines keeps them matched;
``line`` and ``name`` are there for the people reading the file. An entry
nothing matches any more is stale: reported, so the file can be rewritten.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Sequence

from imds_lint import __version__
from imds_lint.fingerprint import VERSION as FINGERPRINT_VERSION, normalise_path
from imds_lint.model import Finding
from imds_lint.records import dataclass

FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why."""


@dataclass
class Filtered:
    kept: list[Finding]
    kept_fingerprints: list[str]
    matched: int
    stale: list[dict]
    hidden: list[Finding]


def render(findings: Sequence[Finding], fingerprints: Sequence[str],
           path_of: Callable[[str], str] = normalise_path) -> str:
    # No source text or message in the entries: they would spell the metadata
    # address, and the baseline, committed to the repository, would then be
    # flagged by the next scan itself.
    entries = [
        {"fingerprint": fp, "rule": f.code, "name": f.name, "path": path_of(f.path), "line": f.start.line}
        for f, fp in zip(findings, fingerprints)
    ]
    entries.sort(key=lambda e: (e["path"], e["line"], e["rule"], e["fingerprint"]))
    document = {
        "version": FORMAT_VERSION,
        "fingerprint_version": FINGERPRINT_VERSION,
        "generated_by": f"imds-lint {__version__}",
        "findings": entries,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# A baseline of a million findings is ~150 MB; anything bigger is not one.
MAX_BASELINE_SIZE = 256 * 1024 * 1024


def write(path: str | Path, findings: Sequence[Finding], fingerprints: Sequence[str],
          path_of: Callable[[str], str] = normalise_path) -> None:
    Path(path).write_text(render(findings, fingerprints, path_of), encoding="utf-8")


def load(path: str | Path) -> list[dict]:
    from imds_lint.source import SkipFile, read_bytes

    if not os.path.lexists(path):
        raise BaselineError(f"{path}: no such baseline file (create it with --write-baseline)")
    try:
        # Non-blocking and checked with fstat: a FIFO or /dev/zero named by mistake is an error, not a hang.
        raw = read_bytes(path, MAX_BASELINE_SIZE)
    except SkipFile as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a baseline file (invalid JSON: {exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not a baseline file (no 'findings' list)")
    if data.get("version") != FORMAT_VERSION:
        raise BaselineError(f"{path}: baseline format version {data.get('version')!r} is not supported "
                            f"(expected {FORMAT_VERSION}); rewrite it with --write-baseline")
    if data.get("fingerprint_version") != FINGERPRINT_VERSION:
        raise BaselineError(f"{path}: the baseline was written with fingerprint version "
                            f"{data.get('fingerprint_version')!r}; rewrite it with --write-baseline")
    entries = []
    for entry in data["findings"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"{path}: a baseline entry has no fingerprint")
        entries.append(entry)
    return entries


def apply(entries: Iterable[dict], findings: Sequence[Finding], fingerprints: Sequence[str],
          scanned: set[str], roots: Sequence[Path] = ()) -> Filtered:
    """Hide findings recorded in the baseline; collect the entries nothing matched.

    An unmatched entry is stale only when its file was scanned in this run or no
    longer exists: a pre-commit run over three files says nothing about the rest.
    Entry paths are relative to the project root (``roots``; the current folder
    when none is given), so a run from a subfolder finds them.
    """
    entries = list(entries)
    remaining = Counter(e["fingerprint"] for e in entries)
    kept, kept_fps, matched, hidden = [], [], 0, []
    for finding, fp in zip(findings, fingerprints):
        if remaining[fp] > 0:
            remaining[fp] -= 1
            matched += 1
            hidden.append(finding)
        else:
            kept.append(finding)
            kept_fps.append(fp)
    stale = []
    for entry in entries:
        fp = entry["fingerprint"]
        if remaining[fp] <= 0:
            continue
        path = str(entry.get("path", ""))
        if path in scanned or not any(os.path.exists(os.path.join(root, path)) for root in (roots or (".",))):
            remaining[fp] -= 1
            stale.append(entry)
    return Filtered(kept, kept_fps, matched, stale, hidden)
