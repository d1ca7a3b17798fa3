"""A cheaper exact reading of the common shape of Terraform: the tree tree-sitter-hcl gives, without it.

``parse(src)`` takes a file's UTF-8 bytes and returns a tree with the node interface
the HCL consumers read (``type``, ``start_byte``, ``end_byte``, ``children``,
``named_children``, ``parent``, ``is_named``, ``has_error``, ``is_missing``;
``tree.root_node``), with tree-sitter-hcl's node types and byte spans, or None for a
file outside the subset below, which then goes to tree-sitter as before.

The subset, checked at C speed by one regular expression that must tile the whole file
line by line (any line it cannot read sends the file back):

* ASCII only, no tab, no CR, ending in a newline;
* blank lines and ``#`` / ``//`` comments (alone or at the end of a line; no ``/*``);
* block headers ``ident "label" ... {`` (quoted labels without ``\\``, ``$`` or ``%``) on one
  line, and ``}`` lines, balanced, with only blocks at the top level;
* attributes ``ident = value`` on one line, the value an expression of strings (no escapes;
  interpolations ``${a.b}`` only; no ``%{``, ``$${``, ``%%{``), numbers, ``true``/``false``/
  ``null``, references with ``.attr`` and ``[expr]``, function calls, tuples and objects
  (``key = value`` separated by commas), nested at most ``_DEPTH`` deep, with at most one binary
  operator between simple operands;
* heredocs ``ident = <<EOF`` / ``<<-EOF`` whose body holds only ``${a.b}`` interpolations.

Whatever a consumer does not read is never built: the top-level blocks exist at first, a
block's children when asked for, an expression's nodes when its children are read.
tests/test_hcl_quick.py holds every tree it accepts equal to tree-sitter's (fixtures,
generated and mutated inputs).
"""

from __future__ import annotations

import re

_DEPTH = 3

# -- the subset, as regular expressions ----------------------------------------------------------
# Names: ``true``/``false``/``null`` followed by ``.``, ``[`` or ``(`` send the file back (``_ODD``), so
# a name in an expression needs no keyword check: the literal alternative comes first.
_IDENT = rb"[A-Za-z_][\w-]*"
_NAME_KEYWORD = rb"(?!(?:true|false|null|for|in|if|else|endif|endfor)(?![\w-]))" + _IDENT
_REF = _IDENT + rb"(?:\." + _IDENT + rb")*"
_INTERPOLATION = rb"\$\{ *" + _REF + rb" *\}"
_STRING = rb'"(?:[^"\\$%\n]|\$(?![{$])|%(?![{%])|' + _INTERPOLATION + rb')*"'
_NUMBER = rb"\d+(?:\.\d+)?(?![\w.])"
_LITERAL = rb"(?:true|false|null)(?![\w-])"
_OP = rb"(?:==|!=|<=|>=|&&|\|\||[-+*/%<>])"
_COMMENT = rb"(?:#|//)[^\n]*"
_ODD = re.compile(rb"(?<![\w-])(?:true|false|null)[.\[(]")


def _items(item: bytes, closer: bytes) -> bytes:
    """``item`` repeated, separated by commas, none after the last, closed by ``closer`` (not consumed)."""
    return rb"(?:" + item + rb" *(?:, *(?!" + closer + rb")|(?=" + closer + rb")))*"


_ATOM = rb"(?:" + _STRING + rb"|" + _NUMBER + rb"|" + _LITERAL + rb"|" + _REF + rb")"
_SIMPLE = rb"(?:" + _IDENT + rb"\( *" + _items(_ATOM, rb"\)") + rb"\)|" + _ATOM + rb")"
# One binary operator, between simple operands on its right: in an attribute's value and an index.
_BINARY_TAIL = rb"(?: *" + _OP + rb" *" + _SIMPLE + rb")?"
_INDEX = _SIMPLE + _BINARY_TAIL


def _expression(depth: int) -> bytes:
    """Expressions nested ``depth`` deep in calls, tuples and objects (the deepest are simple)."""
    if depth == 0:
        return _SIMPLE
    inner = _expression(depth - 1)
    return rb"(?:" + rb"|".join([
        _STRING, _NUMBER, _LITERAL,
        _IDENT + rb"\( *" + _items(inner, rb"\)") + rb"\)",
        rb"\[ *" + _items(inner, rb"\]") + rb"\]",
        rb"\{ *" + _items(rb"(?:" + _IDENT + rb"|" + _STRING + rb") *= *" + inner, rb"\}") + rb"\}",
        _IDENT + rb"(?:\." + _IDENT + rb"|\[ *" + _INDEX + rb" *\])*",
    ]) + rb")"


