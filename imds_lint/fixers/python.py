"""Token-first rewrites for Python, as targeted edits on libcst positions.

The token header goes into the call that sends the request (merged into its
``headers=`` dict, or wrapped around a headers variable as ``{**(h or {}), ...}``
so a shared dict is never mutated), and the token comes from a small helper
inserted once per module after its imports (or one the module already has).
The helper uses the same library as the request, so timeouts and exceptions
stay those the surrounding code expects; async code gets an async helper.
"""

from __future__ import annotations

from imds_lint import clients
from imds_lint.fixers import NoFixes, cdk, token_plan
from imds_lint.fixers.token_plan import Fetch, Limit, Placement, Unproven
from imds_lint.model import TOKEN_PATH, Applicability, Edit, Fix, Header, Request
from imds_lint.protocol import TOKEN_HEADER_NAME, TTL_HEADER_NAME
from imds_lint.syntax.python import HelperPlan, PythonHandle, PythonState, argument


def _arg_at(call, index: int):
    # The front-end's reading of positional arguments, so fixer and front-end agree on it.
    return argument(call, index, None)

_TIMEOUT = 2

# Request client -> helper family.
_FAMILY = {
    "requests": "requests", "httpx": "httpx", "httpx-async": "httpx-async", "aiohttp": "aiohttp",
    "urllib": "urllib", "urllib3": "urllib3", "http.client": "http.client",
    "subprocess-curl": "urllib", "subprocess-wget": "urllib",
}
_ASYNC = {"httpx-async", "aiohttp"}
_HELPER_NAMES = {
    "requests": "_imds_token", "httpx": "_imds_token_httpx", "httpx-async": "_imds_token_async",
    "aiohttp": "_imds_token_aiohttp", "urllib": "_imds_token_urllib", "urllib3": "_imds_token_urllib3",
    "http.client": "_imds_token_http_client",
}
_MODULES = {"requests": "requests", "httpx": "httpx", "httpx-async": "httpx", "aiohttp": "aiohttp",
            "urllib": "urllib.request", "urllib3": "urllib3", "http.client": "http.client"}


def _cst():
    import libcst

    return libcst


# What each helper family catches when IMDS does not answer, and calls a failed response.
_ERRORS = {
    "requests": "{m}.RequestException", "httpx": "{m}.HTTPError", "httpx-async": "{m}.HTTPError",
    "aiohttp": "({m}.ClientError, asyncio.TimeoutError)", "urllib": "OSError", "urllib3": "{m}.exceptions.HTTPError",
    "http.client": "(OSError, {m}.HTTPException)",
}
# Families whose clients drop a header whose value is None (requests merges request headers that way);
# the others get "" and send the header empty, which IMDS treats as no token.
_NONE_DROPS_HEADER = {"requests"}
# A failed fetch is remembered this long (seconds), so a black-holed IMDS costs one time-out, not one per request.
_RETRY_AFTER_FAILURE = 60


