"""Which calls send HTTP requests, per language: the tables ``sourcecode.Reader`` applies.

Each ``_<language>`` function looks at every call of the file once and emits
requests (or SDK facts); the value and header plumbing is shared in
``sourcecode``. ``handle`` dicts tell the fixer what shape the call has
(``kind`` = "fetch", "axios-get" for the safe rewrites; anything else gets a
display-only suggestion).
"""

from __future__ import annotations

from bisect import bisect_left

from imds_lint.frontends.sourcecode import UNKNOWN, Call, Reader, displayable
from imds_lint.syntax.sourcecode import SourceHandle
from imds_lint.syntax.treesitter import walk
from imds_lint.kinds import Kind
from imds_lint.model import OffsetMap

_HTTP_VERBS = ("get", "put", "post", "delete", "head", "patch", "options")
_JS_MODULES = ("http", "https", "node:http", "node:https")
_AWS_SDK_MODULES = ("aws-sdk", "aws-sdk/global", "aws-sdk/clients/all")
# HTTP client modules called as name(url|options) or name.get(...): bound to whatever name the file gives them.
_JS_REQUEST_LIBRARIES = ("request", "request-promise", "request-promise-native", "needle", "superagent",
                         "phin", "bent")


def find(reader: Reader, session) -> list:
    language = reader.language
    if language in ("javascript", "typescript", "tsx"):
        return _javascript(reader)
    if language == "go":
        return _go(reader)
    if language == "java":
        return _java(reader)
    if language == "csharp":
        return _csharp(reader)
    if language == "ruby":
        return _ruby(reader, session)
    return []


def _method(reader: Reader, node, default: str | None) -> tuple[str | None, bool]:
    if node is None:
        return default, False
    value = reader.value(node)
    if UNKNOWN in value:
        text = reader.source(node).rsplit(".", 1)[-1]  # HttpMethod.Put, http.MethodPut
        text = text.removeprefix("Method")
        return (text.upper() if text.isalpha() else None), True
    return value.upper(), True


# -- JavaScript / TypeScript ---------------------------------------------------------------


def _javascript(reader: Reader) -> list:
    # axios instances: name -> create() config node.
    instances: dict[str, object] = {}
    metadata_services: set[str] = set()
    constructors = {f"new {alias}.MetadataService" for alias in _aws_sdk_aliases(reader) | {"AWS"}}
    constructors.add("new MetadataService")
    libraries = _aws_sdk_aliases(reader, _JS_REQUEST_LIBRARIES)
    for call in reader.calls:
        if call.callee in ("axios.create", "got.extend"):
            name = reader.assigned_name(call.node)
            if name:
                instances[name] = call.args[0] if call.args else None
        elif call.callee in constructors:
            name = reader.assigned_name(call.node)
            if name:
                metadata_services.add(name)
    fetches_token = any(c.name == "fetchMetadataToken" for c in reader.calls)
    for call in reader.calls:
        callee, name = call.callee, call.name
        first = call.args[0] if call.args else None
        if callee in ("fetch", "nodeFetch", "window.fetch", "globalThis.fetch") or (
                name == "fetch" and callee.endswith("fetch") and call.receiver is None):
            options = call.args[1] if len(call.args) > 1 else None
            _js_options(reader, call, "fetch", reader.value(first), options,
                        SourceHandle("fetch" if len(call.args) == 1 and reader.literal(first) else "js"))
        elif call.receiver is not None and callee.split(".")[0] in _JS_MODULES + ("http2",) and name in (
                "get", "request"):
            _js_node_http(reader, call)
        elif callee in ("axios", "got") or callee.split(".")[0] in ("axios", "got") or \
                callee.split(".")[0] in instances:
            base = callee.split(".")[0]
            _js_axios(reader, call, base, instances.get(base))
        elif call.receiver is not None and name == "request" and (
                callee.split(".")[0] in metadata_services or _constructed_by(reader, call.receiver, constructors)):
            _js_metadata_service(reader, call, fetches_token)
        elif first is not None and (callee in libraries or (
                callee.split(".")[0] in libraries and callee.count(".") == 1 and name in _HTTP_VERBS + ("del",))):
            _js_request_library(reader, call)
    return []


