"""Logical lines of plain text, for the scanners that read text no parser reads."""

from __future__ import annotations


def logical_lines(text: str):
    """(start offset, text) for each line, with backslash continuations joined."""
    start = 0
    pending_start = None
    pending: list[str] = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if pending_start is None:
            pending_start = start
        if body.endswith("\\") and len(pending) < 50:
            pending.append(body[:-1])
        else:
            pending.append(body)
            yield pending_start, " ".join(pending)
            pending, pending_start = [], None
        start += len(line)
    if pending:
        yield pending_start, " ".join(pending)
