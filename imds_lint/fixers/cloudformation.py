"""Metadata options of CloudFormation resources: the literal replaced, or the key added to its block mapping."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imds_lint.fixers import NoFixes
from imds_lint.model import Applicability, Edit, Fix
from imds_lint.syntax.iac import CloudFormationHandle

if TYPE_CHECKING:
    from imds_lint.frontends.iac import ComputeResource

_KEYS = {"http_tokens": "HttpTokens", "http_endpoint": "HttpEndpoint", "http_put_response_hop_limit": "HttpPutResponseHopLimit"}


class CloudFormationFixer(NoFixes):
    def set_option(self, resource: ComputeResource, key: str, value, title: str) -> Fix | None:
        handle = resource.handle
        if not isinstance(handle, CloudFormationHandle):
            return None
        setting = {"http_tokens": resource.tokens, "http_put_response_hop_limit": resource.hop_limit,
                   "http_endpoint": resource.endpoint}[key]
        literal = f'"{value}"' if handle.json and isinstance(value, str) else str(value)
        if setting.span is not None:
            return Fix(title, (Edit(setting.span.start, setting.span.end, literal),), Applicability.UNSAFE)
        if setting.value is not None or handle.json:
            return None
        return _insert_key(handle, _KEYS[key], literal, title)


def _insert_key(handle, key, literal, title) -> Fix | None:
    """Add ``key: literal`` to the block mapping of MetadataOptions (creating it when missing)."""
    mapping = handle.options if handle.options is not None else handle.parent
    if mapping is None or mapping.id != "mapping" or mapping.flow_style or not mapping.value:
        return None
    first_key = mapping.value[0][0]
    indent = " " * first_key.start_mark.column
    last_value = mapping.value[-1][1]
    text = handle.text
    at = last_value.end_mark.index
    line_start = text.rfind("\n", 0, at) + 1
    if text[line_start:at].strip():
        # A scalar ending mid-line: insert after its line.
        line_end = text.find("\n", at)
        insert_at = len(text) if line_end == -1 else line_end + 1
    else:
        # A block node ends where the next one starts: back up over blank lines.
        insert_at = line_start
        while insert_at > 0:
            previous = text.rfind("\n", 0, insert_at - 1) + 1
            if text[previous:insert_at].strip():
                break
            insert_at = previous
    if handle.options is not None:
        content = f"{indent}{key}: {literal}\n"
    else:
        content = f"{indent}MetadataOptions:\n{indent}  {key}: {literal}\n"
    if insert_at == len(text) and not text.endswith("\n"):
        content = "\n" + content
    return Fix(title, (Edit(insert_at, insert_at, content),), Applicability.UNSAFE)


FIXER = CloudFormationFixer()
