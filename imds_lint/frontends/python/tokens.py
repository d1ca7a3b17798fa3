"""Token helpers a module already has: top-level functions that PUT for a token and return it."""

from __future__ import annotations

from imds_lint.frontends.python.values import cst_module
from imds_lint.model import Span
from imds_lint.syntax.python import PythonHandle


class TokenHelpers:
    """Module functions that fetch and return a token, which the fixer may reuse; a part of the walker in ``frontends.python``."""

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
        cst = cst_module()
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
        cst = cst_module()
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
