"""AWS CDK apps in Python (libcst): user-data commands and instance metadata enforcement.

* ``ec2.UserData.for_linux()`` / ``for_windows()`` / ``custom("...")`` and
  ``<user_data>.add_commands("...", ...)``: each string literal is a script,
  embedded as a shell (or PowerShell) document; simple literals are written back
  with Python string escaping, others are scanned only.
* ``ec2.Instance(...)`` / ``ec2.LaunchTemplate(...)``: an ``iac.ComputeResource``
  each; ``require_imdsv2=True`` (or ``http_tokens=LaunchTemplateHttpTokens.REQUIRED``)
  enforces tokens, and so does, for every resource in the file, an applied
  ``InstanceRequireImdsv2Aspect`` / ``LaunchTemplateRequireImdsv2Aspect`` or an
  ``AwsCustomResource`` whose ``on_create``/``on_update`` calls
  ``modifyInstanceMetadataOptions`` with ``HttpTokens: required`` (passing an
  instance's ``instance_id`` to a construct named like ``EnforceImdsv2`` counts
  for that instance).

Chaining after merge with the general Python front-end: this module's
``analyze_cdk(document, session)`` returns extra analyses (facts and embedded
documents) and never requests of its own, so the Python front-end calls it when
``imports_cdk(text)`` and appends its result to its own; ``analyze`` here (text
fallback + CDK) is only the stand-in registered until then.
"""

from __future__ import annotations

import re

from imds_lint.frontends import Analysis
from imds_lint.frontends.iac import COMPUTE, UNKNOWN, ComputeResource, Setting, container_signs
from imds_lint.kinds import Kind
from imds_lint.model import Document, OffsetMap, Span, no_escape
from imds_lint.syntax.iac import CdkHandle

_CDK_IMPORT = re.compile(r"^\s*(?:from|import)\s+aws_cdk\b", re.M)


def imports_cdk(text: str) -> bool:
    return _CDK_IMPORT.search(text) is not None


def _dotted(node) -> str:
    import libcst as cst

    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
    elif isinstance(node, cst.Call):
        parts.append(_dotted(node.func) + "()")
    return ".".join(reversed(parts))