def _js_request_library(reader: Reader, call: Call) -> None:
    """``request(url|options, cb)``, ``request.get(...)``, request-promise, needle, superagent."""
    first = call.args[0]
    options = call.args[1] if len(call.args) > 1 and reader.follow(call.args[1]) is not None and \
        reader.follow(call.args[1]).type == "object" else None
    if reader.follow(first) is not None and reader.follow(first).type == "object":
        options = first
        url_node = reader.property(first, "url") or reader.property(first, "uri")
        url = reader.value(url_node) if url_node is not None else UNKNOWN
    else:
        url = reader.value(first)
    verb = "DELETE" if call.name == "del" else call.name.upper()
    default = verb if call.name in _HTTP_VERBS + ("del",) else "GET"
    # superagent: headers are set by .set(name, value) steps chained on the call.
    headers, node, up = [], call.node, reader.state.parent
    while True:
        member = up(node)
        chained = up(member) if member is not None and member.type == "member_expression" else None
        if chained is None or chained.type != "call_expression":
            break
        step = reader.call(chained)
        if step is not None and step.name == "set" and len(step.args) >= 2:
            headers.append(reader.header(step.args[0], step.args[1], step.node))
        node = chained
    _js_options(reader, call, call.callee, url, options, SourceHandle("js"), default_method=default,
                base_headers=tuple(headers))


def _aws_sdk_aliases(reader: Reader, modules: tuple[str, ...] = _AWS_SDK_MODULES) -> set[str]:
    """Names a module (by default the aws-sdk v2) is bound to: ``const aws = require('aws-sdk')``,
    ``import * as aws from 'aws-sdk'``, ``import AWS from 'aws-sdk/global'``."""
    from imds_lint.frontends.sourcecode import walk

    aliases = set()
    for call in reader.calls:
        if call.callee == "require" and call.args and reader.value(call.args[0]) in modules:
            name = reader.assigned_name(call.node)
            if name:
                aliases.add(name)
    for node in walk(reader.state.tree.root_node):
        if node.type != "import_statement":
            continue
        source = node.child_by_field_name("source")
        if source is None or reader.value(source) not in modules:
            continue
        for clause in (c for c in node.named_children if c.type == "import_clause"):
            for part in clause.named_children:
                if part.type == "identifier":
                    aliases.add(reader.source(part))
                elif part.type == "namespace_import":
                    aliases.update(reader.source(i) for i in part.named_children if i.type == "identifier")
    return aliases


def _constructed_by(reader: Reader, node, constructors: set[str]) -> bool:
    """``new aws.MetadataService().request(...)``: the receiver is the constructor call itself."""
    while node is not None and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    if node is None or node.type != "new_expression":
        return False
    created = reader.call(node)
    return created is not None and created.callee in constructors


def _js_options(reader: Reader, call: Call, client: str, url: str, options, handle: dict,
                default_method: str = "GET", base_headers=(), base_unknown: bool = False) -> None:
    method_node = reader.property(options, "method") if options is not None else None
    headers_node = reader.property(options, "headers") if options is not None else None
    method, explicit = _method(reader, method_node, default_method)
    headers, unknown = reader.headers_of(headers_node) if headers_node is not None else ((), False)
    if options is not None and headers_node is None:
        pairs, spread = reader.object_pairs(options)
        unknown = unknown or spread or (not pairs and options.type != "object")
    reader.emit(client, url, method, (*base_headers, *headers), call.node, call.node, handle=handle,
                headers_unknown=unknown or base_unknown, method_explicit=explicit)


