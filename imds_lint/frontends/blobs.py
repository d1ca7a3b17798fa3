"""Base64 strings that decode to user-data (launch template exports, JSON, tfvars).

A quoted run of base64 long enough to hold a script is decoded; when the
result is user-data (a shebang, ``#cloud-config``, MIME, ``<powershell>``) or
names IMDS, it is scanned as an embedded document whose findings land on the
blob. A fix re-encodes the whole blob (``decoding.b64_renderer``): only a
canonical encoding is re-spelt, so an unchanged script encodes to the same
characters.
"""

from __future__ import annotations

import re

from imds_lint.frontends import Analysis
from imds_lint.kinds import Kind, sniff
from imds_lint.model import Document, OffsetMap, Segment, Span
from imds_lint.prefilter import may_touch_imds

# A lexical token scan, not a parse: quoted base64 of at least 24 characters (group 1). The
# opening quote is matched, not looked behind for: a literal first character lets the regex
# engine skip to the quotes (3x faster on a Terraform file; the same blobs, tests/test_blobs.py).
_BLOB = re.compile(r"""["']([A-Za-z0-9+/]{24,}={0,2})(?=["'])""")
_MAX_BLOBS = 64


def decode_user_data(blob: str, budget) -> tuple[str, str] | None:
    """(kind, text) when ``blob`` is base64 of user-data that may reach IMDS."""
    from imds_lint import decoding

    if len(blob) % 4:
        return None
    try:
        raw = decoding.b64decode(blob, budget, "a base64 blob")
        if raw is None:
            return None
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    kind = sniff(text)
    if kind is None and not may_touch_imds(text.encode("utf-8", "replace")):
        return None
    return kind or Kind.SHELL, text


def scan(document: Document, session, skip: list[Span] | None = None) -> list[Analysis]:
    from imds_lint import decoding

    budget = decoding.budget_of(session)
    found: list[Analysis] = []
    for count, match in enumerate(_BLOB.finditer(document.text)):
        if count >= _MAX_BLOBS:
            break
        span = Span(match.start(1), match.end(1))
        if skip and any(s.overlaps(span) for s in skip):
            continue
        try:
            decoded = decode_user_data(match.group(1), budget)
        except decoding.BudgetExceeded as exc:
            session.errors.append(str(exc))
            break
        if decoded is None:
            continue
        kind, text = decoded
        offsets = OffsetMap([Segment(0, len(text), span.start, span.end)])
        render = decoding.b64_renderer(match.group(1))
        found.extend(session.analyze(document.embed(kind, text, offsets, label="base64 user-data",
                                                    writable=render is not None, render=render, rendered_span=span)))
    return found
