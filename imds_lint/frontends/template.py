"""Terraform templates on their own (``.tftpl``, ``.tpl``): usually user-data for ``templatefile``.

The file is one Terraform template: ``${...}`` interpolations and ``%{...}``
directives, ``$${`` and ``%%{`` their escapes. The script it renders to is
handed on as an embedded document (shell, or cloud-init / MIME / PowerShell
user-data by its first line), so findings land on the template's own lines
and fixes are written back with Terraform's escapes.
"""

from __future__ import annotations

import os

from imds_lint.frontends import Analysis
from imds_lint.hcl import template as hcl_template
from imds_lint.kinds import Kind, sniff
from imds_lint.model import Document, OffsetMap

# Names that say a template is a boot script even without a shebang.
_SCRIPT_HINTS = ("user", "data", "init", "boot", "setup", "install", "startup", ".sh")


def script_kind(text: str, path: str) -> str:
    declared = sniff(text)
    if declared is not None:
        return declared
    name = os.path.basename(path).lower()
    if any(hint in name for hint in _SCRIPT_HINTS):
        return Kind.SHELL
    # Anything else (a config file template) is only text-scanned.
    return Kind.UNKNOWN


def analyze(document: Document, session) -> list[Analysis]:
    inner, segments = hcl_template.decode(document.text, 0, len(document.text), quoted=False)
    origin = getattr(session, "origin", None)
    kind = script_kind(inner, str(origin) if origin is not None else "")
    doc = document.embed(kind, inner, OffsetMap(segments), escape=hcl_template.escape_template,
                         label="terraform template")
    return [Analysis(document), *session.analyze(doc)]
