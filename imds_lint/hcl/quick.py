"""A cheaper exact reading of the common shape of Terraform: the tree tree-sitter-hcl gives, without it.

``parse(src)`` takes a file's UTF-8 bytes and returns a tree with the node interface
the HCL consumers read (``type``, ``start_byte``, ``end_byte``, ``children``,
``named_children``, ``parent``, ``is_named``, ``has_error``, ``is_missing``;
``tree.root_node``), with tree-sitter-hcl's node types and byte spans, or None for a
file outside the subset below, which then goes to tree-sitter as before.

The subset, checked at C speed by one regular expression read line by line (a line it
cannot read, the ``other`` alternative, sends the file back) and one search of the whole file
for templates outside it:

* ASCII only, no tab, no CR, ending in a newline (or empty);
* blank lines and ``#`` / ``//`` comments, alone or at the end of a line (no ``/*``, and none
  inside a value);
* block headers ``ident "label" ... {`` on one line (quoted labels without ``\\``, ``$`` or
  ``%``; no identifier labels), ``}`` lines, and empty blocks ``ident "label" {}``, balanced,
  with only blocks at the top level;
* attributes ``ident = value``, the value an expression of strings (the escapes ``\\n``,
  ``\\"``, ``\\\\``, ``\\uXXXX``, ``$${``, ``%%{``; interpolations of a reference or of a call
  of references and numbers; no ``%{`` directive), numbers, ``true``/``false``/``null``,
  references with ``.attr`` (``[index]`` in the two outer levels), function calls, tuples and
  objects, nested at most ``_DEPTH`` deep, with one binary operator at most (a simple right
  operand), or a conditional of simple expressions; tuples, objects and call arguments may
  break lines (objects: commas or line breaks; a trailing comma in tuples and objects);
* heredocs ``ident = <<EOF`` / ``<<-EOF`` under the same template rule.

Each such rule follows what tree-sitter-hcl does with the shape (where literal text starts and
ends, which escapes stay inside it, where a comment attaches); anything it was not checked for
is outside the subset.

Whatever a consumer does not read is never built: the top-level blocks exist at first, a
block's children when asked for, an expression's nodes when its children are read.
tests/test_hcl_quick.py holds every tree it accepts equal to tree-sitter's (fixtures,
generated and mutated inputs).
"""

from __future__ import annotations

import re
from weakref import ref as _ref

_DEPTH = 3

# -- the subset, as regular expressions ----------------------------------------------------------
_IDENT = rb"[A-Za-z_][\w-]*+"  # possessive (Python 3.11): names are read whole, never backtracked into
_NAME_KEYWORD = rb"(?!(?:true|false|null|for|in|if|else|endif|endfor)(?![\w-]))" + _IDENT
# A name that starts a reference or a call: ``true``/``false``/``null`` there are literals (then ``true.x``,
# ``true[0]``, ``true(...)`` are outside the subset).
_HEAD = rb"(?!(?:true|false|null)[.\[(])" + _IDENT
_REF = _HEAD + rb"(?:\." + _IDENT + rb")*"
# Templates (quoted strings, heredocs) are checked once for the whole file (``_TEMPLATE``): no
# directive (``%{``), no interpolation but ``${a.b}`` (no name starting with true/false/null there);
# the escapes ``$${`` and ``%%{`` stay inside the literal text, as tree-sitter has them, and so do
# ``\\n``, ``\\"``, ``\\\\``, ``\\uXXXX`` in quoted strings (the only escapes taken there).
_PATH = _IDENT + rb"(?:\." + _IDENT + rb")*"
# What an interpolation may hold: a reference, or a call of references and numbers.
_ARGUMENT = rb"(?:(?!true|false|null)" + _PATH + rb"|\d+(?![\w.]))"
_INTERPOLATED = (rb"(?!true|false|null)(?:" + _IDENT + rb"\( *(?:" + _ARGUMENT + rb"(?: *, *" + _ARGUMENT
                 + rb")*)? *\)|" + _PATH + rb")")
