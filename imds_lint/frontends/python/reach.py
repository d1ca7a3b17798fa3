"""Whether a Python module can hold anything the libcst walker reports, decided on CPython's own tree.

libcst with its metadata providers (positions, scopes, qualified names) reads
about 30 KB a second; ``ast.parse``, which the front-end runs first anyway (it
rejects what would crash libcst), is over ten times faster. Most candidate
modules of a real repository name the metadata address in a constant, a test
or a log line and never send a request to it themselves, so the walker finds
nothing there. It can only report:

1. a call whose qualified name (through imports) is a boto 2 IMDS function, a
   subprocess or shell-string function, a module-level HTTP sender, ``urlopen``
   or a client constructor (``requests.Session``, ``HTTPConnection``, ...);
2. a method call named like an HTTP verb (``get``, ``post``, ``request``,
   ``urlopen``, ...) on any receiver, whose URL evaluates to an IMDS URL;

and nothing at all in a test module that mocks the HTTP layer. Senders,
constructors and verb calls only matter when one of their arguments can
evaluate to text naming the endpoint, which needs a string literal spelling
it: ``reach`` follows such literals flow-insensitively, by name and ignoring
scopes (a superset of what the walker's scope-aware evaluation can reach),
through assignments, attributes, parameters (a function's defaults and what
any call of that name passes), return values and any expression built from
them. When nothing in 1 or 2 is reached the walker is skipped: its analysis
would be empty (tests hold the two to the same answer on every fixture and on
generated and mutated modules).
"""

from __future__ import annotations

import ast
import re

# Every spelling parse_imds_url accepts names one of these hosts, whole, in one literal.
_HOST = re.compile(r"169\.254\.169\.254|fd00:ec2::254|instance-data", re.I)
_MOCKS = {"unittest.mock", "mock", "pytest_mock"}


class Tables:
    """The walker's name tables, grouped by what makes a call relevant."""

    def __init__(self, always: set[str], senders: dict[str, int], constructors: set[str],
                 verbs: dict[str, int], mock_roots: set[str]):
        self.always = frozenset(always)  # boto 2, subprocess, shell strings: the walker must look
        self.senders = dict(senders)  # module senders and urlopen -> the URL's position
        self.constructors = frozenset(constructors)  # client objects: any argument may be the URL's base
        self.verbs = dict(verbs)  # methods read as requests on any receiver -> the URL's position
        self.mock_roots = frozenset(mock_roots)
        self.roots = frozenset(name.split(".", 1)[0] for name in {*self.always, *self.senders, *self.constructors})


