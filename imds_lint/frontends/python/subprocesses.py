"""Commands a Python module runs: argv lists read by the command-line client table, shell strings embedded as shell documents."""

from __future__ import annotations

import shlex

from imds_lint.clients import Arg, headers_of, parse_argv, program_name, requests_for
from imds_lint.frontends.python.values import UNKNOWN, cst_module
from imds_lint.kinds import Kind
from imds_lint.model import OffsetMap
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
        parsed = parse_argv(program_name(argv[0].value), argv[1:])
        if parsed is None:
            return
        function = self.enclosing_function(call)
        anchor = self.span(argv[0].ref) if argv[0].ref is not None else self.span(call.func)

        def handle(url: Arg) -> PythonHandle:
            return PythonHandle(call, "subprocess-" + parsed.client, self.state, function=function, argv0=argv[0].ref)

        self.analysis.requests.extend(requests_for(
            parsed, self.document, self.span(call), anchor, self.document.container,
            headers=headers_of(parsed, self.span), handle=handle))

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