_TEMPLATE = re.compile(rb"\$\$\$|%%%|%(?<!%%)\{|\$(?<!\$\$)\{(?! *" + _INTERPOLATED + rb" *\})")  # $ or %: a fast scan
_ESCAPE = rb'\\(?:[nrt"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})'
_STRING = rb'"(?:[^"\\\n]++|' + _ESCAPE + rb')*"'
_NUMBER = rb"\d+(?:\.\d+)?(?![\w.])"
_LITERAL = rb"(?:true|false|null)(?![\w-])"
_OP = rb"(?:==|!=|<=|>=|&&|\|\||[-+*/%<>])"
_COMMENT = rb"(?:#|//)[^\n]*+"


# Inside brackets lines may break, and comments end them (tree-sitter hangs them on the tuple,
# object, call or arguments they stand in).
_NL = rb"[ \n]*+(?:(?:#|//)[^\n]*+[ \n]*+)*+"


def _items(item: bytes, closer: bytes, trailing: bool = False, lines: bool = False, nl: bytes = _NL) -> bytes:
    """``item`` repeated, separated by commas (``lines``: or line breaks), a comma after the last only
    when ``trailing``, up to ``closer`` (not consumed)."""
    comma = rb" *," + nl + (b"" if trailing else rb"(?!" + closer + rb")")
    newline = rb"| *(?:" + _COMMENT + rb")?\n" + nl if lines else b""
    return rb"(?:" + item + rb"(?:" + comma + newline + rb"|(?=" + nl + closer + rb")))*"


def _call_pattern(inner: bytes, nl: bytes = _NL) -> bytes:
    return _HEAD + rb"\(" + nl + _items(inner, rb"\)", nl=nl) + nl + rb"\)"


_ATOM = rb"(?:" + _STRING + rb"|" + _NUMBER + rb"|" + _LITERAL + rb"|" + _REF + rb")"
# (a call of simple arguments on one line: its pattern is copied into every level)
_SIMPLE = rb"(?:" + _call_pattern(_ATOM, nl=b" *") + rb"|" + _ATOM + rb")"
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
        _call_pattern(inner),
        rb"\[" + _NL + rb"(?!for(?![\w-]))" + _items(inner, rb"\]", trailing=True) + _NL + rb"\]",
        rb"\{" + _NL + rb"(?!for(?![\w-]))"
        + _items(rb"(?:" + _IDENT + rb"|" + _STRING + rb") *= *" + inner, rb"\}", trailing=True, lines=True)
        + _NL + rb"\}",
        # Indexes in the two outer levels only (each copy of the pattern costs compile time).
        _HEAD + rb"(?:\." + _IDENT + rb"|\[ *" + _INDEX + rb" *\])*" if depth >= _DEPTH - 1 else _REF,
    ]) + rb")"


# An attribute's value: an expression, or a conditional of simple ones (``var.create ? 1 : 0``).
_VALUE = (rb"(?:" + _INDEX + rb" *\? *" + _SIMPLE + rb" *: *" + _SIMPLE + rb"(?![ \w.(\[\]\\\"])|"
          + _expression(_DEPTH) + _BINARY_TAIL + rb")")
_HEREDOC_LINE = rb"[^\n]*+"
_LABEL = rb'"[^"\\$%\n]*"'
_TAIL = rb" *(?:" + _COMMENT + rb")?\n"

_LINE_PATTERN = (
    rb" *(?:"
    + rb"(?P<blank>)\n"
    + rb"|(?P<comment>" + _COMMENT + rb")\n"
    + rb"|(?P<open>" + _NAME_KEYWORD + rb"(?: +" + _LABEL + rb")* *\{)" + _TAIL
    + rb"|(?P<close>\})" + _TAIL
    + rb"|(?P<empty>" + _NAME_KEYWORD + rb"(?: +" + _LABEL + rb")* *\{ *\})" + _TAIL
    + rb"|(?P<attr>" + _NAME_KEYWORD + rb" *= *" + _VALUE + rb")" + _TAIL
    + rb"|(?P<here>" + _NAME_KEYWORD + rb" *= *<<-?(?P<mark>" + _IDENT + rb")\n"
    + rb"(?:(?! *(?P=mark)\n)" + _HEREDOC_LINE + rb"\n)* *(?P=mark))\n"
    + rb"|(?P<other>[^\n]+\n?|\n)"  # anything else: the file is not in the subset
    + rb")")

