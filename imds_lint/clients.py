"""The command-line HTTP clients, in one table: how each one's argv reads, and how each is fixed.

Every carrier that meets an argv — a shell command, a Dockerfile ``RUN`` (shell
or exec form), a Python ``subprocess`` list, a compose/Kubernetes/ECS command
array, a PowerShell native call, a CI ``run:`` step — asks ``parse_argv``, so a
client added here (one ``CommandLineClient``) is found in all of them. The text
fallback's client words come from here too (``command_word_pattern``).

``parse_argv`` turns an argv into a ``ClientCall``: method, URLs, headers,
data, time limits, failure flags and output capture, as far as the words show
them (unknown parts of a word are ``*``). The per-client fix data (how a
header is spelled, which flag makes a PUT, which command fetches a token) is
what the fixers read; a client without it is reported but not rewritten.
"""

from __future__ import annotations

import re

from imds_lint.endpoints import is_foreign_metadata_header, parse_imds_url
from imds_lint.model import ContainerContext, Document, Header, Request, Span
from imds_lint.protocol import TTL_HEADER_NAME
from imds_lint.records import dataclass, field

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from typing import Callable

HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"})


@dataclass
class Arg:
    """One argv word: its resolved text (unknown parts as ``*``) and a handle to its source."""

    value: str
    ref: object = None
    literal: bool = True
    # A word the shell made by splitting an expansion has no source of its own: the word it came from.
    origin: object = None


@dataclass
class HeaderArg:
    text: str
    refs: tuple  # the argv words that spell the header (flag and value)
    value_ref: object = None


@dataclass
class ClientCall:
    """What a client invocation says about the request(s) it sends."""

    client: str
    urls: list[Arg] = field(default_factory=list)
    method: str | None = "GET"
    method_explicit: bool = False
    method_refs: tuple = ()
    headers: list[HeaderArg] = field(default_factory=list)
    headers_unknown: bool = False
    sends: bool = True
    # A tool that speaks the metadata protocol itself (ec2-metadata): no URL, no headers.
    wrapper: bool = False
    # Request bodies as written (``-d x``, ``--post-data=x``, HTTPie ``a=b`` items).
    data: list[Arg] = field(default_factory=list)
    # Time limits as written, by what they bound: "total", "connect", "read", "dns".
    timeouts: dict[str, str] = field(default_factory=dict)
    retries: str | None = None
    # Whether an HTTP error status makes the command fail (curl -f; wget and aria2c always).
    fails_on_http_error: bool = False
    # Where the body goes ("-" for stdout, None when the client's default), and curl -w.
    output: str | None = None
    write_out: str | None = None
    silent: bool = False


@dataclass(frozen=True)
class CommandLineClient:
    """One entry of the table: the programs that name a client, its argv reader and its fix data.

    Fix data, each None where the client cannot do it (then no fix is offered):
    ``header_option`` is the text that adds a header, inserted right after the
    program word (or after the whole command when ``header_at_end``: HTTPie
    items go after the URL); ``argv_header`` is the same as argv words, for
    commands written as lists; ``put_option`` makes the request a PUT;
    ``token_fetch`` is a command that prints a token, with ``{url}``,
    ``{ttl}`` and ``{limits}`` to fill in, safe unless ``token_fetch_unsafe``
    says why not; it prints nothing and fails quietly where IMDS does not
    answer. ``time_limits`` are the options that bound a request (option ->
    "total" or "connect"), and ``limit_options`` how the token fetch spells
    them, so it carries the limits of the request it serves.
    """

    family: str  # what a Request names as its client
    programs: tuple[str, ...]
    parse: Callable[[list[Arg], str], ClientCall]
    wrapper: bool = False
    header_option: str | None = None
    header_at_end: bool = False
    argv_header: tuple[str, ...] | None = None
    put_option: str | None = None
    token_fetch: str | None = None
    token_fetch_unsafe: str | None = None
    time_limits: tuple[tuple[str, str], ...] = ()
    limit_options: tuple[tuple[str, str], ...] = ()  # ("total" | "connect", option text with {})

    def spell_header(self, name: str, value: str) -> str | None:
        if self.header_option is None:
            return None
        return self.header_option.format(name=name, value=value)

    def token_fetch_command(self, url: str, ttl: int, total: str | None = None, connect: str | None = None) -> str | None:
        if self.token_fetch is None:
            return None
        values = {"total": total, "connect": connect}
        spelled = dict(self.limit_options)
        if "connect" not in spelled and connect is not None and total is None:
            values["total"] = connect  # a client with one kind of limit gets the one the request had
        limits = "".join(spelled[kind].format(value) for kind, value in values.items() if value and kind in spelled)
        return self.token_fetch.format(url=url, ttl=ttl, ttl_header=TTL_HEADER_NAME, limits=limits)


