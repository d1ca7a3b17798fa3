"""EC2 user-data: cloud-init ``#cloud-config``, MIME multipart archives, boothooks, Windows blocks.

* ``#cloud-config``: ``runcmd`` and ``bootcmd`` items (strings are shell; argv
  lists are joined into one shell command, scanned but not rewritten) and
  ``write_files`` contents (plain, or ``b64``/``gzip+b64`` decoded; a fix of a
  decoded file re-encodes it, one-line or wrapped as it was);
* MIME multipart (stdlib ``email``): ``text/x-shellscript``,
  ``text/cloud-boothook`` and ``text/cloud-config`` parts, located in the file
  when they are not transfer-encoded so their fixes can be written back;
* ``<powershell>``/``<script>`` blocks: handed on as PowerShell documents (the
  text fallback reads them until a PowerShell front-end is registered);
* base64 blobs (in JSON, tfvars, exports) that decode to user-data: see
  ``blobs``.
"""

from __future__ import annotations

import re

from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.frontends import yaml_nodes as yn
from imds_lint.kinds import Kind, kind_from_name, sniff
from imds_lint.model import Document, OffsetMap, Span

_WINDOWS_BLOCK = re.compile(r"<(powershell|script)>(.*?)</\1>", re.S | re.I)
_SHELL_PARTS = {"text/x-shellscript", "text/cloud-boothook", "text/x-shellscript-per-boot",
                "text/x-shellscript-per-instance", "text/x-shellscript-per-once"}


def analyze(document: Document, session) -> list[Analysis]:
    text = document.text
    head = text.lstrip("\ufeff")[:512].split("\n", 1)[0].strip().lower()
    if head.startswith("#cloud-config"):
        return cloud_config(document, session)
    if head.startswith(("content-type: multipart", "mime-version:")):
        return multipart(document, session)
    if head.startswith("#cloud-boothook"):
        return [Analysis(document), *_embed(document, session, Kind.SHELL, 0, len(text), "cloud-boothook")]
    if head.startswith(("<powershell>", "<script>", "<persist>")):
        return windows(document, session)
    from imds_lint.frontends import text as text_frontend

    return text_frontend.analyze(document, session)


def _embed(document: Document, session, kind: str, start: int, end: int, label: str) -> list[Analysis]:
    inner = document.text[start:end]
    if not inner.strip():
        return []
    return session.analyze(document.embed(kind, inner, OffsetMap.shifted(start, len(inner)), label=label))


def _embed_decoded(document: Document, session, kind: str, inner: str, span: Span, label: str,
                   gzipped: bool = False) -> list[Analysis]:
    """A decoded payload: findings land on the encoded blob; a fix re-encodes it laid out as it was."""
    from imds_lint.decoding import b64_renderer
    from imds_lint.model import Segment

    offsets = OffsetMap([Segment(0, len(inner), span.start, span.end)]) if inner else OffsetMap([])
    render = b64_renderer(document.text[span.start:span.end], gzipped)
    return session.analyze(document.embed(kind, inner, offsets, label=label, writable=render is not None,
                                          render=render, rendered_span=span))


# -- #cloud-config -----------------------------------------------------------------------