# Calls whose value the walker computes from their arguments (or receiver).
_STRING_METHODS = {"format", "strip", "rstrip", "lstrip", "lower", "upper", "join"}
_VALUE_FUNCTIONS = {"urllib.parse.urljoin", "urlparse.urljoin", "requests.compat.urljoin", "os.path.join",
                    "posixpath.join", "os.environ.get", "os.getenv", "str", "shlex.split"}


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class _Module:
    """One pass over the tree: imports, calls, bindings and returns, for the fixed point below."""

    def __init__(self, tree: ast.Module):
        self.imports: set[str] = set()  # as the walker's collector records them
        self.aliases: dict[str, set[str]] = {}  # local name -> qualified names it may stand for
        self.star_roots: set[str] = set()
        self.test_functions = 0
        self.calls: list[ast.Call] = []
        self.bindings: list[tuple[object, object]] = []  # (target, value expression)
        self.params: dict[str, list[str]] = {}  # function name -> parameter names
        self.defaults: list[tuple[str, object]] = []  # (parameter name, default)
        self.returns: list[tuple[str, object]] = []  # (function name, returned expression)
        self.literals = False
        self._read(tree)

    def _read(self, tree) -> None:
        functions: list[tuple[ast.AST, str]] = []
        for node in ast.walk(tree):
            kind = type(node)
            if kind is ast.Call:
                self.calls.append(node)
            elif kind is ast.Constant:
                value = node.value
                if isinstance(value, bytes):
                    value = value.decode("latin-1")
                if isinstance(value, str) and _HOST.search(value):
                    self.literals = True
            elif kind is ast.Assign:
                for target in node.targets:
                    self.bindings.append((target, node.value))
            elif kind in (ast.AnnAssign, ast.NamedExpr):
                if node.value is not None:
                    self.bindings.append((node.target, node.value))
            elif kind is ast.AugAssign:
                if isinstance(node.op, ast.Add):  # the walker reads ``x += y`` as ``x = x + y``
                    self.bindings.append((node.target, node.value))
            elif kind is ast.withitem:
                if node.optional_vars is not None:
                    self.bindings.append((node.optional_vars, node.context_expr))
            elif kind in (ast.FunctionDef, ast.AsyncFunctionDef):
                if node.name.startswith("test"):
                    self.test_functions += 1
                args = node.args
                every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
                every += [a for a in (args.vararg, args.kwarg) if a is not None]
                self.params.setdefault(node.name, []).extend(a.arg for a in every)
                positional = [*args.posonlyargs, *args.args]
                for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
                    self.defaults.append((arg.arg, default))
                for arg, default in zip(args.kwonlyargs, args.kw_defaults):
                    if default is not None:
                        self.defaults.append((arg.arg, default))
                functions.append((node, node.name))
            elif kind is ast.Lambda:
                functions.append((node, "<lambda>"))
            elif kind is ast.Import:
                for alias in node.names:
                    self.imports.add(alias.name)
                    if alias.asname:
                        self._alias(alias.asname, alias.name)
                    else:
                        root = alias.name.split(".", 1)[0]
                        self._alias(root, root)
            elif kind is ast.ImportFrom:
                base = node.module or ""
                if node.module is not None:
                    self.imports.add(base)
                for alias in node.names:
                    if alias.name == "*":
                        self.star_roots.add(base.split(".", 1)[0])
                        continue
                    if node.module is not None:
                        self.imports.add(f"{base}.{alias.name}")
                    self._alias(alias.asname or alias.name, f"{base}.{alias.name}" if base else alias.name)
        for function, name in functions:
            if isinstance(function, ast.Lambda):
                self.returns.append((name, function.body))
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None:
                    self.returns.append((name, node.value))

    def _alias(self, local: str, qualified: str) -> None:
        self.aliases.setdefault(local, set()).add(qualified)

    def qualified(self, func) -> set[str]:
        """Every name the walker's QualifiedNameProvider could give this callee (and then some)."""
        dotted = _dotted(func)
        if dotted is None:
            return set()
        head, _, rest = dotted.partition(".")
        names = {dotted}
        for target in self.aliases.get(head, ()):
            names.add(f"{target}.{rest}" if rest else target)
        return names


