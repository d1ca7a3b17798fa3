"""Commands a Python module runs: argv lists read by the command-line client table, shell strings embedded as shell documents."""

from __future__ import annotations

import shlex

from imds_lint.endpoints import is_foreign_metadata_header, parse_imds_url
from imds_lint.frontends.python.values import UNKNOWN, cst_module
from imds_lint.frontends.shell_clients import Arg, parse_curl, parse_wget, split_header
from imds_lint.kinds import Kind
from imds_lint.model import Header, OffsetMap, Request, Span
from imds_lint.syntax.python import PythonHandle, argument, keyword_argument


class SubprocessCalls:
    """Commands run through subprocess/os: argv to the client table, shell strings embedded; a part of the walker in ``frontends.python``."""

    # -- subprocess ------------------------------------------------------------------
    def subprocess(self, call, name) -> None:
        cst = cst_module()
        first = argument(call, 0, "args")
        if first is None:
            return
        shell = keyword_argument(call, "shell")
        if name == "asyncio.create_subprocess_exec":
            argv = [Arg(self.text(a.value), a.value, isinstance(a.value, cst.SimpleString))
                    for a in call.args if a.keyword is None and not a.star]
            self.argv(call, argv)
            return
        if shell is not None and isinstance(shell, cst.Name) and shell.value == "True":
            self.embed(first)
            return
        value = self.value(first)
        if isinstance(value, list):
            argv = [Arg(self.text(e.value), e.value, isinstance(e.value, cst.SimpleString)) for e in value]
            self.argv(call, argv)
        elif isinstance(value, tuple) and value and value[0] == "argv":
            try:
                words = shlex.split(value[1])
            except ValueError:
                return
            self.argv(call, [Arg(w, value[2], False) for w in words])

    def argv(self, call, argv: list[Arg]) -> None:
        if not argv:
            return
        program = argv[0].value.rsplit("/", 1)[-1]
        if program == "curl":
            parsed = parse_curl(argv[1:])
        elif program == "wget":
            parsed = parse_wget(argv[1:])
        else:
            return
        if not parsed.sends:
            return
        headers = []
        for header in parsed.headers:
            hname, hvalue = split_header(header.text)
            refs = [r.ref for r in header.refs if r.ref is not None]
            span = Span(self.span(refs[0]).start, self.span(refs[-1]).end) if refs else None
            headers.append(Header(hname, hvalue, span=span))
        if any(is_foreign_metadata_header(h.name, h.value) for h in headers):
            return
        for url_arg in parsed.urls:
            imds = parse_imds_url(url_arg.value)
            if imds is None:
                continue
            function = self.enclosing_function(call)
            self.analysis.requests.append(Request(
                client=parsed.client, url=url_arg.value, endpoint=imds.endpoint, path=imds.path,
                method=parsed.method, method_explicit=parsed.method_explicit, headers=tuple(headers),
                headers_unknown=parsed.headers_unknown, span=self.span(call),
                anchor=self.span(argv[0].ref) if argv[0].ref is not None else self.span(call.func),
                document=self.document, container=self.document.container,
                handle=PythonHandle(call, "subprocess-" + parsed.client, self.state, function=function,
                                    argv0=argv[0].ref),
            ))

    def shell_string(self, call) -> None:
        first = argument(call, 0, "cmd")
        if first is not None:
            self.embed(first)

    def embed(self, node) -> None:
        """A shell command string becomes a shell document mapped back into the Python string."""
        cst = cst_module()
        span = self.span(node)
        if isinstance(node, cst.SimpleString):
            prefix = node.prefix.lower()
            quote = node.quote
            inner_start = span.start + len(node.prefix) + len(quote)
            raw = self.document.text[inner_start:span.end - len(quote)]
            verbatim = "r" in prefix or "\\" not in raw
            text = self.text(node)
            if verbatim and text == raw:
                escape = _string_escaper(quote)
                doc = self.document.embed(Kind.SHELL, text, OffsetMap.shifted(inner_start, len(text)),
                                          escape=escape, label="python shell string",
                                          writable="r" not in prefix)
                self.children.extend(self.session.analyze(doc))
                return
        text = self.text(node)
        if not text or text == UNKNOWN:
            return
        from imds_lint.model import Segment

        doc = self.document.embed(Kind.SHELL, text, _OpaqueMap(Segment(0, len(text), span.start, span.end)),
                                  label="python shell string", writable=False)
        self.children.extend(self.session.analyze(doc))


def _string_escaper(quote: str):
    """Text for the inside of a Python string literal with this quote (newlines kept as \\n on one line)."""

    def escape(text: str) -> str:
        text = text.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])
        if len(quote) == 1:
            text = text.replace("\r", "\\r").replace("\n", "\\n")
        return text

    return escape


class _OpaqueMap(OffsetMap):
    """Every inner offset maps to the start of an evaluated (non-literal) string."""

    def __init__(self, segment):
        super().__init__([segment])
        self.segment = segment

    def to_outer(self, offset: int) -> int:
        return self.segment.outer_start


# -- pure helpers -------------------------------------------------------------------------
