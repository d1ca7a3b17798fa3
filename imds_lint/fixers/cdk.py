"""Metadata options of AWS CDK (Python) constructs: keywords added to the call that builds them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imds_lint.fixers import NoFixes
from imds_lint.model import Applicability, Edit, Fix
from imds_lint.syntax.iac import CdkHandle

if TYPE_CHECKING:
    from imds_lint.frontends.iac import ComputeResource


class CdkFixer(NoFixes):
    def set_option(self, resource: ComputeResource, key: str, value, title: str) -> Fix | None:
        handle = resource.handle
        if not isinstance(handle, CdkHandle):
            return None
        if key == "http_put_response_hop_limit":
            if resource.hop_limit.span is not None:
                return Fix(title, (Edit(resource.hop_limit.span.start, resource.hop_limit.span.end, str(value)),),
                           Applicability.UNSAFE)
            if handle.instance:
                return None
            keyword = f"http_put_response_hop_limit={value}"
        elif key == "http_tokens" and value == "required":
            if resource.tokens.value is not None:
                return None
            keyword = "require_imdsv2=True"
        else:
            return None
        edit = _add_keyword(handle, keyword)
        if edit is None:
            return None
        # require_imdsv2 on an existing ec2.Instance replaces the instance: show, never apply.
        applicability = Applicability.DISPLAY_ONLY if handle.instance else Applicability.UNSAFE
        return Fix(title, (edit,), applicability)


def _add_keyword(handle: CdkHandle, keyword: str) -> Edit | None:
    import libcst as cst

    call = handle.call
    if not call.args:
        return None
    last = call.args[-1]
    last_span = handle.span(last.value)
    text = handle.text
    if isinstance(last.comma, cst.Comma):
        call_end = handle.span(call).end - 1  # the closing parenthesis
        line_start = text.rfind("\n", 0, call_end) + 1
        if text[line_start:call_end].strip() == "":
            arg_line = text.rfind("\n", 0, last_span.start) + 1
            indent = text[arg_line:last_span.start]
            indent = indent[: len(indent) - len(indent.lstrip())]
            return Edit(line_start, line_start, f"{indent}{keyword},\n")
        return Edit(call_end, call_end, f" {keyword}")
    return Edit(last_span.end, last_span.end, f", {keyword}")


FIXER = CdkFixer()
set_option = FIXER.set_option