# -- option tables ------------------------------------------------------------------

# curl options that take an argument (curl never accepts --opt=value).
_CURL_SHORT_ARG = set("AbcCdDeEFHKmoPQrtTuUwxXyYz")
_CURL_LONG_ARG = {
    "--abstract-unix-socket", "--alt-svc", "--aws-sigv4", "--cacert", "--capath", "--cert",
    "--cert-type", "--ciphers", "--config", "--connect-timeout", "--connect-to", "--continue-at",
    "--cookie", "--cookie-jar", "--create-file-mode", "--crlfile", "--curves", "--data",
    "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode", "--delegation",
    "--dns-interface", "--dns-ipv4-addr", "--dns-ipv6-addr", "--dns-servers", "--doh-url",
    "--dump-header", "--egd-file", "--engine", "--etag-compare", "--etag-save",
    "--expect100-timeout", "--form", "--form-string", "--ftp-account", "--ftp-alternative-to-user",
    "--ftp-method", "--ftp-port", "--ftp-ssl-ccc-mode", "--happy-eyeballs-timeout-ms",
    "--haproxy-clientip", "--header", "--hostpubmd5", "--hostpubsha256", "--hsts", "--interface",
    "--ip-tos", "--json", "--keepalive-time", "--key", "--key-type", "--krb", "--libcurl",
    "--limit-rate", "--local-port", "--login-options", "--mail-auth", "--mail-from", "--mail-rcpt",
    "--max-filesize", "--max-redirs", "--max-time", "--netrc-file", "--noproxy", "--oauth2-bearer",
    "--output", "--output-dir", "--parallel-max", "--pass", "--pinnedpubkey", "--preproxy",
    "--proto", "--proto-default", "--proto-redir", "--proxy", "--proxy-cacert", "--proxy-capath",
    "--proxy-cert", "--proxy-cert-type", "--proxy-ciphers", "--proxy-crlfile", "--proxy-header",
    "--proxy-key", "--proxy-key-type", "--proxy-pass", "--proxy-pinnedpubkey",
    "--proxy-service-name", "--proxy-tls13-ciphers", "--proxy-tlsauthtype", "--proxy-tlspassword",
    "--proxy-tlsuser", "--proxy-user", "--proxy1.0", "--pubkey", "--quote", "--random-file",
    "--range", "--rate", "--referer", "--request", "--request-target", "--resolve", "--retry",
    "--retry-delay", "--retry-max-time", "--sasl-authzid", "--service-name", "--socks4",
    "--socks4a", "--socks5", "--socks5-gssapi-service", "--socks5-hostname", "--speed-limit",
    "--speed-time", "--stderr", "--telnet-option", "--time-cond", "--tls-max", "--tls13-ciphers",
    "--tlsauthtype", "--tlspassword", "--tlsuser", "--trace", "--trace-ascii", "--trace-config",
    "--unix-socket", "--upload-file", "--url", "--url-query", "--user", "--user-agent",
    "--variable", "--write-out", "--ech", "--ip-tos", "--vlan-priority", "--expand-url",
}
_CURL_DATA = {"-d", "--data", "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode",
              "-F", "--form", "--form-string", "--json"}
_CURL_TIMEOUTS = {"-m": "total", "--max-time": "total", "--connect-timeout": "connect"}

# GNU wget; BusyBox wget reads a subset of the same spellings (no --method).
_WGET_SHORT_ARG = set("aBeiIoOPQtTUwXDARlY")
_WGET_LONG_ARG = {
    "--header", "--method", "--output-document", "--post-data", "--post-file", "--body-data",
    "--body-file", "--timeout", "--tries", "--user-agent", "--output-file", "--append-output",
    "--user", "--password", "--input-file", "--directory-prefix", "--quota", "--wait",
    "--execute", "--dns-timeout", "--connect-timeout", "--read-timeout", "--limit-rate",
    "--bind-address", "--level", "--referer", "--load-cookies", "--save-cookies",
    "--ca-certificate", "--certificate", "--private-key", "--proxy-user", "--proxy-password",
    "--http-user", "--http-password", "--waitretry", "--accept", "--reject", "--domains",
}
_WGET_TIMEOUTS = {"-T": "total", "--timeout": "total", "--connect-timeout": "connect",
                  "--read-timeout": "read", "--dns-timeout": "dns"}