class _Reach:
    """Names, attributes and functions that may hold text naming the endpoint (a fixed point)."""

    def __init__(self, module: _Module):
        self.module = module
        self.names: set[str] = set()
        self.attrs: set[str] = set()
        self.functions: set[str] = set()  # functions that may return such text
        if module.literals:
            self._settle()

    def reaches(self, node) -> bool:
        """Whether the walker's evaluation of ``node`` can produce text naming the endpoint."""
        if not self.module.literals:
            return False
        stack = [node]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Constant:
                value = node.value
                if isinstance(value, bytes):
                    value = value.decode("latin-1")
                if isinstance(value, str) and _HOST.search(value):
                    return True
            elif kind is ast.Name:
                if node.id in self.names:
                    return True
            elif kind is ast.Attribute:
                # Class-body constants are read as ``C.BASE`` or ``self.BASE``: names count too.
                if node.attr in self.attrs or node.attr in self.names:
                    return True
            elif kind is ast.Call:
                func = node.func
                if isinstance(func, ast.Attribute):
                    if func.attr in self.functions:
                        return True
                    if func.attr in _STRING_METHODS:
                        stack.append(func.value)
                        stack.extend(node.args)
                        stack.extend(k.value for k in node.keywords)
                        continue
                elif isinstance(func, ast.Name) and func.id in self.functions:
                    return True
                if self.module.qualified(func) & _VALUE_FUNCTIONS or (
                        isinstance(func, ast.Attribute) and func.attr == "get"):  # <x>.environ.get
                    stack.extend(node.args)
            elif kind is ast.BinOp:
                if isinstance(node.op, (ast.Add, ast.Mod)):
                    stack += (node.left, node.right)
            elif kind is ast.JoinedStr:
                stack.extend(node.values)
            elif kind is ast.FormattedValue:
                stack.append(node.value)
            elif kind in (ast.IfExp,):
                stack += (node.body, node.orelse)
            elif kind is ast.BoolOp:
                stack.extend(node.values)
            elif kind is ast.Await:
                stack.append(node.value)
            elif kind in (ast.List, ast.Tuple):  # argv lists and join's items
                stack.extend(node.elts)
            # Anything else (subscripts, comparisons, other operators...) the walker cannot evaluate.
        return False

    def _settle(self) -> None:
        module = self.module
        while True:
            before = (len(self.names), len(self.attrs), len(self.functions))
            for target, value in module.bindings:
                if self.reaches(value):
                    self._bind(target)
            for name, default in module.defaults:
                if name not in self.names and self.reaches(default):
                    self.names.add(name)
            for name, value in module.returns:
                if name not in self.functions and self.reaches(value):
                    self.functions.add(name)
            for call in module.calls:
                func = call.func
                callee = func.id if isinstance(func, ast.Name) else (func.attr if isinstance(func, ast.Attribute)
                                                                     else None)
                params = module.params.get(callee) if callee is not None else None
                if params and not set(params) <= self.names and self._any_argument(call):
                    self.names.update(params)
            if (len(self.names), len(self.attrs), len(self.functions)) == before:
                return

    def _bind(self, target) -> None:
        stack = [target]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                self.names.add(node.id)
            elif isinstance(node, ast.Attribute):
                self.attrs.add(node.attr)
            elif isinstance(node, (ast.Tuple, ast.List)):
                stack.extend(node.elts)
            elif isinstance(node, ast.Starred):
                stack.append(node.value)
            # A subscript target (headers["X"] = v) changes no name's text.

    def _any_argument(self, call: ast.Call) -> bool:
        return any(self.reaches(a) for a in call.args) or any(self.reaches(k.value) for k in call.keywords)

    def url_reaches(self, call: ast.Call, index: int) -> bool:
        """The walker's ``_arg(call, index, "url")``: the ``url=`` keyword, else the index-th positional."""
        for keyword in call.keywords:
            if keyword.arg == "url":
                return self.reaches(keyword.value)
        positional = []
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                break
            positional.append(arg)
        return index < len(positional) and self.reaches(positional[index])


_TABLES: Tables | None = None


def tables() -> Tables:
    """The client table (``clients``) as this module reads it, built once."""
    global _TABLES
    if _TABLES is None:
        from imds_lint.frontends.python import clients as c

        senders = {name: 0 if method else 1 for name, (_, method) in c.MODULE_SENDERS.items()}
        senders.update({name: 0 for name in c.URLOPEN})
        verbs = {verb: 0 for verb in c.VERBS} | {"request": 1, "urlopen": 1}
        _TABLES = Tables(always=set(c.BOTO2_CALLS) | c.BOTO2_CREDENTIAL_CALLS | c.SUBPROCESS_ARGV | c.SHELL_STRING,
                         senders=senders, constructors=set(c.CONSTRUCTORS), verbs=verbs, mock_roots=c.MOCK_MODULES)
    return _TABLES


def walker_may_report(tree: ast.Module, tables: Tables) -> bool:
    """False when the libcst walker would report no request, fact or embedded document for ``tree``."""
    module = _Module(tree)
    roots = {name.split(".", 1)[0] for name in module.imports}
    if roots & tables.mock_roots or (module.imports & _MOCKS and module.test_functions > 0):
        return False  # the walker's own rule: a module that mocks the HTTP layer never reaches IMDS
    if module.star_roots & tables.roots:
        return True  # names a star import binds cannot be followed here
    reach = None
    for call in module.calls:
        names = module.qualified(call.func)
        if names & tables.always:
            return True
        checks = [tables.senders[n] for n in names if n in tables.senders]
        if isinstance(call.func, ast.Attribute) and call.func.attr in tables.verbs:
            checks.append(tables.verbs[call.func.attr])
        constructor = bool(names & tables.constructors)
        if not checks and not constructor:
            continue
        if reach is None:
            reach = _Reach(module)
        if constructor and reach._any_argument(call):
            return True
        if any(reach.url_reaches(call, index) for index in checks):
            return True
    return False
