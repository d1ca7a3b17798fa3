"""Terraform template text (heredocs, quoted strings, .tftpl files) as embedded documents.

Terraform reads ``${expr}`` as interpolation and ``%{...}`` as a directive;
``$${`` and ``%%{`` are their escapes, and quoted strings also take backslash
escapes. ``decode`` turns a template region into the text the script will be
(escapes undone, interpolations kept as shell-looking placeholders, directives
blanked) with an offset map back to the source; the ``escape_*`` functions do
the reverse for text a fix inserts.
"""

from __future__ import annotations

import re

from imds_lint.model import Segment, merge_segments

_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
# Placeholder for an interpolation that is not a bare name: shell reads it as an
# unknown variable, so a URL built from it is unknown rather than wrong.
PLACEHOLDER = "${TF_EXPR}"


def escape_template(text: str) -> str:
    """Text for a heredoc or a template file: literal ``${`` and ``%{`` need doubling."""
    return text.replace("${", "$${").replace("%{", "%%{")


def escape_quoted(text: str) -> str:
    """Text for an HCL quoted string: backslash escapes, then template escapes."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return escape_template(text)


def _closing_brace(text: str, i: int, end: int) -> int | None:
    """Offset just past the ``}`` closing an interpolation whose body starts at ``i``."""
    depth = 1
    while i < end:
        c = text[i]
        if c == '"':
            i += 1
            while i < end and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


_QUOTED_SPECIAL = re.compile(r"[$%\\]")
_TEMPLATE_SPECIAL = re.compile(r"[$%]")


def decode(text: str, start: int, end: int, *, quoted: bool) -> tuple[str, list[Segment]]:
    """The script a template region stands for, and segments mapping it back to ``text``."""
    chars: list[str] = []
    segments: list[Segment] = []

    def put(piece: str, outer_start: int, outer_end: int) -> None:
        n = len(chars)
        chars.extend(piece)
        segments.append(Segment(n, n + len(piece), outer_start, outer_end))

    special = _QUOTED_SPECIAL if quoted else _TEMPLATE_SPECIAL
    i = start
    while i < end:
        c = text[i]
        if c not in "$%\\":
            # A run of plain characters in one piece (one call per character made this the hot spot).
            found = special.search(text, i, end)
            stop = found.start() if found else end
            put(text[i:stop], i, stop)
            i = stop
            continue
        two = text[i:i + 3]
        if two in ("$${", "%%{"):
            put(two[1:], i, i + 3)
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            close = _closing_brace(text, i + 2, end)
            if close is None:
                put(text[i:end], i, end)
                break
            body = text[i + 2:close - 1].strip().strip("~").strip()
            if c == "%":
                put(" ", i, close)
            elif _SIMPLE_NAME.fullmatch(body):
                put("${" + body + "}", i, close)
            else:
                put(PLACEHOLDER, i, close)
            i = close
            continue
        if quoted and c == "\\" and i + 1 < end:
            nxt = text[i + 1]
            if nxt in _QUOTED_ESCAPES:
                put(_QUOTED_ESCAPES[nxt], i, i + 2)
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(nxt)
            if width is not None:
                digits = text[i + 2:i + 2 + width]
                if len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
                    put(chr(int(digits, 16)) if int(digits, 16) < 0x110000 else "?", i, i + 2 + width)
                    i += 2 + width
                    continue
        put(c, i, i + 1)
        i += 1
    return "".join(chars), merge_segments(segments)