_HTTPIE_LONG_ARG = {
    "--timeout", "--auth", "--auth-type", "--output", "--print", "--session", "--session-read-only",
    "--verify", "--cert", "--cert-key", "--cert-key-pass", "--proxy", "--pretty", "--style",
    "--format-options", "--max-redirects", "--max-headers", "--ssl", "--ciphers",
    "--default-scheme", "--boundary", "--response-charset", "--response-mime", "--unix-socket",
    "--history-print", "--raw",
}
_HTTPIE_SHORT_ARG = set("aAopsP")

_ARIA2C_SHORT_ARG = set("dojsxkmtliU")
# aria2c long options that may take their value as the next word (most are written --opt=value).
_ARIA2C_LONG_ARG = {"--header", "--out", "--dir", "--timeout", "--connect-timeout", "--max-tries",
                    "--input-file", "--conf-path", "--user-agent", "--referer", "--split",
                    "--max-connection-per-server", "--retry-wait", "--log", "--all-proxy"}
_ARIA2C_TIMEOUTS = {"--timeout": "total", "-t": "total", "--connect-timeout": "connect"}


def _split_short(word: str, with_arg: set[str]) -> tuple[list[str], str | None, bool]:
    """Expand a short-option cluster such as ``-sSfX``: flags, the one taking an argument, inline arg."""
    flags: list[str] = []
    body = word[1:]
    for i, ch in enumerate(body):
        flags.append(ch)
        if ch in with_arg:
            rest = body[i + 1:]
            return flags, ch, bool(rest)
    return flags, None, False


@dataclass
class _Word:
    """One option (with its value) or one positional word of an argv."""

    option: str  # "-X", "--request"; "" for a positional word
    arg: Arg
    value: Arg | None = None
    flags: tuple[str, ...] = ()  # the letters of a short-option cluster
    refs: tuple = ()  # the argv words that spell it (flag and value)


def _words(args: list[Arg], short_valued: set[str], long_valued: set[str], *, equals: bool,
           double_dash: bool):
    """Options and positional words, the way getopt-style clients (curl, wget, aria2c) read them.

    ``equals``: whether ``--opt=value`` is a spelling (curl never accepts it);
    ``double_dash``: whether ``--`` ends the options.
    """
    i = 0
    after_double_dash = False
    while i < len(args):
        arg = args[i]
        word = arg.value
        if after_double_dash or not word.startswith("-") or word == "-":
            yield _Word("", arg, refs=(arg,))
            i += 1
            continue
        if double_dash and word == "--":
            after_double_dash = True
            i += 1
            continue
        value: Arg | None = None
        option = word
        flags: list[str] = []
        if word.startswith("--"):
            if equals and "=" in word:
                option, _, rest = word.partition("=")
                value = Arg(rest, arg.ref, arg.literal)
            elif word in long_valued and i + 1 < len(args):
                value = args[i + 1]
                i += 1
            i += 1
        else:
            flags, takes, inline = _split_short(word, short_valued)
            if takes is not None:
                option = "-" + takes
                if inline:
                    value = Arg(word[word.index(takes) + 1:], arg.ref, arg.literal)
                elif i + 1 < len(args):
                    value = args[i + 1]
                    i += 1
            i += 1
        refs = (arg,) if value is None or value.ref is arg.ref else (arg, value)
        yield _Word(option, arg, value, tuple(flags), refs)


# -- argv readers ---------------------------------------------------------------------


def _url_or_header(call: ClientCall, w: _Word, header_options: tuple[str, ...]) -> bool:
    """Positional words (URLs) and plain header options, read alike by the getopt-style clients."""
    if not w.option:
        call.urls.append(w.arg)
        return True
    if w.option in header_options and w.value is not None:
        call.headers.append(HeaderArg(w.value.value, w.refs, w.value))
        return True
    return False


