"""The text fallback: line-based scanning for files no parser reads (or could not read).

It finds an IMDS URL on a logical line that also names an HTTP client, and
treats the request as token-first when the statement names the token header.
Requests found this way are marked ``Precision.TEXT`` and are never auto-fixed.
"""

from __future__ import annotations

import re

from imds_lint import clients
from imds_lint.endpoints import parse_imds_url
from imds_lint.frontends import Analysis
from imds_lint.protocol import TOKEN_HEADER_NAME, TTL_HEADER_NAME
from imds_lint.model import TOKEN_HEADER, TTL_HEADER, Document, Header, Precision, Request, Span
from imds_lint.syntax.lines import joined_lines, physical_offset

# Bounded by the line: no nested quantifiers, so this stays linear on any input.
_URL = re.compile(
    r"(?:https?://)?(?:169\.254\.169\.254|\[fd00:ec2::254\]|instance-data(?:\.[a-z0-9.-]+)?)(?::\d{1,5})?[^\s'\"`)\]}>,;]*",
    re.I,
)
# Command-line clients from the client table (as command words, so not the "http" of "http://"),
# then library and cmdlet names.
_CLIENT = re.compile(
    # "http" is HTTPie's command, not the scheme of a URL (prose naming a URL is no request):
    # the table's pattern matches command words only.
    clients.command_word_pattern() + r"|\b(Invoke-RestMethod|Invoke-WebRequest|irm|iwr|urlopen|requests|httpx|urllib3?|"
    r"aiohttp|fetch|axios|got|HttpClient|WebClient|HttpURLConnection|Net::HTTP|open-uri|URI\.open|"
    r"NewRequest|http\.Get|get_instance_metadata|get_instance_identity|uri|get_url)\b",
    re.I,
)
_COMMENT = re.compile(r"^\s*(#|//|;|--|REM\b|\*)")
_PUT = re.compile(r"(-X\s*['\"]?PUT|--request\s+PUT|--method[= ]PUT|-Method\s+['\"]?Put|\.put\(|method\s*[=:]\s*['\"]PUT)", re.I)
_MAX_LINE = 20000
# Where one command of a joined line ends: a PUT belongs to the command that holds it, not to
# every URL of a `\`-continued pipeline (`TOKEN=$(curl -X PUT ...) && curl ... meta-data/`).
_COMMAND_BREAK = re.compile(r"&&|\|\||[;|`]|\$\(|\)")


def _command_around(line: str, start: int, end: int) -> str:
    left = 0
    for brk in _COMMAND_BREAK.finditer(line, 0, start):
        left = brk.end()
    brk = _COMMAND_BREAK.search(line, end)
    return line[left:brk.start() if brk else len(line)]


# `NAME = "http://169.254.169.254/..."` (const, let, readonly, define('NAME', ...), YAML/JSON
# keys): a URL kept in a name, to be reported where a client line uses the name.
_CONSTANT = re.compile(
    r"""^\s*(?:(?:export|readonly|local|const|let|var|final|static|private|public|my|our)\s+)*"""
    r"""(?:define\(\s*)?['"]?(?P<name>[A-Za-z_][A-Za-z0-9_]{2,})['"]?\s*(?::\s*[\w&'" ]+)?\s*(?:=|:=|,|:)\s*"""
    r"""[(\[]?\s*(?:[frbu]{0,2})['"`](?P<url>(?:https?://)?(?:169\.254\.169\.254|\[fd00:ec2::254\]|instance-data)[^'"`\s]*)""",
    re.I,
)


def _constants(text: str) -> dict[str, str]:
    """Names that hold an IMDS URL, each with the URL (the first assignment wins)."""
    found: dict[str, str] = {}
    for _, line in joined_lines(text):
        if len(line) > _MAX_LINE or "169.254" not in line and "fd00:ec2" not in line and "instance-data" not in line:
            continue
        match = _CONSTANT.match(line)
        if match is not None and match.group("name") not in found:
            found[match.group("name")] = match.group("url")
    return found


def scan(document: Document, region: Span | None = None) -> list[Request]:
    text = document.text
    base = 0
    if region is not None:
        text, base = text[region.start:region.end], region.start
    constants = _constants(document.text)
    uses = re.compile(r"\b(?:" + "|".join(map(re.escape, constants)) + r")\b") if constants else None
    requests = []
    for pieces, line in joined_lines(text):
        if len(line) > _MAX_LINE or _COMMENT.match(line) or not _CLIENT.search(line):
            continue
        lowered = line.lower()
        if "metadata: true" in lowered or "metadata-flavor" in lowered:
            continue
        # The token header may sit in an outer command around a nested PUT
        # (`curl -H "...-token: $(curl -X PUT ...)" URL`): it counts for the whole line.
        has_token = TOKEN_HEADER + ":" in lowered.replace(" :", ":") or bool(
            re.search(r"x-aws-ec2-metadata-token['\"]?\s*[:=,]", lowered))
        urls = [(m.start(), m.end(), m.group(0)) for m in _URL.finditer(line)]
        if not urls and uses is not None and _CONSTANT.match(line) is None:
            # A client line that names a URL constant: the request is here, not at the constant.
            urls = [(m.start(), m.end(), constants[m.group(0)]) for m in uses.finditer(line)]
        for url_start, url_end, url in urls:
            imds = parse_imds_url(url)
            if imds is None:
                continue
            command = _command_around(line, url_start, url_end)
            headers = [Header(TOKEN_HEADER_NAME, None)] if has_token else []
            if TTL_HEADER in command.lower():
                headers.append(Header(TTL_HEADER_NAME, None))
            start = physical_offset(pieces, url_start)
            span = Span(base + start, base + start + (url_end - url_start))
            requests.append(Request(
                client="text", url=url, endpoint=imds.endpoint, path=imds.path,
                method="PUT" if _PUT.search(command) else "GET", headers=tuple(headers),
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
