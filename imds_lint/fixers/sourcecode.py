"""Token-first rewrites for JS/TS, Go, Java, C# and Ruby source.

Every language here goes through the one token plan (``token_plan``),
with a cached helper per file that the request calls. Safe (applied by
``--fix``) only where the call is one expression with a literal URL and
nothing else: ``fetch(URL)`` and ``axios.get(URL)`` become a promise chain
that gets the token and then sends the same request with it; the value keeps
its type (a Promise of the same response), so callers are unaffected.
Everything else gets a display-only suggestion in the language (shown by
``--diff``), which must still compile: a token helper plus the header on the
request. Java, C# and Ruby suggestions go through the plan too, from templates
(``TemplateAdapter``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from imds_lint.fixers import NoFixes, token_plan
from imds_lint.fixers.token_plan import Fetch, Limit, Placement, Unproven
from imds_lint.model import TOKEN_PATH, Applicability, Edit, Fix, Header, Request
from imds_lint.protocol import TOKEN_HEADER_NAME, TTL_HEADER_NAME
from imds_lint.syntax.sourcecode import SourceHandle, SourceState, SourceTokenPlan, walk



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
        text = state.text
        if state.language in _JS_LANGUAGES:
            return _js_fix(request, handle, analysis, ttl)
        if state.language == "go":
            if state.token_plan is None:
                state.token_plan = SourceTokenPlan()
            return token_plan.plan(request, GoAdapter(state, request), state.token_plan, text, ttl,
                                   shared=handle.shared, applicability=Applicability.DISPLAY_ONLY,
                                   base_title=_RECIPES["go"])
        if state.language not in TemplateAdapter._BASES:
            return None
        if state.token_plan is None:
            state.token_plan = SourceTokenPlan()
        return token_plan.plan(request, TemplateAdapter(state, request), state.token_plan, text, ttl,
                               applicability=Applicability.DISPLAY_ONLY, base_title=_RECIPES[state.language])

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


_JS_LANGUAGES = {"javascript", "typescript", "tsx"}

# One helper per file: the token is fetched once and reused until its TTL ends; where IMDS does not
# answer it resolves to '' (the request then fails or not as it did) and is tried again a minute later.
_JS_HELPER = """var {cache};
// An IMDSv2 session token, fetched once and reused until its TTL ends (added by imds-lint);
// '' where IMDS does not answer.
function {name}(timeoutMs) {{
  const now = Date.now();
  if (!{cache} || {cache}.expires <= now) {{
    const token = {put}
      .then({body}, () => '');
    {cache} = {{ token, expires: now + 60000 }};
    token.then((value) => {{
      if (value) {cache}.expires = now + ({ttl} - 60) * 1000;
    }});
  }}
  return {cache}.token;
}}

"""
_JS_FETCH_PUT = ("fetch('{url}', {{\n      method: 'PUT',\n      headers: {{ '{ttl_name}': '{ttl}' }},\n"
                 "      ...(timeoutMs ? {{ signal: AbortSignal.timeout(timeoutMs) }} : {{}}),\n    }})")
_JS_AXIOS_PUT = ("axios.put('{url}', null, {{\n      headers: {{ '{ttl_name}': '{ttl}' }},\n"
                 "      ...(timeoutMs ? {{ timeout: timeoutMs }} : {{}}),\n    }})")
_JS_FUNCTIONS = {"function_declaration", "function_expression", "arrow_function", "method_definition",
                 "function", "generator_function_declaration"}


def _js_fix(request: Request, handle: SourceHandle, analysis, ttl: int) -> Fix | None:
    """The token from a cached helper, in the request's options: safe for the one-expression forms."""
    state = analysis.state
    adapter = JsAdapter(state, analysis, request)
    if adapter.node is None or adapter.arguments is None:
        return None
    if state.token_plan is None:
        state.token_plan = SourceTokenPlan()
    if handle.kind in ("fetch", "axios-get"):
        return token_plan.plan(request, adapter, state.token_plan, state.text, ttl)
    if not _in_async_code(state, adapter.node):
        # No await here: the suggestion would not compile as written; the message carries the recipe.
        return None
    return token_plan.plan(request, adapter, state.token_plan, state.text, ttl,
                           applicability=Applicability.DISPLAY_ONLY, base_title=_RECIPES[state.language])