def _helper_source(family: str, name: str, module: str, local_import: bool, url: str, ttl: int) -> str:
    """A helper that fetches the token once and reuses it until shortly before its TTL ends.

    It takes the calling request's own time limit and never raises: where IMDS
    does not answer it returns no token and the request goes out as before,
    failing (or not) as it did.
    """
    headers = f'{{"{TTL_HEADER_NAME}": "{ttl}"}}'
    cache = f"{name}_cache"
    failed = "None" if family in _NONE_DROPS_HEADER else '""'
    errors = _ERRORS[family].format(m=module or "urllib.request")
    is_async = family in _ASYNC
    # One fetch even when requests run concurrently (threads, asyncio.gather): the lock is made on first use,
    # inside the running event loop for async code.
    lock = "asyncio" if is_async else "threading"
    imports = [lock, "time"] + ([_MODULES[family]] if local_import else [])
    head = (f'    """The IMDSv2 session token, fetched once and reused until its TTL ends (added by imds-lint).\n\n'
            f'    {failed} where IMDS does not answer: the request then goes out as it did without a token.\n    """\n'
            + "".join(f"    import {m}\n" for m in imports) + "\n"
            f'    {"async " if is_async else ""}with {cache}.setdefault("lock", {lock}.Lock()):\n'
            f'        if {cache}.get("expires", 0) <= time.monotonic():\n            try:\n')
    indent = "                "
    if family in ("requests", "httpx"):
        fetch = (f"{indent}response = {module}.put(\n{indent}    \"{url}\",\n{indent}    headers={headers},\n"
                 f"{indent}    timeout=timeout,\n{indent})\n"
                 f"{indent}token = response.text if response.status_code == 200 else {failed}\n")
    elif family == "httpx-async":
        fetch = (f"{indent}async with {module}.AsyncClient() as client:\n"
                 f"{indent}    response = await client.put(\"{url}\", headers={headers}, timeout=timeout)\n"
                 f"{indent}token = response.text if response.status_code == 200 else {failed}\n")
    elif family == "aiohttp":
        fetch = (f"{indent}async with {module}.ClientSession() as session:\n"
                 f"{indent}    async with session.put(\"{url}\", headers={headers},\n"
                 f"{indent}                           timeout={module}.ClientTimeout(total=timeout)) as response:\n"
                 f"{indent}        token = await response.text() if response.status == 200 else {failed}\n")
    elif family == "urllib":
        request_cls, urlopen = (f"{module}.Request", f"{module}.urlopen") if module else ("Request", "urlopen")
        fetch = (f"{indent}request = {request_cls}(\"{url}\", method=\"PUT\", headers={headers})\n"
                 f"{indent}with {urlopen}(request, timeout=timeout) as response:\n"
                 f"{indent}    token = response.read().decode()\n")
    elif family == "urllib3":
        fetch = (f"{indent}response = {module}.PoolManager().request(\"PUT\", \"{url}\", headers={headers}, "
                 f"timeout=timeout, retries=False)\n"
                 f"{indent}token = response.data.decode() if response.status == 200 else {failed}\n")
    elif family == "http.client":
        host = url.split("://", 1)[1].split("/", 1)[0]
        cls = "HTTPSConnection" if url.startswith("https") else "HTTPConnection"
        fetch = (f"{indent}connection = {module}.{cls}(\"{host}\", timeout=timeout)\n"
                 f"{indent}try:\n{indent}    connection.request(\"PUT\", \"{TOKEN_PATH}\", headers={headers})\n"
                 f"{indent}    response = connection.getresponse()\n"
                 f"{indent}    token = response.read().decode() if response.status == 200 else {failed}\n"
                 f"{indent}finally:\n{indent}    connection.close()\n")
    else:
        raise KeyError(family)
    tail = (f"            except {errors}:\n                token = {failed}\n"
            f"            lifetime = {ttl} - 60 if token else {_RETRY_AFTER_FAILURE}\n"
            f'            {cache}.update(token=token, expires=time.monotonic() + max(1, lifetime))\n'
            f'        return {cache}["token"]\n')
    keyword = "async def" if is_async else "def"
    return f"{cache} = {{}}\n\n\n{keyword} {name}(timeout={_TIMEOUT}):\n{head}{fetch}{tail}"


