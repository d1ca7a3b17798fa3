"""Metadata options of Terraform and Packer blocks: the literal replaced, or the attribute or block added.

Requests in ``data "http"`` sources are not rewritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imds_lint.fixers import NoFixes
from imds_lint.hcl.tree import Block, unwrap
from imds_lint.model import Applicability, Edit, Fix
from imds_lint.syntax.iac import TerraformHandle

if TYPE_CHECKING:
    from imds_lint.frontends.iac import ComputeResource


def _indent_of(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    return prefix[: len(prefix) - len(prefix.lstrip(" \t"))]


def _closing_line(text: str, node_end: int) -> int | None:
    """Offset of the line holding a block's closing brace, when the brace stands alone on it."""
    brace = node_end - 1
    line_start = text.rfind("\n", 0, brace) + 1
    return line_start if text[line_start:brace].strip() == "" else None


class TerraformFixer(NoFixes):
    """Rewrites for Terraform: only enforcement settings; requests in data "http" are not rewritten."""

    def set_option(self, resource: ComputeResource, key: str, value: str | int, title: str) -> Fix | None:
        """Set one metadata option (``http_tokens``...) to ``value``, never safely."""
        value = f'"{value}"' if isinstance(value, str) else str(value)
        handle = resource.handle
        if not isinstance(handle, TerraformHandle):
            return None
        if handle.block.file.tree.root_node.has_error:
            # In an error-recovered tree a block's extent is a guess: an edit there may not
            # even be seen by the next parse (found by fuzzing). Report, do not rewrite.
            return None
        setting = {"http_tokens": resource.tokens, "http_put_response_hop_limit": resource.hop_limit,
                   "http_endpoint": resource.endpoint}[key]
        if setting.span is not None:
            return Fix(title, (Edit(setting.span.start, setting.span.end, value),), Applicability.UNSAFE)
        if setting.value is not None:
            return None  # set through a variable or elsewhere: the user decides where to change it
        file = handle.block.file
        text = file.text
        block_span = file.span(handle.block.node)
        if handle.style == "attributes":
            target_end = block_span.end
        elif handle.options is None:
            if resource.has_metadata_options:
                return None
            at = _closing_line(text, block_span.end)
            if at is None:
                return None
            indent = _indent_of(text, block_span.start) + "  "
            opener = "metadata_options {" if handle.style == "block" else "metadata_options = {"
            content = f"{indent}{opener}\n{indent}  {key} = {value}\n{indent}}}\n"
            return Fix(title, (Edit(at, at, content),), Applicability.UNSAFE)
        else:
            options = handle.options
            target_end = file.span(options.node if isinstance(options, Block) else unwrap(options)).end
        at = _closing_line(text, target_end)
        if at is None:
            return None
        indent = text[at:target_end - 1]
        return Fix(title, (Edit(at, at, f"{indent}  {key} = {value}\n"),), Applicability.UNSAFE)


FIXER = TerraformFixer()