class JsAdapter:
    """The token plan's view of a JavaScript/TypeScript request: one cached helper per file, inserted
    before the first request's top-level statement (a declaration: it fetches nothing until called),
    and called in the request itself."""

    name_base, name_join, fold_case = "imdsToken", "", False

    def __init__(self, state: SourceState, analysis, request: Request):
        self.state, self.analysis = state, analysis
        self.node = _node_at(state, request.span)
        args = self.node.child_by_field_name("arguments") if self.node is not None else None
        self.arguments = [a for a in args.named_children if a.type != "comment"] if args is not None else None
        self.uses_axios = request.client.startswith("axios")
        if self.arguments is not None:
            self.options = self.arguments[2] if self.uses_axios and request.client.split(".")[-1] in (
                "put", "post", "patch") else (self.arguments[1] if len(self.arguments) > 1 else None)

    def unproven(self, request: Request) -> tuple[Unproven, ...]:
        return ()

    def _plan(self, request: Request) -> SourceTokenPlan:
        plan = self.state.token_plan
        if plan.at is None and plan.existing is None:
            existing = re.search(r"^var (imdsTokenCache\w*);\n// An IMDSv2 session token", self.state.text, re.M)
            plan.existing = existing.group(1).replace("Cache", "") if existing else ""
            first = min((r for r in self.analysis.requests if isinstance(r.handle, SourceHandle) and not r.has_token
                         and not r.is_token_fetch), key=lambda r: r.span.start, default=request)
            node = _node_at(self.state, first.span)
            while node is not None and self.state.parent(node) is not None \
                    and self.state.parent(node).type != "program":
                node = self.state.parent(node)
            plan.at = _line_start(self.state.text, self.state.span(node).start) if node is not None else -1
            # One helper per file, with fetch where any request uses it (so the runtime has it), else axios.
            plan.axios = not any(r.client == "fetch" for r in self.analysis.requests)
        return plan

    def placement(self, request: Request) -> Placement | None:
        plan = self._plan(request)
        return None if plan.at < 0 else Placement(plan.at, kind=Placement.HELPER)

    def limit(self, request: Request) -> Limit:
        return Limit(_js_timeout(self.state, self.options, self.uses_axios) or None)

    def reusable_token(self, request: Request, placement: Placement) -> str | None:
        return self._plan(request).existing or None  # the helper an earlier --fix wrote

    def names_in_use(self):
        return ()

    def fetch(self, request: Request, variable: str, limit: Limit, ttl: int) -> Fetch:
        axios = self.state.token_plan.axios
        put = (_JS_AXIOS_PUT if axios else _JS_FETCH_PUT).format(url=token_plan.token_url(request),
                                                                  ttl_name=TTL_HEADER_NAME, ttl=ttl)
        body = "(response) => response.data" if axios else "(response) => (response.ok ? response.text() : '')"
        return Fetch(_JS_HELPER.format(cache=f"{variable}Cache", name=variable, put=put, body=body, ttl=ttl))

    def insert(self, placement: Placement, offset: int, fetch: str) -> list[Edit]:
        return [Edit(offset, offset, fetch)]

    def header(self, request: Request, variable: str, limit: Limit) -> list[Edit] | None:
        state = self.state
        if request.handle.kind in ("fetch", "axios-get"):
            # One expression with a literal URL: the same call, once the token has resolved. The value is
            # still a Promise of the same response, so callers (awaiting or chaining) are unaffected.
            call = state.text[request.span.start:request.span.end]
            close = call.rindex(")")
            with_token = f"{call[:close]}, {{ headers: {{ '{TOKEN_HEADER_NAME}': token }} }}{call[close:]}"
            return [Edit(request.span.start, request.span.end, f"{variable}().then((token) => {with_token})")]
        entry = f"'{TOKEN_HEADER_NAME}': await {variable}({limit.total or ''})"
        options = self.options
        if options is None:
            if not self.arguments:
                return None
            at = state.span(self.arguments[-1]).end
            return [Edit(at, at, f", {{ headers: {{ {entry} }} }}")]
        if options.type != "object":
            return None
        headers = next((p for p in options.named_children if p.type == "pair"
                        and state.text[state.span(p.child_by_field_name("key")).start:
                                       state.span(p.child_by_field_name("key")).end].strip("'\"") == "headers"), None)
        if headers is None:
            at = state.span(options).start + 1
            return [Edit(at, at, f" headers: {{ {entry} }},")]
        value_node = headers.child_by_field_name("value")
        if value_node is None or value_node.type != "object":
            return None
        at = state.span(value_node).start + 1
        return [Edit(at, at, f" {entry},")]