class PythonFixer(NoFixes):
    """Rewrites for Python; CDK apps are Python, so their metadata options are set here too."""

    set_option = staticmethod(cdk.set_option)

    # -- the token -----------------------------------------------------------------
    def add_token(self, request: Request, analysis, ttl: int) -> Fix | None:
        state = analysis.state
        handle = request.handle
        if not isinstance(state, PythonState) or not isinstance(handle, PythonHandle) or request.has_token \
                or request.headers_unknown:
            return None
        family = _FAMILY.get(handle.client)
        if family is None:
            return None
        if handle.session is not None and handle.session.kind == "httpx-async":
            family = "httpx-async"
        if family in _ASYNC and not handle.is_async:
            return None
        plan = state.helper_plans.get(family)
        if plan is None:
            plan = state.helper_plans[family] = HelperPlan(_first_needing(analysis, family),
                                                           _insertion_point(state, analysis, family))
        return token_plan.plan(request, PythonAdapter(self, state, analysis, family, plan), plan,
                               analysis.document.text, ttl)

    # -- headers on a call -----------------------------------------------------------
    def _header_edits(self, request, state, handle, name, expression) -> list[Edit] | None:
        """The edits sending ``name: expression`` with the request (what they cannot prove: ``_unproven``)."""
        cst = _cst()
        call = handle.call
        text = request.document.text
        if handle.subprocess:
            argv0 = handle.argv0
            parent = state.parents.get(argv0) if argv0 is not None else None
            if not isinstance(argv0, cst.SimpleString) or not isinstance(parent, cst.Element):
                return None
            end = state.span(argv0).end
            entry = clients.for_family(handle.client.removeprefix("subprocess-"))
            if entry is None or entry.argv_header is None:
                return None
            value = "{" + expression + "}"
            words = "".join(f', f"{w.format(name=name, value=value)}"' if "{value}" in w else f', "{w.format(name=name)}"'
                            for w in entry.argv_header)
            return [Edit(end, end, words)]
        if handle.request_obj is not None:
            call = handle.request_obj.ctor
        node = _headers_node(handle)
        if node is not None:
            return self._merge_into(node, state, text, name, expression)
        if handle.client == "urllib" and handle.request_obj is None:
            target = _arg_at(call, 0) or _keyword(call, "url")
            if target is None:
                return None
            req = state.imports.get("urllib.request.Request")
            if req is None:
                req = f"{state.imports.get('urllib.request') or 'urllib.request'}.Request"
            span = state.span(target)
            source = text[span.start:span.end]
            return [Edit(span.start, span.end, f'{req}({source}, headers={{"{name}": {expression}}})')]
        if not call.args:
            return None
        last = call.args[-1]
        end = state.span(last.value).end
        return [Edit(end, end, f', headers={{"{name}": {expression}}}')]

    def _merge_into(self, node, state, text, name, expression) -> list[Edit]:
        cst = _cst()
        span = state.span(node)
        if isinstance(node, cst.Dict):
            quote = '"'
            for element in node.elements:
                key = getattr(element, "key", None)
                if isinstance(key, cst.SimpleString):
                    quote = key.quote[0] if key.quote[0] in "'\"" else '"'
                    break
            entry = f"{quote}{name}{quote}: {expression}"
            open_at = span.start + 1
            if node.elements:
                return [Edit(open_at, open_at, entry + ", ")]
            return [Edit(span.start, span.end, "{" + entry + "}")]
        if isinstance(node, cst.Name) and node.value == "None":
            return [Edit(span.start, span.end, f'{{"{name}": {expression}}}')]
        source = text[span.start:span.end]
        # A call builds a fresh dict; a variable may be shared, so it is wrapped, never mutated.
        inner = source if isinstance(node, cst.Call) else f"({source} or {{}})"
        return [Edit(span.start, span.end, f'{{**{inner}, "{name}": {expression}}}')]

    # -- protocol fixes ------------------------------------------------------------------
    def add_put_method(self, request: Request) -> Fix | None:
        cst = _cst()
        handle = request.handle
        if not isinstance(handle, PythonHandle) or handle.subprocess:
            return None
        call = handle.call
        func = call.func
        state = handle.state
        title = "Send the token request as PUT"
        request_obj = handle.request_obj
        if request_obj is not None:
            call = request_obj.ctor
            method = _keyword(call, "method")
            if method is None:
                if not call.args or state is None:
                    return None
                end = state.span(call.args[-1].value).end
                return Fix(title, (Edit(end, end, ', method="PUT"'),), Applicability.UNSAFE)
            return _replace_literal(state, method, "PUT", title, Applicability.UNSAFE)
        if isinstance(func, cst.Attribute) and func.attr.value in ("get", "post", "head", "delete", "patch", "options"):
            span = _attr_span(request, func)
            if span is None:
                return None
            return Fix(title, (Edit(span[0], span[1], "put"),), Applicability.SAFE)
        if isinstance(func, (cst.Attribute, cst.Name)) and state is not None:
            # requests.request("GET", ...), conn.request("GET", ...), pool.request("GET", ...)
            method = _keyword(call, "method") or _arg_at(call, 0)
            return _replace_literal(state, method, "PUT", title, Applicability.SAFE)
        return None

    def add_header(self, request: Request, name: str, value: str) -> Fix | None:
        handle = request.handle
        if not isinstance(handle, PythonHandle) or handle.subprocess or handle.state is None:
            return None
        edits = self._header_edits(request, handle.state, handle, name, f'"{value}"')
        if edits is None:
            return None
        reasons = [r for r in _unproven(handle) if r in (Unproven.REQUEST_ELSEWHERE, Unproven.HEADERS_VARIABLE)]
        return Fix(token_plan.title(reasons, f"Send {name}: {value}"), tuple(edits),
                   Applicability.UNSAFE if reasons else Applicability.SAFE)

    def remove_header(self, request: Request, header: Header) -> Fix | None:
        if header.span is None or not isinstance(request.handle, PythonHandle) or request.handle.subprocess:
            return None
        text = request.document.text
        start, end = header.span.start, header.span.end
        rest = text[end:]
        stripped = rest.lstrip(" \t")
        if stripped.startswith(","):
            end += len(rest) - len(stripped) + 1
            while end < len(text) and text[end] in " \t":
                end += 1
        else:
            before = text[:start].rstrip(" \t\r\n")
            if before.endswith(","):
                start = len(before) - 1
        return Fix(f"Remove the {header.name} header", (Edit(start, end, ""),), Applicability.UNSAFE)