def _js_node_http(reader: Reader, call: Call) -> None:
    args = call.args
    if not args:
        return
    url, options = None, None
    if args[0].type == "object" or (args[0].type == "identifier" and reader.follow(args[0]).type == "object"):
        options = args[0]
    else:
        url = reader.value(args[0])
        if len(args) > 1 and reader.follow(args[1]) is not None and reader.follow(args[1]).type == "object":
            options = args[1]
    if options is not None and url is None:
        host = reader.property(options, "hostname") or reader.property(options, "host")
        path = reader.property(options, "path")
        url = reader.value(host) if host is not None else UNKNOWN
        url = f"http://{url}{reader.value(path) if path is not None else '/'}"
    default = "GET" if call.name == "get" else "GET"
    _js_options(reader, call, f"{call.callee.split('.')[0]}.{call.name}", url, options, SourceHandle("js"),
                default_method=default)


def _js_axios(reader: Reader, call: Call, base: str, instance_config) -> None:
    name, args = call.name, call.args
    client = call.callee
    base_url, base_headers, base_unknown = "", (), False
    if instance_config is not None:
        base_node = reader.property(instance_config, "baseURL") or reader.property(instance_config, "prefixUrl")
        base_url = reader.value(base_node) if base_node is not None else ""
        headers_node = reader.property(instance_config, "headers")
        if headers_node is not None:
            base_headers, base_unknown = reader.headers_of(headers_node)

    def url_of(node) -> str:
        value = reader.value(node)
        return base_url + value if base_url and not value.startswith(("http:", "https:")) else value

    if call.callee == base or name == "request":  # axios(config) / axios(url, config) / axios.request(config)
        if not args:
            return
        if args[0].type in ("object", "identifier") and reader.follow(args[0]) is not None and \
                reader.follow(args[0]).type == "object":
            config = args[0]
            url_node = reader.property(config, "url")
            url = url_of(url_node) if url_node is not None else base_url
        else:
            url, config = url_of(args[0]), (args[1] if len(args) > 1 else None)
        _js_options(reader, call, client, url, config, SourceHandle("js"), base_headers=base_headers,
                    base_unknown=base_unknown)
        return
    if name not in _HTTP_VERBS or not args:
        return
    with_body = name in ("put", "post", "patch")
    config = args[2] if with_body and len(args) > 2 else (args[1] if not with_body and len(args) > 1 else None)
    simple = name == "get" and base == "axios" and len(args) == 1 and reader.literal(args[0])
    method, explicit = name.upper(), True
    headers_node = reader.property(config, "headers") if config is not None else None
    headers, unknown = reader.headers_of(headers_node) if headers_node is not None else ((), False)
    if config is not None and headers_node is None:
        pairs, spread = reader.object_pairs(config)
        unknown = spread or (not pairs and reader.follow(config).type != "object")
    reader.emit(client, url_of(args[0]), method, (*base_headers, *headers), call.node, call.node,
                handle=SourceHandle("axios-get" if simple else "js"), headers_unknown=unknown or base_unknown,
                method_explicit=explicit)


def _js_metadata_service(reader: Reader, call: Call, fetches_token: bool) -> None:
    if not call.args:
        return
    path = reader.value(call.args[0])
    options = call.args[1] if len(call.args) > 2 else None
    headers_node = reader.property(options, "headers") if options is not None else None
    headers, unknown = reader.headers_of(headers_node) if headers_node is not None else ((), False)
    client = ("aws-sdk v2 MetadataService.request (only aws-sdk >= 2.722.0 can fetch a token, "
              "with fetchMetadataToken; pass it in options.headers)")
    if fetches_token and not headers:
        unknown = True
    reader.emit(client, "http://169.254.169.254" + (path if path.startswith("/") else "/" + path),
                "GET", headers, call.node, call.node, handle=SourceHandle("js"), headers_unknown=unknown)


# -- Go ------------------------------------------------------------------------------------


