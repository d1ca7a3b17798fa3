"""Plumbing shared by the tree-sitter front-ends and fixers: walking trees and mapping offsets."""

from __future__ import annotations

import os
import re
import sys
from bisect import bisect_right


def grammar(package: str, function: str = "language"):
    """A tree-sitter grammar's language pointer: ``package.function()``, without running the
    package's ``__init__`` where its binary can be loaded directly.

    The grammar wheels' ``__init__`` imports importlib.resources (for highlight queries we never
    read), which pulls in tempfile, shutil, bz2, lzma and random: the biggest import of a
    pre-commit run that finds a tokenless curl. The binding is the same module either way.
    """
    binding = sys.modules.get(f"{package}._binding") or _load_binding(package)
    if binding is None:
        import importlib

        binding = importlib.import_module(package)
    return getattr(binding, function)()


def _load_binding(package: str):
    import importlib.machinery
    import importlib.util

    name = f"{package}._binding"
    try:
        spec = importlib.util.find_spec(package)  # finds the package; runs none of it
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or ()) if spec is not None else ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "_binding" + suffix)
            if os.path.isfile(path):
                loader = importlib.machinery.ExtensionFileLoader(name, path)
                module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path,
                                                                                               loader=loader))
                loader.exec_module(module)
                sys.modules[name] = module
                return module
    return None


def walk(root):
    """Pre-order walk without recursion, so deeply nested input cannot overflow the stack."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def enclosing(node, types: str | frozenset[str] | set[str], up=None, stop=None):
    """The nearest node of one of ``types`` holding ``node`` (``node`` itself included), below ``stop``.

    ``up`` gives a node's parent (an ``Ancestry.parent`` where trees are deep;
    tree-sitter's own ``Node.parent`` otherwise).
    """
    wanted = {types} if isinstance(types, str) else types
    while node is not None and node != stop:
        if node.type in wanted:
            return node
        node = up(node) if up is not None else node.parent
    return None


class Ancestry:
    """Parents and top-level statements of one tree, from one walk.

    tree-sitter keeps no parent pointers: ``Node.parent`` searches down from
    the root, so walking up from depth d costs d**2 (10,000 nested ``$(`` took
    77 s). The parent table is built on first use, in one pass.
    """

    __slots__ = ("root", "_parents", "_tops", "_top_starts")

    def __init__(self, root):
        self.root = root
        self._parents: dict | None = None
        self._tops: list | None = None
        self._top_starts: list[int] = []

    def parent(self, node):
        if self._parents is None:
            parents = {}
            stack = [self.root]
            while stack:
                current = stack.pop()
                for child in current.children:
                    parents[child.id] = current
                    stack.append(child)
            self._parents = parents
        return self._parents.get(node.id)

    def containing(self, tops: list, node):
        """The node of ``tops`` (in source order) whose bytes hold ``node``'s, or None; by bisection."""
        if self._tops is not tops:
            self._tops, self._top_starts = tops, [t.start_byte for t in tops]
        i = bisect_right(self._top_starts, node.start_byte) - 1
        first = i
        # Siblings may share a start (zero-width ones): try each that starts where the last one does.
        while i >= 0 and self._top_starts[i] == self._top_starts[first]:
            if node.end_byte <= tops[i].end_byte:
                return tops[i]
            i -= 1
        return None


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