class PythonAdapter:
    """What the token plan needs to know about one Python request: the helper family it uses
    (a cached helper, defined once after the imports and called inside the request)."""

    name_base, name_join, fold_case = _HELPER_NAMES["requests"], "_", False  # name_base: set per family

    def __init__(self, fixer: PythonFixer, state: PythonState, analysis, family: str, plan: HelperPlan):
        self.fixer, self.state, self.analysis, self.family, self.plan = fixer, state, analysis, family, plan
        self.name_base = _HELPER_NAMES[family]
        self.text = analysis.document.text

    def unproven(self, request: Request) -> list[Unproven]:
        reasons = _unproven(request.handle)
        if self.family in _ASYNC:
            reasons.append(Unproven.ASYNC_LOOP)
        return reasons

    def placement(self, request: Request) -> Placement | None:
        if self.plan.at is None:
            return None
        return Placement(self.plan.at, kind=Placement.HELPER)

    def limit(self, request: Request) -> Limit:
        return Limit(_timeout_source(request.handle, self.text, self._reused() or "") or None)

    def reusable_token(self, request: Request, placement: Placement) -> str | None:
        return self._reused()

    def _reused(self) -> str | None:
        """A token helper the module already has (one imds-lint wrote, or its own), of the same kind."""
        wants_async = self.family in _ASYNC
        return next((name for name, (_client, is_async) in sorted(self.state.token_helpers.items())
                     if is_async == wants_async), None)

    def names_in_use(self):
        return self.state.names | {n.removesuffix("_cache") for n in self.state.names}

    def fetch(self, request: Request, variable: str, limit: Limit, ttl: int) -> Fetch:
        state, family = self.state, self.family
        module_name = _MODULES[family]
        local = state.imports.get(module_name)
        url = token_plan.token_url(self.plan.first or request)
        import_line = ""
        if family == "urllib" and local is None and state.imports.get("urllib.request.Request") == "Request" \
                and state.imports.get("urllib.request.urlopen") == "urlopen":
            local = ""  # the module's own ``from urllib.request import Request, urlopen``
        elif family == "urllib" and local is None:
            # urlopen(url) calls become urlopen(urllib.request.Request(url, headers=...)): import it once.
            import_line, local = "import urllib.request\n", module_name
        source = _helper_source(family, variable, module_name if local is None else local, local is None, url, ttl)
        text, at = self.text, self.plan.at
        newline = "\r\n" if "\r\n" in text else "\n"
        after = text[at:]
        content = import_line + "\n\n" + source
        if after.strip():
            blank = len(after) - len(after.lstrip("\r\n"))
            content += "\n" * max(0, 2 - after[:blank].count("\n"))
        if at > 0 and not text[:at].endswith(("\n", "\r")):
            content = "\n" + content
        if at == 0:
            content = import_line + source + "\n\n"
        return Fetch(content.replace("\n", newline))

    def insert(self, placement: Placement, offset: int, fetch: str) -> list[Edit]:
        return [Edit(offset, offset, fetch)]

    def header(self, request: Request, variable: str, limit: Limit) -> list[Edit] | None:
        call = f"{variable}({limit.total or ''})"
        expression = f"await {call}" if self.family in _ASYNC else call
        return self.fixer._header_edits(request, self.state, request.handle, TOKEN_HEADER_NAME, expression)


