"""Python 2 modules read as Python 3: the statements that differ, respelled token by token.

A Python 2 module fails Python 3's parser on its first ``print x`` or
``except X, e:``, and libcst with it, which would cost every boto 2
``get_instance_metadata()`` call and URL request in the file (the legacy code
most at risk when tokens become required). ``repair`` respells, with the
stdlib tokenizer, only what Python 3 cannot parse: ``print``/``exec``
statements become calls (``print >>f, x`` -> ``print(  f, x)``),
``except X, e`` -> ``except X as e``, ``raise E, V`` -> ``raise E(V)``,
backticks -> ``repr()``, ``<>`` -> ``!=``, ``0777`` -> ``0o777``, ``10L`` ->
``10``, ``ur""`` -> ``r""`` and tab indentation -> spaces at Python 2's
8-column tab stops. Every other byte is kept, and an offset map leads each
position of the result back to the original, so the module is analysed as an
embedded document at its own line numbers. The respelled text must then pass
``ast.parse``; when it does not (tuple parameters, say) there is no repair and
the front-end text-scans the file as before. The repair is never written back:
the result is read-only (fixes would have to be Python 2 too).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings

from imds_lint.model import OffsetMap, Segment

_STATEMENT_START = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
_OPENERS, _CLOSERS = "([{", ")]}"
# Tokens after ``print`` that show it is a name, not a statement: ``print(x)``, ``print.x``, ``x = print``.
_NOT_A_STATEMENT = {"(", ".", "=", ")", "]", "}", ",", ":", "[", "+=", "-=", "*=", "/="}


# What a line Python 3 rejects shows when Python 2 wrote it. The tokenizer below is pure Python
# (a few microseconds a token): only a module whose first rejected line looks like Python 2 pays.
_PYTHON2_LINE = re.compile(r"^\s*(?:print|exec)\b(?!\s*\()|\bexcept\b[^:]*,|\braise\s+[^,]+,|`|<>"
                           r"|\b0\d+|\d[lL]\b|\b[uU][rR][\"']|^[ ]*\t|^\t* +\t|\bprint\s")


def looks_like_python2(text: str, line: int | None) -> bool:
    """Whether the line CPython rejected (1-based) reads like Python 2."""
    if not isinstance(line, int) or line < 1:
        return False
    lines = text.splitlines()
    return line <= len(lines) and _PYTHON2_LINE.search(lines[line - 1][:2000]) is not None


def repair(text: str) -> tuple[str, OffsetMap] | None:
    """Python 3 spelling of a Python 2 module and the map back, or None when it cannot be had."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None

    def offset(position: tuple[int, int]) -> int:
        row, column = position
        return starts[row - 1] + column if row - 1 < len(starts) else len(text)

    edits: list[tuple[int, int, str]] = []
    edits.extend(_indentation(lines, starts))
    significant = [t for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL)]
    statement_start = True
    depth = 0
    backtick_open = False
    for i, token in enumerate(significant):
        following = significant[i + 1] if i + 1 < len(significant) else None
        kind, string = token.type, token.string
        if kind == tokenize.OP and string in _OPENERS:
            depth += 1
        elif kind == tokenize.OP and string in _CLOSERS:
            depth = max(depth - 1, 0)
        if statement_start and kind == tokenize.NAME and depth == 0:
            if string in ("print", "exec") and following is not None and following.string not in _NOT_A_STATEMENT:
                edits.extend(_call_statement(significant, i, offset))
            elif string == "except":
                edits.extend(_except_clause(significant, i, offset))
            elif string == "raise":
                edits.extend(_raise_statement(significant, i, offset))
        if kind == tokenize.ERRORTOKEN and string == "`":
            edits.append((offset(token.start), offset(token.end), ")" if backtick_open else "repr("))
            backtick_open = not backtick_open
        elif kind == tokenize.OP and string == "<" and following is not None and following.string == ">" \
                and following.start == token.end:
            edits.append((offset(token.start), offset(following.end), "!="))
        elif kind == tokenize.NUMBER and following is not None and following.start == token.end:
            if string == "0" and following.type == tokenize.NUMBER and following.string[:1].isdigit():
                edits.append((offset(token.end), offset(token.end), "o"))  # 0777 -> 0o777
            elif following.type == tokenize.NAME and following.string in ("L", "l"):
                edits.append((offset(following.start), offset(following.end), ""))
        elif kind == tokenize.NAME and string.lower() == "ur" and following is not None \
                and following.type == tokenize.STRING and following.start == token.end:
            edits.append((offset(token.start), offset(token.end), "r"))
        statement_start = kind in _STATEMENT_START or (kind == tokenize.OP and string in (";", ":") and depth == 0)
    if not edits:
        return None
    repaired, segments = _apply(text, edits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(repaired)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return repaired, OffsetMap(segments)


def _statement_end(tokens, i: int) -> int:
    """Index of the token that ends the statement starting at ``i`` (NEWLINE, ``;`` or ENDMARKER)."""
    depth = 0
    for j in range(i, len(tokens)):
        token = tokens[j]
        if token.type == tokenize.OP and token.string in _OPENERS:
            depth += 1
        elif token.type == tokenize.OP and token.string in _CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0 and (token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or token.string == ";"):
            return j
    return len(tokens) - 1


def _call_statement(tokens, i: int, offset) -> list[tuple[int, int, str]]:
    name = tokens[i]
    edits = [(offset(name.end), offset(name.end), "(")]
    following = tokens[i + 1]
    if following.type == tokenize.OP and following.string == ">>":
        edits.append((offset(following.start), offset(following.end), "  "))
    # The closing parenthesis right after the last token of the statement, before any comment.
    last = tokens[_statement_end(tokens, i + 1) - 1]
    close = offset(last.end) if last is not name else offset(name.end)
    edits.append((close, close, ")"))
    return edits


def _except_clause(tokens, i: int, offset) -> list[tuple[int, int, str]]:
    depth = 0
    for token in tokens[i + 1:]:
        if token.type == tokenize.OP and token.string in _OPENERS:
            depth += 1
        elif token.type == tokenize.OP and token.string in _CLOSERS:
            depth -= 1
        elif depth == 0 and token.string == ":":
            return []
        elif depth == 0 and token.string == ",":
            return [(offset(token.start), offset(token.end), " as")]
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            return []
    return []


def _raise_statement(tokens, i: int, offset) -> list[tuple[int, int, str]]:
    end = _statement_end(tokens, i + 1)
    depth = 0
    for token in tokens[i + 1:end]:
        if token.type == tokenize.OP and token.string in _OPENERS:
            depth += 1
        elif token.type == tokenize.OP and token.string in _CLOSERS:
            depth -= 1
        elif depth == 0 and token.string == ",":
            close = offset(tokens[end - 1].end)
            return [(offset(token.start), offset(token.end), "("), (close, close, ")")]
    return []


def _indentation(lines: list[str], starts: list[int]) -> list[tuple[int, int, str]]:
    """Leading tabs to spaces at 8-column stops (Python 2's reading; Python 3 rejects the mix)."""
    if not any(line.startswith((" \t", "\t")) for line in lines):
        return []
    edits = []
    for line, start in zip(lines, starts):
        indent = line[:len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            edits.append((start, start + len(indent), indent.expandtabs(8)))
    return edits


def _apply(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, list[Segment]]:
    parts: list[str] = []
    segments: list[Segment] = []
    inner = outer = 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < outer:  # overlapping respellings cannot both apply: keep the first
            continue
        if start > outer:
            parts.append(text[outer:start])
            segments.append(Segment(inner, inner + start - outer, outer, start))
            inner += start - outer
        parts.append(replacement)
        segments.append(Segment(inner, inner + len(replacement), start, end))
        inner += len(replacement)
        outer = end
    if outer < len(text):
        parts.append(text[outer:])
        segments.append(Segment(inner, inner + len(text) - outer, outer, len(text)))
    return "".join(parts), [s for s in segments if s.inner_end > s.inner_start or s.outer_end > s.outer_start]