_CALLS = ("call_expression", "new_expression")
_CSHARP_CALLS = ("invocation_expression", "object_creation_expression")


def _node_at(state, span):
    return state.node_at(span, _CALLS)


def _csharp_call_at(state, span):
    """The C# call written at ``span``; where the span is no call's, the first node of the tree
    written there."""
    found = state.node_at(span, _CSHARP_CALLS)
    if found is None:
        found = next((n for n in walk(state.tree.root_node) if state.span(n) == span), None)
    return found


def _in_async_code(state, node) -> bool:
    """Whether ``await`` is valid where ``node`` is: an async function, or the top level of an ES module."""
    awaited = False
    while node is not None:
        if node.type in _JS_FUNCTIONS:
            return any(c.type == "async" for c in node.children)
        awaited = awaited or node.type == "await_expression"
        node = state.parent(node)
    # At top level: the file awaits there already, or it is a module.
    return awaited or bool(re.search(r"^\s*(import|export)\b", state.text, re.M))


def _js_timeout(state, options, uses_axios: bool) -> str:
    """The request's own time limit in milliseconds, as written ("" where it has none)."""
    if options is None or options.type != "object":
        return ""
    source = state.text[state.span(options).start:state.span(options).end]
    found = re.search(r"\btimeout\s*:\s*([0-9_]+)\b" if uses_axios else r"AbortSignal\.timeout\(\s*([0-9_]+)\s*\)", source)
    return found.group(1) if found else ""


# One helper per file: the token is fetched once per process and reused until its TTL ends (a failed fetch
# is tried again a minute later); it sends the PUT with the request's own context and client, so their
# deadlines and time-outs hold for it too, and returns "" where IMDS does not answer.
_GO_HELPER = """
// {name} returns an IMDSv2 session token, fetched once and reused until its TTL ends (added by
// imds-lint); "" where IMDS does not answer, and the request then goes out as it did without one.
// It sends the PUT through the request's own context and client, so their time limits hold for it.
func {name}(ctx context.Context, do func(*http.Request) (*http.Response, error)) string {{
\t{cache}.Lock()
\tdefer {cache}.Unlock()
\tif time.Now().Before({cache}.expires) {{
\t\treturn {cache}.token
\t}}
\t{cache}.token, {cache}.expires = "", time.Now().Add(time.Minute)
\treq, err := http.NewRequestWithContext(ctx, http.MethodPut, "{url}", nil)
\tif err != nil {{
\t\treturn ""
\t}}
\treq.Header.Set("{ttl_name}", "{ttl}")
\tresp, err := do(req)
\tif err != nil {{
\t\treturn ""
\t}}
\tdefer resp.Body.Close()
\ttoken, err := {read_all}(resp.Body)
\tif err != nil || resp.StatusCode != http.StatusOK {{
\t\treturn ""
\t}}
\t{cache}.token, {cache}.expires = string(token), time.Now().Add({lifetime}*time.Second)
\treturn {cache}.token
}}

var {cache} struct {{
\tsync.Mutex
\ttoken   string
\texpires time.Time
}}
"""
_GO_IMPORTS = ("context", "io", "net/http", "sync", "time")


def _go_imports(text: str, needed: tuple[str, ...]) -> tuple[str, list[Edit]]:
    """How the helper reads a body with this file's imports (io.ReadAll, or ioutil.ReadAll where only
    io/ioutil is imported), and the edits importing what it uses and the file lacks, in gofmt's order."""
    imported = set(re.findall(r'^\s*(?:import\s+)?(?:[\w.]+\s+)?"([^"]+)"\s*$', text, re.M))
    read_all = "ioutil.ReadAll" if "io/ioutil" in imported and "io" not in imported else "io.ReadAll"
    missing = [m for m in needed if m not in imported and not (m == "io" and read_all == "ioutil.ReadAll")]
    if not missing:
        return read_all, []
    block = re.search(r"^import \(\n((?:.*\n)*?)\)", text, re.M)
    if block is not None:
        lines = block.group(1).splitlines(keepends=True)
        edits, at = [], block.start(1)
        for line in lines:
            if not line.strip():
                break  # a blank line starts another group (third-party imports): ours are the standard library's
            name = re.search(r'"([^"]+)"', line)
            while missing and name is not None and missing[0] < name.group(1):
                edits.append(Edit(at, at, f'\t"{missing.pop(0)}"\n'))
            at += len(line)
        edits += [Edit(at, at, f'\t"{m}"\n') for m in missing]
        return read_all, edits
    package = re.search(r"^package \w+[^\n]*\n", text, re.M)
    if package is None:
        return read_all, []
    at = package.end()
    return read_all, [Edit(at, at, "\nimport (\n" + "".join(f'\t"{m}"\n' for m in missing) + ")\n")]


