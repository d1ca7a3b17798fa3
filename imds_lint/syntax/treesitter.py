"""Plumbing shared by the tree-sitter front-ends and fixers: walking trees and mapping offsets."""

from __future__ import annotations

import re
from bisect import bisect_right


def walk(root):
    """Pre-order walk without recursion, so deeply nested input cannot overflow the stack."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


class ByteOffsets:
    """Converts tree-sitter byte offsets into character offsets of the document text."""

    def __init__(self, text: str, src: bytes):
        self.ascii = len(src) == len(text)
        if not self.ascii:
            self.src = src
            self.line_bytes = [0] + [m.end() for m in re.finditer(rb"\n", src)]
            self.line_chars = [0] + [m.end() for m in re.finditer("\n", text)]

    def char(self, byte_offset: int) -> int:
        if self.ascii:
            return byte_offset
        line = bisect_right(self.line_bytes, byte_offset) - 1
        start = self.line_bytes[line]
        return self.line_chars[line] + len(self.src[start:byte_offset].decode("utf-8", "replace"))


# Error recovery in some grammars is quadratic on adversarial input (40 KB of
# "${" takes tree-sitter-powershell 8 s). A parse gets this budget, then gives up.
BASE_SECONDS = 2.0
SECONDS_PER_MB = 2.0
_CHUNK = 1 << 16


def parse_within(parser, src: bytes, seconds: float | None = None):
    """Parse ``src``, or raise ParserGaveUp once the time budget is spent."""
    import time

    from imds_lint.frontends import ParserGaveUp

    budget = seconds if seconds is not None else BASE_SECONDS + SECONDS_PER_MB * len(src) / 1e6
    deadline = time.monotonic() + budget
    try:
        return parser.parse(lambda offset, _point: src[offset:offset + _CHUNK],
                            progress_callback=lambda *_: time.monotonic() > deadline)
    except ValueError:  # "Parsing failed": the callback cancelled it
        parser.reset()
        raise ParserGaveUp(f"the parser gave up after {budget:.0f} s on this input") from None


class NodeText:
    """For front-end states that hold ``text`` and its UTF-8 ``src``: node spans and node text."""

    _offsets: ByteOffsets | None = None

    def char(self, byte_offset: int) -> int:
        if self._offsets is None:
            self._offsets = ByteOffsets(self.text, self.src)
        return self._offsets.char(byte_offset)

    def span(self, node):
        from imds_lint.model import Span

        return Span(self.char(node.start_byte), self.char(node.end_byte))

    def source(self, node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")
