"""YAML and JSON files: route each to the front-end its content belongs to.

Kept deliberately small so front-ends for other YAML/JSON dialects
(Kubernetes, compose, ECS task definitions) can add a line each:

* ``AWSTemplateFormatVersion`` or ``Resources`` with ``AWS::`` types -> CloudFormation;
* ``#cloud-config`` (and other user-data headers) -> cloud-init;
* anything else -> the text fallback, plus base64 blobs that decode to user-data.
"""

from __future__ import annotations

from imds_lint.frontends import Analysis
from imds_lint.kinds import Kind, sniff
from imds_lint.model import Document


def route(document: Document) -> str:
    """The module name that reads this YAML/JSON document."""
    text = document.text
    if sniff(text) == Kind.USER_DATA:
        return "cloudinit"
    from imds_lint.frontends.cloudformation import is_cloudformation

    if is_cloudformation(text):
        return "cloudformation"
    return "text"


def analyze(document: Document, session) -> list[Analysis]:
    target = route(document)
    if target == "cloudformation":
        from imds_lint.frontends import cloudformation

        return cloudformation.analyze(document, session)
    if target == "cloudinit":
        from imds_lint.frontends import cloudinit

        return cloudinit.analyze(document, session)
    from imds_lint.frontends import blobs, text

    return [*text.analyze(document, session), *blobs.scan(document, session)]


def syntax_errors(text: str) -> int:
    target = route(Document(Kind.YAML, text))
    if target == "cloudformation":
        from imds_lint.frontends import cloudformation

        return cloudformation.syntax_errors(text)
    if target == "cloudinit":
        from imds_lint.frontends import cloudinit

        return cloudinit.syntax_errors(text)
    return 0