def parse_curl(args: list[Arg], program: str = "curl") -> ClientCall:
    call = ClientCall("curl")
    method_from_flag: str | None = None
    has_data = force_get = False
    for w in _words(args, _CURL_SHORT_ARG, _CURL_LONG_ARG, equals=False, double_dash=True):
        option, value, flags = w.option, w.value, w.flags
        if _url_or_header(call, w, ()):
            continue
        if "I" in flags:
            method_from_flag = method_from_flag or "HEAD"
        if "G" in flags:
            force_get = True
        if "f" in flags or option in ("--fail", "--fail-with-body"):
            call.fails_on_http_error = True
        if "s" in flags or option == "--silent":
            call.silent = True
        if "O" in flags or option == "--remote-name":
            call.output = call.output or "<remote name>"
        if option in ("-X", "--request") and value is not None:
            call.method = value.value.upper()
            call.method_explicit = True
            call.method_refs = w.refs
        elif option in ("-H", "--header") and value is not None:
            if value.value.startswith("@"):
                call.headers_unknown = True
            else:
                call.headers.append(HeaderArg(value.value, w.refs, value))
        elif option in ("-K", "--config"):
            call.headers_unknown = True
        elif option in ("-T", "--upload-file"):
            method_from_flag = "PUT"
            if value is not None:
                call.data.append(value)
        elif option in _CURL_DATA:
            has_data = True
            if value is not None:
                call.data.append(value)
        elif option == "--url" and value is not None:
            call.urls.append(value)
        elif option in ("--head",):
            method_from_flag = "HEAD"
        elif option == "--get":
            force_get = True
        elif option in _CURL_TIMEOUTS and value is not None:
            call.timeouts[_CURL_TIMEOUTS[option]] = value.value
        elif option == "--retry" and value is not None:
            call.retries = value.value
        elif option in ("-o", "--output") and value is not None:
            call.output = value.value
        elif option in ("-w", "--write-out") and value is not None:
            call.write_out = value.value
    if not call.method_explicit:
        if method_from_flag:
            call.method = method_from_flag
        elif has_data and not force_get:
            call.method = "POST"
    return call


def parse_wget(args: list[Arg], program: str = "wget") -> ClientCall:
    # wget exits 8 on an HTTP error status, whatever the flags.
    call = ClientCall("wget", fails_on_http_error=True)
    has_post = False
    for w in _words(args, _WGET_SHORT_ARG, _WGET_LONG_ARG, equals=True, double_dash=False):
        option, value = w.option, w.value
        if _url_or_header(call, w, ("--header",)):
            continue
        if "q" in w.flags or option == "--quiet":
            call.silent = True
        if option == "--method" and value is not None:
            call.method = value.value.upper()
            call.method_explicit = True
            call.method_refs = w.refs
        elif option in ("--post-data", "--post-file"):
            has_post = True
            if value is not None:
                call.data.append(value)
        elif option in ("--body-data", "--body-file") and value is not None:
            call.data.append(value)
        elif option in ("-i", "--input-file"):
            call.headers_unknown = True
        elif option in ("-e", "--execute") and value is not None and "header" in value.value.lower():
            call.headers_unknown = True
        elif option in _WGET_TIMEOUTS and value is not None:
            call.timeouts[_WGET_TIMEOUTS[option]] = value.value
        elif option in ("-t", "--tries") and value is not None:
            call.retries = value.value
        elif option in ("-O", "--output-document") and value is not None:
            call.output = value.value
    if has_post and not call.method_explicit:
        call.method = "POST"
    return call


def _httpie_item(word: str) -> tuple[str, str, str] | None:
    """Split an HTTPie request item into (key, separator, value), or None if it is not one."""
    best: tuple[int, int, str] | None = None
    for sep in (":=@", "=@", "==", ":=", "@", "=", ":", ";"):
        pos = word.find(sep)
        if pos > 0 and (best is None or pos < best[0] or (pos == best[0] and len(sep) > best[1])):
            best = (pos, len(sep), sep)
    if best is None:
        return None
    pos, length, sep = best
    return word[:pos], sep, word[pos + length:]


