"""systemd units (``.service``): the commands of ``ExecStart=`` and its kin.

systemd runs an ``Exec*=`` line itself, without a shell: the line is an argv
(words split on blanks, with ``"..."``/``'...'`` quoting), after optional
prefixes (``-``, ``@``, ``:``, ``+``, ``!``). So a client on the line is read by
the client table, and ``/bin/sh -c '...'`` embeds its script as shell; both
through ``orchestrators.emit_command``, as for container command arrays. A
line ending in a backslash continues on the next. Units run on the host: no
container context.
"""

from __future__ import annotations

import re

from imds_lint.frontends import Analysis
from imds_lint.frontends.orchestrators import Word, emit_command
from imds_lint.model import Document, Span

_EXEC = re.compile(r"^[ \t]*(?:Exec(?:Start|StartPre|StartPost|Reload|Stop|StopPost|Condition))[ \t]*=[ \t]*",
                   re.M)
_PREFIXES = "-@:+!"
# One word: a quoted string (no escapes inside, so it maps back exactly) or a run of non-blanks.
_WORD = re.compile(r""""([^"\\]*)"|'([^'\\]*)'|(\S+)""")


def _logical_line(text: str, start: int) -> tuple[int, int]:
    """The end of the value that starts at ``start`` (continuation lines joined by ``\\``)."""
    end = text.find("\n", start)
    while end != -1 and text[start:end].rstrip("\r").endswith("\\"):
        end = text.find("\n", end + 1)
    return start, len(text) if end == -1 else end


def _words(text: str, start: int, end: int) -> list[Word]:
    words = []
    for match in _WORD.finditer(text, start, end):
        if match.group(0) == "\\":
            continue  # a line continuation
        group = 1 if match.group(1) is not None else 2 if match.group(2) is not None else 3
        value = match.group(group)
        span = Span(match.start(group), match.end(group))
        words.append(Word(value, span, verbatim=True))
    if words:
        first = words[0]
        stripped = first.value.lstrip(_PREFIXES)
        if stripped != first.value:
            shift = len(first.value) - len(stripped)
            words[0] = Word(stripped, Span(first.span.start + shift, first.span.end), verbatim=True)
    return words


def analyze(document: Document, session) -> list[Analysis]:
    analysis = Analysis(document)
    children: list[Analysis] = []
    text = document.text
    for match in _EXEC.finditer(text):
        start, end = _logical_line(text, match.end())
        words = [w for w in _words(text, start, end) if w.value]
        emit_command(document, session, analysis, words, None, children)
    return [analysis, *children]
