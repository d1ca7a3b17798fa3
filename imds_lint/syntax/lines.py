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


def joined_lines(text: str):
    """Like ``logical_lines``, with a map back: (pieces, text) for each logical line.

    ``pieces`` holds, for each physical line joined in, (index in the joined text,
    offset in ``text``), so a match on the joined line maps back to the physical
    line it is on (``physical_offset``).
    """
    start = 0
    pieces: list[tuple[int, int]] = []
    pending: list[str] = []
    joined_length = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        pieces.append((joined_length, start))
        if body.endswith("\\") and len(pending) < 50:
            pending.append(body[:-1])
            joined_length += len(body)  # the backslash's place is taken by the joining space
        else:
            pending.append(body)
            yield pieces, " ".join(pending)
            pieces, pending, joined_length = [], [], 0
        start += len(line)
    if pending:
        yield pieces, " ".join(pending)


def physical_offset(pieces: list[tuple[int, int]], index: int) -> int:
    """The offset in the text of position ``index`` of a joined line."""
    joined_at, offset = pieces[0]
    for piece_joined, piece_offset in pieces:
        if piece_joined > index:
            break
        joined_at, offset = piece_joined, piece_offset
    return offset + (index - joined_at)