class GoAdapter:
    """The token plan's view of a Go request: a cached helper appended to the file, called where the
    request is sent, with the request's context and the sender's ``Do`` (display-only suggestions)."""

    name_base, name_join, fold_case = "imdsToken", "", False

    def __init__(self, state: SourceState, request: Request):
        self.state, self.text = state, state.text
        self.send = _node_at(state, request.anchor)

    def unproven(self, request: Request) -> tuple[Unproven, ...]:
        return ()

    def placement(self, request: Request) -> Placement | None:
        return Placement(len(self.text), kind=Placement.HELPER)

    def limit(self, request: Request) -> Limit:
        return Limit()  # carried by the context and client passed to the helper

    def reusable_token(self, request: Request, placement: Placement) -> str | None:
        return None  # a Go function returning a token may also return an error; nothing is proven

    def names_in_use(self):
        return ()

    def fetch(self, request: Request, variable: str, limit: Limit, ttl: int) -> Fetch:
        plan = self.state.token_plan
        if plan.go_imports is None:  # once per file: reading its imports per request was n**2 in all
            plan.go_imports = _go_imports(self.text, _GO_IMPORTS)
        read_all, self._imports = plan.go_imports
        plan.url = plan.url or token_plan.token_url(request)  # one helper per file, for its first request's host
        return Fetch(_GO_HELPER.format(name=variable, cache=f"{variable}Cache", url=plan.url,
                                       ttl_name=TTL_HEADER_NAME, ttl=ttl, lifetime=max(ttl - 60, 1),
                                       read_all=read_all))

    def insert(self, placement: Placement, offset: int, fetch: str) -> list[Edit]:
        return [Edit(offset, offset, fetch), *self._imports]

    def header(self, request: Request, variable: str, limit: Limit) -> list[Edit] | None:
        handle, text, state = request.handle, self.text, self.state
        if handle.kind == "go-get":
            url = text[request.span.start:request.span.end]
            url = url[url.index("(") + 1:url.rindex(")")]
            # The same GET, as a request the header can be set on, laid out as gofmt would.
            indent = _indent(text, request.span.start)
            body = [f"req, err := http.NewRequest(http.MethodGet, {url}, nil)", "if err != nil {", "\treturn nil, err",
                    "}", f'req.Header.Set("{TOKEN_HEADER_NAME}", {variable}(req.Context(), http.DefaultClient.Do))',
                    "return http.DefaultClient.Do(req)"]
            content = "func() (*http.Response, error) {\n" + "".join(f"{indent}\t{line}\n" for line in body) \
                + f"{indent}}}()"
            return [Edit(request.span.start, request.span.end, content)]
        sender = self._sender()
        if not handle.variable or handle.created is None or sender is None:
            return None
        # Just before the statement that sends it: the request exists there (its err check is behind),
        # and so does the client that sends it.
        statement = self.send
        while state.parent(statement) is not None and state.parent(statement).type not in ("statement_list", "block"):
            statement = state.parent(statement)
        at = _line_start(text, state.span(statement).start)
        line = (f"{_indent(text, state.span(statement).start)}{handle.variable}.Header.Set(\"{TOKEN_HEADER_NAME}\", "
                f"{variable}({handle.variable}.Context(), {sender}))\n")
        return [Edit(at, at, line)]

    def _sender(self) -> str | None:
        """``client.Do`` (or ``transport.RoundTrip``): the method value that sends the request."""
        function = self.send.child_by_field_name("function") if self.send is not None else None
        if function is None or function.type != "selector_expression":
            return None
        field = function.child_by_field_name("field")
        if field is None or self.state.source(field) not in ("Do", "RoundTrip"):
            return None
        return self.state.source(function)