# Reading a line already known to be in the subset.
_HEADER = re.compile(rb"(" + _IDENT + rb")((?: +" + _LABEL + rb")*) *(\{) *(?:(\})|(" + _COMMENT + rb")?\n)")
_LABELS = re.compile(_LABEL)
_HERE = re.compile(rb"(" + _IDENT + rb") *(=) *(<<-?)(" + _IDENT + rb")\n")
_CLOSE = re.compile(rb"\} *(" + _COMMENT + rb")?\n")
_INTERP = re.compile(rb"(?<!\$)\$\{ *(" + _INTERPOLATED + rb") *\}")  # not $${, an escape
_NAME = re.compile(rb"[A-Za-z_][\w-]*")
_NUM = re.compile(rb"\d+(?:\.\d+)?")
_OPERATOR = re.compile(_OP)


# Where an expression inside a call, tuple, object or index ends (text known to be in the subset:
# strings hold no quote, brackets balance), so that it is read only when a consumer asks.
_QUOTED = rb'"(?:[^"\\\n]|\\.)*"'


def _brackets(depth: int) -> bytes:
    """A bracketed group (its insides may break lines), nested ``depth`` deep. Which bracket closes
    which is not checked again: the line pattern did."""
    inside = (rb'(?:[^()\[\]{}"#/]++|/(?!/)|' + _COMMENT + rb"|" + _QUOTED
              + (rb"|" + _brackets(depth - 1) if depth else b"") + rb")*")
    return rb"[(\[{]" + inside + rb"[)\]}]"


# An expression inside brackets ends at a comma, a closing bracket or the end of its line.
_SKIP_PATTERN = rb'(?:[^()\[\]{}",\n#/]|/(?!/)|' + _QUOTED + rb"|" + _brackets(_DEPTH + 1) + rb")*"
_BRACKET_PATTERN = _brackets(_DEPTH + 1)
_STRING_RE = re.compile(_STRING)
_EMPTY: list = []


class Node:
    """One named node; its children are built on first read (``_make(node)``, from ``node._ctx``)."""

    # The parent is held weakly: a tree of strong references both ways would be a cycle per node,
    # freed only by the cyclic collector (which a CLI run calls rarely: 62 MB against 38 MB on 4,000
    # Terraform files, and slower). The root holds everything built, and the consumers the root.
    __slots__ = ("__weakref__", "_children", "_ctx", "_make", "_named", "_parent", "end_byte", "start_byte", "type")
    is_named = True
    has_error = False
    is_missing = False

    def __init__(self, type_: str, start: int, end: int, parent=None, children=None, make=None, ctx=None):
        self.type = type_
        self.start_byte = start
        self.end_byte = end
        self._parent = None if parent is None else _ref(parent)
        self._children = self._named = children
        self._make = make
        self._ctx = ctx

    @property
    def parent(self):
        parent = self._parent
        return None if parent is None else parent()

    @property
    def children(self) -> list:
        if self._children is None:
            self._make(self)
        return self._children

    @property
    def named_children(self) -> list:
        if self._named is None:
            self._make(self)
        return self._named

    @property
    def child_count(self) -> int:
        return len(self.children)

    def __repr__(self) -> str:
        return f"<quick {self.type} {self.start_byte}-{self.end_byte}>"


class Token(Node):
    """An anonymous node (``=``, ``(``, ``{``...)."""

    __slots__ = ()
    is_named = False


def _leaf(type_: str, start: int, end: int, parent) -> Node:
    return Node(type_, start, end, parent, _EMPTY)


def _set(node: Node, children: list, named: list | None = None) -> None:
    """``named``: the named ones, when not all are."""
    node._children = children
    node._named = children if named is None else named


def _brace(node: Node) -> None:
    start = node.start_byte
    _set(node, [Token(_BRACES[node.type], start, node.end_byte, node, _EMPTY)], _EMPTY)


_BRACES = {"block_start": "{", "block_end": "}", "object_start": "{", "object_end": "}", "tuple_start": "[",
           "tuple_end": "]", "heredoc_start": "<<"}


class Tree:
    __slots__ = ("root_node",)

    def __init__(self, root: Node):
        self.root_node = root


_LINE = _SKIP = _BRACKET = None


def _line():
    # Compiled on first use (about 40 ms): only a process that reads many HCL files asks (``hcl.tree``).
    global _LINE, _SKIP, _BRACKET
    if _LINE is None:
        _SKIP, _BRACKET = re.compile(_SKIP_PATTERN), re.compile(_BRACKET_PATTERN)
        _LINE = re.compile(_LINE_PATTERN)
    return _LINE