_VALUE = _expression(_DEPTH) + _BINARY_TAIL
_HEREDOC_LINE = rb"(?:[^\n$%]|\$(?![{$])|%(?![{%])|" + _INTERPOLATION + rb")*"
_LABEL = rb'"[^"\\$%\n]*"'
_TAIL = rb" *(?:" + _COMMENT + rb")?\n"

_LINE_PATTERN = (
    rb" *(?:"
    + rb"(?P<blank>)\n"
    + rb"|(?P<comment>" + _COMMENT + rb")\n"
    + rb"|(?P<open>" + _NAME_KEYWORD + rb"(?: +" + _LABEL + rb")* *\{)" + _TAIL
    + rb"|(?P<close>\})" + _TAIL
    + rb"|(?P<attr>" + _NAME_KEYWORD + rb" *= *" + _VALUE + rb")" + _TAIL
    + rb"|(?P<here>" + _NAME_KEYWORD + rb" *= *<<-?(?P<mark>" + _IDENT + rb")\n"
    + rb"(?:(?! *(?P=mark)\n)" + _HEREDOC_LINE + rb"\n)* *(?P=mark))\n"
    + rb")")

# Reading a line already known to be in the subset.
_HEADER = re.compile(rb"(" + _IDENT + rb")((?: +" + _LABEL + rb")*) *(\{) *(" + _COMMENT + rb")?\n")
_LABELS = re.compile(_LABEL)
_HERE = re.compile(rb"(" + _IDENT + rb") *(=) *(<<-?)(" + _IDENT + rb")\n")
_CLOSE = re.compile(rb"\} *(" + _COMMENT + rb")?\n")
_INTERP = re.compile(rb"\$\{ *(" + _REF + rb") *\}")
_NAME = re.compile(rb"[A-Za-z_][\w-]*")
_NUM = re.compile(rb"\d+(?:\.\d+)?")
_OPERATOR = re.compile(_OP)


class Node:
    """One node, its children built on first read (``_make(node)`` returns them)."""

    __slots__ = ("type", "start_byte", "end_byte", "parent", "is_named", "_children", "_named", "_make")
    has_error = False
    is_missing = False

    def __init__(self, type_: str, start: int, end: int, parent=None, named: bool = True, children=None, make=None):
        self.type = type_
        self.start_byte = start
        self.end_byte = end
        self.parent = parent
        self.is_named = named
        self._children = children
        self._named = None
        self._make = make

    @property
    def children(self) -> list:
        if self._children is None:
            self._children = self._make(self) if self._make is not None else []
        return self._children

    @property
    def named_children(self) -> list:
        if self._named is None:
            self._named = [c for c in self.children if c.is_named]
        return self._named

    @property
    def child_count(self) -> int:
        return len(self.children)

    def __repr__(self) -> str:
        return f"<quick {self.type} {self.start_byte}-{self.end_byte}>"


def _adopt(parent: Node, children: list) -> list:
    for child in children:
        child.parent = parent
    return children


def _token(text: str, start: int, end: int, parent=None) -> Node:
    return Node(text, start, end, parent, False, [])


def _wrapped(type_: str, inner_type: str, start: int, end: int) -> Node:
    """``block_start`` > ``{`` and the like."""
    outer = Node(type_, start, end)
    outer._children = [_token(inner_type, start, end, outer)]
    return outer


class Tree:
    __slots__ = ("root_node",)

    def __init__(self, root: Node):
        self.root_node = root


class _File:
    """The lines of one accepted file, for building blocks lazily."""

    __slots__ = ("src", "lines", "close_of")

    def __init__(self, src: bytes, lines: list, close_of: dict):
        self.src, self.lines, self.close_of = src, lines, close_of


_LINE = None


def _line():
    # Compiled on first use (about 40 ms): runs that never meet Terraform never pay it.
    global _LINE
    if _LINE is None:
        _LINE = re.compile(_LINE_PATTERN)
    return _LINE


