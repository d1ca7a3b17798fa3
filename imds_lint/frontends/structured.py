"""YAML and JSON files: route each document by what it contains.

One table per format, tried in order: a cheap content test and the function
that reads such files. Files no route claims go to the text fallback plus a
search for base64 blobs that decode to user-data. A new YAML/JSON dialect is
one line in a table.
"""

from __future__ import annotations

import importlib
import re
from typing import Callable

from imds_lint.frontends import Analysis, workflows
from imds_lint.kinds import Kind, sniff
from imds_lint.model import Document

_COMPOSE = re.compile(r"^services\s*:", re.M)
_KUBERNETES_KIND = re.compile(r"^kind\s*:", re.M)
_PACKER_JSON = re.compile(r'"(?:builders|provisioners)"\s*:\s*\[')
_ECS = re.compile(r'"containerDefinitions"\s*:')


def looks_like_cloud_init(text: str) -> bool:
    return sniff(text) == Kind.USER_DATA


def looks_like_cloudformation(text: str) -> bool:
    from imds_lint.frontends.cloudformation import is_cloudformation

    return is_cloudformation(text)


def looks_like_compose(text: str) -> bool:
    return _COMPOSE.search(text) is not None and _KUBERNETES_KIND.search(text) is None


def looks_like_kubernetes(text: str) -> bool:
    return "apiVersion" in text and _KUBERNETES_KIND.search(text) is not None


def looks_like_packer_json(text: str) -> bool:
    return _PACKER_JSON.search(text) is not None


def looks_like_ecs_task_definition(text: str) -> bool:
    return _ECS.search(text) is not None


# (content test, "module:function" reading such documents); first match wins.
YAML_ROUTES: list[tuple[Callable[[str], bool], str]] = [
    (looks_like_cloud_init, "imds_lint.frontends.cloudinit:analyze"),
    (looks_like_cloudformation, "imds_lint.frontends.cloudformation:analyze"),
    (looks_like_kubernetes, "imds_lint.frontends.orchestrators:analyze_kubernetes"),
    # CI workflows and Ansible: shell steps as embedded documents (see frontends/workflows.py).
    (workflows.looks_like_github_actions, "imds_lint.frontends.workflows:analyze_github_actions"),
    (workflows.looks_like_circleci, "imds_lint.frontends.workflows:analyze_circleci"),
    (workflows.looks_like_gitlab_ci, "imds_lint.frontends.workflows:analyze_gitlab_ci"),
    (workflows.looks_like_buildkite, "imds_lint.frontends.workflows:analyze_buildkite"),
    (workflows.looks_like_ansible, "imds_lint.frontends.workflows:analyze_ansible"),
    (looks_like_compose, "imds_lint.frontends.orchestrators:analyze_compose"),
]
JSON_ROUTES: list[tuple[Callable[[str], bool], str]] = [
    (looks_like_packer_json, "imds_lint.frontends.packer:analyze_json"),
    (looks_like_cloudformation, "imds_lint.frontends.cloudformation:analyze"),
    (looks_like_ecs_task_definition, "imds_lint.frontends.orchestrators:analyze_ecs"),
]


# What reports call a YAML/JSON file a route claims, by the route's function.
_DIALECTS = {
    "cloudinit:analyze": "cloud-init", "cloudformation:analyze": "cloudformation",
    "orchestrators:analyze_kubernetes": "kubernetes", "workflows:analyze_github_actions": "github-actions",
    "workflows:analyze_circleci": "circleci", "workflows:analyze_gitlab_ci": "gitlab-ci",
    "workflows:analyze_buildkite": "buildkite", "workflows:analyze_ansible": "ansible",
    "orchestrators:analyze_compose": "compose", "packer:analyze_json": "packer",
    "orchestrators:analyze_ecs": "ecs-task-definition",
}


def dialect(kind: str, text: str) -> str:
    """The file kind reports show: "cloud-init", "compose", ... rather than "yaml"."""
    target = _target(Document(kind, text))
    if target is None:
        return kind
    return _DIALECTS.get(target.rpartition(".")[2], kind)


def _target(document: Document) -> str | None:
    routes = JSON_ROUTES if document.kind in (Kind.JSON, Kind.TERRAFORM_JSON) else YAML_ROUTES
    return next((target for test, target in routes if test(document.text)), None)


def _call(target: str, document: Document, session) -> list[Analysis]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function or "analyze")(document, session)


def analyze(document: Document, session) -> list[Analysis]:
    target = _target(document)
    if target is not None:
        return _call(target, document, session)
    from imds_lint.frontends import blobs, text

    analyses = text.analyze(document, session)
    if document.kind in (Kind.JSON, Kind.TERRAFORM_JSON):
        for analysis in analyses:
            if analysis.requests:
                analysis.requests = _outside_keys(document.text, analysis.requests)
    return [*analyses, *blobs.scan(document, session)]


def _outside_keys(text: str, requests: list) -> list:
    """Requests not inside an object key: a test fixture keyed by IMDS URLs sends nothing."""
    import yaml

    from imds_lint.frontends import yaml_nodes as yn

    try:
        root = yn.compose(text)
    except (yaml.YAMLError, RecursionError):
        return requests
    keys = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if node.id == "mapping":
            for key, value in node.value:
                if key.id == "scalar":
                    keys.append((key.start_mark.index, key.end_mark.index))
                stack.append(value)
        elif node.id == "sequence":
            stack.extend(node.value)
    return [r for r in requests if not any(a <= r.span.start < b for a, b in keys)]


def syntax_errors(text: str) -> int:
    """The routed front-end's count where it has one; else 1 when the text is neither JSON nor YAML.

    A module's ``syntax_errors`` counts for the language of its ``analyze``: where the route is
    another of its functions (``packer:analyze_json``, a legacy template, beside Packer's HCL
    front-end) the text is JSON or YAML and is checked as such. Packer's HCL count had called
    every fix of a legacy template's inline script a break, so its safe fixes never applied.
    """
    target = _target(Document(Kind.JSON if text.lstrip().startswith(("{", "[")) else Kind.YAML, text))
    if target is not None:
        module, _, function = target.partition(":")
        if function in ("", "analyze"):
            counter = getattr(importlib.import_module(module), "syntax_errors", None)
            if counter is not None:
                return counter(text)
    import json

    try:
        json.loads(text)
        return 0
    except ValueError:
        pass
    import yaml

    from imds_lint.frontends.yaml_nodes import compose_all

    try:
        compose_all(text, exact_error=False)
    except yaml.YAMLError:
        return 1
    return 0