def _go(reader: Reader) -> list:
    for call in reader.calls:
        callee, name = call.callee, call.name
        if callee.startswith("ec2metadata.New") or callee == "ec2metadata.New":
            reader.sdk_client("aws-sdk-go ec2metadata client", "github.com/aws/aws-sdk-go 1.25.38", call.node)
        elif name in ("NewRequest", "NewRequestWithContext") and callee.split(".")[0] == "http":
            args = call.args[1:] if name == "NewRequestWithContext" else call.args
            if len(args) < 2:
                continue
            _bound_request(reader, call, "http.NewRequest", args[1], args[0],
                           header_methods=("Set", "Add"), header_field="Header",
                           senders=("Do", "RoundTrip"), default_method=None)
        elif name in ("Get", "Head", "Post", "PostForm") and call.args and (
                callee.startswith("http.") or call.receiver is not None):
            url = reader.value(call.args[0])
            simple = callee == "http.Get" and len(call.args) == 1 and reader.literal(call.args[0])
            reader.emit(callee, url, name.upper().replace("POSTFORM", "POST"), (), call.node, call.node,
                        handle=SourceHandle("go-get" if simple else "go",
                                            shared=reader.may_reach_other_hosts(call.args[0])),
                        method_explicit=True)
    return []


def _bound_request(reader: Reader, call: Call, client: str, url_node, method_node, *, header_methods,
                   header_field: str | None, senders: tuple[str, ...], default_method: str | None,
                   extra_headers=(), method_setters: tuple[str, ...] = ()) -> None:
    """A request object held in a variable: headers set on it, sent by another call."""
    variable = reader.assigned_name(call.node)
    scope = reader.enclosing_function(call.node)
    method, explicit = _method(reader, method_node, default_method)
    headers = list(extra_headers)
    anchor = call.node
    if variable:
        for c in reader.calls_on(variable, scope):
            chain = c.callee.split(".")
            if c.name in header_methods and len(c.args) >= 2 and (
                    header_field is None or (len(chain) >= 3 and chain[-2] == header_field)):
                headers.append(reader.header(c.args[0], c.args[1], c.node))
            elif c.name in method_setters and c.args:
                method, explicit = _method(reader, c.args[0], method)
        sends = list(reader.calls_with_argument(variable, senders, scope)) if senders else []
        sends += [c for c in reader.calls_on(variable, scope) if c.name in senders and not c.args]
        if sends:
            anchor = min(sends, key=lambda c: c.node.start_byte).node
    shared = reader.language == "go" and reader.may_reach_other_hosts(url_node)
    reader.emit(client, reader.value(url_node), method or "GET", headers, anchor, anchor,
                handle=SourceHandle(reader.language, variable=variable, created=call.node, shared=shared),
                method_explicit=explicit)


# -- Java ----------------------------------------------------------------------------------


def _java(reader: Reader) -> list:
    # Request is a common class name: only the fluent facade's, imported from its package.
    fluent = ".http.fluent." in reader.state.text or "client.fluent." in reader.state.text
    for call in reader.calls:
        callee, name = call.callee, call.name
        if callee.startswith("EC2MetadataUtils.") or ".EC2MetadataUtils." in callee:
            reader.sdk_client("EC2MetadataUtils (AWS SDK for Java 1.x)", "com.amazonaws:aws-java-sdk-core 1.11.678",
                              call.node)
        elif name == "openConnection":
            url_node = call.receiver
            if url_node is not None and url_node.type == "object_creation_expression":
                inner = reader.call(url_node)
                url_node = inner.args[0] if inner is not None and inner.args else None
            if url_node is None:
                continue
            _bound_request(reader, call, "HttpURLConnection", url_node, None,
                           header_methods=("setRequestProperty", "addRequestProperty"), header_field=None,
                           senders=("getInputStream", "getResponseCode", "connect", "getOutputStream"),
                           default_method="GET", method_setters=("setRequestMethod",))
        elif callee.startswith("new Http") and name in ("HttpGet", "HttpPut", "HttpHead", "HttpPost") and call.args:
            _bound_request(reader, call, f"Apache {name}", call.args[0], None,
                           header_methods=("setHeader", "addHeader"), header_field=None,
                           senders=("execute",), default_method=name[4:].upper())
        elif name == "build" and "newBuilder()" in callee:
            _java_builder(reader, call)
        elif callee in _FLUENT_FACTORIES and call.args and fluent:
            _java_fluent(reader, call)
    return []