def parse(src: bytes) -> Tree | None:
    """The tree of ``src``, or None when the file is outside the subset (tree-sitter reads it)."""
    size = len(src)
    if not size or src[-1] != 0x0A or not src.isascii() or b"\t" in src or b"\r" in src or _ODD.search(src):
        return None
    lines = []
    close_of = {}
    opened = []
    tops = []
    at = 0
    for m in (_LINE or _line()).finditer(src):
        if m.start() != at:
            return None
        at = m.end()
        kind = m.lastgroup
        if kind == "open":
            opened.append(len(lines))
        elif kind == "close":
            if not opened:
                return None
            first = opened.pop()
            close_of[first] = len(lines)
            if not opened:
                tops.append(first)
        elif (kind == "attr" or kind == "here") and not opened:
            return None
        lines.append(m)
    if at != size or opened or not tops:
        return None
    file = _File(src, lines, close_of)
    root = Node("config_file", 0, size)
    root._children = _region(file, root, 0, len(lines))
    return Tree(root)


def _region(file: _File, owner: Node, first: int, stop: int) -> list:
    """The children of a block (or of the file) from the lines ``first`` to ``stop`` (excluded)."""
    lines, src = file.lines, file.src
    elements = []
    comments = []
    k = first
    while k < stop:
        m = lines[k]
        kind = m.lastgroup
        if kind == "comment":
            comments.append(Node("comment", m.start(kind), m.end(kind), None, True, []))
        elif kind == "attr":
            elements.append(_attribute(src, m, comments))
        elif kind == "here":
            elements.append(_heredoc_attribute(src, m.start(kind), m.end(kind)))
        elif kind == "open":
            close = file.close_of[k]
            end_line = lines[close]
            start, end = m.start(kind), end_line.start("close") + 1
            block = Node("block", start, end, None, True, None, _block_maker(file, k, close))
            elements.append(block)
            tail = _CLOSE.match(src, end - 1).span(1)
            if tail[0] != -1:
                comments.append(Node("comment", tail[0], tail[1], None, True, []))
            k = close
        k += 1
    if not elements:
        return _adopt(owner, comments)
    body = Node("body", elements[0].start_byte, elements[-1].end_byte)
    if not comments:
        body._children = _adopt(body, elements)
        return [_adopt(owner, [body])[0]]
    before = [c for c in comments if c.start_byte < body.start_byte]
    after = [c for c in comments if c.start_byte >= body.end_byte]
    inside = [c for c in comments if body.start_byte <= c.start_byte < body.end_byte]
    body._children = _adopt(body, sorted(elements + inside, key=lambda n: n.start_byte)) if inside else _adopt(body, elements)
    return _adopt(owner, [*before, body, *after])


def _block_maker(file: _File, first: int, close: int):
    def make(block: Node) -> list:
        src = file.src
        m = _HEADER.match(src, block.start_byte)
        kids = [Node("identifier", m.start(1), m.end(1), block, True, [])]
        if m.end(2) > m.start(2):
            for label in _LABELS.finditer(src, m.start(2), m.end(2)):
                kids.append(_string_lit(src, label.start(), label.end(), block))
        kids.append(_wrapped("block_start", "{", m.start(3), m.end(3)))
        kids[-1].parent = block
        inner = []
        if m.start(4) != -1:
            inner.append(Node("comment", m.start(4), m.end(4), None, True, []))
        rest = _region(file, block, first + 1, close)
        # The header's comment comes before everything else inside the braces.
        kids.extend(_adopt(block, inner) + rest if inner else rest)
        end = block.end_byte
        kids.append(_wrapped("block_end", "}", end - 1, end))
        kids[-1].parent = block
        return kids

    return make


def _attribute(src: bytes, line, comments: list) -> Node:
    start, end = line.span("attr")
    name = _NAME.match(src, start)
    eq = src.index(b"=", name.end())
    value = eq + 1
    while src[value] == 0x20:
        value += 1
    node = Node("attribute", start, end)
    expr = Node("expression", value, end, node, True, None, _expression_maker(src))
    node._children = [Node("identifier", start, name.end(), node, True, []), _token("=", eq, eq + 1, node), expr]
    tail = end
    while src[tail] == 0x20:
        tail += 1
    if src[tail] != 0x0A:
        comments.append(Node("comment", tail, line.end() - 1, None, True, []))
    return node


