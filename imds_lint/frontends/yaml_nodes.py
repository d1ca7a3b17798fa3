"""YAML nodes with positions, and CloudFormation's short tags read off them.

``compose`` keeps every node's marks (character offsets) and tags without
constructing anything, so no tag can run code. ``scalar_chars`` maps a scalar's value back to the
characters that spell it, where that mapping is exact (block literals,
unescaped flow scalars), so edits can go back into the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model is imported where it is used: YAML routes that find nothing never load it
    from imds_lint.model import OffsetMap

CFN_TAGS = ("Ref", "Sub", "Base64", "Join", "GetAtt", "If", "Select", "Split", "FindInMap", "ImportValue",
            "GetAZs", "Equals", "Not", "And", "Or", "Condition", "Cidr", "Transform", "Length", "ToJsonString")

# (char, outer start, outer end) for each character of a scalar's value.
Chars = list[tuple[str, int, int]]


def compose(text: str):
    """The first YAML document's node tree (raises yaml.YAMLError on bad input)."""
    roots = compose_all(text)
    return roots[0] if roots else None


def compose_all(text: str, exact_error: bool = True) -> list:
    """Every document's node tree, with marks and tags (raises yaml.YAMLError on bad input).

    libyaml's composer when PyYAML was built with it: about ten times faster
    than the pure-Python one, and its nodes are the same once a plain scalar's
    style "" is spelt None as there. They differ on a byte order mark (libyaml
    leaves it out of the offsets): a leading one is put back into the marks,
    and text with one elsewhere, or that cannot be encoded as UTF-8, takes the
    pure-Python path. So does text libyaml
    rejects: it keeps what parses, and the error messages, as before. A
    caller that only needs to know *that* the text is broken passes
    ``exact_error=False``: without a tab (libyaml's rejections that the
    pure-Python composer accepts all involve tabs) libyaml's error stands,
    unless it is libyaml's own nesting limit.
    """
    import yaml

    # A leading byte order mark (Windows editors write one) is left out for libyaml and put back
    # into the marks after; elsewhere in the text libyaml would keep it as a character.
    bom = text.startswith("\ufeff") and "\ufeff" not in text[1:]
    if getattr(yaml, "__with_libyaml__", False) and (bom or "\ufeff" not in text):
        try:
            roots = list(yaml.compose_all(text[1:] if bom else text, Loader=yaml.CSafeLoader))
            if bom:
                _shift_marks(roots)
        except yaml.YAMLError as error:
            # libyaml's nesting limit (1,000) is its own, not YAML's: such text takes the pure path.
            if not exact_error and "\t" not in text and "maximum nesting depth" not in str(error):
                raise
        except UnicodeEncodeError:
            pass
        else:
            return defuse_aliases(roots, plain_style_is_none=True)
    # libyaml stops at 1,000 levels of nesting. PyYAML's own scanner and parser then read the
    # text, with the composer made iterative and the scanner's simple-key bookkeeping made
    # linear (both exact equivalents, see _DeepSafeLoader): a template padded thousands of
    # levels deep keeps its findings, in time linear in its size.
    return defuse_aliases(list(yaml.compose_all(text, Loader=_deep_safe_loader())))


def _shift_marks(roots: list) -> None:
    """Marks of text read without its leading byte order mark, as if it were there: one character
    more on every index (PyYAML counts the mark in offsets, not in columns). libyaml's marks are
    read-only and may be shared: each is replaced once."""
    from yaml.error import Mark

    moved: dict[int, object] = {}
    seen: set[int] = set()

    def shifted(mark):
        if mark is None:
            return None
        new = moved.get(id(mark))
        if new is None:
            new = moved[id(mark)] = Mark(mark.name, mark.index + 1, mark.line, mark.column, None, None)
        return new

    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        node.start_mark, node.end_mark = shifted(node.start_mark), shifted(node.end_mark)
        stack.extend(_children(node))


