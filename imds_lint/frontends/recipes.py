"""Shell inside build files: Makefile and justfile recipes, Jenkinsfile ``sh`` steps.

Each recipe line (with its backslash continuations) becomes an embedded shell
document. Make's ``$$`` is one ``$`` for the shell, so the offset map has an
escape segment for each and fixes going back out double their ``$``; ``@``,
``-`` and ``+`` prefixes are left out. In justfiles the recipe body is the
indented block under ``name:``. Jenkinsfile ``sh``/``bat``-free steps: the
string given to ``sh`` (single, double or triple quoted); Groovy-interpolated
strings (``"...${x}..."``) are scanned read-only.
"""

from __future__ import annotations

import re

from imds_lint.frontends import Analysis
from imds_lint.kinds import Kind
from imds_lint.model import Document, OffsetMap, Segment

_RULE = re.compile(r"^[^\s#=][^=]*?:(?!=)")
_JUST_RECIPE = re.compile(r"^@?[A-Za-z_][\w-]*(?:\s+[^:]*)?:(?!=)")
_SH_STEP = re.compile(r"""\bsh\s*\(?\s*(?:script\s*:\s*)?(?P<q>'''|\"\"\"|'|")""")


def analyze(document: Document, session) -> list[Analysis]:
    if document.kind == Kind.JENKINSFILE:
        return [Analysis(document), *_jenkinsfile(document, session)]
    if document.kind == Kind.JUSTFILE:
        return [Analysis(document), *_justfile(document, session)]
    return [Analysis(document), *_makefile(document, session)]


def _lines(text: str):
    offset = 0
    for line in text.splitlines(keepends=True):
        yield offset, line.rstrip("\r\n")
        offset += len(line)


def _makefile(document: Document, session) -> list[Analysis]:
    text = document.text
    children: list[Analysis] = []
    in_rule = False
    pending: list[tuple[int, str]] = []
    for start, line in _lines(text):
        if pending:
            pending.append((start, line))
            if not line.endswith("\\"):
                children.extend(_make_recipe(document, session, pending))
                pending = []
            continue
        if line.startswith("\t") and in_rule:
            pending = [(start, line)]
            if not line.endswith("\\"):
                children.extend(_make_recipe(document, session, pending))
                pending = []
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        in_rule = _RULE.match(line) is not None
    if pending:
        children.extend(_make_recipe(document, session, pending))
    return children


def _make_recipe(document: Document, session, lines: list[tuple[int, str]]) -> list[Analysis]:
    """One logical recipe line; ``$$`` reads as ``$`` for the shell."""
    first_start, first = lines[0]
    body_at = first_start + 1
    stripped = first[1:]
    skip = len(stripped) - len(stripped.lstrip(" \t@-+"))
    begin = body_at + skip
    last_start, last = lines[-1]
    end = last_start + len(last)
    raw = document.text[begin:end]
    inner_chars: list[str] = []
    segments: list[Segment] = []
    i = 0
    while i < len(raw):
        if raw.startswith("$$", i):
            segments.append(Segment(len(inner_chars), len(inner_chars) + 1, begin + i, begin + i + 2))
            inner_chars.append("$")
            i += 2
            continue
        run_start = i
        while i < len(raw) and not raw.startswith("$$", i):
            i += 1
        chunk = raw[run_start:i]
        segments.append(Segment(len(inner_chars), len(inner_chars) + len(chunk), begin + run_start, begin + i))
        inner_chars.extend(chunk)
    inner = "".join(inner_chars)
    if "169.254" not in inner and "instance-data" not in inner and "fd00:ec2" not in inner and \
            "ec2-metadata" not in inner and "ec2metadata" not in inner:
        return []
    child = document.embed(Kind.SHELL, inner, OffsetMap(segments), escape=lambda s: s.replace("$", "$$"),
                           label="shell string")
    return session.analyze(child)


def _justfile(document: Document, session) -> list[Analysis]:
    text = document.text
    children: list[Analysis] = []
    block: list[tuple[int, str]] = []
    in_recipe = False

    def flush() -> None:
        if not block:
            return
        start = block[0][0]
        end = block[-1][0] + len(block[-1][1])
        indent = len(block[0][1]) - len(block[0][1].lstrip())
        body = text[start:end]
        if any(s in body for s in ("169.254", "instance-data", "fd00:ec2", "ec2-metadata", "ec2metadata")):
            # Recipe lines run one by one; dedent keeps the offsets simple by embedding each line.
            for line_start, line in block:
                content = line[indent:] if line[:indent].strip() == "" else line.lstrip()
                at = line_start + len(line) - len(content)
                content = content.lstrip("@-")
                at = line_start + len(line) - len(content)
                if content.strip():
                    children.extend(session.analyze(document.embed(
                        Kind.SHELL, content, OffsetMap.shifted(at, len(content)), label="shell string")))
        block.clear()

    for start, line in _lines(text):
        if in_recipe and line[:1] in (" ", "\t") and line.strip():
            block.append((start, line))
            continue
        if in_recipe and not line.strip():
            continue
        flush()
        in_recipe = _JUST_RECIPE.match(line) is not None and not line.startswith(("set ", "export ", "alias "))
    flush()
    return children


def _jenkinsfile(document: Document, session) -> list[Analysis]:
    text = document.text
    children: list[Analysis] = []
    for match in _SH_STEP.finditer(text):
        quote = match.group("q")
        begin = match.end()
        end = text.find(quote, begin)
        while end > 0 and len(quote) == 1 and text[end - 1] == "\\":
            end = text.find(quote, end + 1)
        if end < 0:
            continue
        inner = text[begin:end]
        if not any(s in inner for s in ("169.254", "instance-data", "fd00:ec2", "ec2-metadata", "ec2metadata")):
            continue
        interpolated = quote.startswith('"') and "${" in inner
        writable = "\\" not in inner and not interpolated
        children.extend(session.analyze(document.embed(
            Kind.SHELL, inner, OffsetMap.shifted(begin, len(inner)),
            escape=lambda s, q=quote: s.replace(q[0], "\\" + q[0]) if len(q) == 1 else s,
            label="shell string" if "\n" not in inner else "Jenkinsfile sh", writable=writable)))
    return children


def syntax_errors(text: str) -> int:
    return 0