# Apache HttpClient's fluent facade: Request.get(url) (5.x) and Request.Get(url) (4.x).
_FLUENT_FACTORIES = {f"Request.{verb}" for v in ("get", "put", "post", "head", "delete", "patch", "options")
                     for verb in (v, v.capitalize())}


def _java_fluent(reader: Reader, call: Call) -> None:
    """``Request.get(URL).addHeader(n, v).execute()``, chained or through a variable."""
    headers, node, sent = [], call.node, None
    # Up the chain: each step is a call on the one before.
    parent = reader.state.parent(node)
    while parent is not None and parent.type == "method_invocation" and parent.child_by_field_name("object") == node:
        step = reader.call(parent)
        if step is None:
            break
        if step.name in ("addHeader", "setHeader") and len(step.args) >= 2:
            headers.append(reader.header(step.args[0], step.args[1], step.node))
        elif step.name == "execute":
            sent = step.node
        node = parent
        parent = reader.state.parent(node)
    method = call.name.upper()
    if sent is None:
        _bound_request(reader, call, "Apache fluent Request", call.args[0], None,
                       header_methods=("addHeader", "setHeader"), header_field=None,
                       senders=("execute",), default_method=method, extra_headers=headers)
        return
    reader.emit("Apache fluent Request", reader.value(call.args[0]), method, headers, sent, call.node,
                handle=SourceHandle("java"), method_explicit=True)


def _java_builder(reader: Reader, call: Call) -> None:
    url_node, method_node, headers, explicit = None, None, [], False
    method = "GET"
    node = call.node
    while node is not None and node.type == "method_invocation":
        step = reader.call(node)
        if step is None:
            break
        if step.name in ("uri", "newBuilder") and step.args:
            url_node = step.args[0]
        elif step.name == "header" and len(step.args) >= 2:
            headers.append(reader.header(step.args[0], step.args[1], step.node))
        elif step.name == "headers" and len(step.args) >= 2:
            for i in range(0, len(step.args) - 1, 2):
                headers.append(reader.header(step.args[i], step.args[i + 1], step.node))
        elif step.name in ("PUT", "GET", "POST", "DELETE", "HEAD") and method_node is None:
            method, explicit = step.name, True
        elif step.name == "method" and step.args:
            method, explicit = _method(reader, step.args[0], "GET")
        node = step.receiver
    if url_node is None:
        return
    variable = reader.assigned_name(call.node)
    anchor = call.node
    if variable:
        sends = list(reader.calls_with_argument(variable, ("send", "sendAsync"), reader.enclosing_function(call.node)))
        if sends:
            anchor = sends[0].node
    reader.emit("java.net.http.HttpRequest", reader.value(url_node), method, headers, anchor, anchor,
                handle=SourceHandle("java", variable=variable, created=call.node), method_explicit=explicit)


# -- C# ------------------------------------------------------------------------------------

_CS_GETS = ("GetAsync", "GetStringAsync", "GetByteArrayAsync", "GetStreamAsync", "PutAsync", "DeleteAsync")
_CS_WEBCLIENT = ("DownloadString", "DownloadData", "DownloadFile", "OpenRead", "DownloadStringTaskAsync",
                 "DownloadDataTaskAsync", "UploadString", "DownloadStringAsync")


def _csharp(reader: Reader) -> list:
    headers_set = _CsharpHeaders(reader)
    for call in reader.calls:
        callee, name = call.callee, call.name
        if "EC2InstanceMetadata." in callee or callee.startswith("EC2InstanceMetadata"):
            reader.sdk_client("Amazon.Util.EC2InstanceMetadata", "AWSSDK.Core 3.3.634.1", call.node)
        elif name in _CS_GETS + _CS_WEBCLIENT and call.receiver is not None and call.args:
            variable = callee.split(".")[0]
            method = "PUT" if name.startswith("Put") or name.startswith("Upload") else "GET"
            if name.startswith("Delete"):
                method = "DELETE"
            reader.emit(f"{name}", reader.value(call.args[0]), method, headers_set.reaching(variable, call.node),
                        call.node, call.node, handle=SourceHandle("csharp", variable=variable), method_explicit=True)
        elif callee == "new HttpRequestMessage" and len(call.args) >= 2:
            _bound_request(reader, call, "HttpRequestMessage", call.args[1], call.args[0],
                           header_methods=("Add", "TryAddWithoutValidation"), header_field="Headers",
                           senders=("SendAsync", "Send"), default_method="GET")
    return []


