"""Python front-end through libcst: HTTP calls to IMDS, resolved rather than guessed.

Call targets are named by libcst's QualifiedNameProvider (so ``import requests as
r`` and ``from urllib.request import urlopen`` resolve), variables by its
ScopeProvider. Values are evaluated flow-insensitively to text, with what cannot
be known as ``*``: module and class constants, f-strings, ``%``, ``.format``,
``+``, ``urljoin``, ``os.path.join``, default arguments and the arguments a
helper is called with. Client objects (a ``requests.Session``, an
``http.client.HTTPConnection``, a ``urllib.request.Request``) are identified by
the call that built them, so headers set on them anywhere count for every
request sent through them: token-first code is recognised as such.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from imds_lint.endpoints import is_foreign_metadata_header, parse_imds_url
from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.frontends.shell_clients import Arg, parse_curl, parse_wget, split_header
from imds_lint.kinds import Kind
from imds_lint.model import Document, Header, OffsetMap, Request, Span
from imds_lint.syntax.python import ClientObject, LineOffsets, PythonHandle, PythonState, argument, keyword_argument

UNKNOWN = "*"
_MAX_DEPTH = 12
_VERBS = {"get", "post", "put", "delete", "head", "patch", "options"}

# Module functions that send one request: qualified name -> (client, method or None = first argument).
_MODULE_SENDERS: dict[str, tuple[str, str | None]] = {}
for _verb in _VERBS:
    _MODULE_SENDERS[f"requests.{_verb}"] = ("requests", _verb.upper())
    _MODULE_SENDERS[f"requests.api.{_verb}"] = ("requests", _verb.upper())
    _MODULE_SENDERS[f"httpx.{_verb}"] = ("httpx", _verb.upper())
for _name, _client in (("requests.request", "requests"), ("requests.api.request", "requests"),
                       ("httpx.request", "httpx"), ("urllib3.request", "urllib3"),
                       ("aiohttp.request", "aiohttp")):
    _MODULE_SENDERS[_name] = (_client, None)

# Constructors of objects that send requests (sessions, pools, connections).
_CONSTRUCTORS = {
    "requests.Session": "requests", "requests.session": "requests", "requests.sessions.Session": "requests",
    "httpx.Client": "httpx", "httpx.AsyncClient": "httpx-async",
    "aiohttp.ClientSession": "aiohttp",
    "urllib3.PoolManager": "urllib3", "urllib3.poolmanager.PoolManager": "urllib3",
    "urllib3.HTTPConnectionPool": "urllib3-pool",
    "http.client.HTTPConnection": "http.client", "http.client.HTTPSConnection": "http.client",
    "httplib.HTTPConnection": "http.client",
    "urllib.request.Request": "urllib-request", "urllib2.Request": "urllib-request",
}
_URLOPEN = {"urllib.request.urlopen", "urllib2.urlopen", "six.moves.urllib.request.urlopen"}
_SUBPROCESS_ARGV = {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
                    "subprocess.Popen", "asyncio.create_subprocess_exec"}
_SHELL_STRING = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
                 "asyncio.create_subprocess_shell", "commands.getoutput"}
_MOCK_MODULES = {"responses", "requests_mock", "moto", "httpretty", "respx", "aioresponses",
                 "pytest_httpserver", "vcr", "betamax"}
BOTO2_CALLS = {
    "boto.utils.get_instance_metadata": "get_instance_metadata",
    "boto.utils.get_instance_identity": "get_instance_identity",
    "boto.utils.get_instance_userdata": "get_instance_userdata",
    "boto.utils.retry_url": "retry_url",
}
# boto 2 entry points whose credentials come from IMDSv1 on an instance.
BOTO2_CREDENTIAL_CALLS = {"boto.connect_ec2", "boto.connect_s3", "boto.connect_sqs", "boto.connect_sns",
                          "boto.connect_dynamodb", "boto.ec2.connect_to_region", "boto.s3.connect_to_region",
                          "boto.sqs.connect_to_region", "boto.provider.Provider"}


@dataclass(frozen=True)
class Boto2Call:
    """A boto 2 call that reads IMDS (v1 only): ``boto.utils.get_instance_metadata()`` and kin."""

    function: str
    span: Span
    anchor: Span
    credentials: bool = False


@dataclass
class _Headers:
    items: list[Header] = field(default_factory=list)
    unknown: bool = False
    node: Any = None


def _libcst():
    import libcst

    return libcst


def parse_module(text: str):
    # CPython's parser first: it rejects what libcst's native parser would crash on
    # (a 50,000-term operator chain segfaults it; found by the hostile-input tests)
    # with a clean SyntaxError or RecursionError, and it runs nothing it parses.
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            # Warnings about the scanned code (invalid escapes...) are not the user's run's business.
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes
        raise _Unparsable(f"python syntax error: {getattr(exc, 'msg', exc)}",
                          line=getattr(exc, "lineno", None)) from None
    except (RecursionError, MemoryError):
        raise _Unparsable("python code nested too deeply to parse safely", exact=False) from None
    cst = _libcst()
    return cst.parse_module(text)


class _Unparsable(Exception):
    """CPython's own parser rejected the module (an exact verdict, unlike libcst's)."""

    def __init__(self, message: str, line: int | None = None, exact: bool = True):
        super().__init__(message)
        self.line = line
        self.exact = exact


def syntax_errors(text: str) -> int:
    try:
        parse_module(text)
    except Exception:
        return 1
    return 0


def _problem(document: Document, exc: Exception) -> Analysis:
    text = document.text
    # Only CPython's verdict makes the file broken; libcst failing on code CPython
    # accepts (or recursing too deep) is a gap of ours, reported as a note.
    exact = isinstance(exc, _Unparsable) and exc.exact
    line = exc.line if isinstance(exc, _Unparsable) else getattr(exc, "raw_line", None) or getattr(exc, "line", None)
    message = "libcst could not parse this Python"
    if isinstance(exc, _Unparsable):
        message = str(exc)
    elif isinstance(exc, RecursionError):
        message = "python code nested too deeply for libcst"
    at = LineOffsets(text).char(line, 0) if isinstance(line, int) and line > 0 else 0
    analysis = Analysis(document)
    # The whole module is text-scanned; the span starts at the offending line so the
    # engine can name the file's own line.
    at = min(at, len(text))
    analysis.problems.append(ParseProblem(Span(at, len(text)), message, exact=exact))
    if at:
        analysis.problems.append(ParseProblem(Span(0, at), message, exact=exact))
    return analysis


# libcst with its metadata providers costs ~35 s per MB; past this size a module
# (almost always generated code) is text-scanned so no input stalls a run.
MAX_CST_CHARS = 256 * 1024


def analyze(document: Document, session) -> list[Analysis]:
    if len(document.text) > MAX_CST_CHARS:
        from imds_lint.frontends import ParserGaveUp

        raise ParserGaveUp(f"python module of {len(document.text) // 1024} KB is over the "
                           f"{MAX_CST_CHARS // 1024} KB the libcst front-end reads")
    try:
        module = parse_module(document.text)
    except Exception as exc:  # ParserSyntaxError, RecursionError: text-scan instead
        return [_problem(document, exc)]
    try:
        walker = _Walker(document, session, module)
        analysis = walker.run()
    except RecursionError as exc:
        return [_problem(document, exc)]
    from imds_lint.frontends import cdk

    # CDK apps: enforcement facts and user-data scripts (add_commands) as embedded shell.
    return [analysis, *walker.children, *cdk.analyze_cdk(document, session)]


def _collector_class():
    cst = _libcst()
    meta = __import__("libcst.metadata", fromlist=["metadata"])

    class Collector(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (meta.PositionProvider, meta.QualifiedNameProvider, meta.ScopeProvider,
                                 meta.ParentNodeProvider)

        def __init__(self):
            super().__init__()
            self.calls: list = []
            self.qnames: dict[int, set[str]] = {}
            self.values: dict[int, list] = {}  # id(target Name) -> value expressions
            self.attr_values: dict[tuple[str, str], list] = {}  # (class, attr) -> values
            self.subscript_sets: list = []  # (target Subscript, value)
            self.functions: dict[str, list] = {}
            self.func_stack: list = []
            self.class_stack: list = []
            self.scope_stack: list = []
            self.enclosing: dict[int, tuple] = {}  # id(call) -> (function, class)
            self.imports: set[str] = set()
            self.test_functions = 0
            self.names: set[str] = set()

        def _qn(self, node) -> set[str]:
            try:
                return {q.name for q in self.get_metadata(meta.QualifiedNameProvider, node, set())}
            except Exception:
                return set()

        def visit_Import(self, node):
            for alias in node.names:
                self.imports.add(cst.helpers.get_full_name_for_node(alias.name) or "")

        def visit_ImportFrom(self, node):
            if node.module is not None:
                base = cst.helpers.get_full_name_for_node(node.module) or ""
                self.imports.add(base)
                if not isinstance(node.names, cst.ImportStar):
                    for alias in node.names:
                        self.imports.add(f"{base}.{cst.helpers.get_full_name_for_node(alias.name) or ''}")

        def visit_Name(self, node):
            self.names.add(node.value)

        def visit_ClassDef(self, node):
            self.class_stack.append(node)
            self.scope_stack.append(node)

        def leave_ClassDef(self, node):
            self.class_stack.pop()
            self.scope_stack.pop()

        def in_class_body(self) -> bool:
            return bool(self.scope_stack) and isinstance(self.scope_stack[-1], cst.ClassDef)

        def visit_FunctionDef(self, node):
            self.functions.setdefault(node.name.value, []).append(node)
            if node.name.value.startswith("test"):
                self.test_functions += 1
            self.func_stack.append(node)
            self.scope_stack.append(node)

        def leave_FunctionDef(self, node):
            self.func_stack.pop()
            self.scope_stack.pop()

        def visit_Call(self, node):
            self.calls.append(node)
            self.qnames[id(node)] = self._qn(node.func)
            self.enclosing[id(node)] = (self.func_stack[-1] if self.func_stack else None,
                                        self.class_stack[-1] if self.class_stack else None)

        def _record(self, target, value):
            if isinstance(target, cst.Name):
                self.values.setdefault(id(target), []).append(value)
            elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                owner = target.value.value
                cls = self.class_stack[-1].name.value if self.class_stack else None
                if owner in ("self", "cls") and cls:
                    self.attr_values.setdefault((cls, target.attr.value), []).append(value)
                else:
                    self.attr_values.setdefault((owner, target.attr.value), []).append(value)
            elif isinstance(target, cst.Subscript):
                self.subscript_sets.append((target, value))
            elif isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
                if len(target.elements) == len(value.elements):
                    for t, v in zip(target.elements, value.elements):
                        self._record(t.value, v.value)

        def visit_Assign(self, node):
            for target in node.targets:
                self._record(target.target, node.value)
            # Class body constants: ``class C: BASE = "..."`` read as ``C.BASE`` / ``self.BASE``.
            if self.in_class_body():
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        key = (self.class_stack[-1].name.value, target.target.value)
                        self.attr_values.setdefault(key, []).append(node.value)

        def visit_AnnAssign(self, node):
            if node.value is not None:
                self._record(node.target, node.value)
                if self.in_class_body() and isinstance(node.target, cst.Name):
                    key = (self.class_stack[-1].name.value, node.target.value)
                    self.attr_values.setdefault(key, []).append(node.value)

        def visit_AugAssign(self, node):
            if isinstance(node.operator, cst.AddAssign):
                self._record(node.target, cst.BinaryOperation(node.target, cst.Add(), node.value))

        def visit_WithItem(self, node):
            if node.asname is not None:
                self._record(node.asname.name, node.item)

        def visit_NamedExpr(self, node):
            self._record(node.target, node.value)

    return Collector


class _Walker:
    def __init__(self, document: Document, session, module):
        self.document = document
        self.session = session
        self.module = module
        self.children: list[Analysis] = []
        self._busy: set[int] = set()

    # -- setup -------------------------------------------------------------------
    def run(self) -> Analysis:
        cst = _libcst()
        meta = __import__("libcst.metadata", fromlist=["metadata"])
        wrapper = meta.MetadataWrapper(self.module, unsafe_skip_copy=True)
        collector = _collector_class()()
        wrapper.visit(collector)
        self.c = collector
        self.positions = wrapper.resolve(meta.PositionProvider)
        self.scopes = wrapper.resolve(meta.ScopeProvider)
        self.parents = wrapper.resolve(meta.ParentNodeProvider)
        self.offsets = LineOffsets(self.document.text)
        self.state = PythonState(self.module, self.offsets, self.positions, collector.names,
                                 _top_imports(self.module), _top_functions(self.module), self.parents)
        self.analysis = Analysis(self.document, state=self.state)
        self.obj_headers: dict[int, list[_Headers]] = {}
        self.callers: dict[str, list] = {}
        for call in collector.calls:
            name = _callee_name(call.func)
            if name is not None and (isinstance(call.func, cst.Name) or _is_self(call.func.value)):
                self.callers.setdefault(name, []).append(call)
        if self._mocked():
            return self.analysis
        self._object_mutations()
        for call in collector.calls:
            try:
                self._call(call)
            except RecursionError:
                raise
            except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                continue  # one odd call must not cost the file
        self._token_helpers()
        return self.analysis

    def _mocked(self) -> bool:
        """Test modules that mock the HTTP layer never reach IMDS."""
        roots = {name.split(".", 1)[0] for name in self.c.imports}
        if roots & _MOCK_MODULES:
            return True
        mocks = {"unittest.mock", "mock", "pytest_mock"}
        return bool(self.c.imports & mocks) and self.c.test_functions > 0

    # -- positions -----------------------------------------------------------------
    def span(self, node) -> Span:
        return self.state.span(node)

    def qnames(self, call) -> set[str]:
        return self.c.qnames.get(id(call), set())

    # -- evaluating expressions -----------------------------------------------------
    def assigned(self, name_node) -> list:
        """Value expressions a Name may hold here (all assignments in reach, flow-insensitively)."""
        cst = _libcst()
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
        cst = _libcst()
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
        cst = _libcst()
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
        cst = _libcst()
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
        cst = _libcst()
        while node is not None:
            node = self.parents.get(node)
            if isinstance(node, cst.ClassDef):
                return node
        return None

    def enclosing_function(self, node):
        cst = _libcst()
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
        if node is None or depth > _MAX_DEPTH or id(node) in self._busy:
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
        cst = _libcst()
        if isinstance(node, cst.SimpleString):
            try:
                value = node.evaluated_value
            except Exception:
                return None
            return value.decode("latin-1") if isinstance(value, bytes) else value
        if isinstance(node, cst.ConcatenatedString):
            left, right = self.value(node.left, depth), self.value(node.right, depth)
            return _join(left, right)
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
                return _join(self.value(node.left, depth), self.value(node.right, depth))
            if isinstance(node.operator, cst.Modulo):
                template = self.value(node.left, depth)
                if isinstance(template, str):
                    right = node.right
                    items = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
                    return _percent(template, [self.text(i, depth) for i in items])
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
        cst = _libcst()
        qn = self.qnames(call)
        func = call.func
        args = [a for a in call.args if a.keyword is None and not a.star]
        for name in qn:
            if name in _CONSTRUCTORS:
                return ClientObject(_CONSTRUCTORS[name], call)
            if name in ("urllib.parse.urljoin", "urlparse.urljoin", "requests.compat.urljoin") and len(args) >= 2:
                base, path = self.text(args[0].value, depth), self.text(args[1].value, depth)
                return _urljoin(base, path)
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
                    return _format(template, positional, named)
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
        cst = _libcst()
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

    # -- headers ------------------------------------------------------------------
    def headers(self, node, depth: int = 0) -> _Headers:
        """The headers a ``headers=`` expression holds."""
        if node is None:
            return _Headers()
        if depth > _MAX_DEPTH or id(node) in self._busy:
            return _Headers(unknown=True, node=node)
        self._busy.add(id(node))
        try:
            return self._headers(node, depth + 1)
        finally:
            self._busy.discard(id(node))

    def _headers(self, node, depth) -> _Headers:
        cst = _libcst()
        if isinstance(node, cst.Name) and node.value == "None":
            return _Headers(node=node)
        if isinstance(node, cst.Dict):
            result = _Headers(node=node)
            for element in node.elements:
                if isinstance(element, cst.StarredDictElement):
                    inner = self.headers(element.value, depth)
                    result.items.extend(inner.items)
                    result.unknown |= inner.unknown
                    continue
                name = self.value(element.key, depth)
                if not isinstance(name, str):
                    result.unknown = True
                    continue
                value = self.value(element.value, depth)
                result.items.append(Header(
                    name, value if isinstance(value, str) else None,
                    span=self.span(element),
                    name_span=self.literal_span(element.key, name),
                    value_span=self.literal_span(element.value, value) if isinstance(value, str) else None,
                ))
            return result
        if isinstance(node, cst.Call):
            qn = self.qnames(node)
            if qn & {"dict", "builtins.dict"} or (isinstance(node.func, cst.Name) and node.func.value == "dict"):
                result = _Headers(node=node)
                for arg in node.args:
                    if arg.keyword is not None:
                        value = self.value(arg.value, depth)
                        result.items.append(Header(arg.keyword.value, value if isinstance(value, str) else None,
                                                   span=self.span(arg)))
                    else:
                        inner = self.headers(arg.value, depth)
                        result.items.extend(inner.items)
                        result.unknown |= inner.unknown
                return result
            target = self.local_function(node)
            if target is not None:
                return self._merge([self.headers(r, depth) for r in self.returns(target)], node)
            return _Headers(unknown=True, node=node)
        if isinstance(node, (cst.Name, cst.Attribute)):
            found = self.candidates(node, depth)
            merged = self._merge([self.headers(v, depth) for v in found], node) if found else _Headers(unknown=True, node=node)
            # ``headers["X-aws-ec2-metadata-token"] = token`` / ``headers.update({...})`` on this variable.
            for extra in self.variable_mutations(node, depth):
                merged.items.extend(extra.items)
                merged.unknown |= extra.unknown
            return merged
        if isinstance(node, cst.IfExp):
            return self._merge([self.headers(node.body, depth), self.headers(node.orelse, depth)], node)
        return _Headers(unknown=True, node=node)

    @staticmethod
    def _merge(alternatives: list[_Headers], node) -> _Headers:
        """Flow-insensitive: a header any alternative sets counts (token-first code is not flagged)."""
        known = [a for a in alternatives if not a.unknown]
        result = _Headers(node=node, unknown=not known and bool(alternatives))
        for a in alternatives:
            result.items.extend(h for h in a.items if all(h.lower_name != k.lower_name for k in result.items))
        return result

    def variable_mutations(self, node, depth) -> list[_Headers]:
        cst = _libcst()
        key = _expr_key(node)
        if key is None:
            return []
        out = []
        for target, value in self.c.subscript_sets:
            if _expr_key(target.value) == key and len(target.slice) == 1:
                index = target.slice[0].slice
                name = self.value(getattr(index, "value", None), depth)
                if isinstance(name, str):
                    v = self.value(value, depth)
                    out.append(_Headers([Header(name, v if isinstance(v, str) else None)]))
        for call in self.c.calls:
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "update" and _expr_key(func.value) == key and call.args:
                out.append(self.headers(call.args[0].value, depth))
        return out

    def literal_span(self, node, needle) -> Span | None:
        cst = _libcst()
        if not isinstance(node, cst.SimpleString) or not isinstance(needle, str) or not needle:
            return None
        span = self.span(node)
        source = self.document.text[span.start:span.end]
        first = source.find(needle)
        if first == -1 or source.find(needle, first + 1) != -1:
            return None
        return Span(span.start + first, span.start + first + len(needle))

    # -- objects: headers set on sessions and Request objects anywhere ----------------
    def _object_mutations(self) -> None:
        cst = _libcst()
        for call in self.c.calls:
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            method = func.attr.value
            if method == "update" and isinstance(func.value, cst.Attribute) and func.value.attr.value == "headers" and call.args:
                obj = self.obj(func.value.value)
                if obj is not None:
                    self.obj_headers.setdefault(id(obj.ctor), []).append(self.headers(call.args[0].value))
            elif method in ("add_header", "add_unredirected_header", "putheader") and len(call.args) >= 2:
                obj = self.obj(func.value)
                if obj is not None:
                    name = self.value(call.args[0].value)
                    value = self.value(call.args[1].value)
                    if isinstance(name, str):
                        self.obj_headers.setdefault(id(obj.ctor), []).append(
                            _Headers([Header(name, value if isinstance(value, str) else None)]))
        for target, value in self.c.subscript_sets:
            holder = target.value
            if isinstance(holder, cst.Attribute) and holder.attr.value == "headers" and len(target.slice) == 1:
                obj = self.obj(holder.value)
                index = getattr(target.slice[0].slice, "value", None)
                name = self.value(index)
                if obj is not None and isinstance(name, str):
                    v = self.value(value)
                    self.obj_headers.setdefault(id(obj.ctor), []).append(
                        _Headers([Header(name, v if isinstance(v, str) else None)]))

    def object_headers(self, obj: ClientObject) -> _Headers:
        result = _Headers()
        kwarg = keyword_argument(obj.ctor, "headers")
        if kwarg is not None:
            result = self.headers(kwarg)
        for extra in self.obj_headers.get(id(obj.ctor), []):
            result.items.extend(extra.items)
            result.unknown |= extra.unknown
        return result

    # -- calls ----------------------------------------------------------------------
    def _call(self, call) -> None:
        cst = _libcst()
        qn = self.qnames(call)
        for name in qn:
            if name in _MODULE_SENDERS:
                client, method = _MODULE_SENDERS[name]
                self.http_call(call, client, method, url_index=0 if method else 1, method_index=None if method else 0)
                return
            if name in _URLOPEN:
                self.urlopen(call)
                return
            if name in _SUBPROCESS_ARGV:
                self.subprocess(call, name)
                return
            if name in _SHELL_STRING:
                self.shell_string(call)
                return
            if name in BOTO2_CREDENTIAL_CALLS and (keyword_argument(call, "aws_access_key_id") is not None or len(call.args) >= 2):
                return
            if name in BOTO2_CALLS or name in BOTO2_CREDENTIAL_CALLS:
                self.analysis.add_fact("boto2", Boto2Call(name, self.span(call), self.span(call.func),
                                                          credentials=name in BOTO2_CREDENTIAL_CALLS))
                return
        if not isinstance(call.func, cst.Attribute):
            return
        method = call.func.attr.value
        if method not in _VERBS and method not in ("request", "urlopen"):
            return
        receiver = self.obj(call.func.value)
        if receiver is None:
            self.unknown_receiver(call, method)
            return
        kind = receiver.kind
        if kind in ("requests", "httpx", "httpx-async", "aiohttp"):
            if method == "request":
                self.http_call(call, kind, None, url_index=1, method_index=0, session=receiver)
            elif method in _VERBS:
                self.http_call(call, kind, method.upper(), url_index=0, session=receiver)
        elif kind in ("urllib3", "urllib3-pool") and method in ("request", "urlopen"):
            self.http_call(call, "urllib3", None, url_index=1, method_index=0, session=receiver)
        elif kind == "http.client" and method == "request":
            self.http_client(call, receiver)

    def unknown_receiver(self, call, method) -> None:
        """``session.get(IMDS_URL)`` on a session built elsewhere: its default headers are unknown."""
        if method not in _VERBS:
            return
        url_node = argument(call, 0, "url")
        if url_node is None:
            return
        url = self.text(url_node)
        if parse_imds_url(url) is None:
            return
        self.emit(call, "session", url, method.upper(), _Headers(unknown=True), url_node, headers_unknown=True)

    def http_call(self, call, client, method, url_index, method_index=None, session: ClientObject | None = None) -> None:
        url_node = argument(call, url_index, "url")
        if url_node is None:
            return
        url = self.text(url_node)
        if session is not None:
            base = keyword_argument(session.ctor, "base_url")
            if base is not None and parse_imds_url(url) is None:
                url = _urljoin(self.text(base), url)
        if parse_imds_url(url) is None:
            return
        explicit = method is not None
        if method is None:
            method_node = argument(call, method_index, "method")
            method = self.text(method_node).upper() if method_node is not None else "GET"
            method = None if method == UNKNOWN else method
        headers = self.headers(keyword_argument(call, "headers")) if keyword_argument(call, "headers") is not None else _Headers()
        if session is not None:
            default = self.object_headers(session)
            headers = _Headers(default.items + headers.items, default.unknown or headers.unknown, headers.node)
        unknown = headers.unknown or any(a.star == "**" for a in call.args)
        self.emit(call, client, url, method, headers, url_node, headers_unknown=unknown,
                  method_explicit=explicit, session=session)

    def urlopen(self, call) -> None:
        target = argument(call, 0, "url")
        if target is None:
            return
        obj = self.obj(target)
        if obj is not None and obj.kind == "urllib-request":
            url_node = argument(obj.ctor, 0, "url")
            url = self.text(url_node) if url_node is not None else UNKNOWN
            if parse_imds_url(url) is None:
                return
            method_node = keyword_argument(obj.ctor, "method")
            method = self.text(method_node).upper() if method_node is not None else None
            if method is None or method == UNKNOWN:
                method = "POST" if (argument(obj.ctor, 1, "data") is not None or argument(call, 1, "data") is not None) else "GET"
            headers = self.object_headers(obj)
            self.emit(call, "urllib", url, method, headers, url_node, headers_unknown=headers.unknown,
                      method_explicit=method_node is not None, request_obj=obj)
            return
        url = self.text(target)
        if parse_imds_url(url) is None:
            return
        method = "POST" if argument(call, 1, "data") is not None else "GET"
        self.emit(call, "urllib", url, method, _Headers(), target)

    def http_client(self, call, conn: ClientObject) -> None:
        host_node = argument(conn.ctor, 0, "host")
        if host_node is None:
            return
        host = self.text(host_node)
        port_node = argument(conn.ctor, 1, "port")
        if port_node is not None:
            host = f"{host}:{self.text(port_node)}"
        path_node = argument(call, 1, "url")
        path = self.text(path_node) if path_node is not None else "/"
        url = host + path if "://" in host else f"http://{host}{path}"
        if parse_imds_url(url) is None:
            return
        method_node = argument(call, 0, "method")
        method = self.text(method_node).upper() if method_node is not None else "GET"
        header_node = argument(call, 3, "headers")
        headers = self.headers(header_node) if header_node is not None else _Headers()
        extra = self.object_headers(conn)
        headers = _Headers(extra.items + headers.items, extra.unknown or headers.unknown, headers.node)
        self.emit(call, "http.client", url, None if method == UNKNOWN else method, headers, path_node,
                  headers_unknown=headers.unknown, method_explicit=True, session=conn)

    def emit(self, call, client, url, method, headers: _Headers, url_node, headers_unknown=False,
             method_explicit=True, session=None, request_obj=None) -> None:
        if any(is_foreign_metadata_header(h.name, h.value) for h in headers.items):
            return
        imds = parse_imds_url(url)
        if imds is None:
            return
        function = self.enclosing_function(call)
        self.analysis.requests.append(Request(
            client=client, url=url, endpoint=imds.endpoint, path=imds.path, method=method,
            method_explicit=method_explicit, headers=tuple(headers.items), headers_unknown=headers_unknown,
            span=self.span(call), anchor=self.span(call.func), document=self.document,
            path_span=self.literal_span(url_node, imds.path) if imds.path and imds.path != "/" else None,
            container=self.document.container,
            handle=PythonHandle(call, client, self.state, headers_node=headers.node, session=session,
                                request_obj=request_obj, function=function,
                                is_async=bool(function is not None and function.asynchronous is not None)),
        ))

    # -- subprocess ------------------------------------------------------------------
    def subprocess(self, call, name) -> None:
        cst = _libcst()
        first = argument(call, 0, "args")
        if first is None:
            return
        shell = keyword_argument(call, "shell")
        if name == "asyncio.create_subprocess_exec":
            argv = [Arg(self.text(a.value), a.value, isinstance(a.value, cst.SimpleString))
                    for a in call.args if a.keyword is None and not a.star]
            self.argv(call, argv)
            return
        if shell is not None and isinstance(shell, cst.Name) and shell.value == "True":
            self.embed(first)
            return
        value = self.value(first)
        if isinstance(value, list):
            argv = [Arg(self.text(e.value), e.value, isinstance(e.value, cst.SimpleString)) for e in value]
            self.argv(call, argv)
        elif isinstance(value, tuple) and value and value[0] == "argv":
            try:
                words = shlex.split(value[1])
            except ValueError:
                return
            self.argv(call, [Arg(w, value[2], False) for w in words])

    def argv(self, call, argv: list[Arg]) -> None:
        if not argv:
            return
        program = argv[0].value.rsplit("/", 1)[-1]
        if program == "curl":
            parsed = parse_curl(argv[1:])
        elif program == "wget":
            parsed = parse_wget(argv[1:])
        else:
            return
        if not parsed.sends:
            return
        headers = []
        for header in parsed.headers:
            hname, hvalue = split_header(header.text)
            refs = [r.ref for r in header.refs if r.ref is not None]
            span = Span(self.span(refs[0]).start, self.span(refs[-1]).end) if refs else None
            headers.append(Header(hname, hvalue, span=span))
        if any(is_foreign_metadata_header(h.name, h.value) for h in headers):
            return
        for url_arg in parsed.urls:
            imds = parse_imds_url(url_arg.value)
            if imds is None:
                continue
            function = self.enclosing_function(call)
            self.analysis.requests.append(Request(
                client=parsed.client, url=url_arg.value, endpoint=imds.endpoint, path=imds.path,
                method=parsed.method, method_explicit=parsed.method_explicit, headers=tuple(headers),
                headers_unknown=parsed.headers_unknown, span=self.span(call),
                anchor=self.span(argv[0].ref) if argv[0].ref is not None else self.span(call.func),
                document=self.document, container=self.document.container,
                handle=PythonHandle(call, "subprocess-" + parsed.client, self.state, function=function,
                                    argv0=argv[0].ref),
            ))

    def shell_string(self, call) -> None:
        first = argument(call, 0, "cmd")
        if first is not None:
            self.embed(first)

    def embed(self, node) -> None:
        """A shell command string becomes a shell document mapped back into the Python string."""
        cst = _libcst()
        span = self.span(node)
        if isinstance(node, cst.SimpleString):
            prefix = node.prefix.lower()
            quote = node.quote
            inner_start = span.start + len(node.prefix) + len(quote)
            raw = self.document.text[inner_start:span.end - len(quote)]
            verbatim = "r" in prefix or "\\" not in raw
            text = self.text(node)
            if verbatim and text == raw:
                escape = _string_escaper(quote)
                doc = self.document.embed(Kind.SHELL, text, OffsetMap.shifted(inner_start, len(text)),
                                          escape=escape, label="python shell string",
                                          writable="r" not in prefix)
                self.children.extend(self.session.analyze(doc))
                return
        text = self.text(node)
        if not text or text == UNKNOWN:
            return
        from imds_lint.model import Segment

        doc = self.document.embed(Kind.SHELL, text, _OpaqueMap(Segment(0, len(text), span.start, span.end)),
                                  label="python shell string", writable=False)
        self.children.extend(self.session.analyze(doc))

    # -- facts for the fixer ----------------------------------------------------------
    def _token_helpers(self) -> None:
        """Top-level functions that fetch a token with PUT and return it, reusable by the fixer."""
        for request in self.analysis.requests:
            handle = request.handle
            if not (request.is_token_fetch and request.method == "PUT" and isinstance(handle, PythonHandle)):
                continue
            function = handle.function
            if function is None or function.name.value not in self.state.functions:
                continue
            if self.state.functions[function.name.value] is not function:
                continue
            required = [p for p in function.params.params if p.default is None]
            if required or not any(self._returns_token(r, request.span) for r in self.returns(function)):
                continue
            self.state.token_helpers.setdefault(function.name.value, (request.client, function.asynchronous is not None))


    def _returns_token(self, node, token_span: Span, depth: int = 0) -> bool:
        """Whether a return value is the token text (not the response object) of the token request."""
        cst = _libcst()
        if depth > 4:
            return False
        if isinstance(node, cst.Name):
            return any(not isinstance(v, tuple) and self._returns_token(v, token_span, depth + 1)
                       for v in self.assigned(node))
        if isinstance(node, cst.Await):
            return self._returns_token(node.expression, token_span, depth + 1)
        if isinstance(node, cst.Attribute):
            return node.attr.value in ("text", "content", "data") and self._is_response(node.value, token_span, depth + 1)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            inner = node.func.value
            if method in ("decode", "strip"):
                return self._returns_token(inner, token_span, depth + 1) or self._is_response(inner, token_span, depth + 1)
            if method in ("read", "text"):
                return self._is_response(inner, token_span, depth + 1)
        return False

    def _is_response(self, node, token_span: Span, depth: int) -> bool:
        cst = _libcst()
        if depth > 4:
            return False
        if isinstance(node, cst.Await):
            node = node.expression
        if self.span(node) == token_span:
            return True
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in (
                "getresponse", "read"):
            return self._is_response(node.func.value, token_span, depth + 1)
        if isinstance(node, cst.Name):
            values = [v for v in self.assigned(node) if not isinstance(v, tuple)]
            # ``connection.getresponse()`` of the connection that sent the token PUT.
            if any(isinstance(v, cst.Call) and self.qnames(v) & {"http.client.HTTPConnection",
                                                                 "http.client.HTTPSConnection"} for v in values):
                return True
            return any(self._is_response(v, token_span, depth + 1) for v in values) or any(
                self._with_target(node, token_span))
        return False

    def _with_target(self, name, token_span: Span):
        """``with urlopen(req) as response`` / ``async with session.put(...) as response``."""
        return [self.span(v) == token_span for v in self.c.values.get(id(name), [])]


def _string_escaper(quote: str):
    """Text for the inside of a Python string literal with this quote (newlines kept as \\n on one line)."""

    def escape(text: str) -> str:
        text = text.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])
        if len(quote) == 1:
            text = text.replace("\r", "\\r").replace("\n", "\\n")
        return text

    return escape


class _OpaqueMap(OffsetMap):
    """Every inner offset maps to the start of an evaluated (non-literal) string."""

    def __init__(self, segment):
        super().__init__([segment])
        self.segment = segment

    def to_outer(self, offset: int) -> int:
        return self.segment.outer_start


# -- pure helpers -------------------------------------------------------------------------

def _join(left, right):
    if isinstance(left, str) or isinstance(right, str):
        return (left if isinstance(left, str) else UNKNOWN) + (right if isinstance(right, str) else UNKNOWN)
    return None


def _percent(template: str, values: list[str]) -> str:
    it = iter(values)

    def sub(match):
        if match.group(0) == "%%":
            return "%"
        return next(it, UNKNOWN)

    return re.sub(r"%%|%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdrifxXoeEgGac]", sub, template)


def _format(template: str, positional: list[str], named: dict[str, str]) -> str:
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


def _urljoin(base: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    try:
        return urljoin(base, path)
    except ValueError:
        return base + path


def _callee_name(func) -> str | None:
    cst = _libcst()
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _is_self(node) -> bool:
    cst = _libcst()
    return isinstance(node, cst.Name) and node.value in ("self", "cls")


def _expr_key(node) -> str | None:
    cst = _libcst()
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = _expr_key(node.value)
        return f"{inner}.{node.attr.value}" if inner else None
    return None


def _top_imports(module) -> dict[str, str]:
    """``import X`` / ``import X as Y`` / ``from A import B`` at top level: qualified -> local name."""
    cst = _libcst()
    found: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    full = cst.helpers.get_full_name_for_node(alias.name) or ""
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        found.setdefault(full, alias.asname.name.value)
                    else:
                        found.setdefault(full, full)
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                base = cst.helpers.get_full_name_for_node(small.module) or ""
                if isinstance(small.names, cst.ImportStar):
                    continue
                for alias in small.names:
                    name = cst.helpers.get_full_name_for_node(alias.name) or ""
                    local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
                    found.setdefault(f"{base}.{name}", local)
    return found


def _top_functions(module) -> dict[str, Any]:
    cst = _libcst()
    return {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}