def parse_httpie(args: list[Arg], program: str) -> ClientCall:
    """HTTPie (``http``/``https``) and xh (``xh``/``xhs``), which reads the same argv."""
    call = ClientCall("httpie")
    positional: list[Arg] = []
    i = 0
    while i < len(args):
        arg = args[i]
        word = arg.value
        if word.startswith("-") and not positional:
            if word == "--offline":
                call.sends = False
            elif word == "--check-status":
                call.fails_on_http_error = True
            option, eq, inline = word.partition("=")
            if word.startswith("--"):
                if option == "--timeout":
                    if eq:
                        call.timeouts["read"] = inline
                    elif i + 1 < len(args):
                        call.timeouts["read"] = args[i + 1].value
                if "=" not in word and word in _HTTPIE_LONG_ARG and i + 1 < len(args):
                    i += 1
            elif len(word) == 2 and word[1] in _HTTPIE_SHORT_ARG and i + 1 < len(args):
                i += 1
            i += 1
            continue
        positional.append(arg)
        i += 1
    if positional and positional[0].value.upper() in HTTP_METHODS and len(positional) > 1:
        call.method = positional[0].value.upper()
        call.method_explicit = True
        call.method_refs = (positional[0],)
        positional = positional[1:]
    if not positional:
        return call
    url, items = positional[0], positional[1:]
    scheme = "https://" if program in ("https", "xhs") else "http://"
    if url.value.startswith(":"):
        url = Arg("http://localhost" + url.value[1:], url.ref, url.literal)
    elif "://" not in url.value:
        url = Arg(scheme + url.value, url.ref, url.literal)
    call.urls.append(url)
    has_data = False
    for item in items:
        parsed = _httpie_item(item.value)
        if parsed is None:
            continue
        key, sep, value = parsed
        if sep in (":", ";"):
            call.headers.append(HeaderArg(f"{key}: {value}", (item,), item))
        elif sep in ("=", ":=", "=@", ":=@", "@"):
            has_data = True
            call.data.append(item)
    if has_data and not call.method_explicit:
        call.method = "POST"
    return call


def parse_aria2c(args: list[Arg], program: str = "aria2c") -> ClientCall:
    """aria2c: GET only (it has no method option), like wget an exit status on HTTP errors."""
    call = ClientCall("aria2c", fails_on_http_error=True)
    for w in _words(args, _ARIA2C_SHORT_ARG, _ARIA2C_LONG_ARG, equals=True, double_dash=False):
        option, value = w.option, w.value
        if _url_or_header(call, w, ("--header",)):
            continue
        if "q" in w.flags or option == "--quiet":
            call.silent = True
        if option in ("-i", "--input-file", "--conf-path"):
            call.headers_unknown = True
        elif option in _ARIA2C_TIMEOUTS and value is not None:
            call.timeouts[_ARIA2C_TIMEOUTS[option]] = value.value
        elif option in ("-m", "--max-tries") and value is not None:
            call.retries = value.value
        elif option in ("-o", "--out") and value is not None:
            call.output = value.value
    return call


def parse_wrapper(args: list[Arg], program: str) -> ClientCall:
    """ec2-metadata / ec2metadata: the tool fetches (and, in current versions, tokens) itself."""
    return ClientCall(program, method="GET", wrapper=True)


# -- the table ---------------------------------------------------------------------------

CLIENTS: tuple[CommandLineClient, ...] = (
    CommandLineClient(
        "curl", ("curl",), parse_curl,
        header_option=' -H "{name}: {value}"', argv_header=("-H", "{name}: {value}"), put_option=" -X PUT",
        token_fetch='curl -fs{limits} -X PUT "{url}" -H "{ttl_header}: {ttl}"',
        time_limits=(("--max-time", "total"), ("-m", "total"), ("--connect-timeout", "connect")),
        limit_options=(("total", " --max-time {}"), ("connect", " --connect-timeout {}")),
    ),
    CommandLineClient(
        "wget", ("wget",), parse_wget,
        header_option=' --header="{name}: {value}"', argv_header=("--header={name}: {value}",),
        put_option=" --method=PUT",
        token_fetch='wget -qO-{limits} --method=PUT --header="{ttl_header}: {ttl}" "{url}"',
        # GNU wget has --method; BusyBox wget does not, so this one needs a look.
        token_fetch_unsafe="this client's PUT form (wget --method) is missing from some builds (BusyBox)",
        time_limits=(("-T", "total"), ("--timeout", "total"), ("--connect-timeout", "connect")),
        limit_options=(("total", " -T {}"), ("connect", " --connect-timeout={}")),
    ),
    CommandLineClient(
        "httpie", ("http", "https"), parse_httpie,
        header_option=' "{name}:{value}"', header_at_end=True,
        token_fetch='http --ignore-stdin --check-status --body{limits} PUT "{url}" "{ttl_header}:{ttl}"',
        time_limits=(("--timeout", "total"),),
        limit_options=(("total", " --timeout {}"),),
    ),
    # xh reads HTTPie's argv, so it is fixed the same way (the token is fetched with HTTPie's
    # spelling only when HTTPie itself is in the script).
    CommandLineClient("httpie", ("xh", "xhs"), parse_httpie, header_option=' "{name}:{value}"', header_at_end=True),
    CommandLineClient("aria2c", ("aria2c",), parse_aria2c,
                      header_option=' --header="{name}: {value}"', argv_header=("--header={name}: {value}",)),
    CommandLineClient("ec2-metadata", ("ec2-metadata", "ec2metadata"), parse_wrapper, wrapper=True),
)
_BY_PROGRAM: dict[str, CommandLineClient] = {p: c for c in CLIENTS for p in c.programs}


