"""Plumbing shared by the tree-sitter front-ends: walking trees and mapping offsets."""

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