def parse(src: bytes) -> Tree | None:
    """The tree of ``src``, or None when the file is outside the subset (tree-sitter reads it)."""
    size = len(src)
    if not size:
        return Tree(Node("config_file", 0, 0, None, _EMPTY))
    if src[-1] != 0x0A or not src.isascii() or b"\t" in src or b"\r" in src or _TEMPLATE.search(src):
        return None
    line = _LINE or _line()
    # One record per block (and one for the file): [elements, comments, header line, closing line].
    # An element is (kind, start, end, the block's record or None); a comment is (start, end).
    top = [[], [], None, None]
    stack = [top]
    current = top
    for m in line.finditer(src):
        kind = m.lastgroup
        if kind == "attr" or kind == "here":
            if current is top:
                return None
            start, end = m.span(kind)
            current[0].append((kind, start, end, None))
            if kind == "attr" and m.end() - 1 != end:  # a comment (or spaces) after the value
                _tail_comment(src, end, current)
        elif kind == "open":
            block = [[], [], m, None]
            current[0].append((kind, m.start(kind), 0, block))
            stack.append(block)
            current = block
        elif kind == "close":
            if current is top:
                return None
            current[3] = m
            stack.pop()
            current = stack[-1]
            if m.end() - 1 != m.end(kind):
                _tail_comment(src, m.end(kind), current)
        elif kind == "comment":
            current[1].append(m.span(kind))
        elif kind == "empty":
            start, end = m.span(kind)
            current[0].append((kind, start, end, None))
            if m.end() - 1 != end:
                _tail_comment(src, end, current)
        elif kind != "blank":  # a line outside the subset
            return None
    if current is not top:
        return None
    root = Node("config_file", 0, size)
    _set(root, _region(src, top, root))
    return Tree(root)


def _tail_comment(src: bytes, end: int, record: list) -> None:
    """A comment after a value or a ``}`` on its line goes to the enclosing record (spaces alone: nothing)."""
    tail = end
    while src[tail] == 0x20:
        tail += 1
    if src[tail] != 0x0A:
        record[1].append((tail, src.index(b"\n", tail)))


def _block_end(element: tuple) -> int:
    return element[2] if element[0] != "open" else element[3][3].start("close") + 1


def _region(src: bytes, record: list, owner: Node) -> list:
    """The children of a block (or of the file) inside its braces: comments, and a ``body`` whose
    elements are built when it is read."""
    elements, comments = record[0], record[1]
    if not elements:
        return [_leaf("comment", a, b, owner) for a, b in comments]
    body_start, body_end = elements[0][1], _block_end(elements[-1])
    inside = [c for c in comments if body_start <= c[0] < body_end] if comments else comments
    body = Node("body", body_start, body_end, owner, None, _make_body, (src, elements, inside))
    if not comments:
        return [body]
    return ([_leaf("comment", a, b, owner) for a, b in comments if a < body_start] + [body]
            + [_leaf("comment", a, b, owner) for a, b in comments if a >= body_end])


def _make_body(body: Node) -> None:
    src, elements, comments = body._ctx
    kids = []
    for kind, start, end, block in elements:
        if kind == "attr":
            kids.append(Node("attribute", start, end, body, None, _make_attribute, src))
        elif kind == "open":
            kids.append(Node("block", start, block[3].start("close") + 1, body, None, _make_block, (src, block)))
        elif kind == "empty":
            kids.append(Node("block", start, end, body, None, _make_block, (src, None)))
        else:
            kids.append(Node("attribute", start, end, body, None, _make_heredoc_attribute, src))
    if comments:
        kids.extend(_leaf("comment", a, b, body) for a, b in comments)
        kids.sort(key=_start)
    _set(body, kids)


def _start(node: Node) -> int:
    return node.start_byte


