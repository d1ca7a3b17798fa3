"""The text fallback: line-based scanning for files no parser reads (or could not read).

It finds an IMDS URL on a logical line that also names an HTTP client, and
treats the request as token-first when the statement names the token header.
Requests found this way are marked ``Precision.TEXT`` and are never auto-fixed.
"""

from __future__ import annotations

import re

from imds_lint.endpoints import parse_imds_url
from imds_lint.frontends import Analysis
from imds_lint.protocol import TOKEN_HEADER_NAME, TTL_HEADER_NAME
from imds_lint.model import TOKEN_HEADER, TTL_HEADER, Document, Header, Precision, Request, Span
from imds_lint.syntax.lines import logical_lines

# Bounded by the line: no nested quantifiers, so this stays linear on any input.
_URL = re.compile(
    r"(?:https?://)?(?:169\.254\.169\.254|\[fd00:ec2::254\]|instance-data(?:\.[a-z0-9.-]+)?)(?::\d{1,5})?[^\s'\"`)\]}>,;]*",
    re.I,
)
_CLIENT = re.compile(
    r"\b(curl|wget|http|Invoke-RestMethod|Invoke-WebRequest|irm|iwr|urlopen|requests|httpx|urllib3?|"
    r"aiohttp|fetch|axios|got|HttpClient|WebClient|HttpURLConnection|Net::HTTP|open-uri|URI\.open|"
    r"NewRequest|http\.Get|get_instance_metadata|get_instance_identity|uri|get_url)\b",
    re.I,
)
_COMMENT = re.compile(r"^\s*(#|//|;|--|REM\b|\*)")
_PUT = re.compile(r"(-X\s*['\"]?PUT|--request\s+PUT|--method[= ]PUT|-Method\s+['\"]?Put|\.put\(|method\s*[=:]\s*['\"]PUT)", re.I)
_MAX_LINE = 20000


def scan(document: Document, region: Span | None = None) -> list[Request]:
    text = document.text
    base = 0
    if region is not None:
        text, base = text[region.start:region.end], region.start
    requests = []
    for offset, line in logical_lines(text):
        if len(line) > _MAX_LINE or _COMMENT.match(line) or not _CLIENT.search(line):
            continue
        lowered = line.lower()
        if "metadata: true" in lowered or "metadata-flavor" in lowered:
            continue
        for match in _URL.finditer(line):
            imds = parse_imds_url(match.group(0))
            if imds is None:
                continue
            headers = []
            if TOKEN_HEADER + ":" in lowered.replace(" :", ":") or re.search(r"x-aws-ec2-metadata-token['\"]?\s*[:=,]", lowered):
                headers.append(Header(TOKEN_HEADER_NAME, None))
            if TTL_HEADER in lowered:
                headers.append(Header(TTL_HEADER_NAME, None))
            # The match is on the joined line; map it back when it sits on the first physical line.
            first_line_len = len(text[offset:].split("\n", 1)[0])
            start = offset + match.start() if match.start() < first_line_len else offset
            span = Span(base + start, base + start + (len(match.group(0)) if match.start() < first_line_len else 0))
            requests.append(Request(
                client="text", url=match.group(0), endpoint=imds.endpoint, path=imds.path,
                method="PUT" if _PUT.search(line) else "GET", headers=tuple(headers),
                span=span, anchor=span, document=document, precision=Precision.TEXT,
                container=document.container,
            ))
    return requests


def analyze(document: Document, session) -> list[Analysis]:
    from imds_lint.frontends import installs

    analysis = Analysis(document, requests=scan(document))
    # Install commands with version pins (Dockerfile RUN, PowerShell Install-Module, user-data).
    installs.scan_lines(analysis, document.text)
    return [analysis]
