"""Calls that send a request through a client of the table, turned into Requests."""

from __future__ import annotations

from imds_lint.endpoints import is_foreign_metadata_header, parse_imds_url
from imds_lint.frontends.python.clients import (
    BOTO2_CALLS, BOTO2_CREDENTIAL_CALLS, MODULE_SENDERS, SHELL_STRING, SUBPROCESS_ARGV, URLOPEN, VERBS, Boto2Call,
)
from imds_lint.frontends.python.headers import HeaderSet
from imds_lint.frontends.python.values import UNKNOWN, cst_module, join_url
from imds_lint.model import Request
from imds_lint.syntax.python import ClientObject, PythonHandle, argument, keyword_argument


class ClientCalls:
    """Calls of the HTTP client table that send a request, turned into Requests; a part of the walker in ``frontends.python``."""

    # -- calls ----------------------------------------------------------------------
    def _call(self, call) -> None:
        cst = cst_module()
        qn = self.qnames(call)
        for name in qn:
            if name in MODULE_SENDERS:
                client, method = MODULE_SENDERS[name]
                self.http_call(call, client, method, url_index=0 if method else 1, method_index=None if method else 0)
                return
            if name in URLOPEN:
                self.urlopen(call)
                return
            if name in SUBPROCESS_ARGV:
                self.subprocess(call, name)
                return
            if name in SHELL_STRING:
                self.shell_string(call)
                return
            if name in BOTO2_CREDENTIAL_CALLS and (keyword_argument(call, "aws_access_key_id") is not None or len(call.args) >= 2):
                return
            if name == "boto.provider.Provider" and _names_another_cloud(cst, call):
                return
            if name in BOTO2_CALLS or name in BOTO2_CREDENTIAL_CALLS:
                self.analysis.add_fact("boto2", Boto2Call(name, self.span(call), self.span(call.func),
                                                          credentials=name in BOTO2_CREDENTIAL_CALLS))
                return
        if not isinstance(call.func, cst.Attribute):
            return
        method = call.func.attr.value
        if method not in VERBS and method not in ("request", "urlopen"):
            return
        receiver = self.obj(call.func.value)
        if receiver is None:
            self.unknown_receiver(call, method)
            return
        kind = receiver.kind
        if kind in ("requests", "httpx", "httpx-async", "aiohttp"):
            if method == "request":
                self.http_call(call, kind, None, url_index=1, method_index=0, session=receiver)
            elif method in VERBS:
                self.http_call(call, kind, method.upper(), url_index=0, session=receiver)
        elif kind in ("urllib3", "urllib3-pool") and method in ("request", "urlopen"):
            self.http_call(call, "urllib3", None, url_index=1, method_index=0, session=receiver)
        elif kind == "http.client" and method == "request":
            self.http_client(call, receiver)

    def unknown_receiver(self, call, method) -> None:
        """``session.get(IMDS_URL)`` on a session built elsewhere: its default headers are unknown."""
        if method not in VERBS:
            return
        url_node = argument(call, 0, "url")
        if url_node is None:
            return
        url = self.text(url_node)
        if parse_imds_url(url) is None:
            return
        self.emit(call, "session", url, method.upper(), HeaderSet(unknown=True), url_node, headers_unknown=True)

    def http_call(self, call, client, method, url_index, method_index=None, session: ClientObject | None = None) -> None:
        url_node = argument(call, url_index, "url")
        if url_node is None:
            return
        url = self.text(url_node)
        if session is not None:
            base = keyword_argument(session.ctor, "base_url")
            if base is not None and parse_imds_url(url) is None:
                url = join_url(self.text(base), url)
        if parse_imds_url(url) is None:
            return
        explicit = method is not None
        if method is None:
            method_node = argument(call, method_index, "method")
            method = self.text(method_node).upper() if method_node is not None else "GET"
            method = None if method == UNKNOWN else method
        headers = self.headers(keyword_argument(call, "headers")) if keyword_argument(call, "headers") is not None else HeaderSet()
        if session is not None:
            default = self.object_headers(session)
            headers = HeaderSet(default.items + headers.items, default.unknown or headers.unknown, headers.node)
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
            if method_node is None:
                # Before Python 3.3 the method was set by overriding the request's get_method:
                # `req.get_method = lambda: "PUT"` (the IMDSv2 token request of older agents).
                method_node = self.get_method_override(target)
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
        self.emit(call, "urllib", url, method, HeaderSet(), target)

    def get_method_override(self, target):
        """The string a ``name.get_method = lambda: "PUT"`` assignment returns, if any."""
        cst = cst_module()
        if not isinstance(target, cst.Name):
            return None
        for value in self.c.attr_values.get((target.value, "get_method"), []):
            if isinstance(value, cst.Lambda) and isinstance(value.body, cst.SimpleString):
                return value.body
        return None

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
        headers = self.headers(header_node) if header_node is not None else HeaderSet()
        extra = self.object_headers(conn)
        headers = HeaderSet(extra.items + headers.items, extra.unknown or headers.unknown, headers.node)
        self.emit(call, "http.client", url, None if method == UNKNOWN else method, headers, path_node,
                  headers_unknown=headers.unknown, method_explicit=True, session=conn)

    def emit(self, call, client, url, method, headers: HeaderSet, url_node, headers_unknown=False,
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


def _names_another_cloud(cst, call) -> bool:
    """``boto.provider.Provider("google")``: boto 2 reads EC2 metadata only for the ``aws`` provider,
    so a literal naming another one (Google Cloud Storage's, in boto's own tests) sends nothing."""
    name = argument(call, 0, "name")
    if not isinstance(name, cst.SimpleString):
        return False
    try:
        return name.evaluated_value != "aws"
    except (SyntaxError, ValueError):
        return False