def _make_block(block: Node) -> None:
    src, record = block._ctx
    m = _HEADER.match(src, block.start_byte)
    kids = [_leaf("identifier", m.start(1), m.end(1), block)]
    if m.end(2) > m.start(2):
        for label in _LABELS.finditer(src, m.start(2), m.end(2)):
            kids.append(Node("string_lit", label.start(), label.end(), block, None, _make_string_lit, src))
    kids.append(Node("block_start", m.start(3), m.end(3), block, None, _brace))
    if m.start(5) != -1:
        # The header's comment comes before everything else inside the braces.
        kids.append(_leaf("comment", m.start(5), m.end(5), block))
    if record is not None:
        kids.extend(_region(src, record, block))
    end = block.end_byte
    kids.append(Node("block_end", end - 1, end, block, None, _brace))
    _set(block, kids)


def _make_attribute(node: Node) -> None:
    src = node._ctx
    name_end = _NAME.match(src, node.start_byte).end()
    eq = src.index(b"=", name_end)
    value = eq + 1
    while src[value] == 0x20:
        value += 1
    ident = Node("identifier", node.start_byte, name_end, node, _EMPTY)
    expr = Node("expression", value, node.end_byte, node, None, _make_expression, src)
    _set(node, [ident, Token("=", eq, eq + 1, node, _EMPTY), expr], [ident, expr])


def _make_heredoc_attribute(node: Node) -> None:
    src = node._ctx
    start, end = node.start_byte, node.end_byte
    m = _HERE.match(src, start)
    expr = Node("expression", m.start(3), end, node)
    template_expr = Node("template_expr", m.start(3), end, expr)
    _set(expr, [template_expr])
    _set(template_expr, [Node("heredoc_template", m.start(3), end, template_expr, None, _make_heredoc, (src, m))])
    ident = _leaf("identifier", m.start(1), m.end(1), node)
    _set(node, [ident, Token("=", m.start(2), m.end(2), node, _EMPTY), expr], [ident, expr])


def _make_heredoc(heredoc: Node) -> None:
    src, m = heredoc._ctx
    opener = Node("heredoc_start", m.start(3), m.end(3), heredoc)
    _set(opener, [Token(src[m.start(3):m.end(3)].decode(), m.start(3), m.end(3), opener, _EMPTY)], _EMPTY)
    mark = m.end(4) - m.start(4)
    kids = [opener, _leaf("heredoc_identifier", m.start(4), m.end(4), heredoc)]
    _template_parts(src, m.end(4) + 1, heredoc.end_byte - mark, b" \n", heredoc, kids)
    kids.append(_leaf("heredoc_identifier", heredoc.end_byte - mark, heredoc.end_byte, heredoc))
    _set(heredoc, kids)


def _template_parts(src: bytes, start: int, end: int, blank: bytes, parent: Node, parts: list) -> None:
    """Literal text (trimmed of ``blank``; none when only blank) and ``${ref}`` interpolations."""
    at = start
    for m in _INTERP.finditer(src, start, end):
        _literal(src, at, m.start(), blank, parent, parts)
        interp = Node("template_interpolation", m.start(), m.end(), parent)
        _set(interp, [_leaf("template_interpolation_start", m.start(), m.start() + 2, interp),
                      Node("expression", m.start(1), m.end(1), interp, None, _make_expression, src),
                      _leaf("template_interpolation_end", m.end() - 1, m.end(), interp)])
        parts.append(interp)
        at = m.end()
    _literal(src, at, end, blank, parent, parts)


def _literal(src: bytes, start: int, end: int, blank: bytes, parent: Node, parts: list) -> None:
    chunk = src[start:end]
    stripped = chunk.lstrip(blank)
    if not stripped:
        return
    first = start + len(chunk) - len(stripped)
    parts.append(_leaf("template_literal", first, first + len(stripped.rstrip(blank)), parent))


def _make_string_lit(node: Node) -> None:
    src = node._ctx
    start, end = node.start_byte, node.end_byte
    kids = [_leaf("quoted_template_start", start, start + 1, node)]
    _literal(src, start + 1, end - 1, b" ", node, kids)
    kids.append(_leaf("quoted_template_end", end - 1, end, node))
    _set(node, kids)


# -- expressions, read from text known to be in the subset ------------------------------------------
def _make_expression(expr: Node) -> None:
    """An expression's nodes (the ones of the expressions inside it are read when asked for)."""
    kids, _ = _terms(expr._ctx, expr.start_byte, expr.end_byte, expr)
    _set(expr, kids)


def _lazy_expression(src: bytes, at: int, parent: Node) -> Node:
    """The expression starting at ``at`` (inside brackets): its extent now, its nodes when read."""
    end = _SKIP.match(src, at).end()
    while src[end - 1] == 0x20:
        end -= 1
    return Node("expression", at, end, parent, None, _make_expression, src)