class _CsharpHeaders:
    """Headers set on a C# client held in a variable: ``web.Headers.Add(name, value)``,
    ``client.DefaultRequestHeaders.TryAddWithoutValidation``, ``wc.Headers[name] = value``.

    A request sees those set on its own receiver before it, in its method or lambda body or
    one enclosing it (the lead's call for issue 18: before, every request read every such call
    in the file, and each fix adds one, so 1,000 nested requests on one WebClient took 44 s and
    497 MB under --diff). The calls are indexed once per file by receiver and function; of each
    header name only the first is kept, the one ``Request.header`` reads.
    """

    _METHODS = ("Add", "TryAddWithoutValidation", "Set")

    def __init__(self, reader: Reader):
        self.reader = reader
        # (receiver, function's byte range or None) -> ([start], [Header], names): each name's first, in order.
        self.calls: dict | None = None
        self.indexed: dict = {}

    def _build(self) -> None:
        reader, self.calls = self.reader, {}
        for call in reader.calls:
            if call.name in self._METHODS and len(call.args) >= 2:
                self._add(self.calls, call.callee.split(".", 1)[0], call.node,
                          lambda c=call: reader.header(c.args[0], c.args[1], c.node))
        for node in walk(reader.state.tree.root_node):
            left = node.child_by_field_name("left") if node.type == "assignment_expression" else None
            if left is None or left.type != "element_access_expression":
                continue
            text = reader.source(left)
            if "." not in text:
                continue
            index = next((c for c in walk(left) if c.type in reader.grammar.strings), None)
            self._add(self.indexed, text.split(".", 1)[0], node,
                      lambda n=node, i=index: reader.header(i, n.child_by_field_name("right"), n))

    def _add(self, table, receiver: str, node, header) -> None:
        function = self.reader.enclosing_function(node)
        scope = (function.start_byte, function.end_byte) if function is not None else None
        starts, headers, names = table.setdefault((receiver, scope), ([], [], set()))
        made = header()
        if made.lower_name not in names:
            names.add(made.lower_name)
            starts.append(node.start_byte)
            headers.append(made)

    def reaching(self, receiver: str, request) -> list:
        if self.calls is None:
            self._build()
        reader, scopes = self.reader, []
        function = reader.enclosing_function(request)
        while function is not None:
            scopes.append((function.start_byte, function.end_byte))
            function = reader.enclosing_function(reader.state.parent(function))
        scopes.append(None)
        found = []
        for table in (self.calls, self.indexed):
            before = []
            for scope in scopes:
                starts, headers, _ = table.get((receiver, scope), ((), (), ()))
                before.extend(zip(starts[:bisect_left(starts, request.start_byte)], headers))
            found.extend(header for _, header in sorted(before, key=lambda pair: pair[0]))
        first = {}
        for header in found:
            first.setdefault(header.lower_name, header)
        return list(first.values())


# -- Ruby ----------------------------------------------------------------------------------


