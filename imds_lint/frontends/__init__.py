"""Front-ends: one module per language, each turning a Document into an Analysis.

A front-end module exposes ``analyze(document, session) -> list[Analysis]``. It
never chooses a fixer: the engine does, from the document's kind
(``imds_lint.fixers.fixer_for``), and the fixer reads the typed state and
handles the front-end left (``imds_lint.syntax``).
Modules are imported only when a candidate file of their kind turns up, so a
run over files that never mention IMDS never loads a grammar.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from imds_lint.kinds import DOCKERFILE_NAME, MANIFESTS, Kind, kind_from_name
from imds_lint.model import ContainerContext, Document, Request, Span
from imds_lint.records import dataclass, field

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import PurePath
    from typing import Any, Union

    from imds_lint.syntax.powershell import PowerShellState
    from imds_lint.syntax.python import PythonState
    from imds_lint.syntax.shell import ShellState
    from imds_lint.syntax.sourcecode import SourceState

    # What a parsed document leaves for its fixer (None where the fixer needs nothing).
    DocumentState = Union[ShellState, PowerShellState, PythonState, SourceState]

# The fact an IaC front-end leaves per EC2 resource (frontends.iac.ComputeResource). Named here,
# beside Analysis.facts, so the rules that read it load the IaC model only when a file has one.
COMPUTE = "iac.compute"

# Kind -> module. A kind without an entry is read by the text fallback.
_FRONTENDS: dict[str, str] = {
    Kind.SHELL: "imds_lint.frontends.shell",
    Kind.TERRAFORM: "imds_lint.frontends.terraform",
    # HCL2 templates; legacy JSON templates are routed by content (structured).
    Kind.PACKER: "imds_lint.frontends.packer",
    Kind.TEMPLATE: "imds_lint.frontends.template",
    # YAML and JSON are routed by content (CloudFormation, cloud-init, compose, Kubernetes, ECS).
    Kind.YAML: "imds_lint.frontends.structured",
    Kind.JSON: "imds_lint.frontends.structured",
    Kind.USER_DATA: "imds_lint.frontends.cloudinit",
    # libcst; CDK apps are read by frontends/cdk.py, which the Python front-end chains in.
    Kind.PYTHON: "imds_lint.frontends.python",
    # Terraform JSON: user-data blobs and text only (no enforcement facts yet).
    Kind.TERRAFORM_JSON: "imds_lint.frontends.structured",
    **{kind: "imds_lint.frontends.manifests" for kind in MANIFESTS},
    Kind.DOCKERFILE: "imds_lint.frontends.dockerfile",
    Kind.POWERSHELL: "imds_lint.frontends.powershell",
    Kind.JAVASCRIPT: "imds_lint.frontends.lang_javascript",
    Kind.TYPESCRIPT: "imds_lint.frontends.lang_typescript",
    Kind.TSX: "imds_lint.frontends.lang_tsx",
    Kind.GO: "imds_lint.frontends.lang_golang",
    Kind.JAVA: "imds_lint.frontends.lang_java",
    Kind.CSHARP: "imds_lint.frontends.lang_csharp",
    Kind.RUBY: "imds_lint.frontends.lang_ruby",
    # Recipe lines (and Jenkinsfile sh steps) are shell.
    Kind.MAKEFILE: "imds_lint.frontends.recipes",
    Kind.JUSTFILE: "imds_lint.frontends.recipes",
    Kind.JENKINSFILE: "imds_lint.frontends.recipes",
    # Exec*= lines are argv lists (systemd runs them without a shell).
    Kind.SYSTEMD: "imds_lint.frontends.systemd",
}
_TEXT_FALLBACK = "imds_lint.frontends.text"
# Modules that know which files of the repo run inside a container (a Dockerfile
# that COPYs and runs a script; a compose service or ECS task that runs a
# Dockerfile's image): each exposes ``container_context(path, project)`` and
# reads other files only through the project index. Each comes with the cheap test
# that must pass before its module (a parser, ~5 ms to import) is loaded: most scripts
# have no Dockerfile near them, and only a Dockerfile's image is run by a service or task.
# How many folders up a Dockerfile's build context may start (the file's own folder first).
DOCKERFILE_LEVELS = 6


def dockerfiles_near(path: str | PurePath, project) -> list[str]:
    """Dockerfiles in the folder of ``path`` and up to DOCKERFILE_LEVELS - 1 parents, nearest first."""
    return project.files_above(path, DOCKERFILE_NAME.search, DOCKERFILE_LEVELS)


_CONTEXT_PROVIDERS = (
    ("imds_lint.frontends.dockerfile", lambda path, project: bool(dockerfiles_near(path, project))),
    ("imds_lint.frontends.runners", lambda path, project: kind_from_name(path) == Kind.DOCKERFILE),
)


class ParserGaveUp(Exception):
    """A parser ran out of its time budget; the engine text-scans the document instead."""


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A region a front-end's parser could not read.

    ``exact`` says the parser is the language's own or as strict (CPython's, json,
    PyYAML, tomllib, expat): then the file really is broken and IMDS001 says so.
    A tree-sitter grammar giving up proves nothing about the file (heredocs,
    PowerShell bare words, newer Go syntax): the region is text-scanned and a note
    says so. Messages carry no line number: the engine adds the file's own.
    """

    span: Span
    message: str
    exact: bool = False


@dataclass
class Analysis:
    """What a front-end learned about one document."""

    document: Document
    requests: list[Request] = field(default_factory=list)
    # Typed facts for rules that need more than requests (IaC blocks, manifests...).
    facts: dict[str, list[Any]] = field(default_factory=dict)
    problems: list[ParseProblem] = field(default_factory=list)
    # Set when the front-end could not parse and the text fallback did the work.
    fell_back: bool = False
    # The parsed document, for the fixer of its language.
    state: DocumentState | None = None

    def add_fact(self, name: str, value: Any) -> None:
        self.facts.setdefault(name, []).append(value)


def frontend_for(kind: str) -> ModuleType:
    return importlib.import_module(_FRONTENDS.get(kind, _TEXT_FALLBACK))


def container_context(path: str | PurePath, project) -> ContainerContext | None:
    """The container a file of the repo runs in, if a provider knows one."""
    if project is None:
        return None
    for name, may_know in _CONTEXT_PROVIDERS:
        if not may_know(path, project):
            continue
        from pathlib import PurePath  # the providers' own currency; most files never get here

        found = importlib.import_module(name).container_context(PurePath(path), project)
        if found is not None:
            return found
    return None

