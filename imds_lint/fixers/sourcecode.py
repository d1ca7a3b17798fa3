"""Token-first rewrites for JS/TS, Go, Java, C# and Ruby source.

Safe (applied by ``--fix``) only where the call is one expression with a
literal URL and nothing else: ``fetch(URL)`` and ``axios.get(URL)`` become a
promise chain that fetches a token with PUT and then sends the same request
with it; the value keeps its type (a Promise of the same response), so
callers are unaffected. Everything else gets a display-only suggestion in the
language (shown by ``--diff``): a token helper plus the header on the request.
"""

from __future__ import annotations

import re

from imds_lint.fixers import NoFixes
from imds_lint.model import TOKEN_PATH, Applicability, Edit, Fix, Header, Request
from imds_lint.protocol import TOKEN_HEADER_NAME, TTL_HEADER_NAME
from imds_lint.syntax.sourcecode import SourceHandle, SourceState, walk



def _fresh(text: str, base: str) -> str:
    """A helper name the file does not use yet (so a suggestion never clashes with existing code)."""
    name, n = base, 1
    while re.search(rf"\b{re.escape(name)}\b", text):
        n += 1
        name = f"{base}{n}"
    return name


def _token_url(request: Request) -> str:
    return f"http://{request.endpoint}{TOKEN_PATH}"


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _indent(text: str, offset: int) -> str:
    start = _line_start(text, offset)
    line = text[start:offset]
    return line[:len(line) - len(line.lstrip())]


def _statement_start(state, node):
    """The start of the line that holds the statement around ``node``."""
    return _line_start(state.text, state.span(node).start)


def _after_statement(state, node) -> int:
    end = state.span(node).end
    newline = state.text.find("\n", end)
    return len(state.text) if newline < 0 else newline + 1


class SourceFixer(NoFixes):
    def add_token(self, request: Request, analysis, ttl: int) -> Fix | None:
        state, handle = analysis.state, request.handle
        if not isinstance(state, SourceState) or not isinstance(handle, SourceHandle) or request.has_token or request.headers_unknown:
            return None
        kind = handle.kind
        text = state.text
        call = request.span
        source = text[call.start:call.end]
        quote = "'"
        if kind == "fetch":
            url = source[source.index("(") + 1:source.rindex(")")].strip()
            content = (f"fetch({quote}{_token_url(request)}{quote}, {{ method: 'PUT', headers: {{ '{TTL_HEADER_NAME}': '{ttl}' }} }})"
                       f".then((imdsTokenResponse) => imdsTokenResponse.text())"
                       f".then((imdsToken) => fetch({url}, {{ headers: {{ '{TOKEN_HEADER_NAME}': imdsToken }} }}))")
            return Fix("Fetch an IMDSv2 token first and send it with this request",
                       (Edit(call.start, call.end, content),), Applicability.SAFE)
        if kind == "axios-get":
            callee = source[:source.index("(")]
            url = source[source.index("(") + 1:source.rindex(")")].strip()
            receiver = callee.rsplit(".", 1)[0]
            content = (f"{receiver}.put('{_token_url(request)}', null, {{ headers: {{ '{TTL_HEADER_NAME}': '{ttl}' }} }})"
                       f".then((imdsToken) => {callee}({url}, {{ headers: {{ '{TOKEN_HEADER_NAME}': imdsToken.data }} }}))")
            return Fix("Fetch an IMDSv2 token first and send it with this request",
                       (Edit(call.start, call.end, content),), Applicability.SAFE)
        suggestion = _SUGGESTIONS.get(state.language)
        if suggestion is None:
            return None
        edits = suggestion(request, handle, state, ttl)
        if not edits:
            return None
        return Fix(_RECIPES[state.language], tuple(edits), Applicability.DISPLAY_ONLY)

    def remove_header(self, request: Request, header: Header) -> Fix | None:
        if header.span is None:
            return None
        return Fix(f"Remove the {header.name} header", (Edit(header.span.start, header.span.end, ""),),
                   Applicability.DISPLAY_ONLY)