def _ruby(reader: Reader, session) -> list:
    children = []
    for call in reader.calls:
        callee, name = call.callee, call.name
        if callee in ("Net::HTTP.get", "Net::HTTP.get_response", "Net.HTTP.get", "Net.HTTP.get_response") \
                and call.args:
            # Ruby 3's Net::HTTP.get(uri, headers): the hash is the request's headers (a suggestion
            # that adds the token there must see it on the next pass, or it never converges).
            reader.emit(callee.replace("Net.HTTP", "Net::HTTP"), reader.value(call.args[0]), "GET",
                        _ruby_hash_arguments(reader, call), call.node, call.node, handle=SourceHandle("ruby"))
        elif name == "new" and callee.replace("::", ".").startswith("Net.HTTP.") and call.args:
            verb = callee.replace("::", ".").split(".")[2]
            if verb.upper() not in ("GET", "PUT", "HEAD", "POST"):
                continue
            extra = []
            for arg in call.args[1:]:
                if arg.type == "pair":
                    extra.append(reader.header(arg.child_by_field_name("key"), arg.child_by_field_name("value"), arg))
                else:
                    extra.extend(reader.headers_of(arg)[0])
            _bound_request(reader, call, f"Net::HTTP::{verb}", call.args[0], None,
                           header_methods=("[]=", "add_field", "set_header"), header_field=None,
                           senders=("request",), default_method=verb.upper(),
                           extra_headers=extra + _ruby_index_headers(reader, call))
        elif callee in ("URI.open", "open", "Kernel.open", "URI.parse().open") and call.args:
            reader.emit("open-uri", reader.value(call.args[0]), "GET", _ruby_hash_arguments(reader, call),
                        call.node, call.node, handle=SourceHandle("ruby"))
        elif callee in ("system", "exec", "Kernel.system", "spawn", "Open3.capture2", "Open3.capture3",
                        "IO.popen") and call.args:
            children.extend(_ruby_shell(reader, session, call.args[0]))
    for node in walk(reader.state.tree.root_node):
        if node.type == "subshell":
            children.extend(_ruby_shell(reader, session, node))
    return children


def _ruby_hash_arguments(reader: Reader, call: Call) -> list:
    """Headers given after the URL as ``'Name' => value`` pairs or a hash literal."""
    headers = []
    for arg in call.args[1:]:
        if arg.type == "pair":
            headers.append(reader.header(arg.child_by_field_name("key"), arg.child_by_field_name("value"), arg))
        elif arg.type == "hash":
            headers.extend(reader.headers_of(arg)[0])
    return headers


def _ruby_index_headers(reader: Reader, call: Call) -> list:
    """``req['X-aws-ec2-metadata-token'] = token`` on the variable the request is stored in."""
    variable = reader.assigned_name(call.node)
    if not variable:
        return []
    scope = reader.enclosing_function(call.node) or reader.state.tree.root_node
    headers = []
    for node in walk(scope):
        if node.type != "assignment":
            continue
        left = node.child_by_field_name("left")
        if left is None or left.type != "element_reference" or not left.named_children:
            continue
        if reader.source(left.named_children[0]) != variable or len(left.named_children) < 2:
            continue
        headers.append(reader.header(left.named_children[1], node.child_by_field_name("right"), node))
    return headers


def _ruby_shell(reader: Reader, session, node) -> list:
    """Backticks, ``%x()`` and ``system("...")``: the string is a shell script."""
    if node.type not in ("subshell", "string"):
        return []
    if any(c.type == "interpolation" for c in node.named_children):
        # Interpolated parts are unknown to the shell reader; scan the literal text read-only.
        writable = False
    else:
        writable = True
    parts = [c for c in node.named_children if c.type in ("string_content", "escape_sequence", "interpolation")]
    if not parts:
        return []
    start, end = reader.span(parts[0]).start, reader.span(parts[-1]).end
    inner = reader.document.text[start:end]
    if "\\" in inner:
        writable = False
    opening = reader.source(node)[:1]
    closing = {"`": "`", '"': '"', "'": "'"}.get(opening)

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace(closing, "\\" + closing) if closing else text

    inner_doc = reader.document.embed(Kind.SHELL, inner, OffsetMap.shifted(start, len(inner)), escape=escape,
                                      label="shell string", writable=writable and closing is not None)
    return session.analyze(inner_doc)


__all__ = ["find", "displayable"]


def analyze_language(document, session, language: str) -> list:
    """A source file of ``language``: its requests, SDK facts and embedded documents."""
    reader = Reader(document, language)
    reader.collect()
    children = find(reader, session)
    reader.problems()
    return [reader.analysis, *children]