def _heredoc_attribute(src: bytes, start: int, end: int) -> Node:
    m = _HERE.match(src, start)
    node = Node("attribute", start, end)
    expr = Node("expression", m.start(3), end, node)
    template_expr = Node("template_expr", m.start(3), end, expr)
    expr._children = [template_expr]
    heredoc = Node("heredoc_template", m.start(3), end, template_expr, True, None, _heredoc_maker(src, m))
    template_expr._children = [heredoc]
    node._children = [Node("identifier", m.start(1), m.end(1), node, True, []),
                      _token("=", m.start(2), m.end(2), node), expr]
    return node


def _heredoc_maker(src: bytes, m):
    def make(heredoc: Node) -> list:
        opener = _wrapped("heredoc_start", src[m.start(3):m.end(3)].decode(), m.start(3), m.end(3))
        mark = m.end(4) - m.start(4)
        kids = [opener, Node("heredoc_identifier", m.start(4), m.end(4), None, True, [])]
        kids.extend(_template_parts(src, m.end(4) + 1, heredoc.end_byte - mark, b" \n"))
        kids.append(Node("heredoc_identifier", heredoc.end_byte - mark, heredoc.end_byte, None, True, []))
        return _adopt(heredoc, kids)

    return make


def _template_parts(src: bytes, start: int, end: int, blank: bytes) -> list:
    """Literal text (trimmed of ``blank``; none when only blank) and ``${ref}`` interpolations."""
    parts = []
    at = start
    for m in _INTERP.finditer(src, start, end):
        _literal(src, at, m.start(), blank, parts)
        interp = Node("template_interpolation", m.start(), m.end())
        expr = Node("expression", m.start(1), m.end(1), interp, True, None, _expression_maker(src))
        interp._children = [Node("template_interpolation_start", m.start(), m.start() + 2, interp, True, []), expr,
                            Node("template_interpolation_end", m.end() - 1, m.end(), interp, True, [])]
        parts.append(interp)
        at = m.end()
    _literal(src, at, end, blank, parts)
    return parts


def _literal(src: bytes, start: int, end: int, blank: bytes, parts: list) -> None:
    chunk = src[start:end]
    stripped = chunk.lstrip(blank)
    if not stripped:
        return
    first = start + len(chunk) - len(stripped)
    parts.append(Node("template_literal", first, first + len(stripped.rstrip(blank)), None, True, []))


def _string_lit(src: bytes, start: int, end: int, parent=None) -> Node:
    node = Node("string_lit", start, end, parent)
    kids = [Node("quoted_template_start", start, start + 1, None, True, [])]
    _literal(src, start + 1, end - 1, b" ", kids)
    kids.append(Node("quoted_template_end", end - 1, end, None, True, []))
    node._children = _adopt(node, kids)
    return node


# -- expressions, read from text known to be in the subset ------------------------------------------
def _expression_maker(src: bytes):
    def make(expr: Node) -> list:
        parts, _ = _Reader(src, expr.end_byte).terms(expr.start_byte)
        return _adopt(expr, parts)

    return make


