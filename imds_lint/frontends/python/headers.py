"""The headers a Python HTTP call sends, including those set on its client object elsewhere."""

from __future__ import annotations

from typing import Any

from imds_lint.frontends.python.collector import expression_key
from imds_lint.frontends.python.values import MAX_DEPTH, cst_module
from imds_lint.model import Header, Span
from imds_lint.records import dataclass, field
from imds_lint.syntax.python import ClientObject, keyword_argument


@dataclass
class HeaderSet:
    items: list[Header] = field(default_factory=list)
    unknown: bool = False
    node: Any = None


class HeaderReading:
    """Headers a call sends: literals, variables and what is set on client objects; a part of the walker in ``frontends.python``."""

    # -- headers ------------------------------------------------------------------
    def headers(self, node, depth: int = 0) -> HeaderSet:
        """The headers a ``headers=`` expression holds."""
        if node is None:
            return HeaderSet()
        if depth > MAX_DEPTH or id(node) in self._busy:
            return HeaderSet(unknown=True, node=node)
        self._busy.add(id(node))
        try:
            return self._headers(node, depth + 1)
        finally:
            self._busy.discard(id(node))

    def _headers(self, node, depth) -> HeaderSet:
        cst = cst_module()
        if isinstance(node, cst.Name) and node.value == "None":
            return HeaderSet(node=node)
        if isinstance(node, cst.Dict):
            result = HeaderSet(node=node)
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
                result = HeaderSet(node=node)
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
            return HeaderSet(unknown=True, node=node)
        if isinstance(node, (cst.Name, cst.Attribute)):
            found = self.candidates(node, depth)
            merged = self._merge([self.headers(v, depth) for v in found], node) if found else HeaderSet(unknown=True, node=node)
            # ``headers["X-aws-ec2-metadata-token"] = token`` / ``headers.update({...})`` on this variable.
            for extra in self.variable_mutations(node, depth):
                merged.items.extend(extra.items)
                merged.unknown |= extra.unknown
            return merged
        if isinstance(node, cst.IfExp):
            return self._merge([self.headers(node.body, depth), self.headers(node.orelse, depth)], node)
        return HeaderSet(unknown=True, node=node)

    @staticmethod
    def _merge(alternatives: list[HeaderSet], node) -> HeaderSet:
        """Flow-insensitive: a header any alternative sets counts (token-first code is not flagged)."""
        known = [a for a in alternatives if not a.unknown]
        result = HeaderSet(node=node, unknown=not known and bool(alternatives))
        for a in alternatives:
            result.items.extend(h for h in a.items if all(h.lower_name != k.lower_name for k in result.items))
        return result

    def variable_mutations(self, node, depth) -> list[HeaderSet]:
        cst = cst_module()
        key = expression_key(node)
        if key is None:
            return []
        out = []
        for target, value in self.c.subscript_sets:
            if expression_key(target.value) == key and len(target.slice) == 1:
                index = target.slice[0].slice
                name = self.value(getattr(index, "value", None), depth)
                if isinstance(name, str):
                    v = self.value(value, depth)
                    out.append(HeaderSet([Header(name, v if isinstance(v, str) else None)]))
        for call in self.c.calls:
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "update" and expression_key(func.value) == key and call.args:
                out.append(self.headers(call.args[0].value, depth))
        return out

    def literal_span(self, node, needle) -> Span | None:
        cst = cst_module()
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
        cst = cst_module()
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
                            HeaderSet([Header(name, value if isinstance(value, str) else None)]))
        for target, value in self.c.subscript_sets:
            holder = target.value
            if isinstance(holder, cst.Attribute) and holder.attr.value == "headers" and len(target.slice) == 1:
                obj = self.obj(holder.value)
                index = getattr(target.slice[0].slice, "value", None)
                name = self.value(index)
                if obj is not None and isinstance(name, str):
                    v = self.value(value)
                    self.obj_headers.setdefault(id(obj.ctor), []).append(
                        HeaderSet([Header(name, v if isinstance(v, str) else None)]))

    def object_headers(self, obj: ClientObject) -> HeaderSet:
        result = HeaderSet()
        kwarg = keyword_argument(obj.ctor, "headers")
        if kwarg is not None:
            result = self.headers(kwarg)
        for extra in self.obj_headers.get(id(obj.ctor), []):
            result.items.extend(extra.items)
            result.unknown |= extra.unknown
        return result