# Deeper than this is no configuration file: the engine text-scans it with a note (nodes cost
# about 1 KB a level with their marks, so the bound keeps a tree under ~50 MB).
MAX_DEPTH = 50_000
# PyYAML's pure-Python reader costs ~20 us of CPU a node (libyaml's ~5): past this many nodes
# (~4.5 s, ~160 MB) a file libyaml refused is text-scanned with a note, not parsed for a minute.
PURE_NODE_BUDGET = 200_000


def _deep_safe_loader():
    """PyYAML's SafeLoader with two changes that give the same nodes, tags and errors:

    * the composer builds collections with a stack instead of recursing twice
      per level (so depth is bounded by ``MAX_DEPTH``, not by Python's stack);
    * the scanner's possible simple keys live in an ``OrderedDict``. PyYAML
      scans all of them, one per open flow level, on every token: quadratic in
      depth (10 s at 5,000 levels). Keys are saved in the order of their
      position and token number (a key re-saved at its level is removed
      first), so the nearest key is the first one and the stale keys (on an
      earlier line, or more than 1,024 characters back) are a prefix.
    """
    global _LOADER
    if _LOADER is None:
        _LOADER = _build_loader()
    return _LOADER


_LOADER = None


def _build_loader():
    from collections import OrderedDict

    import yaml
    from yaml.composer import ComposerError
    from yaml.events import AliasEvent, MappingEndEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent
    from yaml.nodes import MappingNode, SequenceNode
    from yaml.scanner import Scanner, ScannerError

    class LinearScanner(Scanner):
        def __init__(self):
            super().__init__()
            self.possible_simple_keys = OrderedDict()

        def need_more_tokens(self):
            # Scanner.need_more_tokens with the two look-ups below inlined: it runs for every token.
            if self.done:
                return False
            if not self.tokens:
                return True
            keys = self.possible_simple_keys
            if keys:
                self.stale_possible_simple_keys()
                if keys and keys[next(iter(keys))].token_number == self.tokens_taken:
                    return True
            return None

        def next_possible_simple_key(self):
            keys = self.possible_simple_keys
            return keys[next(iter(keys))].token_number if keys else None

        def stale_possible_simple_keys(self):
            keys = self.possible_simple_keys
            while keys:
                level = next(iter(keys))
                key = keys[level]
                if key.line == self.line and self.index - key.index <= 1024:
                    return
                if key.required:
                    raise ScannerError("while scanning a simple key", key.mark,
                                       "could not find expected ':'", self.get_mark())
                del keys[level]

    class StackComposer(yaml.composer.Composer):
        def compose_node(self, parent, index):
            # Open collections: [node, next sequence index, mapping key waiting for its value].
            frames: list[list] = []
            while True:
                done = self._start_node(parent, index, frames)
                while True:
                    if done is not None:
                        if not frames:
                            return done
                        frame = frames[-1]
                        if frame[0].id == "sequence":
                            frame[0].value.append(done)
                            frame[1] += 1
                        elif frame[2] is None:
                            frame[2] = done
                        else:
                            frame[0].value.append((frame[2], done))
                            frame[2] = None
                        done = None
                    frame = frames[-1]
                    node = frame[0]
                    end = SequenceEndEvent if node.id == "sequence" else MappingEndEvent
                    if frame[2] is None and self.check_event(end):
                        node.end_mark = self.get_event().end_mark
                        frames.pop()
                        self.ascend_resolver()
                        done = node
                        continue
                    parent, index = node, frame[1] if node.id == "sequence" else frame[2]
                    break

        def _start_node(self, parent, index, frames):
            """A scalar or alias (returned), or a collection opened on ``frames`` (None)."""
            if self.check_event(AliasEvent):
                event = self.get_event()
                if event.anchor not in self.anchors:
                    raise ComposerError(None, None, "found undefined alias %r" % event.anchor, event.start_mark)
                return self.anchors[event.anchor]
            event = self.peek_event()
            anchor = event.anchor
            if anchor is not None and anchor in self.anchors:
                raise ComposerError("found duplicate anchor %r; first occurrence" % anchor,
                                    self.anchors[anchor].start_mark, "second occurrence", event.start_mark)
            self.nodes += 1
            if self.nodes > PURE_NODE_BUDGET:
                from imds_lint.frontends import ParserGaveUp

                raise ParserGaveUp(f"over {PURE_NODE_BUDGET:,} YAML nodes that only the pure-Python reader "
                                   "can read (nested deeper than libyaml allows, or text libyaml refuses)")
            self.descend_resolver(parent, index)
            if self.check_event(ScalarEvent):
                node = self.compose_scalar_node(anchor)
                self.ascend_resolver()
                return node
            if len(frames) >= MAX_DEPTH:
                raise RecursionError(f"YAML nested deeper than {MAX_DEPTH} levels")
            start = self.get_event()
            kind = SequenceNode if isinstance(start, SequenceStartEvent) else MappingNode
            tag = start.tag
            if tag is None or tag == "!":
                tag = self.resolve(kind, None, start.implicit)
            node = kind(tag, [], start.start_mark, None, flow_style=start.flow_style)
            if anchor is not None:
                self.anchors[anchor] = node
            frames.append([node, 0, None])
            return None

    class DeepSafeLoader(yaml.reader.Reader, LinearScanner, yaml.parser.Parser, StackComposer,
                         yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        def __init__(self, stream):
            yaml.reader.Reader.__init__(self, stream)
            LinearScanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            StackComposer.__init__(self)
            self.nodes = 0
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return DeepSafeLoader


def safe_load(text: str):
    """``yaml.safe_load`` over the defused node tree: merge keys (``<<: *a``) copy entries, so a
    chain of them is an alias bomb for the constructor too."""
    import yaml

    roots = compose_all(text)
    if not roots:
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(roots[0])
    finally:
        loader.dispose()


# Collections an alias may repeat beyond the document's own nodes, before repeats stop being walked.
ALIAS_BUDGET = 10_000


def defuse_aliases(roots: list, plain_style_is_none: bool = False) -> list:
    """The same trees, with alias repeats made harmless where they would cost more than the text.

    An alias repeats a node without copying it, so ~400 bytes can stand for
    9**8 nodes (and ``&a [*a]`` for infinitely many), and every walk of the
    tree pays for each repeat. One pass over the distinct nodes finds the
    repeats; when their expansion fits in a few times the document's own size
    they are kept (a compose file's ``<<: *defaults`` still works), otherwise
    each collection is kept at its first appearance and later ones become empty
    (its requests are still found once, at the anchor, where findings land anyway).
    """
    distinct: set[int] = set()
    shared = False
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in distinct:
            shared = True
            continue
        distinct.add(id(node))
        if node.id == "scalar":
            if plain_style_is_none and node.style == "":
                node.style = None  # libyaml spells a plain scalar's style "", the pure-Python composer None
        elif node.id == "sequence":
            stack.extend(node.value)
        else:
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    if shared and _expanded_size(roots, 4 * len(distinct) + ALIAS_BUDGET) > 4 * len(distinct) + ALIAS_BUDGET:
        _prune_repeats(roots)
    return roots


def _children(node) -> list:
    if node.id == "sequence":
        return node.value
    if node.id == "mapping":
        return [n for pair in node.value for n in pair]
    return []


def _expanded_size(roots: list, limit: int) -> int:
    """How many nodes a walk that follows every alias visits, capped just past ``limit`` (a cycle is past it)."""
    size: dict[int, int] = {}
    open_nodes: set[int] = set()  # the current path's nodes: meeting one again is a cycle
    total = 0
    for root in roots:
        stack = [(root, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            if done:
                open_nodes.discard(key)
                size[key] = min(limit + 1, 1 + sum(size[id(c)] for c in _children(node)))
                continue
            if key in size:
                continue
            if key in open_nodes:
                return limit + 1
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node) if id(c) not in size)
        total += size[id(root)]
        if total > limit:
            return limit + 1
    return total


def _prune_repeats(roots: list) -> None:
    import yaml

    def empty(node):
        cls = yaml.SequenceNode if node.id == "sequence" else yaml.MappingNode
        return cls(node.tag, [], node.start_mark, node.end_mark, flow_style=node.flow_style)

    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        seen.add(id(node))
        if node.id == "sequence":
            items = node.value
            for i, child in enumerate(items):
                if child.id != "scalar" and id(child) in seen:
                    items[i] = empty(child)
                elif child.id != "scalar":
                    seen.add(id(child))
                    stack.append(child)
        elif node.id == "mapping":
            pairs = node.value
            for i, (key, value) in enumerate(pairs):
                if key.id != "scalar" and id(key) in seen:
                    key = empty(key)
                elif key.id != "scalar":
                    seen.add(id(key))
                    stack.append(key)
                if value.id != "scalar" and id(value) in seen:
                    value = empty(value)
                elif value.id != "scalar":
                    seen.add(id(value))
                    stack.append(value)
                pairs[i] = (key, value)


def tag_name(node) -> str | None:
    """``!Sub`` -> "Fn::Sub", ``!Ref`` -> "Ref"; None for ordinary nodes."""
    tag = node.tag or ""
    if tag.startswith("!") and not tag.startswith("!!"):
        suffix = tag[1:]
        return suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return None


def get(node, key: str):
    if node is None or node.id != "mapping":
        return None
    for k, v in node.value:
        if k.id == "scalar" and k.value == key:
            return v
    return None


def intrinsic(node) -> tuple[str, object] | None:
    """``{"Fn::Sub": x}`` or ``!Sub x`` -> ("Fn::Sub", x-node)."""
    name = tag_name(node)
    if name is not None:
        return name, node
    if node is not None and node.id == "mapping" and len(node.value) == 1:
        key, value = node.value[0]
        if key.id == "scalar" and (key.value.startswith("Fn::") or key.value in ("Ref", "Condition")):
            return key.value, value
    return None


def scalar_chars(text: str, node) -> tuple[Chars, bool]:
    """Each character of a scalar's value with its place in ``text``; exact=False when approximated."""
    value = node.value
    start, end = node.start_mark.index, node.end_mark.index
    style = node.style
    if style in ("|",):
        chars = _block_literal(text, node)
        if chars is not None and "".join(c for c, _, _ in chars) == value:
            return chars, True
    elif style in ('"', "'") or style is None:
        if node.tag and node.tag.startswith("!") and not node.tag.startswith("!!") and text.startswith(node.tag, start):
            # A short tag's mark is the tag itself: the scalar starts after it.
            start += len(node.tag)
            while start < end and text[start] in " \t":
                start += 1
        body_start, body_end = (start + 1, end - 1) if style else (start, end)
        if text[body_start:body_end] == value and "\n" not in value:
            return [(c, body_start + i, body_start + i + 1) for i, c in enumerate(value)], True
        if style and "\n" not in text[body_start:body_end]:
            escaped = escaped_chars(text, body_start, body_end, style)
            if escaped is not None and "".join(c for c, _, _ in escaped) == value:
                return escaped, True
    # Folded blocks, escapes, multi-line flow scalars: not exact, but each character can still
    # be found at its own place (so findings land on their line); else the node's start.
    aligned = _aligned(text, start, end, value)
    if aligned is not None:
        return aligned, False
    return [(c, start, start) for c in value], False


# The escapes of a one-line double-quoted scalar that stand for one character each.
_DOUBLE_ESCAPES = {"\\": "\\", '"': '"', "/": "/", "t": "\t", "n": "\n"}


def escaped_chars(text: str, start: int, end: int, style: str) -> Chars | None:
    """A quoted scalar's characters with their spellings (``\\"`` or ``''`` for one character)."""
    chars: Chars = []
    i = start
    while i < end:
        c = text[i]
        if style == '"' and c == "\\":
            meant = _DOUBLE_ESCAPES.get(text[i + 1:i + 2])
            if meant is None:
                return None  # \x41, \u00e9, a line continuation: not worth spelling back
            chars.append((meant, i, i + 2))
            i += 2
        elif style == "'" and c == "'":
            if text[i + 1:i + 2] != "'":
                return None
            chars.append(("'", i, i + 2))
            i += 2
        else:
            chars.append((c, i, i + 1))
            i += 1
    return chars


def _aligned(text: str, start: int, end: int, value: str) -> Chars | None:
    """Each value character matched, in order, to the same character in the source.

    Folding turns a line break and the next line's indentation into one space, and escapes
    (``''``, ``\\"``, ``\\n``) spell one character with two: both only skip source
    characters, so a greedy forward match finds every place. None if one is not found.
    """
    if end - start > 4 * len(value) + 64:
        return None  # mostly something else (comments, a long indicator run): not worth guessing
    chars: Chars = []
    pos = start
    for c in value:
        found = text.find(c, pos, end)
        if found == -1:
            if c in " \n":  # a folded line break: placed where the source line ends
                at = min(text.find("\n", pos, end) if text.find("\n", pos, end) != -1 else pos, end)
                chars.append((c, at, at))
                continue
            return None
        chars.append((c, found, found + 1))
        pos = found + 1
    return chars


def _block_literal(text: str, node) -> Chars | None:
    start, end = node.start_mark.index, node.end_mark.index
    header_end = text.find("\n", start)
    if header_end == -1 or header_end >= end:
        return None
    lines = []
    pos = header_end + 1
    while pos < end:
        line_end = text.find("\n", pos)
        if line_end == -1 or line_end >= end:
            line_end = end
        lines.append((pos, line_end))
        pos = line_end + 1
    indents = [len(text[a:b]) - len(text[a:b].lstrip(" ")) for a, b in lines if text[a:b].strip()]
    if not indents:
        return None
    indent = indents[0]
    chars: Chars = []
    for a, b in lines:
        # A CRLF file: YAML reads "\r\n" as one line break, so the "\r" is not content.
        content_end = b - 1 if b > a and text[b - 1] == "\r" else b
        content_start = min(a + indent, content_end)
        for i in range(content_start, content_end):
            chars.append((text[i], i, i + 1))
        chars.append(("\n", content_end, b + 1))
    value = node.value
    # Chomping: strip what the value does not keep at the end.
    while chars and len(chars) > len(value) and chars[-1][0] == "\n":
        chars.pop()
    return chars


def block_indent(text: str, node) -> str:
    """The indentation of a block literal's content lines (for re-indenting inserted lines)."""
    header_end = text.find("\n", node.start_mark.index)
    line = text[header_end + 1:text.find("\n", header_end + 1)] if header_end != -1 else ""
    return " " * (len(line) - len(line.lstrip(" ")))


def offset_map(chars: Chars):
    """An OffsetMap from per-character outer spans (runs of adjacent characters merge)."""
    from imds_lint.model import OffsetMap, Segment

    segments: list[Segment] = []
    for i, (_, a, b) in enumerate(chars):
        if segments:
            last = segments[-1]
            last_verbatim = last.outer_end - last.outer_start == last.inner_end - last.inner_start
            if last_verbatim and b - a == 1 and last.outer_end == a and last.inner_end == i:
                segments[-1] = Segment(last.inner_start, i + 1, last.outer_start, b)
                continue
        segments.append(Segment(i, i + 1, a, b))
    return OffsetMap(segments)


def sub_decode(chars: Chars) -> Chars:
    """``Fn::Sub`` text: ``${!X}`` is a literal ``${X}``; ``${Param}`` becomes a shell-looking placeholder."""
    import re

    out: Chars = []
    text = "".join(c for c, _, _ in chars)
    i = 0
    while i < len(chars):
        if text.startswith("${!", i):
            out.append(("$", chars[i][1], chars[i + 2][2]))
            out.append(("{", chars[i + 2][2], chars[i + 2][2]))
            i += 3
            continue
        if text.startswith("${", i):
            close = text.find("}", i + 2)
            if close != -1:
                name = text[i + 2:close]
                placeholder = "${" + name + "}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else "${CFN_EXPR}"
                a, b = chars[i][1], chars[close][2]
                out.extend((c, a, a) for c in placeholder[:-1])
                out.append(("}", a, b))
                i = close + 1
                continue
        out.append(chars[i])
        i += 1
    return out


def escape_sub(text: str) -> str:
    return text.replace("${", "${!")


# ---------------------------------------------------------------------------
# A scalar as an embedded document, with the way edits go back into the YAML.


def scalar_document(document, node, kind: str, label: str, *, quote: str = "'", container=None):
    """The scalar's value as a document of ``kind``, writable back into the YAML where that is exact.

    Block literals and quoted scalars take edits piecewise (re-indented, or
    escaped for their quotes). A plain scalar cannot hold most of what a fix
    inserts (``: `` starts a mapping, `` #`` a comment), so it is written back
    whole in ``quote`` quotes (the style its neighbours use); the structure the
    file loads to is the same but for this one string.
    """
    from imds_lint.model import Span, no_escape

    chars, exact = scalar_chars(document.text, node)
    escape = scalar_escape(document.text, node) if exact else None
    inner = "".join(c for c, _, _ in chars)
    if node.style != "|" and "\n" not in inner:
        # The shell fixer keeps one-line scripts on one line for this label ("a; b").
        label = "shell string"
    render = rendered = None
    if exact and escape is None and node.style is None and chars:
        render = lambda fixed: quoted_scalar(fixed, quote)  # noqa: E731
        rendered = Span(chars[0][1], chars[-1][2])
    return document.embed(kind, inner, offset_map(chars), escape=escape or no_escape, label=label,
                          writable=escape is not None or render is not None, render=render, rendered_span=rendered,
                          container=container)


def scalar_escape(text: str, node):
    """How text inserted into a scalar is spelt there; None where that is not exact (plain, folded)."""
    if node.style == "|":
        indent = block_indent(text, node)
        return lambda s: s.replace("\n", "\n" + indent)
    if node.style == '"':
        return lambda s: s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if node.style == "'":
        return lambda s: s.replace("'", "''") if "\n" not in s else s.replace("'", "''").replace("\n", "\n\n")
    return None


def quoted_scalar(value: str, quote: str = "'") -> str | None:
    """``value`` as a one-line flow scalar in ``quote`` quotes (double where it holds a line break
    or a tab, spelt ``\\n``/``\\t``); None for other control characters."""
    if not value.replace("\n", "").replace("\t", "").isprintable():
        return None
    if quote == '"' or "\n" in value or "\t" in value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
    return "'" + value.replace("'", "''") + "'"


def quote_of_neighbours(items) -> str:
    """The quotes a sequence's quoted strings use: double if any does, else single."""
    return '"' if any(n.id == "scalar" and n.style == '"' for n in items) else "'"


def argv_command(text: str, items) -> tuple[str, OffsetMap]:
    """An argv list as the shell line meaning the same words, each word mapped back to its item."""
    import shlex

    from imds_lint.model import OffsetMap, Segment

    pieces: list[str] = []
    segments: list[Segment] = []
    at = 0
    for i, item in enumerate(items):
        if i:
            # The space between words belongs to the end of the word before (a span ending at a
            # word's end must not run on to the next item).
            previous = segments[-1].outer_end
            pieces.append(" ")
            segments.append(Segment(at, at + 1, previous, previous))
            at += 1
        word = shlex.quote(item.value)
        chars, exact = scalar_chars(text, item)
        quotes = 0 if word == item.value else 1 if word == f"'{item.value}'" else None
        if exact and chars and quotes is not None:
            body = chars[0][1]
            if quotes:
                segments.append(Segment(at, at + 1, body, body))
            segments.append(Segment(at + quotes, at + quotes + len(item.value), body, body + len(item.value)))
            if quotes:
                end = body + len(item.value)
                segments.append(Segment(at + quotes + len(item.value), at + len(word), end, end))
        else:
            segments.append(Segment(at, at + len(word), item.start_mark.index, item.end_mark.index))
        pieces.append(word)
        at += len(word)
    return "".join(pieces), OffsetMap(segments)