def _timeout_source(handle: PythonHandle, text: str, helper: str) -> str:
    """The request's own time limit, as written, for the helper's fetch ("" keeps the helper's default)."""
    if helper in handle.state.token_helpers and f"def {helper}(timeout=" not in text:
        return ""  # a helper the module wrote itself: call it as it is
    if handle.subprocess or handle.client in ("http.client", "aiohttp") or handle.state is None:
        return ""
    node = _keyword(handle.call, "timeout")
    if node is None and handle.client == "urllib":
        node = _arg_at(handle.call, 2)
    if node is None:
        return ""
    span = handle.state.span(node)
    source = text[span.start:span.end]
    return source if "\n" not in source else ""


def _headers_node(handle: PythonHandle):
    """The headers argument of the call (or of the Request object it sends), if written."""
    call = handle.call
    if handle.request_obj is not None:
        call = handle.request_obj.ctor
        return _keyword(call, "headers") or _arg_at(call, 2)
    if handle.client == "http.client":
        return _keyword(call, "headers") or _arg_at(call, 3)
    return _keyword(call, "headers")


def _unproven(handle: PythonHandle) -> list[Unproven]:
    """What a token header on this call cannot prove, wherever the token comes from."""
    cst = _cst()
    reasons = []
    if handle.subprocess:
        reasons.append(Unproven.SUBPROCESS_LIMIT)
    if handle.session is not None:
        reasons.append(Unproven.SESSION_LIMIT)
    if handle.request_obj is not None:
        reasons.append(Unproven.REQUEST_ELSEWHERE)
    node = None if handle.subprocess else _headers_node(handle)
    if node is not None and not isinstance(node, (cst.Dict, cst.Call)) and not (
            isinstance(node, cst.Name) and node.value == "None"):
        reasons.append(Unproven.HEADERS_VARIABLE)
    return reasons


def _replace_literal(state, node, value: str, title: str, applicability: Applicability) -> Fix | None:
    """Replace a plain string literal's content, keeping its quotes and prefix."""
    cst = _cst()
    if not isinstance(node, cst.SimpleString) or "\\" in node.value or state is None:
        return None
    span = state.span(node)
    start = span.start + len(node.prefix) + len(node.quote)
    return Fix(title, (Edit(start, span.end - len(node.quote), value),), applicability)


def _attr_span(request: Request, func) -> tuple[int, int] | None:
    """The span of ``.get`` in ``requests.get``: the anchor ends with the attribute name."""
    end = request.anchor.end
    start = end - len(func.attr.value)
    if request.document.text[start:end] != func.attr.value:
        return None
    return start, end


def _keyword(call, name):
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None



def _first_needing(analysis, family) -> Request | None:
    for request in sorted(analysis.requests, key=lambda r: r.span.start):
        handle = request.handle
        if not isinstance(handle, PythonHandle) or _FAMILY.get(handle.client) != family:
            continue
        if request.has_token or request.is_token_fetch or request.headers_unknown:
            continue
        return request
    return None


def _insertion_point(state, analysis, family) -> int | None:
    """After the last top-level import that precedes the first statement needing a token."""
    cst = _cst()
    text = analysis.document.text
    needing = [r.span.start for r in analysis.requests
               if isinstance(r.handle, PythonHandle) and not r.has_token and not r.is_token_fetch]
    first_need = min(needing) if needing else len(text)
    last_import = None
    docstring = None
    for index, statement in enumerate(state.module.body):
        span = state.span(statement)
        if span.start > first_need:
            break
        if isinstance(statement, cst.SimpleStatementLine):
            if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body):
                if span.end <= first_need:
                    last_import = span
                continue
            if index == 0 and isinstance(statement.body[0], cst.Expr) and isinstance(
                    statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
                docstring = span
    anchor = last_import or docstring
    if anchor is None:
        if not state.module.body:
            return None
        return state.span(state.module.body[0]).start
    line_end = text.find("\n", anchor.end)
    return len(text) if line_end == -1 else line_end + 1


FIXER = PythonFixer()
