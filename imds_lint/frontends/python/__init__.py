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

from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.frontends.python.calls import ClientCalls
from imds_lint.frontends.python.clients import MOCK_MODULES
from imds_lint.frontends.python.collector import callee_name, collector_class, is_self, top_functions, top_imports
from imds_lint.frontends.python.headers import HeaderReading, HeaderSet
from imds_lint.frontends.python.subprocesses import SubprocessCalls
from imds_lint.frontends.python.tokens import TokenHelpers
from imds_lint.frontends.python.values import Values, cst_module
from imds_lint.model import Document, Span
from imds_lint.syntax.python import LineOffsets, PythonState


def parse_module(text: str):
    cpython_tree(text)
    cst = cst_module()
    return cst.parse_module(text)


def cpython_tree(text: str):
    """CPython's own tree of ``text``; _Unparsable when Python 3 rejects it.

    CPython's parser runs before libcst's: it rejects what libcst's native parser
    would crash on (a 50,000-term operator chain segfaults it; found by the
    hostile-input tests) with a clean SyntaxError or RecursionError, and it runs
    nothing it parses. Its tree also tells, cheaply, whether libcst is needed.
    """
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            # Warnings about the scanned code (invalid escapes...) are not the user's run's business.
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes
        raise _Unparsable(f"python syntax error: {getattr(exc, 'msg', exc)}",
                          line=getattr(exc, "lineno", None)) from None
    except (RecursionError, MemoryError):
        raise _Unparsable("python code nested too deeply to parse safely", exact=False) from None


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
        tree = cpython_tree(document.text)
    except _Unparsable as exc:
        return _python2(document, session, exc.line) or [_problem(document, exc)]
    from imds_lint.frontends import cdk
    from imds_lint.frontends.python import reach

    try:
        if not reach.walker_may_report(tree, reach.tables()):
            # Nothing in the module can reach IMDS: libcst's walk (~10x CPython's parse) would find nothing.
            return [Analysis(document), *cdk.analyze_cdk(document, session)]
    except RecursionError:
        pass  # a tree too deep to follow here: the walker decides (and says so if it cannot)
    try:
        module = cst_module().parse_module(document.text)
    except Exception as exc:  # ParserSyntaxError, RecursionError: text-scan instead
        return [_problem(document, exc)]
    try:
        walker = _Walker(document, session, module)
        analysis = walker.run()
    except RecursionError as exc:
        return [_problem(document, exc)]

    # CDK apps: enforcement facts and user-data scripts (add_commands) as embedded shell.
    return [analysis, *walker.children, *cdk.analyze_cdk(document, session)]


_PYTHON2_LABEL = "Python 2 module"


def _python2(document: Document, session, line: int | None) -> list[Analysis] | None:
    """A Python 2 module, analysed through its Python 3 respelling (read-only), or None."""
    from imds_lint.frontends.python.legacy import looks_like_python2, repair

    if document.label == _PYTHON2_LABEL or not looks_like_python2(document.text, line):
        return None  # never respell a respelling; nor what Python 2 would reject too
    from imds_lint.kinds import Kind

    repaired = repair(document.text)
    if repaired is None:
        return None
    text, offsets = repaired
    session.errors.append("Python 2 syntax: read through its Python 3 spelling (print and exec statements, "
                          "except X, e, ...); findings here are not fixed automatically")
    child = document.embed(Kind.PYTHON, text, offsets, label=_PYTHON2_LABEL, writable=False)
    return [Analysis(document), *session.analyze(child)]


class _Walker(Values, HeaderReading, ClientCalls, SubprocessCalls, TokenHelpers):
    def __init__(self, document: Document, session, module):
        self.document = document
        self.session = session
        self.module = module
        self.children: list[Analysis] = []
        self._busy: set[int] = set()

    # -- setup -------------------------------------------------------------------
    def run(self) -> Analysis:
        cst = cst_module()
        meta = __import__("libcst.metadata", fromlist=["metadata"])
        wrapper = meta.MetadataWrapper(self.module, unsafe_skip_copy=True)
        collector = collector_class()()
        wrapper.visit(collector)
        self.c = collector
        self.positions = wrapper.resolve(meta.PositionProvider)
        self.scopes = wrapper.resolve(meta.ScopeProvider)
        self.parents = wrapper.resolve(meta.ParentNodeProvider)
        self.offsets = LineOffsets(self.document.text)
        self.state = PythonState(self.module, self.offsets, self.positions, collector.names,
                                 top_imports(self.module), top_functions(self.module), self.parents)
        self.analysis = Analysis(self.document, state=self.state)
        self.obj_headers: dict[int, list[HeaderSet]] = {}
        self.callers: dict[str, list] = {}
        for call in collector.calls:
            name = callee_name(call.func)
            if name is not None and (isinstance(call.func, cst.Name) or is_self(call.func.value)):
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
        if roots & MOCK_MODULES:
            return True
        mocks = {"unittest.mock", "mock", "pytest_mock"}
        # Projects re-export mock (`from tests.compat import mock`, boto's py2/py3 shim).
        reexported = any(name.rsplit(".", 1)[-1] == "mock" for name in self.c.imports)
        return (bool(self.c.imports & mocks) or reexported) and self.c.test_functions > 0

    # -- positions -----------------------------------------------------------------
    def span(self, node) -> Span:
        return self.state.span(node)

    def qnames(self, call) -> set[str]:
        return self.c.qnames.get(id(call), set())
