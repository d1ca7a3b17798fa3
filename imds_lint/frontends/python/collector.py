"""One pass over a module with libcst metadata: calls, assignments, names and top-level imports."""

from __future__ import annotations

from typing import Any

from imds_lint.frontends.python.values import cst_module


def collector_class():
    cst = cst_module()
    meta = __import__("libcst.metadata", fromlist=["metadata"])

    class Collector(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (meta.PositionProvider, meta.QualifiedNameProvider, meta.ScopeProvider,
                                 meta.ParentNodeProvider)

        def __init__(self):
            super().__init__()
            self.calls: list = []
            self.qnames: dict[int, set[str]] = {}
            self.values: dict[int, list] = {}  # id(target Name) -> value expressions
            self.attr_values: dict[tuple[str, str], list] = {}  # (class, attr) -> values
            self.subscript_sets: list = []  # (target Subscript, value)
            self.functions: dict[str, list] = {}
            self.func_stack: list = []
            self.class_stack: list = []
            self.scope_stack: list = []
            self.enclosing: dict[int, tuple] = {}  # id(call) -> (function, class)
            self.imports: set[str] = set()
            self.test_functions = 0
            self.names: set[str] = set()

        def _qn(self, node) -> set[str]:
            try:
                return {q.name for q in self.get_metadata(meta.QualifiedNameProvider, node, set())}
            except Exception:
                return set()

        def visit_Import(self, node):
            for alias in node.names:
                self.imports.add(cst.helpers.get_full_name_for_node(alias.name) or "")

        def visit_ImportFrom(self, node):
            if node.module is not None:
                base = cst.helpers.get_full_name_for_node(node.module) or ""
                self.imports.add(base)
                if not isinstance(node.names, cst.ImportStar):
                    for alias in node.names:
                        self.imports.add(f"{base}.{cst.helpers.get_full_name_for_node(alias.name) or ''}")

        def visit_Name(self, node):
            self.names.add(node.value)

        def visit_ClassDef(self, node):
            self.class_stack.append(node)
            self.scope_stack.append(node)

        def leave_ClassDef(self, node):
            self.class_stack.pop()
            self.scope_stack.pop()

        def in_class_body(self) -> bool:
            return bool(self.scope_stack) and isinstance(self.scope_stack[-1], cst.ClassDef)

        def visit_FunctionDef(self, node):
            self.functions.setdefault(node.name.value, []).append(node)
            if node.name.value.startswith("test"):
                self.test_functions += 1
            self.func_stack.append(node)
            self.scope_stack.append(node)

        def leave_FunctionDef(self, node):
            self.func_stack.pop()
            self.scope_stack.pop()

        def visit_Call(self, node):
            self.calls.append(node)
            self.qnames[id(node)] = self._qn(node.func)
            self.enclosing[id(node)] = (self.func_stack[-1] if self.func_stack else None,
                                        self.class_stack[-1] if self.class_stack else None)

        def _record(self, target, value):
            if isinstance(target, cst.Name):
                self.values.setdefault(id(target), []).append(value)
            elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                owner = target.value.value
                cls = self.class_stack[-1].name.value if self.class_stack else None
                if owner in ("self", "cls") and cls:
                    self.attr_values.setdefault((cls, target.attr.value), []).append(value)
                else:
                    self.attr_values.setdefault((owner, target.attr.value), []).append(value)
            elif isinstance(target, cst.Subscript):
                self.subscript_sets.append((target, value))
            elif isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
                if len(target.elements) == len(value.elements):
                    for t, v in zip(target.elements, value.elements):
                        self._record(t.value, v.value)

        def visit_Assign(self, node):
            for target in node.targets:
                self._record(target.target, node.value)
            # Class body constants: ``class C: BASE = "..."`` read as ``C.BASE`` / ``self.BASE``.
            if self.in_class_body():
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        key = (self.class_stack[-1].name.value, target.target.value)
                        self.attr_values.setdefault(key, []).append(node.value)

        def visit_AnnAssign(self, node):
            if node.value is not None:
                self._record(node.target, node.value)
                if self.in_class_body() and isinstance(node.target, cst.Name):
                    key = (self.class_stack[-1].name.value, node.target.value)
                    self.attr_values.setdefault(key, []).append(node.value)

        def visit_AugAssign(self, node):
            if isinstance(node.operator, cst.AddAssign):
                self._record(node.target, cst.BinaryOperation(node.target, cst.Add(), node.value))

        def visit_WithItem(self, node):
            if node.asname is not None:
                self._record(node.asname.name, node.item)

        def visit_NamedExpr(self, node):
            self._record(node.target, node.value)

    return Collector


def callee_name(func) -> str | None:
    cst = cst_module()
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def is_self(node) -> bool:
    cst = cst_module()
    return isinstance(node, cst.Name) and node.value in ("self", "cls")


def expression_key(node) -> str | None:
    cst = cst_module()
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = expression_key(node.value)
        return f"{inner}.{node.attr.value}" if inner else None
    return None


def top_imports(module) -> dict[str, str]:
    """``import X`` / ``import X as Y`` / ``from A import B`` at top level: qualified -> local name."""
    cst = cst_module()
    found: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    full = cst.helpers.get_full_name_for_node(alias.name) or ""
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        found.setdefault(full, alias.asname.name.value)
                    else:
                        found.setdefault(full, full)
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                base = cst.helpers.get_full_name_for_node(small.module) or ""
                if isinstance(small.names, cst.ImportStar):
                    continue
                for alias in small.names:
                    name = cst.helpers.get_full_name_for_node(alias.name) or ""
                    local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
                    found.setdefault(f"{base}.{name}", local)
    return found


def top_functions(module) -> dict[str, Any]:
    cst = cst_module()
    return {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}
