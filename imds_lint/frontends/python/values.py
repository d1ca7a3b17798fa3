"""Python values evaluated flow-insensitively to text (what cannot be known is ``*``)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urljoin

from imds_lint.endpoints import parse_imds_url
from imds_lint.frontends.python.clients import CONSTRUCTORS
from imds_lint.syntax.python import ClientObject


UNKNOWN = "*"
MAX_DEPTH = 12


def cst_module():
    import libcst

    return libcst


class Values:
    """Evaluating expressions to text: names, attributes, calls, f-strings, formatting; a part of the walker in ``frontends.python``."""

    # -- evaluating expressions -----------------------------------------------------
    def assigned(self, name_node) -> list:
        """Value expressions a Name may hold here (all assignments in reach, flow-insensitively)."""
        cst = cst_module()
        scope = self.scopes.get(name_node)
        if scope is None:
            return []
        values = []
        try:
            assignments = scope[name_node.value]
        except Exception:
            return []
        for assignment in assignments:
            node = getattr(assignment, "node", None)
            if node is None:
                continue
            if isinstance(node, cst.Param):
                values.append(("param", node))
            elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Import, cst.ImportFrom)):
                continue
            else:
                values.extend(self.c.values.get(id(node), []))
        return values

    def param_values(self, param) -> list:
        """A parameter's default, and what the function's callers pass for it."""
        cst = cst_module()
        values = []
        if param.default is not None:
            values.append(param.default)
        function = self.parents.get(self.parents.get(param))
        if not isinstance(function, cst.FunctionDef):
            return values
        params = list(function.params.posonly_params) + list(function.params.params)
        names = [p.name.value for p in params]
        pname = param.name.value
        for call in self.callers.get(function.name.value, []):
            index = names.index(pname) if pname in names else None
            offset = 1 if names and names[0] in ("self", "cls") and isinstance(call.func, cst.Attribute) else 0
            positional = [a for a in call.args if a.keyword is None and not a.star]
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == pname:
                    values.append(arg.value)
            if index is not None and 0 <= index - offset < len(positional):
                values.append(positional[index - offset].value)
        return values

    def returns(self, function) -> list:
        cst = cst_module()
        found = []

        class Returns(cst.CSTVisitor):
            def visit_Return(self, node):
                if node.value is not None:
                    found.append(node.value)

            def visit_FunctionDef(self, node):
                return node is function

            def visit_Lambda(self, node):
                return False

        function.visit(Returns())
        return found

    def candidates(self, node, depth) -> list:
        """The expressions a Name, attribute or parameter may stand for."""
        cst = cst_module()
        if isinstance(node, cst.Name):
            out = []
            for value in self.assigned(node):
                if isinstance(value, tuple):
                    out.extend(self.param_values(value[1]))
                else:
                    out.append(value)
            return out
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            owner = node.value.value
            if owner in ("self", "cls"):
                cls = self.enclosing_class(node)
                owner = cls.name.value if cls is not None else owner
            return list(self.c.attr_values.get((owner, node.attr.value), []))
        return []

    def enclosing_class(self, node):
        cst = cst_module()
        while node is not None:
            node = self.parents.get(node)
            if isinstance(node, cst.ClassDef):
                return node
        return None

    def enclosing_function(self, node):
        cst = cst_module()
        while node is not None:
            node = self.parents.get(node)
            if isinstance(node, cst.FunctionDef):
                return node
        return None

    def text(self, node, depth: int = 0) -> str:
        """The string an expression stands for, unknown parts as ``*``."""
        value = self.value(node, depth)
        return value if isinstance(value, str) else UNKNOWN

    def value(self, node, depth: int = 0):
        if node is None or depth > MAX_DEPTH or id(node) in self._busy:
            return None
        self._busy.add(id(node))
        try:
            return self._value(node, depth + 1)
        finally:
            self._busy.discard(id(node))

    def _pick(self, nodes, depth):
        """Evaluate alternatives; one that names IMDS wins (one branch is enough to reach it)."""
        results = [self.value(n, depth) for n in nodes]
        for r in results:
            if isinstance(r, str) and parse_imds_url(r) is not None:
                return r
        for r in results:
            if r is not None:
                return r
        return None

    def _value(self, node, depth):
        cst = cst_module()
        if isinstance(node, cst.SimpleString):
            try:
                value = node.evaluated_value
            except Exception:
                return None
            return value.decode("latin-1") if isinstance(value, bytes) else value
        if isinstance(node, cst.ConcatenatedString):
            left, right = self.value(node.left, depth), self.value(node.right, depth)
            return join_text(left, right)
        if isinstance(node, cst.FormattedString):
            parts = []
            for part in node.parts:
                if isinstance(part, cst.FormattedStringText):
                    parts.append(part.value)
                else:
                    parts.append(self.text(part.expression, depth))
            return "".join(parts)
        if isinstance(node, (cst.Integer, cst.Float)):
            return node.value
        if isinstance(node, cst.Name):
            if node.value in ("None", "True", "False"):
                return None
            return self._pick(self.candidates(node, depth), depth)
        if isinstance(node, cst.Attribute):
            found = self.candidates(node, depth)
            return self._pick(found, depth) if found else None
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Add):
                return join_text(self.value(node.left, depth), self.value(node.right, depth))
            if isinstance(node.operator, cst.Modulo):
                template = self.value(node.left, depth)
                if isinstance(template, str):
                    right = node.right
                    items = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
                    return percent_format(template, [self.text(i, depth) for i in items])
            return None
        if isinstance(node, cst.Call):
            return self.call_value(node, depth)
        if isinstance(node, (cst.List, cst.Tuple)):
            return [e for e in node.elements]
        if isinstance(node, cst.Await):
            return self.value(node.expression, depth)
        if isinstance(node, cst.IfExp):
            return self._pick([node.body, node.orelse], depth)
        if isinstance(node, cst.BooleanOperation):
            return self._pick([node.left, node.right], depth)
        if isinstance(node, cst.Subscript):
            return None
        return None

    def call_value(self, call, depth):
        cst = cst_module()
        qn = self.qnames(call)
        func = call.func
        args = [a for a in call.args if a.keyword is None and not a.star]
        for name in qn:
            if name in CONSTRUCTORS:
                return ClientObject(CONSTRUCTORS[name], call)
            if name in ("urllib.parse.urljoin", "urlparse.urljoin", "requests.compat.urljoin") and len(args) >= 2:
                base, path = self.text(args[0].value, depth), self.text(args[1].value, depth)
                return join_url(base, path)
            if name in ("os.path.join", "posixpath.join") and args:
                return posixpath.join(*[self.text(a.value, depth) for a in args])
            if name in ("os.environ.get", "os.getenv") and len(args) >= 2:
                return self.value(args[1].value, depth)
            if name in ("str",) and args:
                return self.value(args[0].value, depth)
            if name in ("shlex.split",) and args:
                return ("argv", self.text(args[0].value, depth), args[0].value)
            if name in ("dict", "builtins.dict"):
                return None
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "format":
                template = self.value(func.value, depth)
                if isinstance(template, str):
                    positional = [self.text(a.value, depth) for a in args]
                    named = {a.keyword.value: self.text(a.value, depth) for a in call.args if a.keyword is not None}
                    return str_format(template, positional, named)
                return None
            if method in ("strip", "rstrip", "lstrip", "lower", "upper"):
                base = self.value(func.value, depth)
                if isinstance(base, str):
                    chars = self.value(args[0].value, depth) if args else None
                    chars = chars if isinstance(chars, str) else None
                    return getattr(base, method)(chars) if method.endswith("strip") else getattr(base, method)()
                return None
            if method == "join":
                sep = self.value(func.value, depth)
                if isinstance(sep, str) and args:
                    items = self.value(args[0].value, depth)
                    if isinstance(items, list):
                        return sep.join(self.text(e.value, depth) for e in items)
                return None
            if method == "get" and isinstance(func.value, cst.Attribute) and func.value.attr.value == "environ":
                return self.value(args[1].value, depth) if len(args) >= 2 else None
        # A function of this module: what it returns.
        target = self.local_function(call)
        if target is not None:
            return self._pick(self.returns(target), depth)
        return None

    def local_function(self, call):
        cst = cst_module()
        func = call.func
        name = None
        if isinstance(func, cst.Name):
            name = func.value
        elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
            name = func.attr.value
        if name is None:
            return None
        found = self.c.functions.get(name)
        return found[0] if found else None

    def obj(self, node, depth: int = 0) -> ClientObject | None:
        value = self.value(node, depth)
        return value if isinstance(value, ClientObject) else None


def join_text(left, right):
    if isinstance(left, str) or isinstance(right, str):
        return (left if isinstance(left, str) else UNKNOWN) + (right if isinstance(right, str) else UNKNOWN)
    return None


def percent_format(template: str, values: list[str]) -> str:
    it = iter(values)

    def sub(match):
        if match.group(0) == "%%":
            return "%"
        return next(it, UNKNOWN)

    return re.sub(r"%%|%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdrifxXoeEgGac]", sub, template)


def str_format(template: str, positional: list[str], named: dict[str, str]) -> str:
    counter = iter(range(len(positional) + 100))

    def sub(match):
        text = match.group(0)
        if text in ("{{", "}}"):
            return text[0]
        field_name = match.group(1).split("!", 1)[0].split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
        if field_name == "":
            index = next(counter)
            return positional[index] if index < len(positional) else UNKNOWN
        if field_name.isdigit():
            index = int(field_name)
            return positional[index] if index < len(positional) else UNKNOWN
        return named.get(field_name, UNKNOWN)

    return re.sub(r"\{\{|\}\}|\{([^{}]*)\}", sub, template)


def join_url(base: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    try:
        return urljoin(base, path)
    except ValueError:
        return base + path
