"""YAML and JSON files: route each document by what it contains.

One table per format, tried in order: a cheap content test and the module that
reads such files. Files no route claims go to the text fallback. Other
front-ends (CloudFormation, cloud-init) add their routes here.
"""

from __future__ import annotations

import importlib
import re
from typing import Callable

from imds_lint.frontends import Analysis
from imds_lint.kinds import Kind
from imds_lint.model import Document

_COMPOSE = re.compile(r"^services\s*:", re.M)
_KUBERNETES_KIND = re.compile(r"^kind\s*:", re.M)
_ECS = re.compile(r'"containerDefinitions"\s*:')


def looks_like_compose(text: str) -> bool:
    return _COMPOSE.search(text) is not None and _KUBERNETES_KIND.search(text) is None


def looks_like_kubernetes(text: str) -> bool:
    return "apiVersion" in text and _KUBERNETES_KIND.search(text) is not None


def looks_like_ecs_task_definition(text: str) -> bool:
    return _ECS.search(text) is not None


# (content test, module exposing analyze(document, session)); first match wins.
YAML_ROUTES: list[tuple[Callable[[str], bool], str]] = [
    (looks_like_kubernetes, "imds_lint.frontends.orchestrators:analyze_kubernetes"),
    (looks_like_compose, "imds_lint.frontends.orchestrators:analyze_compose"),
]
JSON_ROUTES: list[tuple[Callable[[str], bool], str]] = [
    (looks_like_ecs_task_definition, "imds_lint.frontends.orchestrators:analyze_ecs"),
]


def _route(routes, document: Document, session) -> list[Analysis]:
    for test, target in routes:
        if test(document.text):
            module, _, function = target.partition(":")
            return getattr(importlib.import_module(module), function or "analyze")(document, session)
    from imds_lint.frontends import text

    return text.analyze(document, session)


def analyze(document: Document, session) -> list[Analysis]:
    routes = JSON_ROUTES if document.kind == Kind.JSON else YAML_ROUTES
    return _route(routes, document, session)


def syntax_errors(text: str) -> int:
    """1 when the text is neither JSON nor YAML (so fixes cannot break either), else 0."""
    import json

    try:
        json.loads(text)
        return 0
    except ValueError:
        pass
    import yaml

    try:
        for _ in yaml.compose_all(text, Loader=yaml.SafeLoader):
            pass
    except yaml.YAMLError:
        return 1
    return 0