def cloud_config(document: Document, session) -> list[Analysis]:
    import yaml

    analysis = Analysis(document)
    try:
        root = yn.compose(document.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = mark.index if mark is not None else 0
        analysis.problems.append(ParseProblem(Span(at, min(at + 1, len(document.text))),
                                              f"cloud-config does not parse: {getattr(exc, 'problem', exc)}", exact=True))
        return [analysis]
    children: list[Analysis] = []
    for key in ("runcmd", "bootcmd"):
        commands = yn.get(root, key)
        if commands is None:
            continue
        items = commands.value if commands.id == "sequence" else [commands]
        quote = yn.quote_of_neighbours(items)
        for item in items:
            children.extend(_command(document, session, item, key, quote))
    files = yn.get(root, "write_files")
    if files is not None and files.id == "sequence":
        for entry in files.value:
            children.extend(_write_file(document, session, entry))
    return [analysis, *children]


def _scalar_document(document: Document, node, kind: str, label: str, quote: str = "'") -> Document:
    return yn.scalar_document(document, node, kind, label, quote=quote)


_SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh"}


def _command(document: Document, session, node, key: str, quote: str = "'") -> list[Analysis]:
    if node.id == "scalar":
        return session.analyze(_scalar_document(document, node, Kind.SHELL, f"cloud-init {key}", quote))
    if node.id == "sequence" and all(n.id == "scalar" for n in node.value) and node.value:
        words = node.value
        script = _shell_script(words)
        if script is not None:
            # [sh, -c, 'script']: the script is a document of its own, fixed where it is written.
            return session.analyze(_scalar_document(document, script, Kind.SHELL, f"cloud-init {key} sh -c", quote))
        # An argv list: cloud-init quotes each word and writes the line into the same /bin/sh script
        # as the string items, so the list means exactly its shell-quoted line. Read as that line,
        # each word mapped back to its item (carets land on `curl`, not on the list's `[`); a fix
        # writes the line back as a string item, since quoted words cannot carry `$IMDS_TOKEN`.
        command, offsets = yn.argv_command(document.text, words)
        end = node.end_mark.index if node.flow_style else words[-1].end_mark.index
        return session.analyze(document.embed(
            Kind.SHELL, command, offsets, label="shell string",
            render=lambda fixed: yn.quoted_scalar(fixed, quote), rendered_span=Span(node.start_mark.index, end)))
    return []


def _shell_script(words):
    """The script node of ``[sh, -c, script, ...]``; None for other argv lists."""
    program = words[0].value.rsplit("/", 1)[-1]
    if program not in _SHELLS:
        return None
    for i, word in enumerate(words[1:-1], 1):
        if word.value.startswith("-") and not word.value.startswith("--") and word.value.endswith("c"):
            return words[i + 1]
        if not word.value.startswith("-"):
            return None
    return None


def _write_file(document: Document, session, entry) -> list[Analysis]:
    content = yn.get(entry, "content")
    if content is None or content.id != "scalar":
        return []
    path_node = yn.get(entry, "path")
    path = path_node.value if path_node is not None and path_node.id == "scalar" else ""
    encoding_node = yn.get(entry, "encoding")
    encoding = encoding_node.value.lower() if encoding_node is not None and encoding_node.id == "scalar" else ""
    label = f"write_files {path}".strip()
    if encoding in ("b64", "base64", "gz+b64", "gzip+b64", "gz+base64", "gzip+base64"):
        decoded = _decode(content.value, encoding.startswith("gz"), session, label)
        if decoded is None:
            return []
        chars, exact = yn.scalar_chars(document.text, content)
        if exact and chars and content.style != "|":
            span = Span(chars[0][1], chars[-1][2])  # the blob itself, without quotes or tag
        else:
            span = Span(content.start_mark.index, content.end_mark.index)
        return _embed_decoded(document, session, _file_kind(path, decoded), decoded, span, label + " (decoded)",
                              gzipped=encoding.startswith("gz"))
    if encoding not in ("", "text/plain"):
        return []
    return session.analyze(_scalar_document(document, content, _file_kind(path, content.value), label))


def _file_kind(path: str, text: str) -> str:
    from pathlib import PurePath

    by_content = sniff(text)
    if by_content is not None:
        return by_content
    by_name = kind_from_name(PurePath(path or "file"))
    return by_name if by_name != Kind.UNKNOWN else Kind.UNKNOWN


def _decode(value: str, gzipped: bool, session, label: str) -> str | None:
    """The payload's text; None (with a note when the file's decoding budget ran out) otherwise."""
    from imds_lint import decoding

    budget = decoding.budget_of(session)
    try:
        raw = decoding.b64decode(value, budget, label)
        if raw is not None and gzipped:
            raw = decoding.gunzip(raw, budget, label)
        return None if raw is None else raw.decode("utf-8")
    except decoding.BudgetExceeded as exc:
        session.errors.append(str(exc))
        return None
    except UnicodeDecodeError:
        return None


# -- MIME multipart ------------------------------------------------------------------------


def multipart(document: Document, session) -> list[Analysis]:
    import email
    import email.policy

    text = document.text
    analysis = Analysis(document)
    try:
        message = email.message_from_string(text, policy=email.policy.compat32)
    except Exception:  # the email package raises assorted errors on hostile input
        return [analysis]
    children: list[Analysis] = []
    parts: list[tuple[str, str, int, int, bool]] = []  # kind, label, start, end, base64
    cursor = 0
    part = raw = None
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        encoding = (part.get("Content-Transfer-Encoding") or "").strip().lower()
        raw = part.get_payload(decode=False)
        if not isinstance(raw, str) or not raw.strip():
            continue
        where = text.find(raw, cursor)
        if where == -1:
            where = text.find(raw.strip(), cursor)
            raw = raw.strip()
        if where == -1:
            continue
        cursor = where + len(raw)
        kind = Kind.SHELL if ctype in _SHELL_PARTS else Kind.USER_DATA if ctype == "text/cloud-config" else None
        if kind is None:
            continue
        if encoding in ("quoted-printable",):
            continue
        parts.append((kind, f"MIME part {ctype}", where, where + len(raw), encoding == "base64"))
    # The message holds every part's payload (a copy of the file) and headers: let it go before
    # the parts are parsed, not beside all their trees (~5% of a --diff's peak over many parts).
    del message, part, raw
    for kind, label, start, end, base64 in parts:
        if base64:
            decoded = _decode(text[start:end], False, session, label)
            if decoded is not None:
                children.extend(_embed_decoded(document, session, kind, decoded, Span(start, end), label))
            continue
        children.extend(_embed(document, session, kind, start, end, label))
    return [analysis, *children]


# -- Windows ------------------------------------------------------------------------------------


def windows(document: Document, session) -> list[Analysis]:
    children: list[Analysis] = []
    for match in _WINDOWS_BLOCK.finditer(document.text):
        kind = Kind.POWERSHELL if match.group(1).lower() == "powershell" else Kind.UNKNOWN
        children.extend(_embed(document, session, kind, match.start(2), match.end(2), f"<{match.group(1).lower()}> block"))
    return [Analysis(document), *children]


def syntax_errors(text: str) -> int:
    """1 when a cloud-config no longer parses as YAML (the fix loop reverts such fixes)."""
    import yaml

    if not text.lstrip("\ufeff").lower().startswith("#cloud-config"):
        return 0
    try:
        yn.compose(text)
    except yaml.YAMLError:
        return 1
    return 0