class _Reader:
    __slots__ = ("src", "end")

    def __init__(self, src: bytes, end: int):
        self.src, self.end = src, end

    def skip(self, at: int) -> int:
        src = self.src
        while at < self.end and src[at] == 0x20:
            at += 1
        return at

    def expression(self, at: int, parent=None) -> tuple[Node, int]:
        parts, end = self.terms(at)
        node = Node("expression", parts[0].start_byte, parts[-1].end_byte, parent)
        node._children = _adopt(node, parts)
        return node, end

    def terms(self, at: int) -> tuple[list, int]:
        left, end = self.operand(at)
        after = self.skip(end)
        op = _OPERATOR.match(self.src, after) if after < self.end else None
        if op is None:
            return left, end
        right, end = self.operand(self.skip(op.end()))
        operation = Node("operation", left[0].start_byte, right[-1].end_byte)
        binary = Node("binary_operation", left[0].start_byte, right[-1].end_byte, operation)
        binary._children = _adopt(binary, [*left, _token(op.group().decode(), op.start(), op.end()), *right])
        operation._children = [binary]
        return [operation], end

    def operand(self, at: int) -> tuple[list, int]:
        src = self.src
        c = src[at]
        if c == 0x22:  # "
            return [self.string(at)], self.string_end(at)
        if 0x30 <= c <= 0x39:
            m = _NUM.match(src, at)
            lit = Node("literal_value", at, m.end())
            lit._children = [Node("numeric_lit", at, m.end(), lit, True, [])]
            return [lit], m.end()
        if c == 0x5B:  # [
            return self.collection("tuple", at)
        if c == 0x7B:  # {
            return self.collection("object", at)
        m = _NAME.match(src, at)
        word = m.group()
        end = m.end()
        if word in (b"true", b"false", b"null"):
            lit = Node("literal_value", at, end)
            if word == b"null":
                inner = Node("null_lit", at, end, lit, True, [])
            else:
                inner = Node("bool_lit", at, end, lit)
                inner._children = [_token(word.decode(), at, end, inner)]
            lit._children = [inner]
            return [lit], end
        name = Node("identifier", at, end, None, True, [])
        if end < self.end and src[end] == 0x28:  # (
            return self.call(name, end)
        var = Node("variable_expr", at, end)
        var._children = [_adopt(var, [name])[0]]
        parts = [var]
        while end < self.end:
            c = src[end]
            if c == 0x2E:  # .
                m = _NAME.match(src, end + 1)
                get = Node("get_attr", end, m.end())
                get._children = _adopt(get, [_token(".", end, end + 1), Node("identifier", m.start(), m.end(), None, True, [])])
                parts.append(get)
                end = m.end()
            elif c == 0x5B:  # [
                inner_at = self.skip(end + 1)
                expr, inner_end = self.expression(inner_at)
                close = self.skip(inner_end)
                index = Node("index", end, close + 1)
                new = Node("new_index", end, close + 1, index)
                new._children = _adopt(new, [_token("[", end, end + 1), expr, _token("]", close, close + 1)])
                index._children = [new]
                parts.append(index)
                end = close + 1
            else:
                break
        return parts, end

    def call(self, name: Node, paren: int) -> tuple[list, int]:
        kids = [name, _token("(", paren, paren + 1)]
        at = self.skip(paren + 1)
        args = []
        while self.src[at] != 0x29:  # )
            expr, end = self.expression(at)
            args.append(expr)
            at = self.skip(end)
            if self.src[at] == 0x2C:  # ,
                args.append(_token(",", at, at + 1))
                at = self.skip(at + 1)
        if args:
            fa = Node("function_arguments", args[0].start_byte, args[-1].end_byte)
            fa._children = _adopt(fa, args)
            kids.append(fa)
        kids.append(_token(")", at, at + 1))
        node = Node("function_call", name.start_byte, at + 1)
        node._children = _adopt(node, kids)
        return [node], at + 1

    def collection(self, kind: str, start: int) -> tuple[list, int]:
        src = self.src
        opener, closer = ("[", "]") if kind == "tuple" else ("{", "}")
        close_char = 0x5D if kind == "tuple" else 0x7D
        kids = [_wrapped(kind + "_start", opener, start, start + 1)]
        at = self.skip(start + 1)
        while src[at] != close_char:
            if kind == "tuple":
                expr, end = self.expression(at)
                kids.append(expr)
            else:
                key, key_end = self.expression(at)
                eq = self.skip(key_end)
                value, end = self.expression(self.skip(eq + 1))
                elem = Node("object_elem", key.start_byte, value.end_byte)
                elem._children = _adopt(elem, [key, _token("=", eq, eq + 1), value])
                kids.append(elem)
            at = self.skip(end)
            if src[at] == 0x2C:  # ,
                kids.append(_token(",", at, at + 1))
                at = self.skip(at + 1)
        kids.append(_wrapped(kind + "_end", closer, at, at + 1))
        node = Node(kind, start, at + 1)
        node._children = _adopt(node, kids)
        collection = Node("collection_value", start, at + 1)
        collection._children = [_adopt(collection, [node])[0]]
        return [collection], at + 1

    def string_end(self, at: int) -> int:
        return _STRING_RE.match(self.src, at).end()

    def string(self, at: int) -> Node:
        src = self.src
        end = self.string_end(at)
        if src.find(b"${", at, end) == -1:
            lit = Node("literal_value", at, end)
            lit._children = [_string_lit(src, at, end, lit)]
            return lit
        outer = Node("template_expr", at, end)
        quoted = Node("quoted_template", at, end, outer)
        kids = [Node("quoted_template_start", at, at + 1, None, True, [])]
        kids.extend(_template_parts(src, at + 1, end - 1, b" "))
        kids.append(Node("quoted_template_end", end - 1, end, None, True, []))
        quoted._children = _adopt(quoted, kids)
        outer._children = [quoted]
        return outer


_STRING_RE = re.compile(_STRING)