def _skip(src: bytes, at: int) -> int:
    """Past spaces and line breaks (inside brackets)."""
    while src[at] == 0x20 or src[at] == 0x0A:
        at += 1
    return at


def _terms(src: bytes, at: int, stop: int, parent: Node) -> tuple[list, int]:
    """The nodes of the expression from ``at`` to ``stop``, as children of ``parent``."""
    nodes, end = _binary(src, at, stop, parent)
    after = end
    while after < stop and src[after] == 0x20:
        after += 1
    if after == stop:
        return nodes, end
    # cond ? a : b: conditional > expression, ?, expression, :, expression.
    conditional = Node("conditional", at, stop, parent)
    condition = Node("expression", at, end, conditional)
    for node in nodes:
        node._parent = _ref(condition)
    _set(condition, nodes)
    yes_at = _skip(src, after + 1)
    yes = Node("expression", yes_at, 0, conditional)
    yes_nodes, yes.end_byte = _operand(src, yes_at, stop, yes)
    _set(yes, yes_nodes)
    colon = _skip(src, yes.end_byte)
    no = Node("expression", _skip(src, colon + 1), stop, conditional, None, _make_expression, src)
    question = Token("?", after, after + 1, conditional, _EMPTY)
    _set(conditional, [condition, question, yes, Token(":", colon, colon + 1, conditional, _EMPTY), no],
         [condition, yes, no])
    return [conditional], stop


def _binary(src: bytes, at: int, stop: int, parent: Node) -> tuple[list, int]:
    """An operand, or two with an operator between them."""
    left, end = _operand(src, at, stop, parent)
    after = end
    while after < stop and src[after] == 0x20:
        after += 1
    op = _OPERATOR.match(src, after) if after < stop else None
    if op is None:
        return left, end
    # operation > binary_operation > the operands' nodes, unwrapped.
    operation = Node("operation", at, 0, parent)
    binary = Node("binary_operation", at, 0, operation)
    _set(operation, [binary])
    for node in left:
        node._parent = _ref(binary)
    right, end = _operand(src, _skip(src, op.end()), stop, binary)
    operation.end_byte = binary.end_byte = end
    _set(binary, [*left, Token(op.group().decode(), op.start(), op.end(), binary, _EMPTY), *right], [*left, *right])
    return [operation], end


def _close_of(src: bytes, at: int) -> int:
    """The end of the bracketed group opening at ``at``."""
    return _BRACKET.match(src, at).end()


def _operand(src: bytes, at: int, stop: int, parent: Node) -> tuple[list, int]:
    c = src[at]
    if c == 0x22:  # "
        end = _STRING_RE.match(src, at).end()
        if _INTERP.search(src, at, end) is None:
            lit = Node("literal_value", at, end, parent)
            _set(lit, [Node("string_lit", at, end, lit, None, _make_string_lit, src)])
            return [lit], end
        outer = Node("template_expr", at, end, parent)
        quoted = Node("quoted_template", at, end, outer)
        kids = [_leaf("quoted_template_start", at, at + 1, quoted)]
        _template_parts(src, at + 1, end - 1, b" ", quoted, kids)
        kids.append(_leaf("quoted_template_end", end - 1, end, quoted))
        _set(quoted, kids)
        _set(outer, [quoted])
        return [outer], end
    if 0x30 <= c <= 0x39:
        end = _NUM.match(src, at).end()
        lit = Node("literal_value", at, end, parent)
        _set(lit, [_leaf("numeric_lit", at, end, lit)])
        return [lit], end
    if c == 0x5B or c == 0x7B:  # [ {
        return _collection(src, at, parent)
    end = _NAME.match(src, at).end()
    word = src[at:end]
    if word == b"true" or word == b"false" or word == b"null":
        lit = Node("literal_value", at, end, parent)
        if word == b"null":
            inner = _leaf("null_lit", at, end, lit)
        else:
            inner = Node("bool_lit", at, end, lit)
            _set(inner, [Token(word.decode(), at, end, inner, _EMPTY)], _EMPTY)
        _set(lit, [inner])
        return [lit], end
    if end < stop and src[end] == 0x28:  # (
        return _call(src, at, end, parent)
    var = Node("variable_expr", at, end, parent)
    _set(var, [_leaf("identifier", at, end, var)])
    parts = [var]
    while end < stop:
        c = src[end]
        if c == 0x2E:  # .
            name_end = _NAME.match(src, end + 1).end()
            get = Node("get_attr", end, name_end, parent)
            ident = _leaf("identifier", end + 1, name_end, get)
            _set(get, [Token(".", end, end + 1, get, _EMPTY), ident], [ident])
            parts.append(get)
            end = name_end
        elif c == 0x5B:  # [
            close = _close_of(src, end)
            index = Node("index", end, close, parent)
            new = Node("new_index", end, close, index)
            _set(index, [new])
            expr = _lazy_expression(src, _skip(src, end + 1), new)
            _set(new, [Token("[", end, end + 1, new, _EMPTY), expr, Token("]", close - 1, close, new, _EMPTY)], [expr])
            parts.append(index)
            end = close
        else:
            break
    return parts, end