_RECIPES = {
    "javascript": "fetch a token with PUT /latest/api/token (header X-aws-ec2-metadata-token-ttl-seconds) "
                  "and pass it in headers: { 'X-aws-ec2-metadata-token': token }",
    "go": "fetch a token with http.NewRequest(http.MethodPut, \".../latest/api/token\", nil) and "
          "req.Header.Set(\"X-aws-ec2-metadata-token\", token) on each request",
    "java": "fetch a token with a PUT to /latest/api/token and setRequestProperty/header(\"X-aws-ec2-metadata-token\", token)",
    "csharp": "fetch a token with a PUT to /latest/api/token and Headers.Add(\"X-aws-ec2-metadata-token\", token)",
    "ruby": "fetch a token with Net::HTTP::Put to /latest/api/token and send req['X-aws-ec2-metadata-token'] = token",
}
_RECIPES["typescript"] = _RECIPES["tsx"] = _RECIPES["javascript"]


def _js(request, handle, state, ttl) -> list[Edit]:
    text = state.text
    start = _line_start(text, request.span.start)
    indent = _indent(text, request.span.start)
    fetch_token = (f"{indent}const imdsToken = await (await fetch('{_token_url(request)}', "
                   f"{{ method: 'PUT', headers: {{ '{TTL_HEADER_NAME}': '{ttl}' }} }})).text();\n")
    source = text[request.span.start:request.span.end]
    close = request.span.start + source.rindex(")")
    return [Edit(start, start, fetch_token),
            Edit(close, close, f", {{ headers: {{ '{TOKEN_HEADER_NAME}': imdsToken }} }}")]


_GO_HELPER = """
func {name}() string {{
\treq, err := http.NewRequest(http.MethodPut, "{url}", nil)
\tif err != nil {{
\t\treturn ""
\t}}
\treq.Header.Set("{ttl_name}", "{ttl}")
\tresp, err := http.DefaultClient.Do(req)
\tif err != nil {{
\t\treturn ""
\t}}
\tdefer resp.Body.Close()
\ttoken, _ := io.ReadAll(resp.Body)
\treturn string(token)
}}
"""


def _go(request, handle, state, ttl) -> list[Edit]:
    text = state.text
    name = _fresh(text, "imdsToken")
    helper = Edit(len(text), len(text), _GO_HELPER.format(name=name, url=_token_url(request), ttl_name=TTL_HEADER_NAME, ttl=ttl))
    if handle.kind == "go-get":
        url = text[request.span.start:request.span.end]
        url = url[url.index("(") + 1:url.rindex(")")]
        content = ("func() (*http.Response, error) { req, err := http.NewRequest(http.MethodGet, " + url +
                   ", nil); if err != nil { return nil, err }; req.Header.Set(\"" + TOKEN_HEADER_NAME +
                   "\", " + name + "()); return http.DefaultClient.Do(req) }()")
        return [Edit(request.span.start, request.span.end, content), helper]
    variable, created = handle.variable, handle.created
    if not variable or created is None:
        return []
    at = _after_statement(state, created)
    line = f"{_indent(text, state.span(created).start)}{variable}.Header.Set(\"{TOKEN_HEADER_NAME}\", {name}())\n"
    return [Edit(at, at, line), helper]


_JAVA_HELPER = """
    private static String {name}() throws java.io.IOException {{
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) new java.net.URL("{url}").openConnection();
        c.setRequestMethod("PUT");
        c.setRequestProperty("{ttl_name}", "{ttl}");
        try (java.io.InputStream in = c.getInputStream()) {{
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }}
    }}
"""


def _class_end(state, node, body_types: tuple[str, ...]) -> int | None:
    while node is not None and node.type not in body_types:
        node = node.parent
    if node is None:
        return None
    return _line_start(state.text, state.span(node).end - 1)


