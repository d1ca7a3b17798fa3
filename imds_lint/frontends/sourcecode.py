"""Application source in C-like languages: JavaScript/TypeScript, Go, Java, C# and Ruby.

One reader for all of them, over each language's tree-sitter grammar (imported
only when a candidate file of that language turns up): string values are
resolved through constants, concatenation, template strings and
``fmt.Sprintf``-style formats within the file; calls are matched by their
callee's dotted name; headers come from the call's own arguments (an options
object, a header hash) or from header-setting calls on the variable that holds
the request (``req.Header.Set``, ``conn.setRequestProperty``,
``msg.Headers.Add``, ``req['...'] =``). Each language adds only its table of
clients (``sourcecode_clients``). A request is reported where it is sent
(``client.Do(req)``, ``client.SendAsync(msg)``, ``http.request(req)``) when the
file shows that call, else where it is built.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_left
from functools import lru_cache
from typing import Iterator

from imds_lint.records import dataclass
from imds_lint.syntax.sourcecode import SourceState
from imds_lint.syntax.treesitter import walk
from imds_lint.syntax.treesitter import parse_within
from imds_lint.endpoints import is_foreign_metadata_header, parse_imds_url
from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.model import Document, Header, Request, Span

UNKNOWN = "\x00"
SDK_CLIENT = "sdk_metadata_client"


@dataclass(frozen=True, slots=True)
class SdkMetadataClient:
    """An AWS SDK's own metadata client used in source (a dependency fact, not a request).

    Whether it sends tokens depends on the SDK version the project resolves,
    which the manifest rules judge; ``token_aware_from`` names that version.
    """

    language: str
    client: str
    token_aware_from: str
    span: Span


@dataclass(frozen=True)
class Grammar:
    module: str
    function: str
    # Node types.
    strings: frozenset[str]
    calls: frozenset[str]
    # Types whose text is a plain name (identifier, constant, field).
    names: frozenset[str]
    functions: frozenset[str]


GRAMMARS: dict[str, Grammar] = {
    "javascript": Grammar("tree_sitter_javascript", "language",
                          frozenset({"string", "template_string"}),
                          frozenset({"call_expression", "new_expression"}),
                          frozenset({"identifier", "property_identifier", "shorthand_property_identifier"}),
                          frozenset({"function_declaration", "arrow_function", "function_expression",
                                     "method_definition", "function"})),
    "typescript": Grammar("tree_sitter_typescript", "language_typescript",
                          frozenset({"string", "template_string"}),
                          frozenset({"call_expression", "new_expression"}),
                          frozenset({"identifier", "property_identifier", "shorthand_property_identifier"}),
                          frozenset({"function_declaration", "arrow_function", "function_expression",
                                     "method_definition", "function"})),
    "tsx": Grammar("tree_sitter_typescript", "language_tsx",
                   frozenset({"string", "template_string"}),
                   frozenset({"call_expression", "new_expression"}),
                   frozenset({"identifier", "property_identifier", "shorthand_property_identifier"}),
                   frozenset({"function_declaration", "arrow_function", "function_expression",
                              "method_definition", "function"})),
    "go": Grammar("tree_sitter_go", "language",
                  frozenset({"interpreted_string_literal", "raw_string_literal"}),
                  frozenset({"call_expression"}),
                  frozenset({"identifier", "field_identifier"}),
                  frozenset({"function_declaration", "method_declaration", "func_literal"})),
    "java": Grammar("tree_sitter_java", "language",
                    frozenset({"string_literal"}),
                    frozenset({"method_invocation", "object_creation_expression"}),
                    frozenset({"identifier"}),
                    frozenset({"method_declaration", "constructor_declaration", "lambda_expression"})),
    "csharp": Grammar("tree_sitter_c_sharp", "language",
                      frozenset({"string_literal", "verbatim_string_literal", "interpolated_string_expression",
                                 "raw_string_literal"}),
                      frozenset({"invocation_expression", "object_creation_expression"}),
                      frozenset({"identifier"}),
                      frozenset({"method_declaration", "constructor_declaration", "local_function_statement",
                                 "lambda_expression"})),
    "ruby": Grammar("tree_sitter_ruby", "language",
                    frozenset({"string"}),
                    frozenset({"call"}),
                    frozenset({"identifier", "constant", "instance_variable", "global_variable"}),
                    frozenset({"method", "singleton_method", "block", "do_block", "lambda"})),
}

_CONTENT = frozenset({"string_fragment", "string_content", "interpreted_string_literal_content",
                      "raw_string_literal_content", "escape_sequence"})
_INTERPOLATIONS = frozenset({"template_substitution", "interpolation"})
# Bindings that declare a new variable (local to their function) and those that assign an existing one.
_DECLARATIONS = frozenset({"variable_declarator", "short_var_declaration", "var_spec", "const_spec",
                           "local_variable_declaration", "lexical_declaration", "variable_declaration"})
_ASSIGNMENTS = frozenset({"assignment_expression", "assignment", "assignment_statement"})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "`": "`", "/": "/", "$": "$"}
# Calls whose value is their (only) argument: URI(x), URI.create(x), new URL(x), url.Parse(x)...
_URL_WRAPPERS = {"URI", "URL", "Uri", "create", "parse", "Parse", "URI.create", "URI.parse", "MustParse",
                 "String", "toString", "ToString", "toURL", "toURI"}


@lru_cache(maxsize=None)
def parser(language: str):
    from imds_lint.syntax.treesitter import core, grammar as load_grammar

    tree_sitter = core()

    grammar = GRAMMARS[language]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        lang = tree_sitter.Language(load_grammar(grammar.module, grammar.function))
    return tree_sitter.Parser(lang)


@dataclass
class Call:
    """A call or object creation: ``callee`` is its dotted name (``http.Get``, ``Net::HTTP::Get.new``)."""

    node: object
    callee: str
    receiver: object | None
    name: str
    args: list


# Arguments longer than this are not indexed by their text: a variable's name is never that long,
# and nested calls' arguments would cost their whole text at every level.
_INDEXED_ARGUMENT_BYTES = 256


class CallIndex:
    """A file's calls grouped by a key, in document order, found within a scope by bisection.

    Looking a variable's calls up by scanning every call of the file made n requests cost
    n**2 (1,000 nested Go requests: 4 s of 4.7 s CPU under --diff).
    """

    __slots__ = ("_calls", "_starts")

    def __init__(self):
        self._calls: dict[object, list[Call]] = {}
        self._starts: dict[object, list[int]] = {}

    def add(self, key, call: Call) -> None:  # in document order
        self._calls.setdefault(key, []).append(call)
        self._starts.setdefault(key, []).append(call.node.start_byte)

    def all(self, key) -> list[Call]:
        return self._calls.get(key, [])

    def within(self, key, start: int, end: int) -> Iterator[Call]:
        calls = self._calls.get(key)
        if not calls:
            return
        for i in range(bisect_left(self._starts[key], start), len(calls)):
            node = calls[i].node
            if node.start_byte > end:
                return
            if node.end_byte <= end:
                yield calls[i]


class Reader:
    """Values, calls and headers in one source file; language tables build requests from them."""

    def __init__(self, document: Document, language: str):
        self.document = document
        self.language = language
        self.grammar = GRAMMARS[language]
        src = document.text.encode("utf-8", "surrogatepass")
        tree = parse_within(parser(language), src)
        self.state = SourceState(language, tree, src, document.text)
        self.analysis = Analysis(document, state=self.state)
        self._resolving: set[tuple[str, int]] = set()
        self.calls: list[Call] = []
        self.emitted: set[tuple[int, int]] = set()
        self._by_receiver: CallIndex | None = None  # callee's first name -> calls
        self._by_name = CallIndex()  # call's own name -> calls
        self._by_argument = CallIndex()  # (call's name, an argument's text) -> calls
        self._plain_assignments: dict[int, bool] = {}

    # -- text -----------------------------------------------------------------------------
    def source(self, node) -> str:
        return self.state.source(node)

    def span(self, node) -> Span:
        return self.state.span(node)

    # -- assignments and values -----------------------------------------------------------
    def collect(self) -> None:
        for node in walk(self.state.tree.root_node):
            for target, value in self.bindings(node):
                name = self.name_of(target)
                if name:
                    self.state.assignments.setdefault(name, []).append(value)
            if node.type in self.grammar.calls:
                call = self.call(node)
                if call is not None:
                    self.calls.append(call)
            elif node.type == "composite_literal" and self.language == "go":
                # Client{BaseURL: "http://..."}: the field's value, for that struct type only.
                struct = self.go_type_name(node.child_by_field_name("type"))
                if struct:
                    for key, value, _pair in self.object_pairs(node)[0]:
                        self.state.assignments.setdefault(f"{struct}.{self.source(key)}", []).append(value)

    def bindings(self, node) -> list[tuple[object, object]]:
        kind = node.type
        if kind in ("variable_declarator", "assignment_expression", "assignment", "public_field_definition",
                    "field_definition"):
            target = node.child_by_field_name("name") or node.child_by_field_name("left")
            value = node.child_by_field_name("value") or node.child_by_field_name("right")
            if target is None and node.named_child_count:
                target = node.named_children[0]
            if value is None and node.named_child_count > 1:
                value = node.named_children[-1]
            return [(target, value)] if target is not None and value is not None and target != value else []
        if kind in ("const_spec", "var_spec", "short_var_declaration", "assignment_statement"):
            left = node.child_by_field_name("name") or node.child_by_field_name("left")
            right = node.child_by_field_name("value") or node.child_by_field_name("right")
            if left is None or right is None:
                return []
            names = [n for n in node.children_by_field_name("name")] or (
                left.named_children if left.type == "expression_list" else [left])
            values = right.named_children if right.type == "expression_list" else [right]
            if len(values) == 1 and len(names) > 1:
                return [(names[0], values[0])]
            return list(zip(names, values))
        return []

    def name_of(self, node) -> str:
        if node is None:
            return ""
        if node.type in self.grammar.names:
            return self.source(node)
        if node.type in ("member_expression", "selector_expression", "field_access", "member_access_expression"):
            last = node.named_children[-1] if node.named_children else None
            return self.source(last) if last is not None and last.type in self.grammar.names | {
                "field_identifier", "property_identifier"} else ""
        return ""

    def lookup(self, name: str, at=None) -> str:
        scope = self.enclosing_function(at) if at is not None else None
        key = (name, scope.start_byte if scope is not None else -1)
        if key in self._resolving:
            return UNKNOWN
        candidates, ordered = self.candidates(name, at, scope)
        if not candidates:
            return UNKNOWN
        self._resolving.add(key)
        try:
            values = [self.value(v) for v in candidates[:8]]
        finally:
            self._resolving.discard(key)
        if ordered:
            return values[0]
        return next((v for v in values if parse_imds_url(displayable(v)) is not None), values[0])

    def candidates(self, name: str, at, scope) -> tuple[list, bool]:
        """The nodes ``name`` may hold at ``at``, and whether the first one is the one in effect.

        A local variable holds what its own function assigned before the use (last first); a
        parameter, what this file's callers pass; neither borrows the same name from another
        function (``get(url string)`` is not the ``url`` some other helper builds)."""
        assigned = self.state.assignments.get(name, [])
        if at is None:
            return assigned, False
        visible = [v for v in assigned if self.visible_from(v, at)]
        local = [v for v in visible if self.enclosing_function(v) == scope and v.start_byte < at.start_byte]
        if local and len(visible) > 1:
            return local[::-1], True
        function, index = self.parameter_of(name, scope)
        if function is not None:
            if local:
                return local[::-1], True
            return self.arguments_passed(function, index), False
        return visible, False

    def visible_from(self, value, at) -> bool:
        """Whether an assignment can be what a use at ``at`` reads: top level, an enclosing function
        (closures), or a plain assignment elsewhere (a field or global set in another method)."""
        function = self.enclosing_function(value)
        if function is None or (function.start_byte <= at.start_byte and at.end_byte <= function.end_byte):
            return True
        return self._assigned_not_declared(value)

    def _assigned_not_declared(self, value) -> bool:
        # Kept per value: asked from every use of the name, it would walk from each use's depth
        # to the value's and back (n nested uses of a helper's parameter: n * depth steps).
        known = self._plain_assignments.get(value.id)
        if known is not None:
            return known
        up = self.state.parent
        node, plain = up(value), True
        for _ in range(3):
            if node is None or node.type in _ASSIGNMENTS:
                break
            if node.type in _DECLARATIONS:
                plain = False
                break
            node = up(node)
        self._plain_assignments[value.id] = plain
        return plain

    def parameter_of(self, name: str, scope) -> tuple[object | None, int]:
        """The function (``scope`` or one enclosing it) that declares ``name`` as a parameter."""
        function = scope
        while function is not None:
            parameters = function.child_by_field_name("parameters")
            if parameters is not None:
                names = [self.parameter_name(p) for p in parameters.named_children]
                names = [n for n in names if n is not None]
                if name in names:
                    return function, names.index(name)
            function = self.enclosing_function(self.state.parent(function))
        return None, -1

    def parameter_name(self, parameter) -> str | None:
        if parameter.type in self.grammar.names:
            return self.source(parameter)
        target = parameter.child_by_field_name("name") or parameter.child_by_field_name("pattern") \
            or parameter.child_by_field_name("left")
        return self.source(target) if target is not None and target.type in self.grammar.names else None

    def arguments_passed(self, function, index: int) -> list:
        """What this file's calls of ``function`` (by name) pass as its ``index``-th parameter."""
        name_node = function.child_by_field_name("name")
        declarator = self.state.parent(function) if name_node is None else None
        if declarator is not None and declarator.type == "variable_declarator":
            name_node = declarator.child_by_field_name("name")  # const get = (url) => fetch(url)
        if name_node is None or index < 0:
            return []
        name = self.source(name_node)
        if self._by_receiver is None:
            self._index_calls()
        return [c.args[index] for c in self._by_name.all(name) if len(c.args) > index
                and not (function.start_byte <= c.node.start_byte and c.node.end_byte <= function.end_byte)]

    def value(self, node) -> str:
        """The string ``node`` evaluates to, with UNKNOWN for parts the file does not show."""
        if node is None:
            return UNKNOWN
        kind = node.type
        if kind in self.grammar.strings:
            return self.string(node)
        if kind in self.grammar.names or kind in ("field_identifier", "property_identifier"):
            return self.lookup(self.source(node), node)
        if kind == "selector_expression" and self.language == "go":
            field_node = node.child_by_field_name("field")
            typed = self.go_field(node.child_by_field_name("operand"), self.source(field_node)) if field_node else None
            if typed is not None:
                return self.lookup(typed) if typed else UNKNOWN
        if kind in ("member_expression", "selector_expression", "field_access", "member_access_expression",
                    "scope_resolution"):
            name = self.name_of(node) or (self.source(node.named_children[-1]) if node.named_children else "")
            return self.lookup(name) if name else UNKNOWN
        if kind == "binary_expression":
            operator = node.child_by_field_name("operator")
            if operator is not None and self.source(operator) != "+":
                return UNKNOWN
            parts = [c for c in node.named_children]
            if len(parts) != 2:
                return UNKNOWN
            return self.value(parts[0]) + self.value(parts[1])
        if kind in ("parenthesized_expression", "argument", "await_expression", "cast_expression",
                    "expression_list", "as_expression", "non_null_expression", "parenthesized_statements"):
            return self.value(node.named_children[-1]) if node.named_children else UNKNOWN
        if kind in self.grammar.calls:
            call = self.call(node)
            if call is None:
                return UNKNOWN
            if call.callee.endswith(("Sprintf", "String.format", "format")) and call.args:
                return self.sprintf(call)
            if call.args and (call.name in _URL_WRAPPERS or call.callee in _URL_WRAPPERS) and len(call.args) <= 2:
                return self.value(call.args[0])
            if call.receiver is not None and call.name in ("concat", "join") and not call.args:
                return UNKNOWN
        return UNKNOWN

    def may_reach_other_hosts(self, node, depth: int = 0) -> bool:
        """Whether the URL ``node`` builds may name a host other than IMDS on some call: a helper's
        parameter that its callers also give other URLs, a variable also assigned another host, or a
        part the file does not show. A token header on such a request would go there too."""
        if node is None or depth > 6:
            return True
        kind = node.type
        if kind in ("parenthesized_expression", "argument", "expression_list") and node.named_children:
            return self.may_reach_other_hosts(node.named_children[-1], depth + 1)
        if kind == "binary_expression" and node.named_children:
            return self.may_reach_other_hosts(node.named_children[0], depth + 1)  # the host comes first
        candidates = None
        if kind in self.grammar.names:
            candidates, ordered = self.candidates(self.source(node), node, self.enclosing_function(node))
            candidates = candidates[:1] if ordered else candidates[:8]
        elif kind == "selector_expression" and self.language == "go":
            field_node = node.child_by_field_name("field")
            typed = self.go_field(node.child_by_field_name("operand"), self.source(field_node)) if field_node else ""
            candidates = self.state.assignments.get(typed, [])[:8] if typed else []
        elif kind in self.grammar.calls:
            call = self.call(node)
            if call is not None and call.callee.endswith("Sprintf") and call.args \
                    and self.value(call.args[0]).startswith("%s") and len(call.args) > 1:
                return self.may_reach_other_hosts(call.args[1], depth + 1)
        if candidates is not None:
            return not candidates or any(self.may_reach_other_hosts(c, depth + 1) for c in candidates)
        return parse_imds_url(normalise_url(self.value(node))) is None

    def go_field(self, operand, field: str) -> str | None:
        """The ``Type.field`` key ``operand.field`` reads (None: not a struct field set in a literal;
        "": one of several structs', and which is unknown, so no value rather than another type's)."""
        typed = [k for k in self.state.assignments if k.endswith("." + field) and "." not in k[:-len(field) - 1]]
        if not typed:
            return None
        struct = self.go_type_of(operand)
        if struct and f"{struct}.{field}" in self.state.assignments:
            return f"{struct}.{field}"
        if field in self.state.assignments:
            return None
        return typed[0] if len(typed) == 1 and not struct else ""

    def go_type_of(self, operand) -> str:
        """The struct type of a receiver or a variable built from a composite literal, if shown."""
        if operand is None or operand.type != "identifier":
            return ""
        name = self.source(operand)
        method = self.enclosing_function(operand)
        while method is not None and method.type != "method_declaration":
            method = self.enclosing_function(self.state.parent(method))
        receiver = method.child_by_field_name("receiver") if method is not None else None
        for parameter in (receiver.named_children if receiver is not None else ()):
            if self.parameter_name(parameter) == name:
                return self.go_type_name(parameter.child_by_field_name("type"))
        for value in self.state.assignments.get(name, [])[:4]:
            while value is not None and value.type == "unary_expression":
                value = value.child_by_field_name("operand")
            if value is not None and value.type == "composite_literal":
                return self.go_type_name(value.child_by_field_name("type"))
        return ""

    def go_type_name(self, node) -> str:
        while node is not None and node.type in ("pointer_type", "generic_type", "qualified_type"):
            node = node.child_by_field_name("name") or node.child_by_field_name("type") or (
                node.named_children[-1] if node.named_children else None)
        return self.source(node) if node is not None and node.type == "type_identifier" else ""

    def sprintf(self, call: Call) -> str:
        fmt = self.value(call.args[0])
        rest = iter(call.args[1:])
        return re.sub(r"%[-+# 0]*\d*(?:\.\d+)?[svdq]|\{\d+\}",
                      lambda m: self.value(next(rest, None)) if m.group(0) != "%%" else "%", fmt)

    def string(self, node) -> str:
        named = node.named_children
        if not named:
            text = self.source(node)
            for prefix in ("@$\"", "$@\"", "@\"", "$\"", "\"\"\"", "'", "\"", "`"):
                if text.startswith(prefix) and len(text) >= 2 * len(prefix.lstrip("@$")):
                    return text[len(prefix):len(text) - len(prefix.lstrip("@$"))]
            return text.strip("'\"`")
        out = []
        for child in named:
            if child.type == "escape_sequence":
                raw = self.source(child)
                out.append(_ESCAPES.get(raw[1:2], raw) if len(raw) == 2 else raw)
            elif child.type in _CONTENT:
                out.append(self.source(child))
            elif child.type in _INTERPOLATIONS:
                inner = [c for c in child.named_children if c.type != "interpolation_brace"]
                out.append(self.value(inner[0]) if len(inner) == 1 else UNKNOWN)
            elif child.type in ("interpolation_start", "interpolation_quote", "string_start", "string_end",
                                "raw_string_start", "raw_string_end"):
                continue
            else:
                out.append(self.source(child))
        return "".join(out)

    def literal(self, node) -> bool:
        """A string literal without substitutions (the fixer may rewrite around it)."""
        return node is not None and node.type in self.grammar.strings and not any(
            c.type in _INTERPOLATIONS for c in node.named_children)

    # -- calls ----------------------------------------------------------------------------
    def call(self, node) -> Call | None:
        kind = node.type
        args_node = node.child_by_field_name("arguments")
        if args_node is None:
            args_node = next((c for c in node.named_children if c.type in ("arguments", "argument_list")), None)
        args = [a for a in args_node.named_children if a.type != "comment"] if args_node is not None else []
        args = [a.named_children[0] if a.type == "argument" and a.named_child_count == 1 else a for a in args]
        receiver = None
        if kind in ("new_expression", "object_creation_expression"):
            type_node = node.child_by_field_name("constructor") or node.child_by_field_name("type")
            if type_node is None:
                return None
            callee = "new " + self.dotted(type_node)
            name = callee.rsplit(".", 1)[-1].removeprefix("new ")
        elif kind == "method_invocation":  # Java
            name_node = node.child_by_field_name("name")
            receiver = node.child_by_field_name("object")
            if name_node is None:
                return None
            name = self.source(name_node)
            callee = f"{self.dotted(receiver)}.{name}" if receiver is not None else name
        elif kind == "call" and self.language == "ruby":
            method = node.child_by_field_name("method")
            receiver = node.child_by_field_name("receiver")
            if method is None:
                return None
            name = self.source(method)
            callee = f"{self.dotted(receiver)}.{name}" if receiver is not None else name
        else:
            function = node.child_by_field_name("function")
            if function is None and node.named_children:
                function = node.named_children[0]
            if function is None:
                return None
            callee = self.dotted(function)
            name = callee.rsplit(".", 1)[-1]
            if function.type in ("member_expression", "selector_expression", "member_access_expression"):
                receiver = function.child_by_field_name("object") or function.child_by_field_name("operand") \
                    or function.child_by_field_name("expression") or function.named_children[0]
        return Call(node, callee, receiver, name, args)

    def dotted(self, node) -> str:
        """``a.b.c`` for member chains; a call in the chain keeps its name with ``()``."""
        if node is None:
            return ""
        kind = node.type
        if kind in ("member_expression", "selector_expression", "member_access_expression", "field_access",
                    "scope_resolution", "qualified_name", "scoped_type_identifier"):
            parts = [self.dotted(c) for c in node.named_children]
            return ".".join(p for p in parts if p)
        if kind in self.grammar.calls:
            call = self.call(node)
            return f"{call.callee}()" if call is not None else ""
        if kind in ("parenthesized_expression", "await_expression", "cast_expression", "generic_name",
                    "generic_type"):
            named = [c for c in node.named_children if c.type not in ("type_arguments", "type_argument_list")]
            return self.dotted(named[-1]) if named else ""
        return self.source(node) if node.end_byte - node.start_byte < 200 else ""

    def enclosing_function(self, node):
        """The function, method or lambda holding ``node`` (``node`` itself included), or None."""
        return self.state.enclosing(node, self.grammar.functions)

    def assigned_name(self, node) -> str:
        """The variable a call's value is stored in (through await, casts and ``, err``)."""
        current = node
        path = {(node.start_byte, node.end_byte, node.type)}
        up = self.state.parent
        parent = up(current)
        while parent is not None and parent.type in (
                "await_expression", "cast_expression", "parenthesized_expression", "expression_list",
                "as_expression", "argument", "equals_value_clause"):
            current, parent = parent, up(parent)
            path.add((current.start_byte, current.end_byte, current.type))
        if parent is None:
            return ""
        for target, value in self.bindings(parent):
            if value is not None and (value.start_byte, value.end_byte, value.type) in path:
                return self.name_of(target)
        return ""

    def _index_calls(self) -> None:
        """Index the file's calls (once, after ``collect``): by receiver, by name, by short argument."""
        self._by_receiver = CallIndex()
        for call in self.calls:
            self._by_receiver.add(call.callee.split(".", 1)[0], call)
            self._by_name.add(call.name, call)
            texts = {self.source(a) for a in call.args if a.end_byte - a.start_byte <= _INDEXED_ARGUMENT_BYTES}
            for text in texts:
                self._by_argument.add((call.name, text), call)

    def calls_on(self, variable: str, scope) -> Iterator[Call]:
        """Calls whose receiver chain starts with ``variable`` (``req.Header.Set``), within ``scope``."""
        if self._by_receiver is None:
            self._index_calls()
        start, end = (scope.start_byte, scope.end_byte) if scope is not None else (0, len(self.state.src))
        return self._by_receiver.within(variable, start, end)

    def calls_with_argument(self, variable: str, names: tuple[str, ...], scope) -> Iterator[Call]:
        """Calls named one of ``names`` that pass ``variable`` itself as an argument, within ``scope``."""
        if self._by_receiver is None:
            self._index_calls()
        start, end = (scope.start_byte, scope.end_byte) if scope is not None else (0, len(self.state.src))
        if len(variable.encode("utf-8", "surrogatepass")) > _INDEXED_ARGUMENT_BYTES:
            found = [call for name in names for call in self._by_name.within(name, start, end)
                     if any(self.source(a) == variable for a in call.args)]
        else:
            found = [call for name in dict.fromkeys(names) for call in self._by_argument.within((name, variable), start, end)]
        if len(names) > 1:  # document order, as the walk met them: an outer call before one it starts with
            found.sort(key=lambda call: (call.node.start_byte, -call.node.end_byte))
        return iter(found)

    # -- headers --------------------------------------------------------------------------
    def header(self, name_node, value_node, span_node) -> Header:
        name = self.value(name_node) if name_node is not None else ""
        if name_node is not None and name_node.type in self.grammar.names | {
                "property_identifier", "shorthand_property_identifier", "simple_symbol", "hash_key_symbol"}:
            name = self.source(name_node).lstrip(":")
        value = self.value(value_node) if value_node is not None else None
        name_span = None
        if name_node is not None and self.literal(name_node):
            at = self.source(name_node).find(name)
            if at >= 0 and name:
                base = self.span(name_node).start
                name_span = Span(base + at, base + at + len(name))
        return Header(name, None if value is None else displayable(value), span=self.span(span_node),
                      name_span=name_span)

    def object_pairs(self, node) -> tuple[list[tuple[object, object, object]], bool]:
        """(key, value, pair) for an object/hash/map literal, and whether it may hold more (spread)."""
        node = self.follow(node)
        if node is None:
            return [], True
        if node.type not in ("object", "hash", "composite_literal", "literal_value"):
            return [], True
        pairs, unknown = [], False
        body = node
        if node.type == "composite_literal":
            body = node.child_by_field_name("body") or node
        for child in body.named_children:
            if child.type in ("pair", "keyed_element"):
                key = child.child_by_field_name("key") or child.named_children[0]
                value = child.child_by_field_name("value") or child.named_children[-1]
                if key.type == "literal_element" and key.named_children:
                    key = key.named_children[0]
                if value.type == "literal_element" and value.named_children:
                    value = value.named_children[0]
                if key.type == "computed_property_name":
                    key = key.named_children[0] if key.named_children else key
                pairs.append((key, value, child))
            elif child.type == "shorthand_property_identifier":
                pairs.append((child, child, child))
            elif child.type in ("spread_element", "hash_splat_argument"):
                unknown = True
        return pairs, unknown

    def follow(self, node):
        """A variable's single assigned value, for object literals passed by name."""
        seen = 0
        while node is not None and node.type in self.grammar.names and seen < 4:
            assigned = self.state.assignments.get(self.source(node), [])
            if len(assigned) != 1:
                return node
            node = assigned[0]
            seen += 1
        return node

    def property(self, obj, key: str):
        pairs, _ = self.object_pairs(obj)
        for k, v, _pair in pairs:
            name = self.source(k).strip("'\"`").lstrip(":")
            if name == key:
                return v
        return None

    def headers_of(self, node) -> tuple[tuple[Header, ...], bool]:
        """The headers an object literal holds, and whether there may be others."""
        if node is None:
            return (), False
        pairs, unknown = self.object_pairs(node)
        if not pairs and unknown:
            return (), True
        return tuple(self.header(k, v, pair) for k, v, pair in pairs), unknown

    def header_calls(self, variable: str, scope, methods: tuple[str, ...]) -> list[Header]:
        headers = []
        for call in self.calls_on(variable, scope):
            if call.name in methods and len(call.args) >= 2:
                headers.append(self.header(call.args[0], call.args[1], call.node))
        return headers

    # -- output ---------------------------------------------------------------------------
    def emit(self, client: str, url: str, method: str | None, headers, node, anchor, *, handle=None,
             headers_unknown: bool = False, method_explicit: bool = False, wrapper: bool = False) -> Request | None:
        url = normalise_url(url)
        if any(is_foreign_metadata_header(h.name, h.value) for h in headers):
            return None
        imds = parse_imds_url(url)
        if imds is None:
            return None
        key = (anchor.start_byte, anchor.end_byte)
        if key in self.emitted:
            return None
        self.emitted.add(key)
        request = Request(
            client=client, url=url, endpoint=imds.endpoint, path=imds.path, method=method,
            method_explicit=method_explicit, headers=tuple(headers), headers_unknown=headers_unknown,
            span=self.span(node), anchor=self.span(anchor), document=self.document,
            container=self.document.container, handle=handle, wrapper=wrapper,
        )
        self.analysis.requests.append(request)
        return request

    def sdk_client(self, client: str, token_aware_from: str, node) -> None:
        self.analysis.add_fact(SDK_CLIENT, SdkMetadataClient(self.language, client, token_aware_from,
                                                             self.span(node)))

    def problems(self) -> None:
        root = self.state.tree.root_node
        if not root.has_error:
            return
        for node in walk(root):
            if node.type == "ERROR" or node.is_missing:
                self.analysis.problems.append(ParseProblem(
                    self.span(node), f"the {self.language} grammar could not parse this"))
                return


def displayable(value: str) -> str:
    return value.replace(UNKNOWN, "…")


def normalise_url(url: str) -> str:
    """``http://169.254.169.254`` followed by an unknown part reads as an unknown path."""
    url = displayable(url)
    match = re.match(r"^((?:https?://)?(?:169\.254\.169\.254|\[fd00:ec2::254\]|instance-data(?:\.[\w.-]+)?)"
                     r"(?::\d{1,5})?)(…)", url, re.I)
    if match:
        return f"{match.group(1)}/{url[match.end(1):]}"
    return url


def syntax_errors_for(text: str, language: str) -> int:
    tree = parse_within(parser(language), text.encode("utf-8", "surrogatepass"))
    if not tree.root_node.has_error:
        return 0
    return sum(1 for n in walk(tree.root_node) if n.type == "ERROR" or n.is_missing)