class _Collector:
    def __init__(self, document: Document, session):
        self.document = document
        self.session = session
        self.text = document.text
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self.line_starts = starts
        self.children: list[Analysis] = []
        self.analysis = Analysis(document)
        # Spans of the string literals handed on as scripts.
        self.embedded: list[Span] = []

    def offset(self, position) -> int:
        line = min(max(position.line - 1, 0), len(self.line_starts) - 1)
        return self.line_starts[line] + position.column

    def span(self, node) -> Span:
        rng = self.positions[node]
        return Span(self.offset(rng.start), self.offset(rng.end))

    def run(self) -> list[Analysis]:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider

        try:
            module = cst.parse_module(self.text)
        except Exception:  # libcst raises ParserSyntaxError and friends on bad input
            return []
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.positions = wrapper.resolve(PositionProvider)
        calls: list = []
        assigns: dict[str, object] = {}

        class Visitor(cst.CSTVisitor):
            def visit_Call(self, node):
                calls.append(node)

            def visit_Assign(self, node):
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        assigns[target.target.value] = node.value

        wrapper.module.visit(Visitor())
        windows_vars = {name for name, value in assigns.items()
                        if isinstance(value, cst.Call) and _dotted(value.func).endswith("UserData.for_windows")}
        instance_vars = {id(value): name for name, value in assigns.items() if isinstance(value, cst.Call)}
        scripts: dict[str, list[str]] = {}
        file_enforcer = None
        instance_enforced: set[str] = set()
        resources = []
        for call in calls:
            name = _dotted(call.func)
            last = name.rsplit(".", 1)[-1]
            if last == "add_commands" and isinstance(call.func, cst.Attribute):
                owner = _dotted(call.func.value)
                kind = Kind.POWERSHELL if owner in windows_vars else Kind.SHELL
                for arg in call.args:
                    scripts.setdefault(owner, []).append(self.embed(arg.value, kind))
            elif name.endswith("UserData.custom") and call.args:
                owner = instance_vars.get(id(call), "")
                scripts.setdefault(owner, []).append(self.embed(call.args[0].value, Kind.SHELL))
            elif last in ("InstanceRequireImdsv2Aspect", "LaunchTemplateRequireImdsv2Aspect"):
                file_enforcer = file_enforcer or last
            elif last == "AwsCustomResource" and _custom_resource_requires_tokens(call):
                file_enforcer = "an AwsCustomResource calling modifyInstanceMetadataOptions"
            elif "imds" in last.lower():
                for arg in call.args:
                    value = _dotted(arg.value)
                    if value.endswith(".instance_id"):
                        instance_enforced.add(value.rsplit(".", 1)[0])
            if last in ("Instance", "LaunchTemplate") and self.is_ec2(name):
                resources.append((call, last, instance_vars.get(id(call), "")))
        for call, last, var in resources:
            self.resource(call, last, var, scripts, file_enforcer, instance_enforced)
        return [self.analysis, *self.children]

    def is_ec2(self, dotted: str) -> bool:
        prefix = dotted.rsplit(".", 1)[0] if "." in dotted else ""
        return prefix in ("ec2", "aws_ec2", "aws_cdk.aws_ec2", "cdk.aws_ec2") or (
            prefix == "" and re.search(r"from\s+aws_cdk\.aws_ec2\s+import[^\n]*\b" + dotted + r"\b", self.text) is not None)

    def resource(self, call, last, var, scripts, file_enforcer, instance_enforced) -> None:
        import libcst as cst

        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        tokens = Setting()
        flag = keywords.get("require_imdsv2")
        if flag is not None:
            text = _dotted(flag)
            tokens = Setting({"True": "required", "False": "optional"}.get(text, UNKNOWN), None, "require_imdsv2")
        http_tokens = keywords.get("http_tokens")
        if http_tokens is not None:
            text = _dotted(http_tokens).rsplit(".", 1)[-1].lower()
            tokens = Setting(text if text in ("required", "optional") else UNKNOWN, None, "http_tokens")
        hop = Setting()
        hop_node = keywords.get("http_put_response_hop_limit")
        if isinstance(hop_node, cst.Integer):
            hop = Setting(hop_node.value, self.span(hop_node))
        elif hop_node is not None:
            hop = Setting(UNKNOWN)
        endpoint = Setting()
        if "http_endpoint" in keywords:
            endpoint = Setting("disabled" if _dotted(keywords["http_endpoint"]) == "False" else "enabled")
        enforced = None
        if file_enforcer is not None and (last == "Instance" or "LaunchTemplate" in file_enforcer or "Custom" in file_enforcer):
            enforced = file_enforcer
        if var and var in instance_enforced:
            enforced = "a construct that enforces IMDSv2 on its instance_id"
        user_data = keywords.get("user_data")
        script = "\n".join(scripts.get(_dotted(user_data), [])) if user_data is not None else ""
        span = self.span(call)
        line_end = self.text.find("\n", span.start)
        anchor = Span(span.start, span.end if line_end == -1 else min(line_end, span.end))
        construct_id = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
        name = construct_id.value.strip("'\"") if isinstance(construct_id, cst.SimpleString) else var or "(unnamed)"
        self.analysis.add_fact(COMPUTE, ComputeResource(
            "cdk", f"ec2.{last}", name, anchor, span, tokens.value is not None,
            tokens=tokens, endpoint=endpoint, hop_limit=hop, enforced_by=enforced,
            containers=container_signs(script) if script else None,
            handle=CdkHandle(call, self.text, self.span, last == "Instance"),
        ))

    def embed(self, node, kind: str) -> str:
        import libcst as cst

        if not isinstance(node, cst.SimpleString):
            return ""
        value = node.value
        prefix = value[: len(value) - len(value.lstrip("rRuUbBfF"))].lower()
        body_quote = value[len(prefix):]
        quote = body_quote[:3] if body_quote[:3] in ('"""', "'''") else body_quote[:1]
        span = self.span(node)
        self.embedded.append(span)
        body_start = span.start + len(prefix) + len(quote)
        body = value[len(prefix) + len(quote): len(value) - len(quote)]
        exact = "b" not in prefix and ("\\" not in body or "r" in prefix)
        if exact:
            inner = body
            offsets = OffsetMap.shifted(body_start, len(body))
            escape = None if "r" in prefix else _python_escape(quote)
        else:
            import ast

            try:
                inner = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                return ""
            if not isinstance(inner, str):
                return ""
            from imds_lint.model import Segment

            offsets = OffsetMap([Segment(0, len(inner), span.start, span.end)])
            escape = None
        label = "shell string" if "\n" not in inner else "CDK user data"
        doc = self.document.embed(kind, inner, offsets, escape=escape or no_escape, label=label,
                                  writable=escape is not None)
        self.children.extend(self.session.analyze(doc))
        return inner


def _python_escape(quote: str):
    def escape(text: str) -> str:
        text = text.replace("\\", "\\\\")
        if len(quote) == 1:
            text = text.replace(quote, "\\" + quote).replace("\n", "\\n")
        else:
            text = text.replace(quote[0] * 3, "\\" + quote[0] * 3)
        return text
    return escape


def _custom_resource_requires_tokens(call) -> bool:
    """``AwsCustomResource(on_create=AwsSdkCall(action="modifyInstanceMetadataOptions", parameters={"HttpTokens": "required"}))``."""
    import libcst as cst

    for arg in call.args:
        if arg.keyword is None or arg.keyword.value not in ("on_create", "on_update") or not isinstance(arg.value, cst.Call):
            continue
        sdk = {a.keyword.value: a.value for a in arg.value.args if a.keyword is not None}
        action = sdk.get("action")
        if not (isinstance(action, cst.SimpleString) and "modifyInstanceMetadataOptions" in action.value):
            continue
        params = sdk.get("parameters")
        if isinstance(params, cst.Dict):
            for element in params.elements:
                if (isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString)
                        and "HttpTokens" in element.key.value and isinstance(element.value, cst.SimpleString)
                        and element.value.value.strip("'\"") == "required"):
                    return True
    return False




def analyze_cdk(document: Document, session) -> list[Analysis]:
    """CDK facts and user-data documents of a Python file (empty when it does not use the CDK)."""
    if not imports_cdk(document.text):
        return []
    return _Collector(document, session).run()
