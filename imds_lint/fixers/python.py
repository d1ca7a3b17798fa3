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
from imds_lint.fixers import NoFixes, cdk
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

MANUAL_RECIPE = ("fetch a token with PUT http://169.254.169.254/latest/api/token "
                 f"(header {TTL_HEADER_NAME}: 21600) and send it as {TOKEN_HEADER_NAME}")


def _cst():
    import libcst

    return libcst


def _base_url(request: Request) -> str:
    scheme = "https" if request.url.lower().startswith("https://") else "http"
    return f"{scheme}://{request.endpoint}"


def _helper_source(family: str, name: str, module: str, local_import: bool, url: str, ttl: int) -> str:
    headers = f'{{"{TTL_HEADER_NAME}": "{ttl}"}}'
    doc = '    """Fetch an IMDSv2 session token (added by imds-lint)."""\n'
    imp = f"    import {_MODULES[family]}\n" if local_import else ""
    if family in ("requests", "httpx"):
        body = (f"    response = {module}.put(\n        \"{url}\",\n        headers={headers},\n"
                f"        timeout={_TIMEOUT},\n    )\n    return response.text\n")
        return f"def {name}():\n{doc}{imp}{body}"
    if family == "httpx-async":
        body = (f"    async with {module}.AsyncClient() as client:\n"
                f"        response = await client.put(\"{url}\", headers={headers}, timeout={_TIMEOUT})\n"
                f"    return response.text\n")
        return f"async def {name}():\n{doc}{imp}{body}"
    if family == "aiohttp":
        body = (f"    async with {module}.ClientSession() as session:\n"
                f"        async with session.put(\n            \"{url}\",\n            headers={headers},\n"
                f"            timeout={module}.ClientTimeout(total={_TIMEOUT}),\n        ) as response:\n"
                f"            return await response.text()\n")
        return f"async def {name}():\n{doc}{imp}{body}"
    if family == "urllib":
        request_cls, urlopen = (f"{module}.Request", f"{module}.urlopen") if module else ("Request", "urlopen")
        body = (f"    request = {request_cls}(\"{url}\", method=\"PUT\", headers={headers})\n"
                f"    with {urlopen}(request, timeout={_TIMEOUT}) as response:\n"
                f"        return response.read().decode()\n")
        return f"def {name}():\n{doc}{imp}{body}"
    if family == "urllib3":
        body = (f"    response = {module}.PoolManager().request(\"PUT\", \"{url}\", headers={headers}, "
                f"timeout={_TIMEOUT})\n    return response.data.decode()\n")
        return f"def {name}():\n{doc}{imp}{body}"
    if family == "http.client":
        host = url.split("://", 1)[1].split("/", 1)[0]
        cls = "HTTPSConnection" if url.startswith("https") else "HTTPConnection"
        body = (f"    connection = {module}.{cls}(\"{host}\", timeout={_TIMEOUT})\n"
                f"    try:\n        connection.request(\"PUT\", \"{TOKEN_PATH}\", headers={headers})\n"
                f"        return connection.getresponse().read().decode()\n"
                f"    finally:\n        connection.close()\n")
        return f"def {name}():\n{doc}{imp}{body}"
    raise KeyError(family)


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
        is_async = family in _ASYNC
        if is_async and not handle.is_async:
            return None
        helper = self._helper(state, analysis, family, request, ttl)
        if helper is None:
            return None
        name, helper_edits = helper
        expression = f"await {name}()" if is_async else f"{name}()"
        header_edits, applicability = self._header_edits(request, state, handle, TOKEN_HEADER_NAME, expression)
        if header_edits is None:
            return None
        if is_async or handle.session is not None or handle.subprocess:
            applicability = Applicability.UNSAFE
        return Fix("Fetch an IMDSv2 token and send it with this request", tuple(helper_edits + header_edits),
                   applicability)

    def _helper(self, state, analysis, family, request, ttl):
        wants_async = family in _ASYNC
        for name, (_client, is_async) in sorted(state.token_helpers.items()):
            if is_async == wants_async:
                return name, []
        base = _HELPER_NAMES[family]
        name, n = base, 1
        while name in state.names:
            n += 1
            name = f"{base}_{n}"
        module_name = _MODULES[family]
        local = state.imports.get(module_name)
        plan = state.helper_plans.get(family)
        if plan is None:
            plan = state.helper_plans[family] = HelperPlan(_first_needing(analysis, family),
                                                           _insertion_point(state, analysis, family))
        first = plan.first or request
        url = f"{_base_url(first)}{TOKEN_PATH}"
        import_line = ""
        if family == "urllib" and local is None and state.imports.get("urllib.request.Request") == "Request" \
                and state.imports.get("urllib.request.urlopen") == "urlopen":
            local = ""  # the module's own ``from urllib.request import Request, urlopen``
        elif family == "urllib" and local is None:
            # urlopen(url) calls become urlopen(urllib.request.Request(url, headers=...)): import it once.
            import_line, local = "import urllib.request\n", module_name
        source = _helper_source(family, name, module_name if local is None else local, local is None, url, ttl)
        at = plan.at
        if at is None:
            return None
        text = analysis.document.text
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
        return name, [Edit(at, at, content.replace("\n", newline))]

    # -- headers on a call -----------------------------------------------------------
    def _header_edits(self, request, state, handle, name, expression):
        cst = _cst()
        call = handle.call
        text = request.document.text
        applicability = Applicability.SAFE
        if handle.subprocess:
            argv0 = handle.argv0
            parent = state.parents.get(argv0) if argv0 is not None else None
            if not isinstance(argv0, cst.SimpleString) or not isinstance(parent, cst.Element):
                return None, applicability
            end = state.span(argv0).end
            entry = clients.for_family(handle.client.removeprefix("subprocess-"))
            if entry is None or entry.argv_header is None:
                return None, applicability
            value = "{" + expression + "}"
            words = "".join(f', f"{w.format(name=name, value=value)}"' if "{value}" in w else f', "{w.format(name=name)}"'
                            for w in entry.argv_header)
            return [Edit(end, end, words)], Applicability.UNSAFE
        request_obj = handle.request_obj
        if request_obj is not None:
            call = request_obj.ctor
            applicability = Applicability.UNSAFE
            node = _keyword(call, "headers")
            if node is None:
                node = _arg_at(call, 2)
        elif handle.client == "http.client":
            node = _keyword(call, "headers") or _arg_at(call, 3)
        else:
            node = _keyword(call, "headers")
        if node is not None:
            return self._merge_into(node, state, text, name, expression, applicability)
        if handle.client == "urllib" and request_obj is None:
            target = _arg_at(call, 0) or _keyword(call, "url")
            if target is None:
                return None, applicability
            req = state.imports.get("urllib.request.Request")
            if req is None:
                req = f"{state.imports.get('urllib.request') or 'urllib.request'}.Request"
            span = state.span(target)
            source = text[span.start:span.end]
            return [Edit(span.start, span.end, f'{req}({source}, headers={{"{name}": {expression}}})')], applicability
        if not call.args:
            return None, applicability
        last = call.args[-1]
        end = state.span(last.value).end
        return [Edit(end, end, f', headers={{"{name}": {expression}}}')], applicability

    def _merge_into(self, node, state, text, name, expression, applicability):
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
                return [Edit(open_at, open_at, entry + ", ")], applicability
            return [Edit(span.start, span.end, "{" + entry + "}")], applicability
        if isinstance(node, cst.Name) and node.value == "None":
            return [Edit(span.start, span.end, f'{{"{name}": {expression}}}')], applicability
        source = text[span.start:span.end]
        if isinstance(node, cst.Call):
            inner = source
        else:
            inner = f"({source} or {{}})"
            applicability = Applicability.UNSAFE
        return [Edit(span.start, span.end, f'{{**{inner}, "{name}": {expression}}}')], applicability

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
        edits, applicability = self._header_edits(request, handle.state, handle, name, f'"{value}"')
        if edits is None:
            return None
        return Fix(f"Send {name}: {value}", tuple(edits), applicability)

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