def _gap(src: bytes, at: int, parent: Node, kids: list, named: list) -> int:
    """Past spaces, line breaks and comments (inside brackets); the comments become ``parent``'s children."""
    while True:
        c = src[at]
        if c == 0x20 or c == 0x0A:
            at += 1
        elif c == 0x23 or c == 0x2F and src[at + 1] == 0x2F:  # # or //
            end = src.index(b"\n", at)
            comment = _leaf("comment", at, end, parent)
            kids.append(comment)
            named.append(comment)
            at = end
        else:
            return at


def _call(src: bytes, at: int, paren: int, parent: Node) -> tuple[list, int]:
    close = _close_of(src, paren)
    node = Node("function_call", at, close, parent)
    name = _leaf("identifier", at, paren, node)
    kids = [name, Token("(", paren, paren + 1, node, _EMPTY)]
    named = [name]
    end = close - 1
    # Comments before the first argument and after the last are the call's; between them, the arguments'.
    at = _gap(src, paren + 1, node, kids, named)
    if at < end:
        args = Node("function_arguments", at, end, node)
        arg_kids, arg_named = [], []
        while True:
            expr = _lazy_expression(src, at, args)
            arg_kids.append(expr)
            arg_named.append(expr)
            at = _skip(src, expr.end_byte)
            if src[at] != 0x2C:  # no comma: that was the last
                break
            arg_kids.append(Token(",", at, at + 1, args, _EMPTY))
            at = _gap(src, at + 1, args, arg_kids, arg_named)
        args.end_byte = expr.end_byte
        _set(args, arg_kids, arg_named)
        kids.append(args)
        named.append(args)
        _gap(src, expr.end_byte, node, kids, named)
    kids.append(Token(")", end, close, node, _EMPTY))
    _set(node, kids, named)
    return [node], close


def _collection(src: bytes, start: int, parent: Node) -> tuple[list, int]:
    close = _close_of(src, start)
    kind = "tuple" if src[start] == 0x5B else "object"
    collection = Node("collection_value", start, close, parent)
    node = Node(kind, start, close, collection)
    _set(collection, [node])
    kids = [Node(kind + "_start", start, start + 1, node, None, _brace)]
    named = [kids[0]]
    end = close - 1
    at = _gap(src, start + 1, node, kids, named)
    while at < end:
        if kind == "tuple":
            item = _lazy_expression(src, at, node)
        else:
            item = Node("object_elem", at, at, node)
            key_end = (_STRING_RE if src[at] == 0x22 else _NAME).match(src, at).end()
            key = Node("expression", at, key_end, item, None, _make_expression, src)
            eq = _skip(src, key.end_byte)
            value = _lazy_expression(src, _skip(src, eq + 1), item)
            item.end_byte = value.end_byte
            _set(item, [key, Token("=", eq, eq + 1, item, _EMPTY), value], [key, value])
        kids.append(item)
        named.append(item)
        at = _gap(src, item.end_byte, node, kids, named)
        if src[at] == 0x2C:  # ,
            kids.append(Token(",", at, at + 1, node, _EMPTY))
            at = _gap(src, at + 1, node, kids, named)
    last = Node(kind + "_end", end, close, node, None, _brace)
    kids.append(last)
    named.append(last)
    _set(node, kids, named)
    return [collection], close
