"""The HCL tree Terraform and Packer read: parsed files, blocks, attributes and literal values.

``HclFile`` wraps one tree-sitter-hcl parse with character offsets; ``Block``
is a block (``resource "aws_instance" "web" {...}``) with its labels,
attributes and nested blocks; the functions read expressions the way both
front-ends (and the Terraform fixer) need them. No I/O here.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from functools import lru_cache

from imds_lint.hcl import template as hcl_template
from imds_lint.model import Span
from imds_lint.syntax.treesitter import ByteOffsets, parse_within


@lru_cache(maxsize=1)
def _parser():
    # Imported here so runs that never meet Terraform never load the grammar.
    from imds_lint.syntax.treesitter import core, grammar

    tree_sitter = core()

    return tree_sitter.Parser(tree_sitter.Language(grammar("tree_sitter_hcl")))


# Recent parses by text: a module's file is parsed once as the document and once as a sibling
# another file of the module looks a name up in; both get the same (immutable) tree. Few are
# kept: freeing a tree parsed 128 files ago (out of the CPU's caches) cost 7% of a Terraform
# file's time; at 16 it is 3%, and a module's files are linted one after another anyway.
_RECENT: OrderedDict[str, tuple] = OrderedDict()
_RECENT_SIZE = 16
_RECENT_MAX_CHARS = 256 * 1024


# The exact pure-Python reading of the common shape (``hcl.quick``), tree-sitter for the rest. Compiling
# its patterns costs about 40 ms, paid back (about 45 us a Terraform file, parse and the reads of
# the front-end together) only over a thousand files or so: a process starts on it after
# QUICK_AFTER files. IMDS_LINT_HCL_QUICK=1 starts on it at once, =0 never (tests and the benchmark: the output
# must not change).
QUICK_AFTER = 1000
_QUICK_IN = {"0": None, "1": 0}.get(os.environ.get("IMDS_LINT_HCL_QUICK", ""), QUICK_AFTER)


def set_quick(on: bool | None) -> None:
    """Quick reading from the next file (True), never (False), or as by default (None); forgets recent parses."""
    global _QUICK_IN
    _QUICK_IN = 0 if on else None if on is False else QUICK_AFTER
    _RECENT.clear()


def quick_on() -> bool:
    """Whether files are read by ``hcl.quick`` now (where it accepts them)."""
    return _QUICK_IN == 0


def without_quick(run):
    """``run()`` with every HCL file read by tree-sitter: the retry when a front-end failed on a
    quick tree (its nodes are built as they are read, so a reader that disagrees with its
    patterns fails late). Recent parses are forgotten before and after."""
    global _QUICK_IN
    saved = _QUICK_IN
    _QUICK_IN = None
    _RECENT.clear()
    try:
        return run()
    finally:
        _QUICK_IN = saved
        _RECENT.clear()


def parse(text: str):
    global _QUICK_IN
    found = _RECENT.get(text)
    if found is not None:
        return found
    src = text.encode("utf-8", "surrogatepass")
    tree = None
    if _QUICK_IN == 0:
        # Imported with the first file it reads: its module-level patterns cost ~17 ms to compile,
        # which a pre-commit run over a few .tf files (never QUICK_AFTER of them) would pay for nothing.
        from imds_lint.hcl import quick as hcl_quick

        tree = hcl_quick.parse(src)
    elif _QUICK_IN is not None:
        _QUICK_IN -= 1
    parsed = (tree if tree is not None else parse_within(_parser(), src)), src
    if len(text) <= _RECENT_MAX_CHARS:
        if len(_RECENT) >= _RECENT_SIZE:
            _RECENT.popitem(last=False)
        _RECENT[text] = parsed
    return parsed


def syntax_errors(text: str) -> int:
    """How many error or missing nodes the grammar reports (the fix loop's parse check)."""
    from imds_lint.syntax.treesitter import walk

    tree, _ = parse(text)
    if not tree.root_node.has_error:
        return 0
    return sum(1 for n in walk(tree.root_node) if n.type == "ERROR" or n.is_missing)


class HclFile:
    """One parsed .tf file: the document's own, or a sibling read for its variables."""

    def __init__(self, text: str, own: bool):
        self.text = text
        self.tree, self.src = parse(text)
        self.offsets = ByteOffsets(text, self.src)
        self.own = own
        self._blocks: list | None = None

    def span(self, node) -> Span:
        return Span(self.offsets.char(node.start_byte), self.offsets.char(node.end_byte))

    def source(self, node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def blocks(self) -> list:
        if self._blocks is None:
            self._blocks = list(self._read_blocks())
        return self._blocks

    def _read_blocks(self):
        body = next((c for c in self.tree.root_node.children if c.type == "body"), None)
        if body is None:
            return
        for node in body.named_children:
            if node.type == "block":
                yield Block(self, node)


class Block:
    def __init__(self, file: HclFile, node):
        self.file = file
        self.node = node
        children = node.named_children  # each access builds the list anew: read it once
        self.type = file.source(children[0]) if children else ""
        self.labels = [string_literal(file, c) or "" for c in children[1:] if c.type == "string_lit"]
        self.body = next((c for c in children if c.type == "body"), None)
        self._attributes: dict[str, object] | None = None
        self._blocks: list[Block] | None = None

    def attributes(self) -> dict[str, object]:
        """Name -> expression node, read once per block (callers only read it)."""
        if self._attributes is None:
            found = {}
            if self.body is not None:
                for child in self.body.named_children:
                    if child.type == "attribute":
                        parts = child.named_children
                        if parts:
                            expr = next((c for c in parts if c.type == "expression"), None)
                            if expr is not None:
                                found[self.file.source(parts[0])] = expr
            self._attributes = found
        return self._attributes

    def sub_blocks(self, name: str) -> list[Block]:
        if self.body is None:
            return []
        if self._blocks is None:  # read once per block: a resource is asked for several kinds
            self._blocks = [Block(self.file, c) for c in self.body.named_children if c.type == "block"]
        return [b for b in self._blocks if b.type == name]

    def dynamic_content(self, name: str) -> Block | None:
        """The ``content`` block of a ``dynamic "<name>"`` block in this one, if any."""
        for dynamic in self.sub_blocks("dynamic"):
            if dynamic.labels == [name]:
                content = dynamic.sub_blocks("content")
                return content[0] if content else None
        return None

    @property
    def header_span(self) -> Span:
        start = self.node.start_byte
        line_end = self.file.src.find(b"\n", start)
        end = self.node.end_byte if line_end == -1 else min(line_end, self.node.end_byte)
        return Span(self.file.offsets.char(start), self.file.offsets.char(end))


def expression(attribute):
    expr = next((c for c in attribute.named_children if c.type == "expression"), None)
    return expr


def unwrap(node):
    """The meaningful node under ``expression`` / ``template_expr`` wrappers."""
    while node is not None and node.type in ("expression", "template_expr", "collection_value", "literal_value") and node.named_children:
        node = node.named_children[0]
    return node


def string_literal(file: HclFile, node) -> str | None:
    """The text of a quoted string without interpolations, undoing escapes."""
    node = unwrap(node)
    if node is None or node.type not in ("string_lit", "quoted_template"):
        return None
    start, end = node.start_byte, node.end_byte
    src = file.src
    if file.offsets.ascii and end - start >= 2 and src[start] == src[end - 1] == 0x22:
        # The common case, read off the bytes of an ASCII file: without "$", "%" or a backslash there
        # is no interpolation, directive or escape (held equal to the reading below in tests/test_terraform.py).
        inner = src[start + 1:end - 1]
        if b"$" not in inner and b"%" not in inner and b"\\" not in inner:
            return inner.decode("ascii")
    if any(c.type in ("template_interpolation", "template_directive") for c in node.named_children):
        return None
    span = file.span(node)
    inner = file.text[span.start + 1:span.end - 1]
    if "\\" in inner or "$" in inner or "%" in inner:
        # Escapes (\n, $${, %%{) to undo; plain text decodes to itself.
        inner, _ = hcl_template.decode(file.text, span.start + 1, span.end - 1, quoted=True)
    return inner


def object_items(file: HclFile, node) -> dict[str, object] | None:
    node = unwrap(node)
    if node is None or node.type != "object":
        return None
    items = {}
    for elem in node.named_children:
        if elem.type != "object_elem" or len(elem.named_children) < 2:
            continue
        key_node, value = elem.named_children[0], elem.named_children[-1]
        key = string_literal(file, key_node)
        if key is None:
            key = file.source(key_node).strip()
        items[key] = value
    return items
