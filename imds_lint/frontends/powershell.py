"""PowerShell front-end (.ps1, .psm1, Windows user-data) through tree-sitter-powershell.

Finds ``Invoke-RestMethod``/``Invoke-WebRequest`` and their aliases (``irm``,
``iwr``, and ``curl``/``wget``, which Windows PowerShell 5.1 aliases to
``Invoke-WebRequest``; with curl-style flags, or as ``curl.exe``, the argv is
read as real curl), ``System.Net.WebClient`` and ``System.Net.Http.HttpClient``
calls, and ``Get-EC2InstanceMetadata``. URLs are resolved through variables and
string expansion; headers through hashtable literals, directly or in a variable.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

from imds_lint.syntax.powershell import PowerShellHandle, PowerShellState, top_level_statements
from imds_lint.syntax.treesitter import enclosing, parse_within
from imds_lint.syntax.treesitter import walk as _walk
from imds_lint.endpoints import is_foreign_metadata_header, parse_imds_url
from imds_lint.frontends import Analysis, ParseProblem
from imds_lint.clients import Arg, parse_argv, program_name, requests_for
from imds_lint.protocol import TOKEN_HEADER_NAME
from imds_lint.model import Document, Header, Request, Span
from imds_lint.records import replace

UNKNOWN = "*"
_WEB_CMDLETS = {"invoke-restmethod": "Invoke-RestMethod", "irm": "Invoke-RestMethod",
                "invoke-webrequest": "Invoke-WebRequest", "iwr": "Invoke-WebRequest",
                "curl": "Invoke-WebRequest", "wget": "Invoke-WebRequest"}
_IWR_PARAMETERS = ("uri", "method", "headers", "usebasicparsing", "outfile", "body", "contenttype",
                   "timeoutsec", "erroraction", "useragent", "websession", "sessionvariable",
                   "usedefaultcredentials", "proxy", "maximumredirection", "passthru", "custommethod",
                   "skipcertificatecheck", "nokeepalive", "resume")
_SWITCHES = {"usebasicparsing", "passthru", "usedefaultcredentials", "skipcertificatecheck", "nokeepalive", "resume"}
_WEBCLIENT_METHODS = {"downloadstring", "downloaddata", "downloadfile", "openread", "downloadstringasync",
                      "downloadstringtaskasync", "downloaddatataskasync", "downloadfiletaskasync"}
_HTTPCLIENT_METHODS = {"getstringasync", "getasync", "getbytearrayasync", "getstreamasync"}
_WEBREQUEST_TYPE = re.compile(r"(?i)\[\s*(?:System\.)?Net\.(?:Http)?WebRequest\s*\]")
_WEBREQUEST_FACTORIES = {"create", "createhttp", "createdefault"}
# The dashes PowerShell's tokenizer takes for "-": hyphen-minus, en dash, em dash, horizontal bar.
_DASHES = "-\u2013\u2014\u2015"


@lru_cache(maxsize=1)
def _parser():
    from imds_lint.syntax.treesitter import core, grammar

    tree_sitter = core()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        language = tree_sitter.Language(grammar("tree_sitter_powershell"))
    return tree_sitter.Parser(language)


def parse(text: str):
    src = text.encode("utf-8", "surrogatepass")
    return parse_within(_parser(), src), src




def _unwrap(node):
    """Down single-child chains (pipeline -> ... -> unary_expression -> string_literal)."""
    while node is not None and node.named_child_count == 1 and node.type not in (
            "hash_literal_expression", "expandable_string_literal", "verbatim_string_characters", "command"):
        node = node.named_children[0]
    return node


class _Reader:
    def __init__(self, document: Document):
        self.document = document
        tree, src = parse(document.text)
        self.state = PowerShellState(tree, src, document.text, len(src) == len(document.text))
        self.analysis = Analysis(document, state=self.state)
        self.clients: dict[str, str] = {}  # variable -> "WebClient" | "HttpClient"
        self.client_urls: dict[str, list[str]] = {}  # variable -> the URLs its method calls read
        self._resolving: set[str] = set()

    def source(self, node) -> str:
        return self.state.source(node)

    def span(self, node) -> Span:
        return self.state.span(node)

    # -- values ------------------------------------------------------------------
    def collect(self) -> None:
        functions: dict[str, list[str]] = {}  # function name -> its parameters, in order
        commands = []
        for node in _walk(self.state.tree.root_node):
            if node.type == "function_statement":
                name_node = next((c for c in node.named_children if c.type == "function_name"), None)
                if name_node is not None:
                    functions[self.source(name_node).lower()] = self.function_parameters(node)
                continue
            if node.type == "command":
                commands.append(node)
                continue
            if node.type == "script_parameter":
                # param([string]$Root = "http://169.254.169.254/latest"): the default is its value.
                variable = next((c for c in node.named_children if c.type == "variable"), None)
                default = next((c for c in node.named_children if c.type == "script_parameter_default"), None)
                if variable is not None and default is not None and default.named_children:
                    name = _variable_name(self.source(variable)).lower()
                    self.state.variables.add(name)
                    self.state.assignments.setdefault(name, []).append(default.named_children[-1])
                continue
            if node.type != "assignment_expression":
                continue
            target = _unwrap(node.named_children[0]) if node.named_children else None
            value = node.child_by_field_name("value") or (node.named_children[-1] if node.named_children else None)
            if target is None or target.type != "variable" or value is None:
                continue
            name = _variable_name(self.source(target)).lower()
            self.state.variables.add(name)
            self.state.assignments.setdefault(name, []).append(value)
            client = self.client_type(_unwrap(value))
            if client is not None:
                self.clients[name] = client
        for node in commands:
            self.bind_arguments(node, functions)

    def function_parameters(self, function) -> list[str]:
        """``function F($A, $B)`` or ``function F { param($A, $B) ... }``: the names, lower-cased."""
        declared = next((c for c in function.named_children if c.type == "function_parameter_declaration"), None)
        if declared is None:
            body = next((c for c in function.named_children if c.type == "script_block"), None)
            declared = next((c for c in body.named_children if c.type == "param_block"), None) if body else None
        listed = next((c for c in declared.named_children if c.type == "parameter_list"), None) if declared else None
        names = []
        for parameter in listed.named_children if listed is not None else ():
            variable = next((c for c in parameter.named_children if c.type == "variable"), None)
            if parameter.type == "script_parameter" and variable is not None:
                names.append(_variable_name(self.source(variable)).lower())
        return names

    def bind_arguments(self, node, functions: dict[str, list[str]]) -> None:
        """A call of a function defined in the file, ``F $u`` / ``F($u)`` / ``F -Url $u``: each
        argument is a value its parameter can hold, as an assignment would be (variables are not
        scoped here either: a parameter named like a script variable shares its values)."""
        name_node = node.child_by_field_name("command_name") or next(
            (c for c in node.named_children if c.type == "command_name"), None)
        parameters = functions.get(self.source(name_node).lower()) if name_node is not None else None
        elements = next((c for c in node.named_children if c.type == "command_elements"), None)
        if not parameters or elements is None:
            return
        items = [c for c in elements.named_children if c.type != "command_argument_sep"]
        positional = iter([p for p in parameters])
        named: str | None = None
        for item in items:
            if self.is_parameter(item):
                written = self.parameter_name(item).split(":")[0].lower()
                # PowerShell takes any unambiguous prefix of a parameter's name.
                matches = [p for p in parameters if p == written] or [p for p in parameters if p.startswith(written)]
                named = matches[0] if len(matches) == 1 else ""
                continue
            target = named if named is not None else next(positional, None)
            named = None
            if target:
                self.state.variables.add(target)
                self.state.assignments.setdefault(target, []).append(item)

    def client_type(self, node) -> str | None:
        if node is None:
            return None
        text = self.source(node)
        if re.search(r"(?i)\bNet\.WebClient\b", text) and re.search(r"(?i)New-Object|::new", text):
            return "WebClient"
        if re.search(r"(?i)\bHttp\.HttpClient\b|\bHttpClient\b", text) and re.search(r"(?i)New-Object|::new", text):
            return "HttpClient"
        return None

    def lookup(self, name: str) -> str:
        name = name.lower()
        if name in self._resolving or name not in self.state.assignments:
            return UNKNOWN
        self._resolving.add(name)
        try:
            values = [self.resolve(v) for v in self.state.assignments[name]]
        finally:
            self._resolving.discard(name)
        return next((v for v in values if parse_imds_url(v) is not None), values[0])

    def resolve(self, node) -> str:
        node = _unwrap(node)
        if node is None:
            return UNKNOWN
        text = self.source(node)
        kind = node.type
        if kind == "verbatim_string_characters" or (text.startswith("'") and text.endswith("'") and len(text) > 1):
            return text[1:-1].replace("''", "'")
        if kind == "expandable_string_literal" or (text.startswith('"') and text.endswith('"') and len(text) > 1):
            return self.expand(text[1:-1])
        if kind == "variable":
            return self.lookup(_variable_name(text))
        if kind == "generic_token":
            return self.expand(text)
        if kind == "additive_expression":
            parts = [c for c in node.named_children]
            return "".join(self.resolve(p) for p in parts)
        return UNKNOWN

    def expand(self, text: str) -> str:
        def substitute(match: re.Match) -> str:
            name = match.group(1) or match.group(2) or match.group(3)
            return self.lookup(name)

        text = re.sub(r"\$\{([^}]+)\}|\$\(\s*\$(\w+)\s*\)|\$(\w+(?::\w+)?)", substitute, text)
        return text.replace("`$", "$").replace('`"', '"').replace('""', '"')

    # -- requests --------------------------------------------------------------------
    def read(self) -> Analysis:
        self.collect()
        for node in _walk(self.state.tree.root_node):
            if node.type == "command":
                self.command(node)
            elif node.type == "invokation_expression":
                self.invocation(node)
            elif node.type == "member_access":
                # `New-Variable -Value $wc.DownloadString($u)`: in argument mode the grammar splits the
                # call into a member access and the argument list that follows it; PowerShell calls it.
                arguments = _argument_list_after(node, self.state.parent)
                if arguments is not None:
                    self.invocation(node, arguments)
        self.mark_shared()
        self.find_token_variables()
        if self.state.tree.root_node.has_error:
            for node in _walk(self.state.tree.root_node):
                if node.type == "ERROR" or node.is_missing:
                    self.analysis.problems.append(ParseProblem(
                        self.span(node), "the PowerShell grammar could not parse this"))
                    break
        return self.analysis

    def command(self, node) -> None:
        name_node = node.child_by_field_name("command_name") or next(
            (c for c in node.named_children if c.type == "command_name"), None)
        if name_node is None:
            return
        name = self.source(name_node).lower()
        elements = next((c for c in node.named_children if c.type == "command_elements"), None)
        items = [c for c in elements.named_children if c.type != "command_argument_sep"] if elements is not None else []
        if name == "get-ec2instancemetadata":
            self.analysis.requests.append(Request(
                client="Get-EC2InstanceMetadata", url="", endpoint="169.254.169.254", path=None, method="GET",
                headers=(), span=self.span(node), anchor=self.span(name_node), document=self.document,
                wrapper=True, container=self.document.container))
            return
        program = program_name(name)
        if name in _WEB_CMDLETS and not (program in ("curl", "wget") and not self.looks_like_cmdlet(items)):
            self.web_cmdlet(node, name_node, _WEB_CMDLETS[name], items)
        elif parse_argv(program, []) is not None:
            # A native program: curl.exe, wget, HTTPie, ... read from the client table.
            args = [Arg(self.resolve(i) if i.type != "command_parameter" else self.source(i), i) for i in items]
            call = parse_argv(program, args)
            handle = PowerShellHandle("argv", node, name_node, explicit=call.method_explicit)
            self.analysis.requests.extend(requests_for(
                call, self.document, self.span(node), self.span(name_node), self.document.container,
                handle=None if call.wrapper else (lambda url: handle)))

    def is_parameter(self, item) -> bool:
        """``-Uri``, and ``–Uri`` / ``—Uri``: PowerShell reads en and em dashes (and the horizontal
        bar) as the parameter dash, and pasted docs are full of them; the grammar sees a bare word."""
        if item.type == "command_parameter":
            return True
        text = self.source(item) if item.type == "generic_token" else ""
        return len(text) > 1 and text[0] in _DASHES[1:] and (text[1].isalpha() or text[1] == "?")

    def parameter_name(self, item) -> str:
        return self.source(item).lstrip(_DASHES)

    def looks_like_cmdlet(self, items) -> bool:
        params = [self.parameter_name(i).split(":")[0].lower() for i in items if self.is_parameter(i)]
        if not params:
            return True  # `curl http://...` alone: the alias in Windows PowerShell 5.1
        return any(len(p) > 1 and any(full.lower().startswith(p) for full in _IWR_PARAMETERS) for p in params)

    def web_cmdlet(self, node, name_node, cmdlet: str, items) -> None:
        url_node = headers_node = method_node = timeout_node = None
        hidden = False
        positional = []
        i = 0
        while i < len(items):
            item = items[i]
            if self.is_parameter(item):
                written, _, inline = self.parameter_name(item).partition(":")
                param = _parameter(written.lower())
                value = None
                if param not in _SWITCHES and not inline and i + 1 < len(items) \
                        and not self.is_parameter(items[i + 1]):
                    value = items[i + 1]
                    i += 1
                if param == "uri":
                    url_node = value
                elif param == "headers":
                    headers_node = value
                elif param in ("method", "custommethod"):
                    method_node = value
                elif param == "timeoutsec":
                    timeout_node = value
            else:
                splat = self.splatted(item)
                if splat is None:
                    positional.append(item)
                else:
                    url_node = splat.get("uri", url_node)
                    headers_node = splat.get("headers", headers_node)
                    method_node = splat.get("method", splat.get("custommethod", method_node))
                    timeout_node = splat.get("timeoutsec", timeout_node)
                    hidden = hidden or not splat
            i += 1
        if url_node is None and positional:
            url_node = positional[0]
        if url_node is None:
            return
        url = self.resolve(url_node)
        method = self.resolve(method_node).upper() if method_node is not None else "GET"
        headers, hash_node, unknown = self.headers(headers_node)
        self.emit(node, name_node, cmdlet, url, method, headers,
                  PowerShellHandle("cmdlet", node, name_node, explicit=method_node is not None,
                                   headers_param=headers_node, hash=hash_node, url_node=url_node,
                                   timeout=timeout_node, options_hidden=hidden),
                  headers_unknown=unknown, method_explicit=method_node is not None)

    def splatted(self, item) -> dict[str, object] | None:
        """``Invoke-RestMethod @params``: the parameters the hashtable assigned to ``$params`` holds."""
        value = _unwrap(item)
        if value is None or value.type != "variable" or not self.source(value).startswith("@"):
            return None
        assigned = self.state.assignments.get(_variable_name(self.source(value)).lower(), [])
        table = _unwrap(assigned[-1]) if len(assigned) == 1 else None
        if table is None or table.type != "hash_literal_expression":
            return {}
        parameters = {}
        body = next((c for c in table.named_children if c.type == "hash_literal_body"), None)
        for entry in (n for n in (body.named_children if body is not None else ()) if n.type == "hash_entry"):
            if len(entry.named_children) < 2:
                continue
            param = _parameter(self.source(entry.named_children[0]).strip("'\"").lower())
            if param is not None:
                parameters[param] = entry.named_children[-1]
        return parameters

    def headers(self, node) -> tuple[tuple[Header, ...], object, bool]:
        """The headers a ``-Headers`` value holds, the hashtable literal it is, and whether unknown."""
        if node is None:
            return (), None, False
        value = _unwrap(node)
        if value is not None and value.type == "variable":
            assigned = self.state.assignments.get(_variable_name(self.source(value)).lower(), [])
            value = _unwrap(assigned[-1]) if len(assigned) == 1 else None
        if value is None or value.type != "hash_literal_expression":
            return (), None, True
        headers = []
        # Only this table's own entries: a value may be a nested call with a table of its own.
        body = next((c for c in value.named_children if c.type == "hash_literal_body"), None)
        for entry in (n for n in (body.named_children if body is not None else ()) if n.type == "hash_entry"):
            if not entry.named_children:
                continue
            key = _unwrap(entry.named_children[0])
            key_text = self.source(key).strip("'\"") if key is not None else ""
            val = self.resolve(entry.named_children[-1]) if len(entry.named_children) > 1 else None
            headers.append(Header(key_text, val, span=self.span(entry), name_span=self.name_span(key, key_text)))
        return tuple(headers), value, False

    def name_span(self, key, name: str) -> Span | None:
        if key is None or not name:
            return None
        span = self.span(key)
        offset = self.source(key).find(name)
        return Span(span.start + offset, span.start + offset + len(name)) if offset >= 0 else None

    def invocation(self, node, arguments=None) -> None:
        children = node.named_children
        member = next((c for c in children if c.type in ("member_name", "simple_name")), None)
        arguments = arguments or next((c for c in children if c.type == "argument_list"), None)
        if arguments is not None:
            listed = next((c for c in arguments.named_children if c.type == "argument_expression_list"), None)
            arguments = listed if listed is not None else arguments
        if member is None or arguments is None or not children:
            return
        method = self.source(member).lower()
        target = children[0]
        kind = None
        variable = None
        if target.type == "type_literal" and _WEBREQUEST_TYPE.fullmatch(self.source(target)):
            if method in _WEBREQUEST_FACTORIES and arguments.named_children:
                self.web_request(node, member, arguments.named_children[0])
            return
        if target.type == "variable":
            variable = _variable_name(self.source(target)).lower()
            kind = self.clients.get(variable)
        else:
            kind = self.client_type(target)
        if kind == "WebClient" and method not in _WEBCLIENT_METHODS:
            return
        if kind == "HttpClient" and method not in _HTTPCLIENT_METHODS:
            return
        if kind is None or not arguments.named_children:
            return
        url = self.resolve(arguments.named_children[0])
        if variable is not None:
            self.client_urls.setdefault(variable, []).append(url)
        headers: tuple[Header, ...] = ()
        if variable is not None and self.sets_token_header(variable):
            headers = (Header(TOKEN_HEADER_NAME, None),)
        self.emit(node, member, kind, url, "GET", headers,
                  PowerShellHandle("dotnet", node, member, variable=variable, client=kind,
                                   url_node=arguments.named_children[0]))

    def web_request(self, node, member, url_node) -> None:
        """``$r = [System.Net.WebRequest]::Create(url)``: headers and method are set on ``$r`` later."""
        variable = _assigned_to(node, self.state.parent)
        name = _variable_name(self.source(variable)).lower() if variable is not None else None
        headers: tuple[Header, ...] = ()
        method, explicit = "GET", False
        if name is not None:
            # $r.Headers.Add('Name', value) and $r.Headers['Name'] = value, anywhere in the script.
            variable = re.escape(name)
            added = re.finditer(rf"(?im)\${variable}\.Headers(?:\.Add\(\s*['\"]([^'\"]+)['\"]\s*,\s*([^)\n]*)\)"
                                rf"|\[\s*['\"]([^'\"]+)['\"]\s*\]\s*=\s*([^\n;]*))", self.state.text)
            headers = tuple(Header(m.group(1) or m.group(3), (m.group(2) or m.group(4) or "").strip().strip("'\""))
                            for m in added)
            assigned = re.search(rf"(?im)\${re.escape(name)}\.Method\s*=\s*['\"]?(\w+)", self.state.text)
            if assigned is not None:
                method, explicit = assigned.group(1).upper(), True
        self.emit(node, member, "WebRequest", self.resolve(url_node), method, headers,
                  PowerShellHandle("webrequest", node, member, explicit=explicit, variable=name, client="WebRequest"),
                  method_explicit=explicit)

    def sets_token_header(self, variable: str) -> bool:
        pattern = re.compile(rf"(?i)\${re.escape(variable)}\.(?:Headers|DefaultRequestHeaders)[^\n]*x-aws-ec2-metadata-token")
        return pattern.search(self.state.text) is not None

    def emit(self, node, anchor_node, client: str, url: str, method: str | None, headers, handle: PowerShellHandle,
             headers_unknown: bool = False, method_explicit: bool = False) -> None:
        if any(is_foreign_metadata_header(h.name, h.value) for h in headers):
            return
        imds = parse_imds_url(url)
        if imds is None:
            return
        self.analysis.requests.append(Request(
            client=client, url=url, endpoint=imds.endpoint, path=imds.path, method=method,
            method_explicit=method_explicit, headers=tuple(headers), headers_unknown=headers_unknown,
            span=self.span(node), anchor=self.span(anchor_node), document=self.document,
            container=self.document.container, handle=handle,
        ))

    def mark_shared(self) -> None:
        """Requests whose token header would also reach another host: the URL's variables hold a
        non-IMDS address too (a helper called for several hosts), or the WebClient whose Headers the
        fix sets is also used for one (its headers go with every later call)."""
        for i, request in enumerate(self.analysis.requests):
            handle = request.handle
            if not isinstance(handle, PowerShellHandle) or handle.kind not in ("cmdlet", "dotnet"):
                continue
            shared = handle.url_node is not None and self.may_hold_other_hosts(handle.url_node)
            client_shared = handle.kind == "dotnet" and handle.variable is not None and any(
                parse_imds_url(u) is None for u in self.client_urls.get(handle.variable, ()))
            if shared or client_shared:
                handle = replace(handle, shared=shared, client_shared=client_shared)
                self.analysis.requests[i] = replace(request, handle=handle)

    def may_hold_other_hosts(self, node) -> bool:
        """Whether a variable the expression reads (or one those read, and so on) is ever given
        an address that is not IMDS (lookup keeps the IMDS one, which is right for detection only)."""
        pending = _referenced_names(self.source(node))
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            for value in self.state.assignments.get(name, ()):
                resolved = self.resolve(value)
                if "://" in resolved and parse_imds_url(resolved) is None:
                    return True
                pending.extend(_referenced_names(self.source(value)))
        return False

    def find_token_variables(self) -> None:
        fetches = {r.span for r in self.analysis.requests if r.is_token_fetch and r.method == "PUT"}
        for statement in top_level_statements(self.state):
            if statement.type != "assignment_expression" and not any(
                    n.type == "assignment_expression" for n in statement.children):
                continue
            assignment = statement if statement.type == "assignment_expression" else next(
                n for n in statement.children if n.type == "assignment_expression")
            target = _unwrap(assignment.named_children[0])
            if target is None or target.type != "variable":
                continue
            # The PUT's own output, not that of a call the PUT is nested in (a header table's value).
            up = self.state.parent
            if any(self.span(n) in fetches and enclosing(up(n), "command", up, stop=assignment) is None
                   for n in _walk(assignment) if n.type == "command"):
                self.state.token_variables.setdefault(_variable_name(self.source(target)), self.span(statement).end)


def _argument_list_after(node, up):
    """The argument list written right after ``node`` as the next command element, if any (``up``: the
    document's parents)."""
    outer = node
    while outer.next_sibling is None:
        parent = up(outer)
        if parent is None or parent.type == "command_elements" or parent.end_byte != node.end_byte:
            break
        outer = parent
    following = outer.next_sibling
    if following is None or following.type != "argument_list" or following.start_byte != node.end_byte:
        return None
    return following


def _assigned_to(node, up):
    """The variable an expression's value is assigned to (``$r = <node>``), if it is (``up``: the
    document's parents)."""
    parent = up(node)
    while parent is not None and parent.type not in ("assignment_expression", "statement_list", "program"):
        if parent.type == "invokation_expression":  # [..]::Create(u).GetResponse(): the response is kept
            return None
        node, parent = parent, up(parent)
    if parent is None or parent.type != "assignment_expression" or not parent.named_children:
        return None
    target = _unwrap(parent.named_children[0])
    return target if target is not None and target.type == "variable" else None


def _parameter(written: str) -> str | None:
    """The Invoke-WebRequest parameter a (possibly abbreviated) name stands for."""
    if written in _IWR_PARAMETERS:
        return written
    matches = [p for p in _IWR_PARAMETERS if p.startswith(written)]
    return matches[0] if len(matches) == 1 else None


def _referenced_names(text: str) -> list[str]:
    """The variables an expression's text reads (``$u``, ``${u}``, ``$script:u``), lower-cased."""
    return [_variable_name(m.group(0)).lower() for m in re.finditer(r"\$\{[^}]+\}|\$\w+(?::\w+)?", text)]


def _variable_name(text: str) -> str:
    name = text.lstrip("$@")
    if name.startswith("{") and name.endswith("}"):
        name = name[1:-1]
    return name.split(":", 1)[-1] if name.lower().startswith(("script:", "global:", "local:")) else name


def analyze(document: Document, session) -> list[Analysis]:
    analysis = _Reader(document).read()
    from imds_lint.frontends import installs

    # Install-Module version pins (the dependency rules' facts), as the text front-end reads them.
    installs.scan_lines(analysis, document.text)
    return [analysis]


def syntax_errors(text: str) -> int:
    tree, _ = parse(text)
    if not tree.root_node.has_error:
        return 0
    return sum(1 for n in _walk(tree.root_node) if n.type == "ERROR" or n.is_missing)
