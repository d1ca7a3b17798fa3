"""Python modules (libcst) as the Python front-end leaves them for the Python fixer."""

from __future__ import annotations

import re
from typing import Any

from imds_lint.model import Request, Span
from imds_lint.records import dataclass, field


class LineOffsets:
    """libcst (line, column) -> character offsets; libcst counts \\r, \\n and \\r\\n as line ends."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def char(self, line: int, column: int) -> int:
        index = min(max(line - 1, 0), len(self.starts) - 1)
        return self.starts[index] + column


@dataclass
class ClientObject:
    """A client object (session, pool, connection, Request), identified by the call that built it."""

    kind: str
    ctor: Any
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class HelperPlan:
    """The fixer's once-per-module decision for one helper family: who needs it first, where it goes."""

    first: Request | None
    at: int | None
    variable: str | None = None  # the helper's fresh name, decided once


@dataclass
class PythonState:
    """One parsed module: the tree, positions and the names in use."""

    module: Any
    offsets: LineOffsets
    positions: Any
    names: set[str]
    imports: dict[str, str]  # qualified module name -> local name bound at top level
    functions: dict[str, Any]  # top-level function name -> FunctionDef
    parents: dict[int, Any]
    token_helpers: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (client, async)
    # Helper family -> plan, so thousands of requests cost linear time.
    helper_plans: dict[str, HelperPlan] = field(default_factory=dict)

    def span(self, node) -> Span:
        r = self.positions[node]
        return Span(self.offsets.char(r.start.line, r.start.column), self.offsets.char(r.end.line, r.end.column))


@dataclass(frozen=True)
class PythonHandle:
    """The call that sends one request and what the fixer must know about it."""

    call: Any
    # "requests", "httpx", "urllib", ... or "subprocess-<cli client>" for an argv run by subprocess.
    client: str
    state: PythonState = field(compare=False, repr=False)
    headers_node: Any = None
    session: ClientObject | None = None
    request_obj: ClientObject | None = None
    function: Any = None  # the enclosing FunctionDef
    is_async: bool = False
    argv0: Any = None  # subprocess: the node of argv[0]

    @property
    def subprocess(self) -> bool:
        return self.client.startswith("subprocess")


def keyword_argument(call, name: str):
    for arg in getattr(call, "args", ()):
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def argument(call, index: int | None, keyword: str | None):
    """A call's argument by keyword, else by position (positions stop at the first ``*args``)."""
    if keyword is not None:
        found = keyword_argument(call, keyword)
        if found is not None:
            return found
    if index is None:
        return None
    positional = []
    for arg in call.args:
        if arg.keyword is not None:
            continue
        if arg.star:
            break
        positional.append(arg.value)
    return positional[index] if index < len(positional) else None