def program_name(word: str) -> str:
    """The program a command word names: ``/usr/bin/curl`` and ``curl.exe`` are curl."""
    return re.split(r"[/\\]", word)[-1].removesuffix(".exe").removesuffix(".EXE")


def lookup(program: str) -> CommandLineClient | None:
    """The table entry for a program name (already reduced by ``program_name``)."""
    return _BY_PROGRAM.get(program)


def parse_argv(program: str, args: list[Arg]) -> ClientCall | None:
    """The request parts of ``program args...``, or None when the program is no HTTP client."""
    entry = _BY_PROGRAM.get(program)
    if entry is None:
        return None
    return entry.parse(args, program)


def for_family(family: str) -> CommandLineClient | None:
    """The first entry a Request's client names (the one whose fix data its fixer uses)."""
    return next((c for c in CLIENTS if c.family == family), None)


def token_fetch_for(families: set[str]) -> CommandLineClient | None:
    """The client whose command fetches the token for a script using ``families``, in table order."""
    return next((c for c in CLIENTS if c.family in families and c.token_fetch is not None), None)


def command_word_pattern() -> str:
    """Regex source matching a program of the table as a command word (not ``http`` in ``http://``)."""
    names = sorted({re.escape(p) for c in CLIENTS for p in c.programs}, key=len, reverse=True)
    # A path before the name is still the command word (/usr/bin/curl, C:/tools/wget).
    return rf"(?<![\w.-])(?:{'|'.join(names)})(?![\w:/.-])"


def split_header(text: str) -> tuple[str, str | None]:
    name, sep, value = text.partition(":")
    return name.strip(), value.strip() if sep else None


# -- from request parts to Requests (for every carrier) -------------------------------------


def headers_of(call: ClientCall, span_of: Callable[[object], Span] | None = None,
               literal_span: Callable[[object, str], Span | None] | None = None) -> list[Header]:
    """The call's headers; with ``span_of`` (source ref -> span) each knows the words that spell it,
    with ``literal_span`` where its name and value are written."""
    headers = []
    for header in call.headers:
        name, value = split_header(header.text)
        span = name_span = value_span = None
        if span_of is not None:
            refs = [r.ref for r in header.refs if r.ref is not None]
            span = Span(span_of(refs[0]).start, span_of(refs[-1]).end) if refs else None
        if literal_span is not None:
            ref = header.value_ref.ref if header.value_ref is not None else None
            name_span = literal_span(ref, name)
            value_span = literal_span(ref, value) if value else None
        headers.append(Header(name, value, span=span, name_span=name_span, value_span=value_span))
    return headers


def requests_for(call: ClientCall, document: Document, span: Span, anchor: Span,
                 container: ContainerContext | None, *, headers: list[Header] | None = None,
                 handle: Callable[[Arg], object] | None = None,
                 path_span: Callable[[Arg, str], Span | None] | None = None) -> list[Request]:
    """The IMDS requests a parsed call sends (a wrapper tool's one request included).

    ``handle`` builds the fixer's handle for each URL; ``path_span`` finds where a
    URL's path is written, for fixes that rewrite it.
    """
    if call.wrapper:
        return [Request(client=call.client, url="", endpoint="169.254.169.254", path=None, method="GET",
                        headers=(), span=span, anchor=anchor, document=document, wrapper=True,
                        container=container)]
    if not call.sends:
        return []
    written = tuple(headers_of(call) if headers is None else headers)
    if any(is_foreign_metadata_header(h.name, h.value) for h in written):
        return []
    requests = []
    for url in call.urls:
        imds = parse_imds_url(url.value)
        if imds is None:
            continue
        requests.append(Request(
            client=call.client, url=url.value, endpoint=imds.endpoint, path=imds.path, method=call.method,
            method_explicit=call.method_explicit, headers=written, headers_unknown=call.headers_unknown,
            span=span, anchor=anchor, document=document, container=container,
            path_span=path_span(url, imds.path) if path_span is not None and imds.path and imds.path != "/" else None,
            handle=handle(url) if handle is not None else None,
        ))
    return requests
