"""Plumbing shared by the tree-sitter front-ends and fixers: walking trees and mapping offsets."""

from __future__ import annotations

import os
import re
import sys
from bisect import bisect_right


def core():
    """tree-sitter's own binding (``Parser``, ``Language``, ``Node``...), loaded without running the
    ``tree_sitter`` package's ``__init__``: that imports ``typing`` (~2.5 ms of a pre-commit run
    with findings) for one ``Protocol`` class we never use. The classes are the same either way,
    and a later ``import tree_sitter`` reuses this module."""
    return sys.modules.get("tree_sitter._binding") or _load_binding("tree_sitter") or _package("tree_sitter")._binding


def grammar(package: str, function: str = "language"):
    """A tree-sitter grammar's language pointer: ``package.function()``, without running the
    package's ``__init__`` where its binary can be loaded directly.

    The grammar wheels' ``__init__`` imports importlib.resources (for highlight queries we never
    read), which pulls in tempfile, shutil, bz2, lzma and random: the biggest import of a
    pre-commit run that finds a tokenless curl. The binding is the same module either way.
    """
    binding = sys.modules.get(f"{package}._binding") or _load_binding(package) or _package(package)
    return getattr(binding, function)()


def _package(name: str):
    import importlib

    return importlib.import_module(name)


def _load_binding(package: str):
    """``package._binding`` from its file, or None. Only ``importlib.machinery``, which the
    interpreter has loaded already: ``importlib.util`` would bring ``contextlib`` along."""
    import importlib.machinery

    name = f"{package}._binding"
    try:
        spec = importlib.machinery.PathFinder.find_spec(package)  # finds the package; runs none of it
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or ()) if spec is not None else ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "_binding" + suffix)
            if os.path.isfile(path):
                loader = importlib.machinery.ExtensionFileLoader(name, path)
                found = importlib.machinery.ModuleSpec(name, loader, origin=path)
                found.has_location = True
                module = loader.create_module(found)
                # What importlib.util.module_from_spec would set before running it.
                module.__spec__, module.__loader__, module.__package__ = found, loader, package
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
    """Parents and top-level statements of one tree, without tree-sitter's ``Node.parent``.

    tree-sitter keeps no parent pointers: ``Node.parent`` searches down from the
    root, through every top-level statement before the node's, so walking up
    from depth d costs d**2 (10,000 nested ``$(`` took 77 s) and a flat file of
    n lines pays n per step. Here a node's ancestors are found by one descent:
    bisection over the root's children, then ``child_with_descendant`` down to
    the node; the last path found answers the walk up that follows, one step at
    a time. Memory stays at one path (a table of every node's parent cost 28 MB
    per MB of shell).
    """

    __slots__ = ("root", "_children", "_starts", "_path", "_index", "_tops", "_top_starts")

    def __init__(self, root):
        self.root = root
        self._children: list | None = None
        self._starts: list[int] = []
        self._path: list = []
        self._index: dict[int, int] = {}
        self._tops: list | None = None
        self._top_starts: list[int] = []

    def parent(self, node):
        at = self._index.get(node.id)
        if at is None:
            at = self._reach(node)
        return self._path[at - 1] if at is not None and at > 0 else None

    def _reach(self, node) -> int | None:
        """Extend the path to ``node`` from its deepest node that holds it; its index, or None."""
        path = self._path
        # The path's byte ranges nest: the nodes holding ``node`` are a prefix of it.
        lo, hi = 0, len(path)
        while lo < hi:
            mid = (lo + hi) // 2
            if path[mid].start_byte <= node.start_byte and node.end_byte <= path[mid].end_byte:
                lo = mid + 1
            else:
                hi = mid
        if lo > 1:
            self._truncate(lo)
            if self._descend(node):
                return len(path) - 1
        # From the root (a node the last path does not lead to, or a zero-width sibling of one).
        self._truncate(0)
        self._index[self.root.id] = 0
        path.append(self.root)
        if node.id == self.root.id:
            return 0
        for top in self._tops_holding(node):
            self._index[top.id] = 1
            path.append(top)
            if self._descend(node):
                return len(path) - 1
            self._truncate(1)  # a zero-width sibling shares the range: the next one to the left
        return None

    def _descend(self, node) -> bool:
        path = self._path
        current = path[-1]
        while current.id != node.id:
            current = current.child_with_descendant(node)
            if current is None:
                return False
            self._index[current.id] = len(path)
            path.append(current)
        return True

    def _truncate(self, length: int) -> None:
        while len(self._path) > length:
            del self._index[self._path.pop().id]

    def _tops_holding(self, node):
        """The root's children whose bytes hold ``node``'s, right to left, by bisection (a flat
        file has one per line)."""
        if self._children is None:
            self._children = self.root.children
            self._starts = [c.start_byte for c in self._children]
        i = bisect_right(self._starts, node.start_byte) - 1
        while i >= 0:
            child = self._children[i]
            if child.start_byte <= node.start_byte and node.end_byte <= child.end_byte:
                yield child
            elif child.end_byte < node.start_byte:
                return  # children before it end earlier still
            i -= 1

    def containing(self, tops: list, node):
        """The node of ``tops`` (in source order) whose bytes hold ``node``'s, or None; by bisection."""
        if self._tops is not tops:
            self._tops, self._top_starts = tops, [t.start_byte for t in tops]
        i = bisect_right(self._top_starts, node.start_byte) - 1
        first = i
        # Siblings may share a start (zero-width ones): try each that starts where the last one does.
        while i >= 0 and self._top_starts[i] == self._top_starts[first]:
            top = tops[i]
            if node.end_byte <= top.end_byte:
                if node.start_byte == top.end_byte > top.start_byte:
                    # A zero-width node where a statement ends may be its last (missing) child or
                    # a sibling after it, in an ERROR node: only the tree can say which.
                    return top if _descends(top, node) else None
                return top
            i -= 1
        return None


def _descends(ancestor, node) -> bool:
    current = ancestor
    while current.id != node.id:
        current = current.child_with_descendant(node)
        if current is None:
            return False
    return True


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