# Java, C# and Ruby: one cached helper (per class, or per file in Ruby) that never throws: a token fetched
# once and reused until its TTL ends, "" where IMDS does not answer (tried again a minute later), so the
# request goes out and fails (or not) as it did. Their time limits are the platform defaults.
_JAVA_HELPER = """
    private static String {name}Value = "";
    private static long {name}Expires;

    /** An IMDSv2 session token, fetched once and reused until its TTL ends (added by imds-lint); "" where IMDS does not answer. */
    private static synchronized String {name}() {{
        if (System.currentTimeMillis() < {name}Expires) {{
            return {name}Value;
        }}
        {name}Value = "";
        {name}Expires = System.currentTimeMillis() + 60_000L;
        try {{
            java.net.HttpURLConnection c = (java.net.HttpURLConnection) new java.net.URL("{url}").openConnection();
            c.setRequestMethod("PUT");
            c.setRequestProperty("{ttl_name}", "{ttl}");
            try (java.io.InputStream in = c.getInputStream()) {{
                {name}Value = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                {name}Expires = System.currentTimeMillis() + {lifetime}_000L;
            }}
        }} catch (java.io.IOException e) {{
            // No token: the request goes out as it did without one.
        }}
        return {name}Value;
    }}
"""

_CSHARP_HELPER = """
    private static string {name}Value = "";
    private static System.DateTime {name}Expires;
    private static readonly object {name}Lock = new object();

    // An IMDSv2 session token, fetched once and reused until its TTL ends (added by imds-lint); "" where IMDS does not answer.
    private static string {name}()
    {{
        lock ({name}Lock)
        {{
            if (System.DateTime.UtcNow < {name}Expires)
            {{
                return {name}Value;
            }}
            {name}Value = "";
            {name}Expires = System.DateTime.UtcNow.AddMinutes(1);
            try
            {{
                using var http = new System.Net.Http.HttpClient();
                var put = new System.Net.Http.HttpRequestMessage(System.Net.Http.HttpMethod.Put, "{url}");
                put.Headers.Add("{ttl_name}", "{ttl}");
                var response = http.Send(put);
                if (response.IsSuccessStatusCode)
                {{
                    {name}Value = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                    {name}Expires = System.DateTime.UtcNow.AddSeconds({lifetime});
                }}
            }}
            catch (System.Net.Http.HttpRequestException)
            {{
                // No token: the request goes out as it did without one.
            }}
            catch (System.Threading.Tasks.TaskCanceledException)
            {{
                // Timed out: the same.
            }}
            return {name}Value;
        }}
    }}
"""

_RUBY_HELPER = """{cache} = {{ token: '', expires: 0.0, lock: Mutex.new }}

# An IMDSv2 session token, fetched once and reused until its TTL ends (added by imds-lint);
# '' where IMDS does not answer, and the request then goes out as it did without one.
def {name}
  {cache}[:lock].synchronize do
    now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    if now >= {cache}[:expires]
      {cache}.update(token: '', expires: now + 60)
      begin
        response = Net::HTTP.new('{host}', 80).request(Net::HTTP::Put.new('{path}', '{ttl_name}' => '{ttl}'))
        {cache}.update(token: response.body, expires: now + {lifetime}) if response.is_a?(Net::HTTPSuccess)
      rescue StandardError
        # No token: the request goes out as it did without one.
      end
    end
    {cache}[:token]
  end
end
"""


def _class_end(state, node, body_types: tuple[str, ...]) -> int | None:
    node = state.enclosing(node, body_types)
    if node is None:
        return None
    return _line_start(state.text, state.span(node).end - 1)