def _java(request, handle, state, ttl) -> list[Edit]:
    text = state.text
    created = handle.created
    variable = handle.variable
    if created is None:
        return []
    end = _class_end(state, created, ("class_body",))
    if end is None:
        return []
    name = _fresh(text, "imdsToken")
    helper = Edit(end, end, _JAVA_HELPER.format(name=name, url=_token_url(request), ttl_name=TTL_HEADER_NAME, ttl=ttl))
    if request.client == "java.net.http.HttpRequest":
        source = text[state.span(created).start:state.span(created).end]
        at = source.find("newBuilder(")
        close = source.find(")", at)
        if at < 0 or close < 0:
            return []
        offset = state.span(created).start + close + 1
        return [Edit(offset, offset, f".header(\"{TOKEN_HEADER_NAME}\", {name}())"), helper]
    if not variable:
        return []
    setter = "setRequestProperty" if request.client == "HttpURLConnection" else "setHeader"
    at = _after_statement(state, created)
    line = f"{_indent(text, state.span(created).start)}{variable}.{setter}(\"{TOKEN_HEADER_NAME}\", {name}());\n"
    return [Edit(at, at, line), helper]


_CSHARP_HELPER = """
    private static string {name}()
    {{
        using var http = new System.Net.Http.HttpClient();
        var put = new System.Net.Http.HttpRequestMessage(System.Net.Http.HttpMethod.Put, "{url}");
        put.Headers.Add("{ttl_name}", "{ttl}");
        return http.Send(put).Content.ReadAsStringAsync().GetAwaiter().GetResult();
    }}
"""


def _csharp(request, handle, state, ttl) -> list[Edit]:
    text = state.text
    variable = handle.variable
    created = handle.created
    anchor = created
    if anchor is None:
        anchor = next((n for n in walk(state.tree.root_node)
                       if state.span(n) == request.span), None)
    if anchor is None or not variable:
        return []
    end = _class_end(state, anchor, ("declaration_list",))
    if end is None:
        return []
    name = _fresh(text, "ImdsToken")
    helper = Edit(end, end, _CSHARP_HELPER.format(name=name, url=_token_url(request), ttl_name=TTL_HEADER_NAME, ttl=ttl))
    indent = _indent(text, state.span(anchor).start)
    if created is not None:
        at = _after_statement(state, created)
        line = f"{indent}{variable}.Headers.Add(\"{TOKEN_HEADER_NAME}\", {name}());\n"
    else:
        at = _statement_start(state, anchor)
        webclient = request.client.startswith(("Download", "Upload", "OpenRead"))
        field = "Headers" if webclient else "DefaultRequestHeaders"
        line = f"{indent}{variable}.{field}.Remove(\"{TOKEN_HEADER_NAME}\");\n{indent}{variable}.{field}.Add(\"{TOKEN_HEADER_NAME}\", {name}());\n"
    return [Edit(at, at, line), helper]


_RUBY_HELPER = """def {name}
  http = Net::HTTP.new('{host}', 80)
  http.request(Net::HTTP::Put.new('{path}', '{ttl_name}' => '{ttl}')).body
end

"""


def _ruby(request, handle, state, ttl) -> list[Edit]:
    text = state.text
    name = _fresh(text, "imds_token")
    helper = Edit(0, 0, _RUBY_HELPER.format(name=name, host=request.endpoint.strip("[]"), path=TOKEN_PATH, ttl_name=TTL_HEADER_NAME,
                                            ttl=ttl))
    variable, created = handle.variable, handle.created
    if variable and created is not None:
        at = _after_statement(state, created)
        line = f"{_indent(text, state.span(created).start)}{variable}['{TOKEN_HEADER_NAME}'] = {name}\n"
        return [helper, Edit(at, at, line)]
    source = text[request.span.start:request.span.end]
    if not source.endswith(")"):
        return []
    close = request.span.end - 1
    return [helper, Edit(close, close, f", '{TOKEN_HEADER_NAME}' => {name}")]


_SUGGESTIONS = {"javascript": _js, "typescript": _js, "tsx": _js, "go": _go, "java": _java, "csharp": _csharp,
                "ruby": _ruby}

FIXER = SourceFixer()