class TemplateAdapter:
    """The token plan's view of a Java, C# or Ruby request (display-only suggestions): the cached helper
    at the end of the request's class (Java, C#) or the top of the file (Ruby), called where the header
    is set."""

    name_base, name_join, fold_case = "imdsToken", "", False  # name_base and name_join: set per language
    _BASES = {"java": "imdsToken", "csharp": "ImdsToken", "ruby": "imds_token"}

    def __init__(self, state: SourceState, request: Request):
        self.state, self.language = state, state.language
        self.name_base = self._BASES[self.language]
        self.name_join = "_" if self.language == "ruby" else ""
        handle = request.handle
        self.anchor = handle.created
        if self.anchor is None and self.language == "csharp":
            self.anchor = _csharp_call_at(state, request.span)

    def unproven(self, request: Request) -> tuple[Unproven, ...]:
        return ()

    def placement(self, request: Request) -> Placement | None:
        if self.language == "ruby":
            return Placement(_ruby_helper_at(self.state.text, request.span.start), kind=Placement.HELPER)
        if self.anchor is None:
            return None
        end = _class_end(self.state, self.anchor, ("class_body",) if self.language == "java" else ("declaration_list",))
        return None if end is None else Placement(end, kind=Placement.HELPER)

    def limit(self, request: Request) -> Limit:
        return Limit()

    def reusable_token(self, request: Request, placement: Placement) -> str | None:
        return None

    def names_in_use(self):
        return ()

    def fetch(self, request: Request, variable: str, limit: Limit, ttl: int) -> Fetch:
        template = {"java": _JAVA_HELPER, "csharp": _CSHARP_HELPER, "ruby": _RUBY_HELPER}[self.language]
        return Fetch(template.format(name=variable, cache=variable.upper() + "_CACHE", url=token_plan.token_url(request),
                                     host=request.endpoint.strip("[]"), path=TOKEN_PATH, ttl_name=TTL_HEADER_NAME,
                                     ttl=ttl, lifetime=max(ttl - 60, 1)))

    def insert(self, placement: Placement, offset: int, fetch: str) -> list[Edit]:
        if self.language == "ruby":  # a blank line on each side, as between the file's own definitions
            text = self.state.text
            fetch = ("\n" if offset > 0 else "") + fetch + ("" if text[offset:offset + 1] == "\n" else "\n")
        return [Edit(offset, offset, fetch)]

    def header(self, request: Request, variable: str, limit: Limit) -> list[Edit] | None:
        edits = {"java": _java_header, "csharp": _csharp_header, "ruby": _ruby_header}[self.language](
            request, request.handle, self.state, variable, self.anchor)
        return edits or None


@lru_cache(maxsize=1)
def _require_line_ends(text: str) -> list[int]:
    """Where each ``require`` line ends: read once per file version, not once per request (n**2)."""
    return [m.end() for m in re.finditer(r"^require[^\n]*\n", text, re.M)]


def _ruby_helper_at(text: str, before: int) -> int:
    """After the file's top-level ``require`` lines (the helper uses Net::HTTP), else after its leading
    comments (a shebang and magic comments stay first)."""
    requires = _require_line_ends(text)
    last = bisect_right(requires, before) - 1
    if last >= 0:
        return requires[last]
    leading = re.match(r"(?:#[^\n]*\n)*", text)
    return leading.end() if leading else 0


def _java_header(request, handle, state, name: str, created) -> list[Edit]:
    text, variable = state.text, handle.variable
    if created is None:
        return []
    if request.client == "java.net.http.HttpRequest":
        source = text[state.span(created).start:state.span(created).end]
        at = source.find("newBuilder(")
        close = source.find(")", at)
        if at < 0 or close < 0:
            return []
        offset = state.span(created).start + close + 1
        return [Edit(offset, offset, f".header(\"{TOKEN_HEADER_NAME}\", {name}())")]
    if not variable:
        return []
    setter = "setRequestProperty" if request.client == "HttpURLConnection" else "setHeader"
    at = _after_statement(state, created)
    return [Edit(at, at, f"{_indent(text, state.span(created).start)}{variable}.{setter}(\"{TOKEN_HEADER_NAME}\", {name}());\n")]


def _csharp_header(request, handle, state, name: str, anchor) -> list[Edit]:
    text, variable, created = state.text, handle.variable, handle.created
    if anchor is None or not variable:
        return []
    indent = _indent(text, state.span(anchor).start)
    if created is not None:
        at = _after_statement(state, created)
        return [Edit(at, at, f"{indent}{variable}.Headers.Add(\"{TOKEN_HEADER_NAME}\", {name}());\n")]
    at = _statement_start(state, anchor)
    webclient = request.client.startswith(("Download", "Upload", "OpenRead"))
    field = "Headers" if webclient else "DefaultRequestHeaders"
    return [Edit(at, at, f"{indent}{variable}.{field}.Remove(\"{TOKEN_HEADER_NAME}\");\n"
                         f"{indent}{variable}.{field}.Add(\"{TOKEN_HEADER_NAME}\", {name}());\n")]


def _ruby_header(request, handle, state, name: str, created) -> list[Edit]:
    text, variable = state.text, handle.variable
    if variable and created is not None:
        at = _after_statement(state, created)
        return [Edit(at, at, f"{_indent(text, state.span(created).start)}{variable}['{TOKEN_HEADER_NAME}'] = {name}\n")]
    if not text[request.span.start:request.span.end].endswith(")"):
        return []
    close = request.span.end - 1
    return [Edit(close, close, f", '{TOKEN_HEADER_NAME}' => {name}")]


FIXER = SourceFixer()
